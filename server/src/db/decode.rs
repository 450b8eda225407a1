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

/// Reads the word `text` of `table`.`column` in the row `id` (an enum's stored
/// spelling) with `parse`; a word no version wrote is an error naming the row.
pub fn word<T>(
    table: &'static str,
    id: &str,
    column: &'static str,
    text: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, CorruptRow> {
    parse(text).ok_or_else(|| CorruptRow {
        table,
        id: id.to_owned(),
        column,
        reason: format!("unknown {column} {text:?}"),
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

    #[test]
    fn an_unknown_word_names_its_table_row_and_column() {
        let parse = |t: &str| (t == "on").then_some(true);
        assert_eq!(
            super::word("agents", "a1", "state", "on", parse).ok(),
            Some(true)
        );
        let error = super::word("agents", "a1", "state", "off", parse).expect_err("unknown");
        assert_eq!(
            error.to_string(),
            "agents row a1: column state does not decode: unknown state \"off\""
        );
    }
}
