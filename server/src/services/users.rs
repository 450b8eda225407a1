//! Users (admin; a user may read their own record, quotas and usage): create, change
//! (role, disabled, password, TOTP reset), delete, quotas. A disable or delete pauses
//! what the user runs; none may leave the server without an enabled admin.

use super::Actor;
use crate::auth::{Principal, Role, password, policy};
use crate::db::{self, user_quotas::UserQuotaRow, users::UserRow};
use crate::error::{ApiError, ApiResult};
use crate::quotas::Ceilings;
use crate::quotas::usage::{self, UserUsage};
use crate::state::AppState;
use crate::suspension;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub email: String,
    pub password: String,
    #[serde(default = "default_role")]
    pub role: Role,
}

fn default_role() -> Role {
    Role::User
}

/// Changes to a user; left out, a field stays as it is.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchUser {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    /// Set a new password (e.g. the user forgot theirs); voids their access tokens.
    pub password: Option<String>,
    /// `true` turns off the user's TOTP (e.g. a lost authenticator).
    pub reset_totp: Option<bool>,
}

/// An admin's overrides; `null` (or left out) means the server's ceiling.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuotaOverrides {
    /// Memory of one run, 32 to 65536 MiB.
    #[schema(minimum = 32, maximum = 65536)]
    pub memory_mb: Option<i64>,
    /// Wall-clock limit of one job attempt, 1 to 86400 seconds.
    #[schema(minimum = 1, maximum = 86400)]
    pub timeout_seconds: Option<i64>,
    /// Agents running at once, 0 to 10000.
    #[schema(minimum = 0, maximum = 10000)]
    pub agents: Option<i64>,
    /// Jobs running at once, 1 to 10000.
    #[schema(minimum = 1, maximum = 10000)]
    pub running_jobs: Option<i64>,
    /// CPU budget of one job attempt, 1 to 86400 CPU seconds.
    #[schema(minimum = 1, maximum = 86400)]
    pub cpu_seconds: Option<i64>,
    /// CPU seconds per minute of each agent instance, 1 to 60.
    #[schema(minimum = 1, maximum = 60)]
    pub agent_cpu_seconds_per_minute: Option<i64>,
    /// Disk of each script's `/data`, 1 to 1048576 MiB.
    #[schema(minimum = 1, maximum = 1048576)]
    pub data_mb: Option<i64>,
    /// Disk of each job's `/artifacts`, 1 to 1048576 MiB.
    #[schema(minimum = 1, maximum = 1048576)]
    pub artifacts_mb: Option<i64>,
    /// Disk of each run's `/tmp`, 1 to 1048576 MiB.
    #[schema(minimum = 1, maximum = 1048576)]
    pub tmp_mb: Option<i64>,
}

impl From<&QuotaOverrides> for UserQuotaRow {
    fn from(o: &QuotaOverrides) -> Self {
        Self {
            memory_mb: o.memory_mb,
            timeout_seconds: o.timeout_seconds,
            agents: o.agents,
            running_jobs: o.running_jobs,
            cpu_seconds: o.cpu_seconds,
            agent_cpu_seconds_per_minute: o.agent_cpu_seconds_per_minute,
            data_mb: o.data_mb,
            artifacts_mb: o.artifacts_mb,
            tmp_mb: o.tmp_mb,
        }
    }
}

impl From<&UserQuotaRow> for QuotaOverrides {
    fn from(r: &UserQuotaRow) -> Self {
        Self {
            memory_mb: r.memory_mb,
            timeout_seconds: r.timeout_seconds,
            agents: r.agents,
            running_jobs: r.running_jobs,
            cpu_seconds: r.cpu_seconds,
            agent_cpu_seconds_per_minute: r.agent_cpu_seconds_per_minute,
            data_mb: r.data_mb,
            artifacts_mb: r.artifacts_mb,
            tmp_mb: r.tmp_mb,
        }
    }
}

/// A user's quotas: what applies, and the overrides an admin set for them.
pub struct Quotas {
    pub applied: Ceilings,
    pub overrides: QuotaOverrides,
}

/// An address a user can have: something@domain.tld, no spaces, at most 254 bytes.
pub fn validate_email(email: &str) -> Result<(), ApiError> {
    let e = email.trim();
    let ok = e.len() <= 254
        && e.split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'))
        && !e.contains(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(ApiError::Validation("email is not a valid address".into()))
    }
}

/// Users by id, a page after `cursor` (admin).
pub async fn list(
    state: &AppState,
    p: &Principal,
    cursor: Option<&str>,
    limit: i64,
) -> ApiResult<Vec<UserRow>> {
    policy::require_admin(p)?;
    Ok(db::users::list(&state.db, cursor, limit).await?)
}

/// A user: admins see everyone, users only themselves (others are not found).
pub async fn get(state: &AppState, p: &Principal, id: &str) -> ApiResult<UserRow> {
    policy::require_view_user(p, id)?;
    db::users::find_by_id(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Create a user (admin); `user.create`.
pub async fn create(state: &AppState, actor: &Actor<'_>, req: CreateUser) -> ApiResult<UserRow> {
    policy::require_admin(actor.principal)?;
    validate_email(&req.email)?;
    password::validate_new(&req.password).map_err(ApiError::Validation)?;
    if db::users::find_by_email(&state.db, &req.email)
        .await?
        .is_some()
    {
        return Err(ApiError::Conflict(
            "a user with this email already exists".into(),
        ));
    }
    let hash = password::hash(req.password).await?;
    let user = db::users::insert(&state.db, &req.email, &hash, req.role.as_str()).await?;
    let entry = actor
        .audit("user.create", format!("user:{}", user.id))
        .details(serde_json::json!({"email": user.email, "role": user.role}));
    state.audit.append(entry).await?;
    Ok(user)
}

/// The audit context of an account change made by `actor`.
fn change<'a>(actor: &'a Actor<'_>, reason: &'a str) -> suspension::Change<'a> {
    suspension::Change {
        actor: &actor.principal.user_id,
        ip: actor.ip.clone(),
        reason,
    }
}

/// Refuses changes that would leave no enabled admin.
async fn ensure_admin_remains(state: &AppState, target: &UserRow) -> ApiResult<()> {
    if target.role == "admin"
        && !target.disabled
        && db::users::count_active_admins(&state.db).await? <= 1
    {
        return Err(ApiError::Conflict(
            "this is the last enabled administrator; create or promote another admin first".into(),
        ));
    }
    Ok(())
}

/// Change a user's role, disabled flag, password or TOTP (admin); `user.update`. Their
/// access tokens stop working; a disable pauses what they run, an enable resumes it.
pub async fn update(
    state: &AppState,
    actor: &Actor<'_>,
    id: &str,
    req: PatchUser,
) -> ApiResult<UserRow> {
    policy::require_admin_on_user(actor.principal, id)?;
    let target = db::users::find_by_id(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if req.role == Some(Role::User) || req.disabled == Some(true) {
        ensure_admin_remains(state, &target).await?;
    }
    let new_hash = match req.password {
        Some(pw) => {
            password::validate_new(&pw).map_err(ApiError::Validation)?;
            Some(password::hash(pw).await?)
        }
        None => None,
    };
    if let Some(hash) = &new_hash {
        db::users::update_password(&state.db, id, hash).await?;
    }
    if req.reset_totp == Some(true) {
        db::users::set_totp_enabled(&state.db, id, false).await?;
    }
    let user =
        db::users::update_admin_fields(&state.db, id, req.role.map(Role::as_str), req.disabled)
            .await?
            .ok_or(ApiError::NotFound)?;
    state.auth_cache.clear();
    // Rights follow the owner: a disable pauses what the user has running, an enable
    // resumes what the disable paused.
    match (target.disabled, user.disabled) {
        (false, true) => {
            let why = change(actor, "the owner's account was disabled");
            suspension::suspend(state, id, &why).await?;
        }
        (true, false) => {
            let why = change(actor, "the owner's account was enabled again");
            suspension::resume(state, id, &why).await?;
        }
        _ => {}
    }
    let entry = actor
        .audit("user.update", format!("user:{id}"))
        .details(serde_json::json!({
            "role": req.role.map(Role::as_str),
            "disabled": req.disabled,
            "password_reset": new_hash.is_some(),
            "totp_reset": req.reset_totp == Some(true),
        }));
    state.audit.append(entry).await?;
    Ok(user)
}

/// Delete a user with everything they own (admin); `user.delete`.
pub async fn delete(state: &AppState, actor: &Actor<'_>, id: &str) -> ApiResult<()> {
    policy::require_admin_on_user(actor.principal, id)?;
    let target = db::users::find_by_id(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    ensure_admin_remains(state, &target).await?;
    // Their rows go with them (foreign keys); what runs in memory must be stopped first.
    let why = change(actor, "the owner's account was deleted");
    suspension::suspend(state, id, &why).await?;
    db::users::delete(&state.db, id).await?;
    // Their scripts' package environments may now be unused.
    crate::packages::sweep_unused(&state.db, state.jobs.packages()).await;
    state.auth_cache.clear();
    let entry = actor
        .audit("user.delete", format!("user:{id}"))
        .details(serde_json::json!({"email": target.email}));
    state.audit.append(entry).await?;
    Ok(())
}

fn quotas_of(state: &AppState, row: &UserQuotaRow) -> Quotas {
    Quotas {
        applied: Ceilings::of(state.jobs.quotas(), row),
        overrides: row.into(),
    }
}

/// A user's quotas: admins see anyone's, users only their own.
pub async fn quotas(state: &AppState, p: &Principal, id: &str) -> ApiResult<Quotas> {
    get(state, p, id).await?;
    let row = db::user_quotas::find(&state.db, id).await?;
    Ok(quotas_of(state, &row))
}

fn quota_problems(o: &QuotaOverrides) -> Option<String> {
    let checks = [
        ("memory_mb", o.memory_mb, 32, 65_536),
        ("timeout_seconds", o.timeout_seconds, 1, 86_400),
        ("agents", o.agents, 0, 10_000),
        ("running_jobs", o.running_jobs, 1, 10_000),
        ("cpu_seconds", o.cpu_seconds, 1, 86_400),
        (
            "agent_cpu_seconds_per_minute",
            o.agent_cpu_seconds_per_minute,
            1,
            60,
        ),
        ("data_mb", o.data_mb, 1, 1 << 20),
        ("artifacts_mb", o.artifacts_mb, 1, 1 << 20),
        ("tmp_mb", o.tmp_mb, 1, 1 << 20),
    ];
    let bad: Vec<String> = checks
        .iter()
        .filter(|(_, v, lo, hi)| v.is_some_and(|v| v < *lo || v > *hi))
        .map(|(name, _, lo, hi)| format!("{name} must be between {lo} and {hi} (or null)"))
        .collect();
    (!bad.is_empty()).then(|| bad.join("; "))
}

/// Replace a user's overrides of the server's ceilings (admin); `user.quotas`.
pub async fn set_quotas(
    state: &AppState,
    actor: &Actor<'_>,
    id: &str,
    overrides: QuotaOverrides,
) -> ApiResult<Quotas> {
    policy::require_admin(actor.principal)?;
    db::users::find_by_id(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if let Some(problem) = quota_problems(&overrides) {
        return Err(ApiError::Validation(problem));
    }
    let row = UserQuotaRow::from(&overrides);
    db::user_quotas::set(&state.db, id, &row).await?;
    let details = serde_json::to_value(&overrides).map_err(anyhow::Error::from)?;
    let entry = actor
        .audit("user.quotas", format!("user:{id}"))
        .details(details);
    state.audit.append(entry).await?;
    Ok(quotas_of(state, &row))
}

/// A user's usage against their quotas: admins see anyone's, users only their own.
pub async fn usage(state: &AppState, p: &Principal, id: &str) -> ApiResult<UserUsage> {
    policy::require_view_user(p, id)?;
    usage::of(state, Some(id))
        .await?
        .into_iter()
        .next()
        .ok_or(ApiError::NotFound)
}

/// Every user's usage (admin).
pub async fn usage_of_all(state: &AppState, p: &Principal) -> ApiResult<Vec<UserUsage>> {
    policy::require_admin(p)?;
    Ok(usage::of(state, None).await?)
}
