//! The login form.

use crate::components::{csrf_field, error_box};
use crate::layout::bare;
use maud::{Markup, html};

#[derive(Debug, Default, Clone)]
pub struct LoginView {
    pub email: String,
    pub error: Option<String>,
    /// Show the TOTP field (the account has TOTP, or the user asked for it).
    pub totp_needed: bool,
    pub csrf: String,
    /// Where to go after logging in (a local path).
    pub next: String,
}

pub fn page(v: &LoginView) -> Markup {
    bare(
        "Log in",
        html! {
            h1 { "Log in" }
            (error_box(v.error.as_deref()))
            form.card method="post" action="/login" {
                (csrf_field(&v.csrf))
                input type="hidden" name="next" value=(v.next);
                div.field {
                    label for="email" { "Email" }
                    input #email type="email" name="email" value=(v.email) autocomplete="username" required autofocus[v.email.is_empty()];
                }
                div.field {
                    label for="password" { "Password" }
                    input #password type="password" name="password" autocomplete="current-password" required autofocus[!v.email.is_empty() && !v.totp_needed];
                }
                @if v.totp_needed {
                    div.field {
                        label for="totp" { "Authenticator code" }
                        input #totp type="text" name="totp" inputmode="numeric" pattern="[0-9]{6}" autocomplete="one-time-code" required autofocus;
                    }
                }
                button.primary type="submit" { "Log in" }
            }
        },
    )
}
