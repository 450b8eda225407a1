//! `/users` (admin): the users with a create form, and `/users/{id}`: change the role,
//! disable or enable, reset the password or two-factor authentication.

use crate::components::{csrf_field, empty_state, error_box};
use crate::layout::{PageCtx, page as framed};
use maud::{Markup, html};

#[derive(Debug, Clone, Default)]
pub struct UserLine {
    pub id: String,
    pub email: String,
    pub role: String,
    pub disabled: bool,
    pub totp: bool,
    pub created: String,
}

/// The create form's input (not the password), kept when it is refused.
#[derive(Debug, Clone)]
pub struct NewUserForm {
    pub email: String,
    pub role: String,
}

impl Default for NewUserForm {
    fn default() -> Self {
        Self {
            email: String::new(),
            role: "user".into(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct UsersView {
    pub users: Vec<UserLine>,
    pub form: NewUserForm,
    pub error: Option<String>,
    /// More users exist: the link to the next page.
    pub next: Option<String>,
    /// Every user's usage against their quotas.
    pub usage: Vec<crate::components::usage::UsageLine>,
}

const ROLES: [(&str, &str); 2] = [
    ("user", "user: own scripts, jobs and schedules"),
    (
        "admin",
        "admin: everything, including users, secrets and capabilities",
    ),
];

fn status(u: &UserLine) -> Markup {
    html! {
        @if u.disabled { span.badge.bad { "disabled" } } @else { span.badge.ok { "active" } }
    }
}

pub fn list_page(ctx: &PageCtx, v: &UsersView) -> Markup {
    framed(
        ctx,
        "Users",
        html! {
            h1 { "Users" }
            div.scroll {
                table.list #users {
                    thead { tr { th { "Email" } th { "Role" } th { "Status" } th.hide-sm { "Two-factor" } th.hide-sm { "Created" } } }
                    tbody {
                        @for u in &v.users {
                            tr {
                                td { a href={ "/users/" (u.id) } { (u.email) } @if u.email == ctx.email { " " span.muted { "(you)" } } }
                                td { (u.role) }
                                td { (status(u)) }
                                td.hide-sm { @if u.totp { "on" } @else { span.muted { "off" } } }
                                td.hide-sm.muted { (u.created) }
                            }
                        }
                    }
                }
            }
            @if v.users.len() == 1 {
                (empty_state("You are the only user.", html! { "Add people below; they log in with the email and password you set, and can change the password on their profile." }))
            }
            @if let Some(next) = &v.next { p { a href=(next) { "More users →" } } }
            (crate::components::usage::usage_table(&v.usage))
            section.card #new-user {
                h2 { "New user" }
                (error_box(v.error.as_deref()))
                form method="post" action="/users" {
                    (csrf_field(&ctx.csrf))
                    div.field {
                        label for="new-email" { "Email" span.req { " *" } }
                        input #new-email type="email" name="email" value=(v.form.email) autocomplete="off" required;
                    }
                    div.field {
                        label for="new-password" { "Initial password " span.hint { "(at least 10 characters; tell it to them safely)" } }
                        input #new-password type="password" name="password" autocomplete="new-password" minlength="10" required;
                    }
                    div.field {
                        label for="new-role" { "Role" }
                        select #new-role name="role" {
                            @for (value, label) in ROLES { option value=(value) selected[v.form.role == value] { (label) } }
                        }
                    }
                    button.primary type="submit" { "Create user" }
                }
            }
        },
    )
}

#[derive(Debug, Clone, Default)]
pub struct UserView {
    pub user: UserLine,
    /// The admin looking at their own account.
    pub is_self: bool,
    pub notice: Option<String>,
    pub error: Option<String>,
}

pub fn user_page(ctx: &PageCtx, v: &UserView) -> Markup {
    let u = &v.user;
    let action = format!("/users/{}", u.id);
    framed(
        ctx,
        &u.email,
        html! {
            p { a href="/users" { "← Users" } }
            h1 { (u.email) " " (status(u)) }
            @if let Some(n) = &v.notice { div.notice role="status" { (n) } }
            (error_box(v.error.as_deref()))
            @if v.is_self {
                p.muted { "This is your own account: demoting or disabling it ends your admin access (refused for the last enabled admin)." }
            }
            div.grid2 {
                section.card {
                    h2 { "Role" }
                    form method="post" action=(action) {
                        (csrf_field(&ctx.csrf))
                        input type="hidden" name="action" value="role";
                        div.field {
                            label for="role" { "Role" }
                            select #role name="role" {
                                @for (value, label) in ROLES { option value=(value) selected[u.role == value] { (label) } }
                            }
                        }
                        button type="submit" { "Change role" }
                    }
                }
                section.card {
                    h2 { "Access" }
                    form method="post" action=(action)
                        data-confirm=[(!u.disabled).then(|| format!("Disable {}? They are logged out everywhere and their tokens stop working.", u.email))] {
                        (csrf_field(&ctx.csrf))
                        @if u.disabled {
                            input type="hidden" name="action" value="enable";
                            p { "Disabled: cannot log in or use tokens." }
                            button type="submit" { "Enable" }
                        } @else {
                            input type="hidden" name="action" value="disable";
                            p { "Active." }
                            button.danger type="submit" { "Disable" }
                        }
                    }
                }
                section.card {
                    h2 { "Reset password" }
                    form method="post" action=(action) {
                        (csrf_field(&ctx.csrf))
                        input type="hidden" name="action" value="password";
                        div.field {
                            label for="reset-password" { "New password " span.hint { "(at least 10 characters)" } }
                            input #reset-password type="password" name="password" autocomplete="new-password" minlength="10" required;
                        }
                        button type="submit" { "Set password" }
                    }
                }
                section.card {
                    h2 { "Two-factor authentication" }
                    @if u.totp {
                        form method="post" action=(action) data-confirm="Turn off their two-factor authentication?" {
                            (csrf_field(&ctx.csrf))
                            input type="hidden" name="action" value="reset_totp";
                            p { "On. Reset it when they lost their authenticator." }
                            button.danger type="submit" { "Reset two-factor" }
                        }
                    } @else {
                        p.muted { "Off. Users turn it on from their profile." }
                    }
                }
            }
        },
    )
}
