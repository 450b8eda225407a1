//! Runs Python scripts on CPython-on-WASI inside wasmtime, with hard limits.
//!
//! One [`Runtime`] per process holds the engine, the compiled runner component and
//! its pre-instantiation; each [`Runtime::run`] gets a fresh store with a memory cap,
//! a deadline, no environment, no sockets and only the directories it is given.

#![deny(clippy::unwrap_used)]

mod cache;
mod code_cache;
mod cpu;
mod data;
mod describe;
mod engine;
mod fs_quota;
mod limits;
mod mounts;
mod outcome;
mod output;
mod plugin;
mod run;
mod scratch;
mod spare;
mod stdlib;
mod ticker;

pub use data::{DATA_WHEEL, DATA_WHEEL_SHA256, DataArtifacts};
pub use describe::ScriptDescription;
pub use engine::{Runtime, RuntimeConfig};
pub use fs_quota::measure as measure_disk_usage;
pub use limits::{
    CpuMeter, CpuRate, DiskQuotas, FUEL_PER_CPU_SECOND, Limits, cpu_seconds_to_fuel,
    fuel_to_cpu_seconds,
};
pub use mounts::{Mounts, SharedMount};
pub use outcome::{RunOutcome, RunStatus, ScriptFailure};
pub use plugin::{LoadedPlugin, PluginLimits, PluginLoadError};
pub use run::{CodeOrigin, Profile, RunPhases, RunRequest};

pub use automa_host_api as host;
pub use tokio_util::sync::CancellationToken;
