//! Command-line parsing and dispatch. Each subcommand lives in its own module.

mod audit;
mod backup;
mod completions;
mod remote;
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
    /// Run a local Python file in the sandbox, or a script on the server by name.
    Run(run::RunArgs),
    /// Start the HTTP server (REST API, docs, metrics).
    Serve(serve::ServeArgs),
    /// Start a worker node: runs jobs and agents from a shared PostgreSQL database; no
    /// API (only /healthz and /metrics with --admin-listen).
    Worker(serve::ServeArgs),
    /// Manage users.
    User(user::UserArgs),
    /// Inspect the audit log.
    Audit(audit::AuditArgs),
    /// Sign in to a server and store an API token for the remote commands.
    Login(remote::login::LoginArgs),
    /// Scripts on the server: list, show, push, pull, rm.
    Scripts(remote::scripts::ScriptsArgs),
    /// Jobs on the server: list, show, logs, cancel, retry.
    Jobs(remote::jobs::JobsArgs),
    /// Agents on the server: list, status, start, stop, restart, logs, send.
    Agents(remote::agents::AgentsArgs),
    /// Schedules on the server: list, add, enable, disable.
    Schedules(remote::schedules::SchedulesArgs),
    /// Show what applying a folder of scripts (NAME.py + automa.toml) would change on the
    /// server; --apply changes it.
    Sync(remote::sync::SyncArgs),
    /// Write the server's scripts, schedules and agents as a folder for `automa sync`.
    Export(remote::sync::ExportArgs),
    /// Archive the data dir (a consistent database snapshot, keys, script data, artifacts).
    Backup(backup::BackupArgs),
    /// Unpack a backup into a new, empty data dir.
    Restore(backup::RestoreArgs),
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions(completions::CompletionsArgs),
    /// Print the man page.
    Man(completions::ManArgs),
}

/// Parse the command line, run the chosen subcommand and turn its result into an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run::main(args),
        Command::Serve(args) => serve::main(args),
        Command::Worker(args) => serve::worker_main(args),
        Command::User(args) => user::main(args),
        Command::Audit(args) => audit::main(args),
        Command::Login(args) => remote::login::main(args),
        Command::Scripts(args) => remote::scripts::main(args),
        Command::Jobs(args) => remote::jobs::main(args),
        Command::Agents(args) => remote::agents::main(args),
        Command::Schedules(args) => remote::schedules::main(args),
        Command::Sync(args) => remote::sync::sync_main(args),
        Command::Export(args) => remote::sync::export_main(args),
        Command::Backup(args) => backup::backup_main(args),
        Command::Restore(args) => backup::restore_main(args),
        Command::Completions(args) => completions::completions(args),
        Command::Man(args) => completions::man(args),
    }
}
