//! Command-line parsing and dispatch. Each subcommand lives in its own module.

mod audit;
mod run;
mod serve;
mod user;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Automa: self-hosted automation for sandboxed Python scripts and agents.
#[derive(Debug, Parser)]
#[command(name = "automa", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run one Python script in the sandbox and print its output.
    Run(run::RunArgs),
    /// Start the HTTP server (REST API, docs, metrics).
    Serve(serve::ServeArgs),
    /// Manage users.
    User(user::UserArgs),
    /// Inspect the audit log.
    Audit(audit::AuditArgs),
}

/// Parse the command line, run the chosen subcommand and turn its result into an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run::main(args),
        Command::Serve(args) => serve::main(args),
        Command::User(args) => user::main(args),
        Command::Audit(args) => audit::main(args),
    }
}
