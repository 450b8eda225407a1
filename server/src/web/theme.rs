//! `POST /theme`: the user's light / dark / system preference, saved through
//! `services::me::update`, then back to the page the form was on.

use super::csrf;
use super::page::{Viewer, see_other};
use crate::error::PageError;
use crate::services::{self, me::UpdateMe};
use crate::state::AppState;
use axum::Form;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct ThemeForm {
    csrf: Option<String>,
    #[serde(default)]
    theme: String,
    #[serde(default)]
    back: String,
}

pub async fn set(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(f): Form<ThemeForm>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, f.csrf.as_deref(), &viewer.csrf)?;
    let change = UpdateMe {
        theme: Some(f.theme),
    };
    services::me::update(&state, &viewer.actor(), change).await?;
    Ok(see_other(super::login::safe_next(&f.back)))
}
