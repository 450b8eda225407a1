//! The web dashboard: server-rendered pages (markup in the `automa-ui` crate) over
//! browser sessions. Pages read and act through the same `/api/v1` handlers as API
//! clients (see `client`), so authorization, validation and auditing are identical;
//! only login, logout and setup are handled here directly (sharing the API's logic).
//! Every form POST is CSRF-checked (`csrf`).

mod admin;
mod agents;
mod assets;
mod client;
mod csrf;
mod dashboard;
mod headers;
mod host;
mod jobs;
mod login;
mod page;
mod schedule_input;
mod schedules;
mod scripts;
mod setup;
mod shared;
mod theme;

use crate::state::AppState;
use axum::Router;
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
        .route("/jobs", get(jobs::list))
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
        .route("/agents/new", get(agents::new_form).post(agents::create))
        .route("/agents/{id}", get(agents::show))
        .route("/agents/{id}/{action}", post(agents::act))
        .route("/agents/{id}/message", post(agents::message))
        .route("/agents/{id}/events", get(agents::events))
        .route("/agents/{id}/delete", post(agents::delete))
        .route("/users", get(admin::users))
        .route("/audit", get(admin::audit))
        .route("/secrets", get(admin::secrets))
        .route("/theme", post(theme::set))
        .route("/static/{name}", get(assets::serve))
        .layer(axum::middleware::from_fn(headers::security_headers))
}
