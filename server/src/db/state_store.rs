//! The host's `StateStore` port (`automa.state` of a script or plugin) over
//! [`super::state`].

use super::{Db, state};
use automa_runtime::host::HostError;
use automa_runtime::host::ports::{BoxFuture, StateStore, StateUsage};

/// `automa.state` of one script or plugin, in the database.
pub struct DbState {
    pub db: Db,
    pub scope: state::Scope,
}

impl DbState {
    /// The store of the script `script_id`.
    pub fn script(db: Db, script_id: &str) -> Self {
        Self {
            db,
            scope: state::Scope::Script(script_id.to_owned()),
        }
    }

    /// The store of the plugin `name`.
    pub fn plugin(db: Db, name: &str) -> Self {
        Self {
            db,
            scope: state::Scope::Plugin(name.to_owned()),
        }
    }
}

fn storage(e: sqlx::Error) -> HostError {
    tracing::warn!(error = %e, "state store");
    HostError::Failed("the state store is unavailable".into())
}

impl StateStore for DbState {
    fn get(&self, key: &str) -> BoxFuture<'_, Result<Option<String>, HostError>> {
        let key = key.to_owned();
        Box::pin(async move {
            state::get(&self.db, &self.scope, &key)
                .await
                .map_err(storage)
        })
    }
    fn set(&self, key: &str, value: &str) -> BoxFuture<'_, Result<(), HostError>> {
        let (key, value) = (key.to_owned(), value.to_owned());
        Box::pin(async move {
            state::set(&self.db, &self.scope, &key, &value)
                .await
                .map_err(storage)
        })
    }
    fn delete(&self, key: &str) -> BoxFuture<'_, Result<bool, HostError>> {
        let key = key.to_owned();
        Box::pin(async move {
            state::delete(&self.db, &self.scope, &key)
                .await
                .map_err(storage)
        })
    }
    fn keys(&self) -> BoxFuture<'_, Result<Vec<String>, HostError>> {
        Box::pin(async move { state::keys(&self.db, &self.scope).await.map_err(storage) })
    }
    fn usage<'a>(&'a self, except: &'a str) -> BoxFuture<'a, Result<StateUsage, HostError>> {
        Box::pin(async move {
            let (keys, bytes) = state::usage(&self.db, &self.scope, except)
                .await
                .map_err(storage)?;
            Ok(StateUsage {
                keys: u64::try_from(keys).unwrap_or(0),
                bytes: u64::try_from(bytes).unwrap_or(0),
            })
        })
    }
}
