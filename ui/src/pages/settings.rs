//! `/settings` (admin): the server's SMTP settings, read-only (they come from the
//! configuration: flags, environment or the config file; the API has no settings
//! endpoint to change them at run time).

use crate::components::empty_state;
use crate::layout::{PageCtx, page as framed};
use maud::{Markup, html};

#[derive(Debug, Clone, Default)]
pub struct SmtpLine {
    pub host: String,
    pub port: u16,
    pub tls: String,
    pub from: String,
    pub username: Option<String>,
    pub password_set: bool,
}

#[derive(Debug, Clone, Default)]
pub struct SettingsView {
    pub smtp: Option<SmtpLine>,
}

pub fn page(ctx: &PageCtx, v: &SettingsView) -> Markup {
    framed(
        ctx,
        "Settings",
        html! {
            h1 { "Settings" }
            section.card #smtp {
                h2 { "Email (SMTP)" }
                p.muted { "Used by " code { "automa.email.send" } " and failure notifications. Set with "
                    code { "--smtp-host" } ", " code { "--smtp-port" } ", " code { "--smtp-tls" } ", " code { "--smtp-from" } ", "
                    code { "--smtp-username" } " and " code { "AUTOMA_SMTP_PASSWORD" } ", or an " code { "[smtp]" }
                    " table in the config file; a restart applies changes." }
                @if let Some(s) = &v.smtp {
                    dl.facts {
                        dt { "Server" } dd.mono { (s.host) ":" (s.port) }
                        dt { "Security" } dd { (s.tls) }
                        dt { "Sender" } dd { (s.from) }
                        dt { "Login" } dd { @if let Some(u) = &s.username { (u) } @else { span.muted { "none" } } }
                        dt { "Password" } dd { @if s.password_set { "set (not shown)" } @else { span.muted { "not set" } } }
                    }
                } @else {
                    (empty_state("Email is not configured.", html! { "Scripts that send email fail until an SMTP server is set (see above)." }))
                }
            }
            section.card {
                h2 { "Capabilities of new scripts" }
                p.muted { "New scripts start with no capabilities: no HTTP, email, secrets or shared directories. Grant them per script (" code { "capabilities" } " in " code { "PATCH /api/v1/scripts/{id}" } ")." }
            }
        },
    )
}
