//! `GET /api/v1/audit/verify`: the server checks its audit log like `automa audit verify`
//! (admin): the checkpoints' signatures against the data dir's key, then the chain from
//! the newest checkpoint on.

use super::ApiJson;
use crate::audit::{Broken, VerifyReport};
use crate::auth::extract::AdminUser;
use crate::db::rfc3339;
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(verify_audit))
}

/// The outcome of verifying the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditVerification {
    /// Whether the checkpoints and the chain are intact.
    pub ok: bool,
    /// Rows checked (those after the newest checkpoint, when there is one).
    pub checked: u64,
    /// Checkpoints in the database; all are checked.
    pub checkpoints: u64,
    /// The newest checkpoint, which the walk started from; `null` when never pruned.
    pub checkpoint: Option<CheckpointView>,
    /// Hex of the Ed25519 public key the checkpoints were checked against.
    pub public_key: Option<String>,
    /// The first broken row or checkpoint.
    pub broken: Option<Broken>,
}

/// A signed record of pruned audit rows.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointView {
    pub id: i64,
    pub first_seq: i64,
    /// The last pruned row: the next row names `last_hash` as its `prev_hash`.
    pub last_seq: i64,
    pub last_hash: String,
    pub pruned_rows: i64,
    pub at: String,
    pub signature: String,
}

impl From<VerifyReport> for AuditVerification {
    fn from(r: VerifyReport) -> Self {
        Self {
            ok: r.first_broken.is_none(),
            checked: r.checked,
            checkpoints: r.checkpoints,
            checkpoint: r.checkpoint.map(|c| CheckpointView {
                at: rfc3339(c.at),
                id: c.id,
                first_seq: c.first_seq,
                last_seq: c.last_seq,
                last_hash: c.last_hash,
                pruned_rows: c.pruned_rows,
                signature: c.signature,
            }),
            public_key: r.public_key,
            broken: r.first_broken,
        }
    }
}

/// Verify the audit log's hash chain and signed checkpoints (admin).
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = AuditVerification), (status = 403, body = ErrorBody)))]
async fn verify_audit(
    State(state): State<AppState>,
    AdminUser(_p): AdminUser,
) -> ApiResult<ApiJson<AuditVerification>> {
    let report = crate::audit::verify_with_key_of(&state.db, &state.config.data_dir, None).await?;
    Ok(ApiJson(report.into()))
}
