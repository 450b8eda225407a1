//! Personal API tokens of the caller: create (token shown once), list, revoke.

use super::{ApiJson, ApiPath, ApiQuery, Page, PageParams, page_limit};
use crate::audit::AuditEvent;
use crate::auth::{Scope, extract::AuthUser, extract::ClientIp, policy, tokens};
use crate::db::{self, now_ms, rfc3339, tokens::TokenRow};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Longest allowed token lifetime: ten years.
const MAX_EXPIRES_IN_SECS: u64 = 10 * 365 * 24 * 3600;

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

impl From<TokenRow> for TokenView {
    fn from(t: TokenRow) -> Self {
        Self {
            scopes: Scope::parse_list(&t.scopes),
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            created_at: rfc3339(t.created_at),
            expires_at: t.expires_at.map(rfc3339),
            last_used_at: t.last_used_at.map(rfc3339),
            revoked_at: t.revoked_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// 1 to 100 characters (surrounding spaces are trimmed first).
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Defaults to `["read"]`. `admin` implies `write`, `write` implies `read`.
    #[serde(default)]
    pub scopes: Vec<Scope>,
    /// Lifetime in seconds; omitted means no expiry. A token created with an expiring API
    /// token must expire no later than that token.
    pub expires_in_seconds: Option<u64>,
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
    let rows =
        db::tokens::list_for_user(&state.db, &p.user_id, q.cursor.as_deref(), limit + 1).await?;
    Ok(ApiJson(Page::from_rows(
        rows,
        limit,
        |r| r.id.clone(),
        TokenView::from,
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
    let name = req.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::Validation(
            "name must be 1 to 100 characters".into(),
        ));
    }
    let mut scopes = if req.scopes.is_empty() {
        vec![Scope::Read]
    } else {
        req.scopes
    };
    scopes.sort();
    scopes.dedup();
    policy::check_grantable(&p, &scopes)?;
    let now = now_ms();
    let expires_at = match req.expires_in_seconds {
        Some(0) => {
            return Err(ApiError::Validation(
                "expires_in_seconds must be positive".into(),
            ));
        }
        Some(s) if s > MAX_EXPIRES_IN_SECS => {
            return Err(ApiError::Validation(
                "expires_in_seconds is too large (max ten years)".into(),
            ));
        }
        Some(s) => Some(now + (s as i64) * 1000),
        None => None,
    };
    policy::check_mintable_expiry(&p, expires_at, now)?;
    let generated = tokens::generate()?;
    let scopes_text = scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let row = db::tokens::insert(
        &state.db,
        db::tokens::NewToken {
            user_id: &p.user_id,
            name,
            token_hash: &generated.hash,
            prefix: &generated.display_prefix,
            scopes: &scopes_text,
            expires_at,
        },
    )
    .await?;
    state
        .audit
        .append(
            AuditEvent::new(&p.user_id, "token.create")
                .target(format!("token:{}", row.id))
                .ip(ip)
                .details(serde_json::json!({"name": row.name, "scopes": scopes_text, "expires_at": expires_at})),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(CreatedToken {
            token: generated.token,
            info: row.into(),
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
    let row = db::tokens::revoke(&state.db, &p.user_id, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    state.auth_cache.clear();
    state
        .audit
        .append(
            AuditEvent::new(&p.user_id, "token.revoke")
                .target(format!("token:{}", row.id))
                .ip(ip)
                .details(serde_json::json!({"name": row.name})),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
