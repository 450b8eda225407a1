//! `/tokens`: the viewer's personal API tokens over `services::tokens`. A new token's
//! value is in the response to the create form only (never stored, never shown again).

use super::csrf::{self, CsrfOnly};
use super::page::{Viewer, html_status, see_other, when};
use crate::auth::Scope;
use crate::db::{decode::CorruptRow, now_ms, tokens::TokenRow};
use crate::error::{ApiError, PageError};
use crate::services::{self, tokens::CreateToken};
use crate::state::AppState;
use automa_ui::Nav;
use automa_ui::pages::tokens::{
    CreatedToken, EXPIRY_CHOICES, TokenForm, TokenLine, TokensView, page,
};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

fn when_or(at: Option<i64>, none: &str) -> String {
    at.map_or_else(|| none.to_owned(), when)
}

fn line(t: TokenRow) -> Result<TokenLine, CorruptRow> {
    let expired = t.expires_at.is_some_and(|at| at < now_ms());
    Ok(TokenLine {
        scopes: t
            .scope_list()?
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        created: when(t.created_at),
        expires: when_or(t.expires_at, "never"),
        last_used: when_or(t.last_used_at, "never"),
        state: if t.revoked_at.is_some() {
            "revoked"
        } else if expired {
            "expired"
        } else {
            "active"
        }
        .into(),
        id: t.id,
        name: t.name,
        prefix: t.prefix,
    })
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    mut view: TokensView,
    status: StatusCode,
) -> Result<Response, PageError> {
    let rows = services::tokens::list(state, &viewer.principal, None, 200).await?;
    view.tokens = rows
        .into_iter()
        .map(line)
        .collect::<Result<_, _>>()
        .map_err(ApiError::from)?;
    Ok(html_status(page(&viewer.ctx(Nav::Tokens), &view), status))
}

pub async fn list(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    render(&state, &viewer, TokensView::default(), StatusCode::OK).await
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

/// The scope list for the chosen highest scope (it implies the lower ones).
fn scopes(scope: &str) -> Option<Vec<Scope>> {
    match scope {
        "read" => Some(vec![Scope::Read]),
        "write" => Some(vec![Scope::Read, Scope::Write]),
        "admin" => Some(vec![Scope::Read, Scope::Write, Scope::Admin]),
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
        return render(&state, &viewer, view, invalid).await;
    };
    let expires_in: Option<u64> = match f.expires.as_str() {
        "never" => None,
        days if EXPIRY_CHOICES.iter().any(|(v, _)| *v == days) => {
            days.parse::<u64>().ok().map(|d| d * 24 * 3600)
        }
        _ => {
            let view = refused("choose when the token expires".into());
            return render(&state, &viewer, view, invalid).await;
        }
    };
    let req = CreateToken {
        name: f.name,
        scopes,
        expires_in_seconds: expires_in,
    };
    match services::tokens::create(&state, &viewer.actor(), req).await {
        Ok(created) => {
            let view = TokensView {
                created: Some(CreatedToken {
                    name: created.row.name,
                    token: created.token,
                }),
                ..TokensView::default()
            };
            render(&state, &viewer, view, StatusCode::CREATED).await
        }
        Err(e @ (ApiError::BadRequest(_) | ApiError::Forbidden(_) | ApiError::Validation(_))) => {
            render(&state, &viewer, refused(e.to_string()), e.status()).await
        }
        Err(e) => Err(e.into()),
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
    services::tokens::revoke(&state, &viewer.actor(), &id).await?;
    Ok(see_other("/tokens"))
}
