//! Columns that hold JSON (settings, capabilities, tags) decode here, once, into their
//! types. A value that does not decode is an error naming the table, the row and the
//! column: a corrupt settings column must stop the run, not run it with default limits.

use serde::de::DeserializeOwned;

/// A stored row whose column does not decode into its type.
#[derive(Debug, thiserror::Error)]
#[error("{table} row {id}: column {column} does not decode: {reason}")]
pub struct CorruptRow {
    pub table: &'static str,
    pub id: String,
    pub column: &'static str,
    pub reason: String,
}

/// Decodes the JSON `text` of `table`.`column` in the row `id`.
pub fn json<T: DeserializeOwned>(
    table: &'static str,
    id: &str,
    column: &'static str,
    text: &str,
) -> Result<T, CorruptRow> {
    serde_json::from_str(text).map_err(|e| CorruptRow {
        table,
        id: id.to_owned(),
        column,
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_corrupt_column_names_its_table_row_and_column() {
        let error =
            super::json::<Vec<String>>("scripts", "s1", "tags", "{not json").expect_err("corrupt");
        let text = error.to_string();
        assert!(
            text.starts_with("scripts row s1: column tags does not decode:"),
            "{text}"
        );
        assert_eq!(
            super::json::<Vec<String>>("scripts", "s1", "tags", "[\"a\"]").ok(),
            Some(vec!["a".to_owned()])
        );
    }
}
