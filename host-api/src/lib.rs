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
mod email;
mod error;
mod files;
mod http;
mod log;
pub mod ports;
mod secrets;
mod state;

pub use capabilities::{Capabilities, EmailPolicy, EmailRule, HttpPolicy, HttpRule, SharedDir};
pub use context::{HostContext, HostCounters};
pub use email::{SmtpMailer, SmtpSettings, SmtpTls};
pub use error::HostError;
pub use http::ReqwestClient;

/// Bindings generated from `wit/`: the `runner` world and its interfaces.
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "runner",
        imports: { default: async },
        exports: { default: async },
    });
}

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
    wit::files::add_to_linker::<T, Ctx>(linker, get)?;
    wit::secrets::add_to_linker::<T, Ctx>(linker, get)?;
    wit::state::add_to_linker::<T, Ctx>(linker, get)?;
    wit::log::add_to_linker::<T, Ctx>(linker, get)?;
    wit::agent::add_to_linker::<T, Ctx>(linker, get)?;
    Ok(())
}
