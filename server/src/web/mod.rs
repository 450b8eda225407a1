//! The web dashboard: server-rendered pages (markup in the `automa-ui` crate) over
//! browser sessions. Pages read and act through the same `services` as the API and
//! MCP (the session's user as the actor), so authorization, validation and auditing
//! are identical; each page only turns the typed answers into a `ui` view model. Every
//! form POST is CSRF-checked (`csrf`).

mod agent_form;
mod agents;
mod assets;
mod audit;
mod csrf;
mod dashboard;
mod filters;
mod headers;
mod host;
mod job_history;
mod jobs;
mod login;
mod nodes;
mod page;
mod plugin;
mod plugins;
mod profile;
mod schedule_input;
mod schedules;
mod script_retention;
mod script_runtime;
mod scripts;
mod secrets;
mod settings;
mod setup;
mod shared;
mod theme;
mod tokens;
mod usage;
mod users;
mod versions;

use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard::show))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/setup", get(setup::form).post(setup::submit))
        .route("/scripts", get(scripts::list))
        .route("/scripts/new", get(scripts::new_form).post(scripts::create))
        .route("/scripts/{id}", get(scripts::show))
        .route("/scripts/{id}/run", post(scripts::run))
        .route("/scripts/{id}/source", post(scripts::save_source))
        .route(
            "/scripts/{id}/retention",
            get(script_retention::show).post(script_retention::save),
        )
        .route(
            "/scripts/{id}/runtime",
            get(script_runtime::show).post(script_runtime::save),
        )
        .route("/scripts/{id}/versions", get(versions::show))
        .route("/jobs", get(job_history::list))
        .route("/jobs/{id}", get(jobs::show))
        .route("/jobs/{id}/events", get(jobs::events))
        .route("/jobs/{id}/cancel", post(jobs::cancel))
        .route("/jobs/{id}/rerun", post(jobs::rerun))
        .route("/schedules", get(schedules::list))
        .route(
            "/schedules/new",
            get(schedules::new_form).post(schedules::create),
        )
        .route("/schedules/preview", get(schedules::preview))
        .route(
            "/schedules/{id}",
            get(schedules::edit_form).post(schedules::update),
        )
        .route("/schedules/{id}/enabled", post(schedules::set_enabled))
        .route("/schedules/{id}/delete", post(schedules::delete))
        .route("/agents", get(agents::list))
        .route(
            "/agents/new",
            get(agent_form::new_form).post(agent_form::create),
        )
        .route("/agents/{id}", get(agents::show))
        .route("/agents/{id}/{action}", post(agents::act))
        .route("/agents/{id}/message", post(agents::message))
        .route("/agents/{id}/events", get(agents::events))
        .route("/agents/{id}/status", get(agents::status))
        .route(
            "/agents/{id}/edit",
            get(agent_form::edit_form).post(agent_form::update),
        )
        .route("/agents/{id}/delete", post(agents::delete))
        .route(
            "/plugins",
            // Components are up to 128 MiB; the form's other fields need little more.
            get(plugins::list).merge(post(plugins::upload).layer(DefaultBodyLimit::max(
                crate::plugins::MAX_PLUGIN_BYTES + 64 * 1024,
            ))),
        )
        .route("/plugins/{name}", get(plugin::show).post(plugin::save))
        .route("/plugins/{name}/delete", post(plugin::delete))
        .route("/nodes", get(nodes::list))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{id}/revoke", post(tokens::revoke))
        .route("/profile", get(profile::show))
        .route("/profile/password", post(profile::change_password))
        .route("/profile/totp", post(profile::totp_start))
        .route("/profile/totp/confirm", post(profile::totp_confirm))
        .route("/profile/totp/disable", post(profile::totp_disable))
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}", get(users::show).post(users::change))
        .route("/audit", get(audit::list))
        .route("/secrets", get(secrets::list).post(secrets::put))
        .route("/secrets/{name}/delete", post(secrets::delete))
        .route("/settings", get(settings::show))
        .route("/theme", post(theme::set))
        .route("/static/{name}", get(assets::serve))
        .layer(axum::middleware::from_fn(login::remember_next))
        .layer(axum::middleware::from_fn(headers::security_headers))
}
