//! Personal API tokens of the caller: create (token shown once), list, revoke.
//! Adapters over `services::tokens`.

use super::{ApiJson, ApiPath, ApiQuery, Page, PageParams, page_limit};
use crate::auth::{Scope, extract::AuthUser, extract::ClientIp};
use crate::db::{decode::CorruptRow, rfc3339, tokens::TokenRow};
use crate::error::{ApiResult, ErrorBody};
use crate::services::{self, Actor, tokens::CreateToken};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub id: String,
    pub name: String,
    /// First characters of the token, to recognise it.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl TryFrom<TokenRow> for TokenView {
    type Error = CorruptRow;
    fn try_from(t: TokenRow) -> Result<Self, CorruptRow> {
        Ok(Self {
            scopes: t.scope_list()?,
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            created_at: rfc3339(t.created_at),
            expires_at: t.expires_at.map(rfc3339),
            last_used_at: t.last_used_at.map(rfc3339),
            revoked_at: t.revoked_at.map(rfc3339),
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// The token itself. Shown only in this response; store it now.
    pub token: String,
    #[serde(flatten)]
    pub info: TokenView,
}

/// List your personal API tokens (revoked and expired ones included).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", params(PageParams),
    responses((status = 200, body = Page<TokenView>), (status = 400, body = ErrorBody)))]
async fn list_tokens(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<ApiJson<Page<TokenView>>> {
    let limit = page_limit(q.limit)?;
    let rows = services::tokens::list(&state, &p, q.cursor.as_deref(), limit + 1).await?;
    let views = rows
        .into_iter()
        .map(TokenView::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ApiJson(Page::from_rows(
        views,
        limit,
        |t| t.id.clone(),
        |t| t,
    )))
}

/// Create a personal API token. The response contains the token once.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = CreateToken,
    responses((status = 201, body = CreatedToken), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn create_token(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<CreateToken>,
) -> ApiResult<(StatusCode, ApiJson<CreatedToken>)> {
    let created = services::tokens::create(&state, &Actor::new(&p, ip), req).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(CreatedToken {
            token: created.token,
            info: created.row.try_into()?,
        }),
    ))
}

/// Revoke one of your tokens. Other users' tokens answer 404.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens",
    params(("id" = String, Path, description = "token id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn revoke_token(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    services::tokens::revoke(&state, &Actor::new(&p, ip), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
