//! The host side of the `automa:host` WIT package.
//!
//! This crate holds the single `bindgen!` over `wit/`, the [`Capabilities`] a script
//! runs with, and the host implementation of every interface. Each implementation
//! checks the capabilities first, reaches the world only through a small port trait
//! ([`ports`]), and reports every call to the [`AuditSink`](ports::AuditSink).

#![deny(clippy::unwrap_used)]

mod agent;
pub mod capabilities;
mod context;
pub mod door;
mod email;
mod error;
mod files;
mod http;
mod log;
mod net;
mod plugin_manifest;
mod plugins;
pub mod ports;
mod refusals;
mod resolve;
mod secrets;
mod state;

pub use capabilities::{
    Capabilities, EmailPolicy, EmailRule, HttpPolicy, HttpRule, NetAdmission, NetPolicy, NetRule,
    SharedDir,
};
pub use context::{CallLimits, HostContext, HostCounters};
pub use email::{SmtpMailer, SmtpSettings, SmtpTls};
pub use error::HostError;
pub use http::ReqwestClient;
pub use net::{Connection, TlsTrust};
pub use plugin_manifest::{CapabilityRequest, PluginFunction, PluginManifest};

/// Bindings generated from `wit/`: the `runner` world and its interfaces.
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "runner",
        imports: { default: async },
        exports: { default: async },
        with: {
            "automa:host/net.connection": crate::net::Connection,
            "automa:host/net.tls-session": crate::net::TlsSession,
        },
    });
}

/// Bindings of the `plugin` world: what a host plugin exports. Its imports are the
/// same interfaces as the runner's, so their host implementations are shared.
pub mod plugin_bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "plugin",
        imports: { default: async },
        exports: { default: async },
        with: {
            "automa:host/types": crate::bindings::automa::host::types,
            "automa:host/http": crate::bindings::automa::host::http,
            "automa:host/log": crate::bindings::automa::host::log,
            "automa:host/state": crate::bindings::automa::host::state,
            "automa:host/secrets": crate::bindings::automa::host::secrets,
        },
    });
}

/// The host interfaces a plugin may import, besides WASI.
pub const PLUGIN_IMPORTS: &[&str] = &[
    "automa:host/types@0.1.0",
    "automa:host/plugin-types@0.1.0",
    "automa:host/http@0.1.0",
    "automa:host/log@0.1.0",
    "automa:host/state@0.1.0",
    "automa:host/secrets@0.1.0",
];

pub use bindings::automa::host::log::Level as LogLevel;
pub use bindings::automa::host::types::ScriptError;

/// Add every `automa:host` interface to `linker`, reaching the [`HostContext`] through
/// `get` from the store's data.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    get: fn(&mut T) -> &mut HostContext,
) -> wasmtime::Result<()> {
    use bindings::automa::host as wit;
    type Ctx = wasmtime::component::HasSelf<HostContext>;
    wit::types::add_to_linker::<T, Ctx>(linker, get)?;
    wit::http::add_to_linker::<T, Ctx>(linker, get)?;
    wit::email::add_to_linker::<T, Ctx>(linker, get)?;
    wit::net::add_to_linker::<T, Ctx>(linker, get)?;
    wit::files::add_to_linker::<T, Ctx>(linker, get)?;
    wit::secrets::add_to_linker::<T, Ctx>(linker, get)?;
    wit::state::add_to_linker::<T, Ctx>(linker, get)?;
    wit::log::add_to_linker::<T, Ctx>(linker, get)?;
    wit::agent::add_to_linker::<T, Ctx>(linker, get)?;
    wit::plugins::add_to_linker::<T, Ctx>(linker, get)?;
    Ok(())
}

/// Add the interfaces a plugin may import ([`PLUGIN_IMPORTS`]) to `linker`.
pub fn add_plugin_imports_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    get: fn(&mut T) -> &mut HostContext,
) -> wasmtime::Result<()> {
    use bindings::automa::host as wit;
    type Ctx = wasmtime::component::HasSelf<HostContext>;
    wit::types::add_to_linker::<T, Ctx>(linker, get)?;
    plugin_bindings::automa::host::plugin_types::add_to_linker::<T, Ctx>(linker, get)?;
    wit::http::add_to_linker::<T, Ctx>(linker, get)?;
    wit::log::add_to_linker::<T, Ctx>(linker, get)?;
    wit::state::add_to_linker::<T, Ctx>(linker, get)?;
    wit::secrets::add_to_linker::<T, Ctx>(linker, get)?;
    Ok(())
}

impl plugin_bindings::automa::host::plugin_types::Host for HostContext {}
