//! `/tokens`: the viewer's personal API tokens: list, create (the token is shown once,
//! right after creation), revoke.

use crate::components::{csrf_field, empty_state, error_box};
use crate::layout::{PageCtx, page as framed};
use maud::{Markup, html};

#[derive(Debug, Clone, Default)]
pub struct TokenLine {
    pub id: String,
    pub name: String,
    /// First characters of the token, to recognise it.
    pub prefix: String,
    pub scopes: String,
    pub created: String,
    /// "never" when it does not expire.
    pub expires: String,
    /// "never" when unused.
    pub last_used: String,
    /// `active`, `expired` or `revoked`.
    pub state: String,
}

/// The create form's input, kept when it is refused.
#[derive(Debug, Clone)]
pub struct TokenForm {
    pub name: String,
    /// `read`, `write` or `admin`: the highest scope (each implies the lower ones).
    pub scope: String,
    /// One of [`EXPIRY_CHOICES`]' values.
    pub expires: String,
}

impl Default for TokenForm {
    fn default() -> Self {
        Self {
            name: String::new(),
            scope: "read".into(),
            expires: "30".into(),
        }
    }
}

/// Lifetimes offered: `(days, label)`; `never` has no expiry.
pub const EXPIRY_CHOICES: [(&str, &str); 5] = [
    ("7", "7 days"),
    ("30", "30 days"),
    ("90", "90 days"),
    ("365", "1 year"),
    ("never", "Never"),
];

/// A token just created: its value is in this response only.
#[derive(Debug, Clone)]
pub struct CreatedToken {
    pub name: String,
    pub token: String,
}

#[derive(Debug, Clone, Default)]
pub struct TokensView {
    pub tokens: Vec<TokenLine>,
    pub form: TokenForm,
    pub error: Option<String>,
    pub created: Option<CreatedToken>,
}

fn scope_choices(is_admin: bool) -> Vec<(&'static str, &'static str)> {
    let mut v = vec![
        ("read", "read: GET requests only"),
        ("write", "write: read, run and change your scripts"),
    ];
    if is_admin {
        v.push(("admin", "admin: also the admin endpoints"));
    }
    v
}

pub fn page(ctx: &PageCtx, v: &TokensView) -> Markup {
    framed(
        ctx,
        "API tokens",
        html! {
            h1 { "API tokens" }
            p.muted {
                "Personal tokens for scripts and tools calling the API as you: "
                code { "Authorization: Bearer atm_…" } ". Changing your password or two-factor settings needs a login, not a token."
            }
            @if let Some(c) = &v.created {
                section.card.token-once #new-token role="status" {
                    h2 { "Token “" (c.name) "” created" }
                    p { strong { "Copy it now: it is shown only this once." } " Automa keeps only a hash of it." }
                    div.copy-row {
                        input #token-value.mono type="text" readonly value=(c.token) aria-label="The new token" data-select-on-focus;
                        button type="button" data-copy="#token-value" { "Copy" }
                    }
                }
            }
            section.card {
                h2 { "New token" }
                (error_box(v.error.as_deref()))
                form method="post" action="/tokens" {
                    (csrf_field(&ctx.csrf))
                    div.field {
                        label for="token-name" { "Name" span.req { " *" } " " span.hint { "(what uses it, e.g. “backup job”)" } }
                        input #token-name type="text" name="name" value=(v.form.name) maxlength="100" required;
                    }
                    fieldset.field {
                        legend { "Access" }
                        @for (value, label) in scope_choices(ctx.is_admin) {
                            label.check {
                                input type="radio" name="scope" value=(value) checked[v.form.scope == value];
                                " " (label)
                            }
                        }
                    }
                    div.field {
                        label for="token-expires" { "Expires after" }
                        select #token-expires name="expires" {
                            @for (value, label) in EXPIRY_CHOICES {
                                option value=(value) selected[v.form.expires == value] { (label) }
                            }
                        }
                    }
                    button.primary type="submit" { "Create token" }
                }
            }
            h2 { "Your tokens" }
            @if v.tokens.is_empty() {
                (empty_state("No API tokens yet.", html! { "Create one above to call the API from a script or tool." }))
            } @else {
                div.scroll {
                    table.list #tokens {
                        thead { tr {
                            th { "Name" } th { "Scopes" } th { "Expires" } th { "Last used" } th.hide-sm { "Created" } th { "" }
                        } }
                        tbody {
                            @for t in &v.tokens {
                                tr data-token-state=(t.state) {
                                    td { (t.name) br; span.muted.mono.small { (t.prefix) "…" } }
                                    td { (t.scopes) }
                                    td { (t.expires) @if t.state == "expired" { " " span.badge.muted { "expired" } } }
                                    td { (t.last_used) }
                                    td.hide-sm.muted { (t.created) }
                                    td {
                                        @if t.state == "revoked" {
                                            span.badge.muted { "revoked" }
                                        } @else {
                                            form method="post" action={ "/tokens/" (t.id) "/revoke" } data-confirm={ "Revoke the token “" (t.name) "”? Whatever uses it stops working." } {
                                                (csrf_field(&ctx.csrf))
                                                button.danger type="submit" { "Revoke" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}
