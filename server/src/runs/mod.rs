//! One run builder for every way a script runs: job workers, the agent supervisor and
//! `automa run`. [`builder`] turns plain inputs and ports into the runtime's request;
//! [`script`] fills those inputs from a stored script and its grants; [`lines`] is how
//! every run's output and logs are joined into lines and scrubbed of secrets.

pub mod builder;
pub mod lines;
pub mod script;

pub use builder::{RunInputs, RunPorts, limits};
pub use lines::Lines;
pub use script::{Runs, RunsSetup, SetupError};
