//! User repository.

use super::{Db, new_id, now_ms};

#[derive(Clone)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub disabled: bool,
    pub theme: String,
    pub auth_version: i64,
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
    pub totp_last_step: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl UserRow {
    /// The stored role; anything else names the row (the API must not show a corrupt
    /// role as `user`).
    pub fn role_kind(&self) -> Result<crate::auth::Role, super::decode::CorruptRow> {
        crate::auth::Role::parse(&self.role).ok_or_else(|| super::decode::CorruptRow {
            table: "users",
            id: self.id.clone(),
            column: "role",
            reason: format!("{:?} is not admin or user", self.role),
        })
    }
}

// Secrets (password hash, TOTP secret) never reach logs through Debug.
impl std::fmt::Debug for UserRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .field("totp_enabled", &self.totp_enabled)
            .finish_non_exhaustive()
    }
}

// Manual mapping: flags are stored as BIGINT 0/1 (portable through the `Any` driver).
impl<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> for UserRow {
    fn from_row(row: &'r sqlx::any::AnyRow) -> sqlx::Result<Self> {
        use sqlx::Row;
        Ok(Self {
            id: row.try_get("id")?,
            email: row.try_get("email")?,
            password_hash: row.try_get("password_hash")?,
            role: row.try_get("role")?,
            disabled: row.try_get::<i64, _>("disabled")? != 0,
            theme: row.try_get("theme")?,
            auth_version: row.try_get("auth_version")?,
            totp_secret: row.try_get("totp_secret")?,
            totp_enabled: row.try_get::<i64, _>("totp_enabled")? != 0,
            totp_last_step: row.try_get("totp_last_step")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

macro_rules! cols {
    () => {
        "id, email, password_hash, role, disabled, theme, auth_version, totp_secret, \
         totp_enabled, totp_last_step, created_at, updated_at"
    };
}

/// Emails are compared case-insensitively by storing them lowercased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub async fn count(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(db)
        .await
}

pub async fn count_active_admins(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0")
        .fetch_one(db)
        .await
}

pub async fn find_by_id(db: &Db, id: &str) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(concat!("SELECT ", cols!(), " FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn find_by_email(db: &Db, email: &str) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(concat!("SELECT ", cols!(), " FROM users WHERE email = $1"))
        .bind(normalize_email(email))
        .fetch_optional(db)
        .await
}

pub async fn insert(
    db: &Db,
    email: &str,
    password_hash: &str,
    role: &str,
) -> sqlx::Result<UserRow> {
    let now = now_ms();
    sqlx::query_as(concat!(
        "INSERT INTO users (id, email, password_hash, role, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING ",
        cols!()
    ))
    .bind(new_id())
    .bind(normalize_email(email))
    .bind(password_hash)
    .bind(role)
    .bind(now)
    .fetch_one(db)
    .await
}

/// Keyset pagination ordered by id (UUIDv7, so creation order).
pub async fn list(db: &Db, after: Option<&str>, limit: i64) -> sqlx::Result<Vec<UserRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM users WHERE id > $1 ORDER BY id LIMIT $2"
    ))
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Role/disabled change; bumps `auth_version` so outstanding access tokens die.
pub async fn update_admin_fields(
    db: &Db,
    id: &str,
    role: Option<&str>,
    disabled: Option<bool>,
) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(concat!(
        "UPDATE users SET role = COALESCE($2, role), disabled = COALESCE($3, disabled), \
         auth_version = auth_version + 1, updated_at = $4 WHERE id = $1 RETURNING ",
        cols!()
    ))
    .bind(id)
    .bind(role)
    .bind(disabled.map(i64::from))
    .bind(now_ms())
    .fetch_optional(db)
    .await
}

pub async fn update_theme(db: &Db, id: &str, theme: &str) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(concat!(
        "UPDATE users SET theme = $2, updated_at = $3 WHERE id = $1 RETURNING ",
        cols!()
    ))
    .bind(id)
    .bind(theme)
    .bind(now_ms())
    .fetch_optional(db)
    .await
}

pub async fn update_password(db: &Db, id: &str, password_hash: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE users SET password_hash = $2, auth_version = auth_version + 1, updated_at = $3 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(password_hash)
    .bind(now_ms())
    .execute(db)
    .await?;
    Ok(())
}

/// Voids every outstanding access token of the user ("log out everywhere").
pub async fn bump_auth_version(db: &Db, id: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET auth_version = auth_version + 1 WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Stores a new, not yet confirmed TOTP secret (enrolment step 1).
pub async fn set_totp_pending(db: &Db, id: &str, secret: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE users SET totp_secret = $2, totp_enabled = 0, totp_last_step = NULL, \
         updated_at = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(secret)
    .bind(now_ms())
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_totp_enabled(db: &Db, id: &str, enabled: bool) -> sqlx::Result<()> {
    let q = if enabled {
        "UPDATE users SET totp_enabled = 1, updated_at = $2 WHERE id = $1"
    } else {
        "UPDATE users SET totp_enabled = 0, totp_secret = NULL, totp_last_step = NULL, \
         auth_version = auth_version + 1, updated_at = $2 WHERE id = $1"
    };
    sqlx::query(q).bind(id).bind(now_ms()).execute(db).await?;
    Ok(())
}

/// Atomically records `step` as used; false when it (or a later step) was used already,
/// which is how a replayed code is refused even under concurrent logins.
pub async fn consume_totp_step(db: &Db, id: &str, step: i64) -> sqlx::Result<bool> {
    let res = sqlx::query(
        "UPDATE users SET totp_last_step = $2 \
         WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
    )
    .bind(id)
    .bind(step)
    .execute(db)
    .await?;
    Ok(res.rows_affected() == 1)
}

pub async fn delete(db: &Db, id: &str) -> sqlx::Result<bool> {
    let res = sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(res.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::UserRow;
    use crate::auth::Role;

    // The users table's CHECK constraint keeps other roles out of a healthy database;
    // this is for one restored or edited around it.
    #[test]
    fn a_role_decodes_or_names_the_row() {
        let mut row = UserRow {
            id: "u1".into(),
            email: "a@example.org".into(),
            password_hash: String::new(),
            role: "admin".into(),
            disabled: false,
            theme: "system".into(),
            auth_version: 0,
            totp_secret: None,
            totp_enabled: false,
            totp_last_step: None,
            created_at: 0,
            updated_at: 0,
        };
        assert_eq!(row.role_kind().ok(), Some(Role::Admin));
        row.role = "root".into();
        let error = row.role_kind().expect_err("root is no role");
        assert_eq!(
            error.to_string(),
            "users row u1: column role does not decode: \"root\" is not admin or user"
        );
    }
}
