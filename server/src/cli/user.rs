//! `automa user create --email E [--admin]`: create a user from the command line.
//! The password comes from stdin when it is not a terminal, else from a prompt.

use crate::audit::{AuditEvent, AuditLog};
use crate::auth::{Role, password};
use crate::db;
use anyhow::{Context, bail};
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

/// Where the database lives; shared by the offline subcommands.
#[derive(Debug, clap::Args)]
pub struct DbArgs {
    /// Data directory [default: ./data].
    #[arg(long, env = "AUTOMA_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Database URL [default: SQLite file in the data dir].
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

impl DbArgs {
    pub async fn connect(&self) -> anyhow::Result<db::Db> {
        let mut config = crate::config::Config::new(self.data_dir.clone());
        config.database_url = self.database_url.clone().map(Into::into);
        if config.database_url.is_none() {
            crate::auth::keys::create_private_dir(&self.data_dir)?;
        }
        db::connect(&config.database_url()).await
    }
}

#[derive(Debug, clap::Args)]
pub struct UserArgs {
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(Debug, clap::Subcommand)]
enum UserCommand {
    /// Create a user (password read from stdin or prompted).
    Create {
        #[arg(long)]
        email: String,
        /// Give the user the admin role.
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Set a user's password (read from stdin or prompted), e.g. to recover the only
    /// admin account. Voids their access tokens.
    SetPassword {
        #[arg(long)]
        email: String,
        /// Also turn off the user's TOTP (lost authenticator).
        #[arg(long)]
        reset_totp: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List users.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
}

pub fn main(args: UserArgs) -> ExitCode {
    match block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Repeat password: ")?;
        if first != second {
            bail!("passwords do not match");
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

async fn run(args: UserArgs) -> anyhow::Result<()> {
    match args.command {
        UserCommand::Create { email, admin, db } => {
            crate::api::validate_email(&email).map_err(|e| anyhow::anyhow!("{e}"))?;
            let pw = read_password()?;
            password::validate_new(&pw).map_err(anyhow::Error::msg)?;
            let pool = db.connect().await?;
            if db::users::find_by_email(&pool, &email).await?.is_some() {
                bail!("a user with email {email} already exists");
            }
            let role = if admin { Role::Admin } else { Role::User };
            let hash = password::hash(pw).await?;
            let user = db::users::insert(&pool, &email, &hash, role.as_str()).await?;
            AuditLog::new(pool.clone())
                .append(
                    AuditEvent::new("cli", "user.create")
                        .target(format!("user:{}", user.id))
                        .details(serde_json::json!({"email": user.email, "role": user.role})),
                )
                .await?;
            pool.close().await;
            println!(
                "created {} user {} ({})",
                role.as_str(),
                user.email,
                user.id
            );
            Ok(())
        }
        UserCommand::SetPassword {
            email,
            reset_totp,
            db,
        } => {
            let pool = db.connect().await?;
            let Some(user) = db::users::find_by_email(&pool, &email).await? else {
                bail!("no user with email {email}");
            };
            let pw = read_password()?;
            password::validate_new(&pw).map_err(anyhow::Error::msg)?;
            let hash = password::hash(pw).await?;
            db::users::update_password(&pool, &user.id, &hash).await?;
            if reset_totp {
                db::users::set_totp_enabled(&pool, &user.id, false).await?;
            }
            AuditLog::new(pool.clone())
                .append(
                    AuditEvent::new("cli", "user.update")
                        .target(format!("user:{}", user.id))
                        .details(serde_json::json!({
                            "password_reset": true,
                            "totp_reset": reset_totp,
                        })),
                )
                .await?;
            pool.close().await;
            println!("password set for {}", user.email);
            Ok(())
        }
        UserCommand::List { db } => {
            let pool = db.connect().await?;
            let mut after: Option<String> = None;
            loop {
                let rows = db::users::list(&pool, after.as_deref(), 200).await?;
                for u in &rows {
                    println!(
                        "{}\t{}\t{}{}{}",
                        u.id,
                        u.email,
                        u.role,
                        if u.disabled { "\tdisabled" } else { "" },
                        if u.totp_enabled { "\ttotp" } else { "" }
                    );
                }
                match rows.last() {
                    Some(last) if rows.len() == 200 => after = Some(last.id.clone()),
                    _ => break,
                }
            }
            pool.close().await;
            Ok(())
        }
    }
}

/// Runs a future on a small runtime for the short-lived admin subcommands.
pub(super) fn block_on<T>(
    fut: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting async runtime")?
        .block_on(fut)
}
