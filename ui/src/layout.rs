//! The page frame: head, navigation (only what the role may see), theme.

use maud::{DOCTYPE, Markup, html};

/// Which navigation entry is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Dashboard,
    Scripts,
    Jobs,
    Schedules,
    Agents,
    Plugins,
    Users,
    Audit,
    Nodes,
    Secrets,
    Tokens,
    Profile,
    Settings,
    None,
}

/// What every signed-in page needs to know about the viewer.
#[derive(Debug, Clone)]
pub struct PageCtx {
    pub email: String,
    pub is_admin: bool,
    /// `light`, `dark` or `system`.
    pub theme: String,
    /// The session's CSRF token, put into every form.
    pub csrf: String,
    pub nav: Nav,
    /// Path and query of the current page (the theme form comes back to it).
    pub path: String,
}

fn theme_attr(theme: &str) -> &'static str {
    match theme {
        "light" => "light",
        "dark" => "dark",
        _ => "system",
    }
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="color-scheme" content="light dark";
            title { (title) " · Automa" }
            link rel="stylesheet" href="/static/app.css";
            script src="/static/htmx.min.js" defer {}
            script src="/static/app.js" defer {}
        }
    }
}

/// A page for a signed-in user.
pub fn page(ctx: &PageCtx, title: &str, body: Markup) -> Markup {
    let mut links = vec![
        (Nav::Dashboard, "/", "Dashboard"),
        (Nav::Scripts, "/scripts", "Scripts"),
        (Nav::Jobs, "/jobs", "Jobs"),
        (Nav::Schedules, "/schedules", "Schedules"),
        (Nav::Agents, "/agents", "Agents"),
        (Nav::Plugins, "/plugins", "Plugins"),
        (Nav::Tokens, "/tokens", "API tokens"),
    ];
    if ctx.is_admin {
        links.push((Nav::Users, "/users", "Users"));
        links.push((Nav::Audit, "/audit", "Audit"));
        links.push((Nav::Nodes, "/nodes", "Nodes"));
        links.push((Nav::Secrets, "/secrets", "Secrets"));
        links.push((Nav::Settings, "/settings", "Settings"));
    }
    html! {
        (DOCTYPE)
        html lang="en" data-theme=(theme_attr(&ctx.theme)) {
            (head(title))
            body {
                header.topbar {
                    a.brand href="/" { "Automa" }
                    nav.mainnav aria-label="Main" {
                        @for (nav, href, label) in &links {
                            a href=(href) aria-current=[(*nav == ctx.nav).then_some("page")] { (label) }
                        }
                    }
                    div.who {
                        a.email href="/profile" title="Your profile: password, two-factor authentication"
                            aria-current=[(ctx.nav == Nav::Profile).then_some("page")] { (ctx.email) }
                        form.theme method="post" action="/theme" {
                            (crate::components::csrf_field(&ctx.csrf))
                            input type="hidden" name="back" value=(ctx.path);
                            select name="theme" aria-label="Theme" data-autosubmit {
                                @for (value, label) in [("system", "System theme"), ("light", "Light"), ("dark", "Dark")] {
                                    option value=(value) selected[theme_attr(&ctx.theme) == value] { (label) }
                                }
                            }
                            button.linkish type="submit" data-js-hide { "Set" }
                        }
                        form method="post" action="/logout" {
                            (crate::components::csrf_field(&ctx.csrf))
                            button.linkish type="submit" { "Log out" }
                        }
                    }
                }
                main.content { (body) }
            }
        }
    }
}

/// A page without a session (login, setup, errors before login).
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" data-theme="system" {
            (head(title))
            body.bare {
                main.narrow {
                    div.brand.big { "Automa" }
                    (body)
                }
            }
        }
    }
}
