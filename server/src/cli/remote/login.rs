//! `automa login URL`: signs in with email and password (or takes `--token`), creates a
//! personal API token for this CLI through the API and stores `{url, token}` in the
//! credentials file (0600).

use super::client::Client;
use super::credentials::{self, Credentials};
use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// The server, e.g. https://automa.example.org.
    url: String,
    /// Your email [default: asked].
    #[arg(long)]
    email: Option<String>,
    /// Store this existing API token instead of signing in with a password.
    #[arg(long, conflicts_with = "email")]
    token: Option<String>,
    /// The current TOTP code, when two-factor sign-in is on.
    #[arg(long)]
    totp: Option<String>,
    /// Name of the API token created for this CLI.
    #[arg(long, default_value = "automa CLI")]
    token_name: String,
}

pub fn main(args: LoginArgs) -> ExitCode {
    super::block_on("login", login(args))
}

async fn login(args: LoginArgs) -> anyhow::Result<ExitCode> {
    let (url, token, me) = match args.token {
        Some(token) => {
            let client = Client::new(&args.url, Some(token.clone()))?;
            let me = client
                .get("/api/v1/me")
                .await
                .context("checking the token")?;
            (client.base().to_owned(), token, me)
        }
        None => {
            let email = match args.email {
                Some(email) => email,
                None => prompt_line("Email: ")?,
            };
            let password = read_password()?;
            sign_in(&args.url, &email, &password, args.totp, &args.token_name).await?
        }
    };
    let path = credentials::save(&Credentials {
        url: url.clone(),
        token,
    })?;
    eprintln!(
        "Logged in to {url} as {}; credentials in {}",
        me["email"].as_str().unwrap_or("?"),
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Password sign-in, then a personal token with the user's full scope.
async fn sign_in(
    url: &str,
    email: &str,
    password: &str,
    totp: Option<String>,
    token_name: &str,
) -> anyhow::Result<(String, String, Value)> {
    let anonymous = Client::new(url, None)?;
    let mut body = json!({"email": email, "password": password});
    if let Some(code) = totp {
        body["totp"] = json!(code);
    }
    let session = anonymous.post("/api/v1/auth/login", &body).await?;
    let access = session["access_token"]
        .as_str()
        .context("the login answer has no access_token")?
        .to_owned();
    let client = Client::new(url, Some(access))?;
    let me = client.get("/api/v1/me").await?;
    let scopes = if me["role"] == "admin" {
        json!(["admin"])
    } else {
        json!(["write"])
    };
    let created = client
        .post(
            "/api/v1/tokens",
            &json!({"name": token_name, "scopes": scopes}),
        )
        .await?;
    let token = created["token"]
        .as_str()
        .context("the token answer has no token")?
        .to_owned();
    // The session is not logged out: logout ends every session of the user (their
    // browser too); it expires on its own.
    Ok((client.base().to_owned(), token, me))
}

fn prompt_line(prompt: &str) -> anyhow::Result<String> {
    eprint!("{prompt}");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let line = line.trim().to_owned();
    if line.is_empty() {
        bail!("no email given (use --email)");
    }
    Ok(line)
}

/// From a prompt on a terminal, else the first line of stdin (for scripts).
fn read_password() -> anyhow::Result<String> {
    let password = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Password: ")?
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    if password.is_empty() {
        bail!("no password given");
    }
    Ok(password)
}
