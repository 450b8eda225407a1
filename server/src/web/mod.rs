//! The web dashboard: server-rendered pages (markup in the `automa-ui` crate) over
//! browser sessions. Pages read and act through the same `/api/v1` handlers as API
//! clients (see `client`), so authorization, validation and auditing are identical;
//! only login, logout and setup are handled here directly (sharing the API's logic).
//! Every form POST is CSRF-checked (`csrf`).

mod admin;
mod assets;
mod client;
mod csrf;
mod dashboard;
mod headers;
mod host;
mod jobs;
mod login;
mod page;
mod scripts;
mod setup;
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
        .route("/users", get(admin::users))
        .route("/audit", get(admin::audit))
        .route("/secrets", get(admin::secrets))
        .route("/theme", post(theme::set))
        .route("/static/{name}", get(assets::serve))
        .layer(axum::middleware::from_fn(headers::security_headers))
}
