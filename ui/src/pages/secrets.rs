//! `/secrets` (admin): names and dates only (values are write-only, never shown back),
//! a form to add a secret or replace its value, and delete.

use crate::components::{csrf_field, empty_state, error_box};
use crate::layout::{PageCtx, page as framed};
use maud::{Markup, html};

#[derive(Debug, Clone, Default)]
pub struct SecretLine {
    pub name: String,
    pub created_by: String,
    pub updated: String,
}

#[derive(Debug, Clone, Default)]
pub struct SecretsView {
    pub secrets: Vec<SecretLine>,
    /// The name typed into the form (kept on error; the value never is).
    pub name: String,
    pub error: Option<String>,
    pub notice: Option<String>,
}

pub fn page(ctx: &PageCtx, v: &SecretsView) -> Markup {
    framed(
        ctx,
        "Secrets",
        html! {
            h1 { "Secrets" }
            p.muted {
                "Encrypted at rest and redacted from logs. A script reads a secret with "
                code { "automa.secrets.get(\"NAME\")" } " once an admin grants it in the script's capabilities."
            }
            @if let Some(n) = &v.notice { div.notice role="status" { (n) } }
            section.card #secret-form {
                h2 { "Add or replace a secret" }
                (error_box(v.error.as_deref()))
                form method="post" action="/secrets" {
                    (csrf_field(&ctx.csrf))
                    div.field {
                        label for="secret-name" { "Name" span.req { " *" } " " span.hint { "(letters, digits and _, starting with a letter)" } }
                        input #secret-name.mono type="text" name="name" value=(v.name) maxlength="64" autocomplete="off" required;
                    }
                    div.field {
                        label for="secret-value" { "Value" span.req { " *" } " " span.hint { "(saving an existing name replaces its value)" } }
                        input #secret-value type="password" name="value" autocomplete="new-password" required;
                    }
                    button.primary type="submit" { "Save secret" }
                }
            }
            @if v.secrets.is_empty() {
                (empty_state("No secrets yet.", html! { "Add one above, then grant it to a script in its capabilities." }))
            } @else {
                div.scroll {
                    table.list #secrets {
                        thead { tr { th { "Name" } th.hide-sm { "Created by" } th { "Updated" } th { "" } } }
                        tbody {
                            @for s in &v.secrets {
                                tr {
                                    td.mono { (s.name) }
                                    td.hide-sm.muted { (s.created_by) }
                                    td.muted { (s.updated) }
                                    td {
                                        form method="post" action={ "/secrets/" (s.name) "/delete" }
                                            data-confirm={ "Delete the secret " (s.name) "? Scripts using it get “not found”." } {
                                            (csrf_field(&ctx.csrf))
                                            button.danger type="submit" { "Delete" }
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
