//! Pieces the pages share: the action buttons' form, the script choices and a
//! script's name.

use super::page::Viewer;
use crate::error::PageError;
use crate::services;
use crate::state::AppState;
use serde::Deserialize;
use serde_json::Value;

/// A form whose only field is the CSRF token (action buttons).
#[derive(Deserialize)]
pub struct CsrfOnly {
    pub csrf: Option<String>,
}

pub fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// Most scripts offered as choices (and named) on a page.
const SHOWN_SCRIPTS: i64 = 200;

/// `(id, name)` of the scripts the viewer may use (the first 200).
pub async fn scripts(
    state: &AppState,
    viewer: &Viewer,
) -> Result<Vec<(String, String)>, PageError> {
    let filter = services::scripts::Filter::default();
    let rows =
        services::scripts::rows(state, &viewer.principal, &filter, None, SHOWN_SCRIPTS).await?;
    Ok(rows
        .into_iter()
        .take(SHOWN_SCRIPTS as usize)
        .map(|s| (s.id, s.name))
        .collect())
}

/// The name of a script among `names`, or that it is gone.
pub fn name_in(names: &[(String, String)], id: &str) -> String {
    names
        .iter()
        .find(|(i, _)| i == id)
        .map_or_else(|| "(deleted script)".to_owned(), |(_, n)| n.clone())
}
