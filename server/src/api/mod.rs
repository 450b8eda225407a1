//! REST API `/api/v1`: one file per resource, merged here into an `OpenApiRouter` so the
//! OpenAPI document is generated from the same handlers that serve requests.

pub mod agents;
pub mod artifact_stream;
pub mod audit;
pub mod audit_verify;
pub mod auth;
pub mod jobs;
pub mod me;
pub mod nodes;
pub mod openapi_responses;
pub mod plugins;
pub mod schedules;
pub mod scripts;
pub mod secrets;
pub mod seq_page;
pub mod setup;
pub mod tokens;
pub mod usage;
pub mod user_quotas;
pub mod users;
pub mod webhooks;

#[cfg(test)]
mod error_mapping;

use crate::db::{rfc3339, users::UserRow};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRequest, FromRequestParts};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 200;

/// `axum::Json` with JSON error bodies for malformed JSON, missing fields, wrong
/// content type and oversized bodies.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Query` with JSON error bodies.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// `axum::extract::Path` with JSON error bodies.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// Cursor pagination: `?limit=1..200&cursor=<next_cursor from the previous page>`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// Opaque cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

pub fn page_limit(limit: Option<u32>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(i64::from(DEFAULT_PAGE_SIZE)),
        Some(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(i64::from(n)),
        Some(n) => Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_PAGE_SIZE}, got {n}"
        ))),
    }
}

/// A page of results; `next_cursor` is null on the last page.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// `rows` was fetched with `limit + 1` to learn whether another page exists.
    pub fn from_rows<R>(
        mut rows: Vec<R>,
        limit: i64,
        cursor_of: impl Fn(&R) -> String,
        map: impl Fn(R) -> T,
    ) -> Self {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit.max(0) as usize);
        let next_cursor = if more {
            rows.last().map(&cursor_of)
        } else {
            None
        };
        Self {
            items: rows.into_iter().map(map).collect(),
            next_cursor,
        }
    }
}

/// Public view of a user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub role: crate::auth::Role,
    pub disabled: bool,
    /// UI theme preference: `light`, `dark` or `system`.
    pub theme: String,
    pub totp_enabled: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl TryFrom<UserRow> for UserView {
    type Error = crate::db::decode::CorruptRow;
    fn try_from(u: UserRow) -> Result<Self, Self::Error> {
        Ok(Self {
            role: u.role_kind()?,
            id: u.id,
            email: u.email,
            disabled: u.disabled,
            theme: u.theme,
            totp_enabled: u.totp_enabled,
            created_at: rfc3339(u.created_at),
            updated_at: rfc3339(u.updated_at),
        })
    }
}

/// Basic email sanity check (a real check is sending mail, which is out of scope).
pub use crate::services::users::validate_email;

struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An access token from POST /api/v1/auth/login or a personal API token (atm_...)",
                    ))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Automa API", description = "Automa REST API v1"),
    modifiers(&SecurityAddon),
    security(("bearer" = [])),
    components(schemas(crate::error::ErrorBody))
)]
pub struct ApiDoc;

/// All `/api/v1` routes with their OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    let mut router = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(setup::router())
        .merge(auth::router())
        .merge(me::router())
        .merge(tokens::router())
        .merge(users::router())
        .merge(user_quotas::router())
        .merge(usage::router())
        .merge(audit::router())
        .merge(audit_verify::router())
        .merge(scripts::router())
        .merge(jobs::router())
        .merge(secrets::router())
        .merge(schedules::router())
        .merge(webhooks::router())
        .merge(agents::router())
        .merge(plugins::router())
        .merge(nodes::router());
    openapi_responses::add_common_responses(router.get_openapi_mut());
    router
}
