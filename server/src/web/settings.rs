//! `/settings` (admin): the server's SMTP settings, read-only. They are configuration
//! (flags, environment, config file) and the API has no endpoint to change them; the
//! password is never shown, only whether one is set.

use super::page::{Viewer, html};
use crate::auth::policy;
use crate::error::PageError;
use crate::state::AppState;
use automa_runtime::host::SmtpTls;
use automa_ui::Nav;
use automa_ui::pages::settings::{SettingsView, SmtpLine, page};
use axum::extract::State;
use axum::response::Response;

pub async fn show(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    policy::require_admin(&viewer.principal)?;
    let smtp = state.config.smtp.as_ref().map(|s| SmtpLine {
        host: s.host.clone(),
        port: s.port,
        tls: match s.tls {
            SmtpTls::None => "none (plain SMTP)",
            SmtpTls::Starttls => "STARTTLS",
            SmtpTls::Tls => "TLS",
        }
        .into(),
        from: s.from.clone(),
        username: s.username.clone(),
        password_set: s
            .password
            .as_ref()
            .is_some_and(|p| !secrecy::ExposeSecret::expose_secret(p).is_empty()),
    });
    Ok(html(page(
        &viewer.ctx(Nav::Settings),
        &SettingsView { smtp },
    )))
}
