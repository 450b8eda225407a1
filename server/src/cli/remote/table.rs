//! Plain aligned columns, in the spirit of `supervisorctl status`: no borders, the state
//! upper-cased, times as `H:MM:SS`.

use serde_json::Value;

/// Prints rows under an upper-case header, each column padded to its widest cell.
pub fn print(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| {
        let last = cells.len().saturating_sub(1);
        let mut out = String::new();
        for (i, cell) in cells.into_iter().enumerate() {
            if i == last {
                out.push_str(&cell);
            } else {
                let pad = widths[i].saturating_sub(cell.chars().count()) + 2;
                out.push_str(&cell);
                out.push_str(&" ".repeat(pad));
            }
        }
        println!("{}", out.trim_end());
    };
    line(header.iter().map(|h| h.to_uppercase()).collect());
    for row in rows {
        line(row.clone());
    }
}

/// A string field, or `-` when absent.
pub fn text(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) if s.is_empty() => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `running` → `RUNNING`.
pub fn state(v: &Value) -> String {
    text(v).to_uppercase()
}

/// Seconds as `H:MM:SS` (days as `Nd H:MM:SS`), as supervisorctl shows uptime.
pub fn hms(seconds: i64) -> String {
    let s = seconds.max(0);
    let (d, h, m, s) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{d}d {h}:{m:02}:{s:02}")
    } else {
        format!("{h}:{m:02}:{s:02}")
    }
}

/// Milliseconds as a short duration: `850ms`, `12.3s`, `4:05`.
pub fn millis(v: &Value) -> String {
    match v.as_i64() {
        None => "-".into(),
        Some(ms) if ms < 1000 => format!("{ms}ms"),
        Some(ms) if ms < 60_000 => format!("{:.1}s", ms as f64 / 1000.0),
        Some(ms) => hms(ms / 1000),
    }
}

/// An RFC 3339 time trimmed to `YYYY-MM-DD HH:MM:SS`.
pub fn time(v: &Value) -> String {
    match v.as_str() {
        Some(t) if t.len() >= 19 => t[..19].replacen('T', " ", 1),
        _ => text(v),
    }
}
