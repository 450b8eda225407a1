//! `/tokens`: the viewer's personal API tokens through `/api/v1/tokens`. A new token's
//! value is in the response to the create form only (never stored, never shown again).

use super::client::encode;
use super::csrf::{self, CsrfOnly};
use super::page::{Viewer, html_status, see_other, when_text};
use crate::error::{ApiError, PageError};
use crate::state::AppState;
use automa_ui::Nav;
use automa_ui::pages::tokens::{
    CreatedToken, EXPIRY_CHOICES, TokenForm, TokenLine, TokensView, page,
};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn when_or(v: &Value, none: &str) -> String {
    v.as_str().map_or_else(|| none.to_owned(), when_text)
}

fn line(t: &Value) -> TokenLine {
    let expired = t["expires_at"]
        .as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .is_some_and(|at| at < chrono::Utc::now());
    TokenLine {
        id: text(&t["id"]),
        name: text(&t["name"]),
        prefix: text(&t["prefix"]),
        scopes: t["scopes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        created: when_or(&t["created_at"], ""),
        expires: when_or(&t["expires_at"], "never"),
        last_used: when_or(&t["last_used_at"], "never"),
        state: if !t["revoked_at"].is_null() {
            "revoked"
        } else if expired {
            "expired"
        } else {
            "active"
        }
        .into(),
    }
}

async fn render(
    viewer: &Viewer,
    mut view: TokensView,
    status: StatusCode,
) -> Result<Response, PageError> {
    let list = viewer.api.get("/api/v1/tokens?limit=200").await?;
    view.tokens = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(line)
        .collect();
    Ok(html_status(page(&viewer.ctx(Nav::Tokens), &view), status))
}

pub async fn list(viewer: Viewer) -> Result<Response, PageError> {
    render(&viewer, TokensView::default(), StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct CreateForm {
    csrf: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    expires: String,
}

/// The API's scope list for the chosen highest scope (it implies the lower ones).
fn scopes(scope: &str) -> Option<Vec<&'static str>> {
    match scope {
        "read" => Some(vec!["read"]),
        "write" => Some(vec!["read", "write"]),
        "admin" => Some(vec!["read", "write", "admin"]),
        _ => None,
    }
}

pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(f): Form<CreateForm>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, f.csrf.as_deref(), &viewer.csrf)?;
    let form = TokenForm {
        name: f.name.clone(),
        scope: f.scope.clone(),
        expires: f.expires.clone(),
    };
    let refused = |message: String| TokensView {
        form: form.clone(),
        error: Some(message),
        ..TokensView::default()
    };
    let invalid = StatusCode::UNPROCESSABLE_ENTITY;
    let Some(scopes) = scopes(&f.scope) else {
        let view = refused("choose read, write or admin access".into());
        return render(&viewer, view, invalid).await;
    };
    let expires_in: Option<u64> = match f.expires.as_str() {
        "never" => None,
        days if EXPIRY_CHOICES.iter().any(|(v, _)| *v == days) => {
            days.parse::<u64>().ok().map(|d| d * 24 * 3600)
        }
        _ => {
            let view = refused("choose when the token expires".into());
            return render(&viewer, view, invalid).await;
        }
    };
    let answer = viewer
        .api
        .call(
            Method::POST,
            "/api/v1/tokens",
            Some(&json!({"name": f.name, "scopes": scopes, "expires_in_seconds": expires_in})),
        )
        .await?;
    match answer {
        Ok(created) => {
            let view = TokensView {
                created: Some(CreatedToken {
                    name: text(&created["name"]),
                    token: text(&created["token"]),
                }),
                ..TokensView::default()
            };
            render(&viewer, view, StatusCode::CREATED).await
        }
        Err(e) if matches!(e.status.as_u16(), 400 | 403 | 422) => {
            render(&viewer, refused(e.message), e.status).await
        }
        Err(e) => Err(ApiError::from(e).into()),
    }
}

pub async fn revoke(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, &state, f.csrf.as_deref(), &viewer.csrf)?;
    viewer
        .api
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{}", encode(&id)),
            None,
        )
        .await??;
    Ok(see_other("/tokens"))
}
