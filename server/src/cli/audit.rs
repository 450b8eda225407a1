//! `automa audit verify`: walk the audit hash chain (from the newest signed checkpoint
//! once pruned); exit 1 at the first broken row or checkpoint.

use super::user::DbArgs;
use crate::audit::VerifyReport;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Debug, clap::Subcommand)]
enum AuditCommand {
    /// Verify the audit log hash chain and its checkpoints.
    Verify {
        #[command(flatten)]
        db: DbArgs,
        /// Check checkpoint signatures against this Ed25519 public key (64 hex
        /// characters, as printed by an earlier verify) instead of the data dir's key.
        #[arg(long)]
        public_key: Option<String>,
    },
}

pub fn main(args: AuditArgs) -> ExitCode {
    let AuditCommand::Verify { db, public_key } = args.command;
    let result = super::user::block_on(async move {
        let pool = db.connect().await?;
        let report =
            crate::audit::verify_with_key_of(&pool, &db.data_dir, public_key.as_deref()).await;
        pool.close().await;
        report
    });
    match result {
        Ok(report) => {
            for line in lines(&report) {
                println!("{line}");
            }
            if report.first_broken.is_none() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The report as printed: the verdict, then where the walk started and the key.
pub fn lines(report: &VerifyReport) -> Vec<String> {
    let mut lines = vec![match &report.first_broken {
        None => format!("audit log ok: {} entries verified", report.checked),
        Some(broken) => format!(
            "audit log BROKEN at {broken} ({} entries before it verified)",
            report.checked
        ),
    }];
    if let Some(c) = &report.checkpoint {
        lines.push(format!(
            "from checkpoint #{} (the newest of {}): seq {} hash {}, {} rows pruned at {} \
             ({} rows pruned in all)",
            c.id,
            report.checkpoints,
            c.last_seq,
            c.last_hash,
            c.pruned_rows,
            crate::db::rfc3339(c.at),
            c.last_seq
        ));
    }
    if let Some(key) = &report.public_key {
        lines.push(format!("checkpoint signing key (Ed25519, public): {key}"));
    }
    lines
}
