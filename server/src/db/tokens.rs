//! Personal API token repository. Only SHA-256 hashes of tokens are stored.

use super::decode::CorruptRow;
use super::{Db, new_id, now_ms};
use crate::auth::Scope;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub token_hash: String,
    pub prefix: String,
    pub scopes: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl TokenRow {
    /// The scopes granted (stored space-separated); a word that is no scope names the row
    /// instead of being dropped, so a listing never shows less than the token was given.
    pub fn scope_list(&self) -> Result<Vec<Scope>, CorruptRow> {
        self.scopes
            .split_whitespace()
            .map(|word| {
                Scope::parse(word).ok_or_else(|| CorruptRow {
                    table: "api_tokens",
                    id: self.id.clone(),
                    column: "scopes",
                    reason: format!("{word:?} is not read, write or admin"),
                })
            })
            .collect()
    }
}

macro_rules! cols {
    () => {
        "id, user_id, name, token_hash, prefix, scopes, created_at, expires_at, last_used_at, \
         revoked_at"
    };
}

pub struct NewToken<'a> {
    pub user_id: &'a str,
    pub name: &'a str,
    pub token_hash: &'a str,
    pub prefix: &'a str,
    pub scopes: &'a str,
    pub expires_at: Option<i64>,
}

pub async fn insert(db: &Db, t: NewToken<'_>) -> sqlx::Result<TokenRow> {
    sqlx::query_as(concat!(
        "INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, scopes, created_at, \
         expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ",
        cols!()
    ))
    .bind(new_id())
    .bind(t.user_id)
    .bind(t.name)
    .bind(t.token_hash)
    .bind(t.prefix)
    .bind(t.scopes)
    .bind(now_ms())
    .bind(t.expires_at)
    .fetch_one(db)
    .await
}

pub async fn find_by_id(db: &Db, id: &str) -> sqlx::Result<Option<TokenRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM api_tokens WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

pub async fn find_by_hash(db: &Db, hash: &str) -> sqlx::Result<Option<TokenRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM api_tokens WHERE token_hash = $1"
    ))
    .bind(hash)
    .fetch_optional(db)
    .await
}

/// Tokens of one user, newest first is not needed: keyset by id (creation order).
pub async fn list_for_user(
    db: &Db,
    user_id: &str,
    after: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<TokenRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM api_tokens WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3"
    ))
    .bind(user_id)
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Revokes a token owned by `user_id`; None when no such token belongs to that user.
pub async fn revoke(db: &Db, user_id: &str, id: &str) -> sqlx::Result<Option<TokenRow>> {
    sqlx::query_as(concat!(
        "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $3) \
         WHERE id = $1 AND user_id = $2 RETURNING ",
        cols!()
    ))
    .bind(id)
    .bind(user_id)
    .bind(now_ms())
    .fetch_optional(db)
    .await
}

pub async fn touch_last_used(db: &Db, id: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now_ms())
        .execute(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::TokenRow;
    use crate::auth::Scope;

    fn row(scopes: &str) -> TokenRow {
        TokenRow {
            id: "t1".into(),
            user_id: "u1".into(),
            name: "ci".into(),
            token_hash: String::new(),
            prefix: "atk_1234".into(),
            scopes: scopes.into(),
            created_at: 0,
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
        }
    }

    #[test]
    fn scopes_decode_or_name_the_row() {
        assert_eq!(
            row("read write").scope_list().ok(),
            Some(vec![Scope::Read, Scope::Write])
        );
        let error = row("read root").scope_list().expect_err("root is no scope");
        assert_eq!(
            error.to_string(),
            "api_tokens row t1: column scopes does not decode: \"root\" is not read, write or admin"
        );
    }
}
