//! `/profile`: the viewer's account: theme, password, two-factor authentication (TOTP
//! enrolment with a QR code, confirmation, disabling).

use crate::components::qr::qr_svg;
use crate::components::{csrf_field, error_box};
use crate::layout::{PageCtx, page as framed};
use maud::{Markup, html};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Totp {
    #[default]
    Off,
    /// Started, waiting for a code: the secret to scan or type.
    Enrolling {
        secret: String,
        otpauth_url: String,
    },
    On,
}

#[derive(Debug, Clone, Default)]
pub struct ProfileView {
    pub email: String,
    pub role: String,
    pub created: String,
    /// A confirmation after a change ("Password changed.").
    pub notice: Option<String>,
    pub password_error: Option<String>,
    pub totp: Totp,
    pub totp_error: Option<String>,
    /// The viewer's usage against their quotas.
    pub usage: Option<crate::components::usage::UsageLine>,
}

pub fn page(ctx: &PageCtx, v: &ProfileView) -> Markup {
    framed(
        ctx,
        "Profile",
        html! {
            h1 { "Profile" }
            @if let Some(n) = &v.notice { div.notice role="status" { (n) } }
            div.grid2 {
                section.card {
                    h2 { "Account" }
                    dl.facts {
                        dt { "Email" } dd #profile-email { (v.email) }
                        dt { "Role" } dd { (v.role) }
                        dt { "Member since" } dd { (v.created) }
                    }
                    form.field method="post" action="/theme" {
                        (csrf_field(&ctx.csrf))
                        input type="hidden" name="back" value="/profile";
                        label for="profile-theme" { "Theme" }
                        div.copy-row {
                            select #profile-theme name="theme" {
                                @for (value, label) in [("system", "Follow the system"), ("light", "Light"), ("dark", "Dark")] {
                                    option value=(value) selected[ctx.theme == value] { (label) }
                                }
                            }
                            button type="submit" { "Save theme" }
                        }
                    }
                    p.muted.small { "API tokens for scripts and tools: " a href="/tokens" { "API tokens" } "." }
                }
                section.card #password {
                    h2 { "Change password" }
                    (error_box(v.password_error.as_deref()))
                    form method="post" action="/profile/password" {
                        (csrf_field(&ctx.csrf))
                        // Username field for password managers.
                        input type="hidden" name="username" autocomplete="username" value=(v.email);
                        div.field {
                            label for="current_password" { "Current password" }
                            input #current_password type="password" name="current_password" autocomplete="current-password" required;
                        }
                        div.field {
                            label for="new_password" { "New password " span.hint { "(at least 10 characters)" } }
                            input #new_password type="password" name="new_password" autocomplete="new-password" minlength="10" required;
                        }
                        div.field {
                            label for="confirm_password" { "New password again" }
                            input #confirm_password type="password" name="confirm_password" autocomplete="new-password" minlength="10" required;
                        }
                        p.muted.small { "Your other browser sessions and access tokens end; this one stays signed in." }
                        button.primary type="submit" { "Change password" }
                    }
                }
            }
            section.card #totp {
                h2 { "Two-factor authentication" }
                (error_box(v.totp_error.as_deref()))
                @match &v.totp {
                    Totp::Off => {
                        p { "Off. With it on, logging in also asks for a code from an authenticator app." }
                        form method="post" action="/profile/totp" {
                            (csrf_field(&ctx.csrf))
                            button.primary type="submit" { "Set up two-factor authentication" }
                        }
                    }
                    Totp::Enrolling { secret, otpauth_url } => {
                        p { "Scan this code with your authenticator app, or type the key into it; then enter the 6-digit code it shows." }
                        div.totp-setup {
                            @if let Some(svg) = qr_svg(otpauth_url, "QR code of the authenticator key") { (svg) }
                            div {
                                p { "Key: " code #totp-secret.secret { (secret) } }
                                form method="post" action="/profile/totp/confirm" {
                                    (csrf_field(&ctx.csrf))
                                    div.field {
                                        label for="totp-code" { "Code from the app" }
                                        input #totp-code type="text" name="code" inputmode="numeric" pattern="[0-9]{6}"
                                            autocomplete="one-time-code" maxlength="6" required autofocus;
                                    }
                                    button.primary type="submit" { "Turn on" }
                                }
                            }
                        }
                    }
                    Totp::On => {
                        p { span.badge.ok { "on" } " Logging in asks for a code from your authenticator app." }
                        form method="post" action="/profile/totp/disable" data-confirm="Turn off two-factor authentication?" {
                            (csrf_field(&ctx.csrf))
                            input type="hidden" name="username" autocomplete="username" value=(v.email);
                            div.field {
                                label for="totp-password" { "Your password, to turn it off" }
                                input #totp-password type="password" name="password" autocomplete="current-password" required;
                            }
                            button.danger type="submit" { "Turn off two-factor authentication" }
                        }
                    }
                }
            }
            @if let Some(u) = &v.usage { (crate::components::usage::usage_card(u)) }
        },
    )
}
