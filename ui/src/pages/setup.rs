//! First-run setup: create the first administrator with the token from the server log.

use crate::components::{csrf_field, error_box};
use crate::layout::bare;
use maud::{Markup, html};

#[derive(Debug, Default, Clone)]
pub struct SetupView {
    pub token: String,
    pub email: String,
    pub error: Option<String>,
    pub csrf: String,
    /// Setup was already completed: show a link to the login page instead.
    pub done: bool,
}

pub fn page(v: &SetupView) -> Markup {
    bare(
        "Set up",
        html! {
            h1 { "Welcome to Automa" }
            @if v.done {
                p { "Setup is complete. " a href="/login" { "Log in" } " with the administrator account." }
            } @else {
                p.muted { "Create the first administrator. The setup token is printed in the server log at first start." }
                (error_box(v.error.as_deref()))
                form.card method="post" action="/setup" {
                    (csrf_field(&v.csrf))
                    div.field {
                        label for="token" { "Setup token" }
                        input #token type="text" name="token" value=(v.token) required autocomplete="off";
                    }
                    div.field {
                        label for="email" { "Administrator email" }
                        input #email type="email" name="email" value=(v.email) required autocomplete="username";
                    }
                    div.field {
                        label for="password" { "Password " span.hint { "(at least 10 characters)" } }
                        input #password type="password" name="password" minlength="10" required autocomplete="new-password";
                    }
                    button.primary type="submit" { "Create administrator" }
                }
            }
        },
    )
}
