//! `automa audit verify`: walk the audit hash chain; exit 1 at the first broken row.

use super::user::DbArgs;
use crate::audit::AuditLog;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Debug, clap::Subcommand)]
enum AuditCommand {
    /// Verify the audit log hash chain.
    Verify {
        #[command(flatten)]
        db: DbArgs,
    },
}

pub fn main(args: AuditArgs) -> ExitCode {
    let AuditCommand::Verify { db } = args.command;
    let result = super::user::block_on(async move {
        let pool = db.connect().await?;
        let report = AuditLog::new(pool.clone()).verify().await;
        pool.close().await;
        report
    });
    match result {
        Ok(report) => match report.first_broken {
            None => {
                println!("audit log ok: {} entries verified", report.checked);
                ExitCode::SUCCESS
            }
            Some((seq, reason)) => {
                println!(
                    "audit log BROKEN at seq {seq}: {reason} ({} entries before it verified)",
                    report.checked
                );
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
