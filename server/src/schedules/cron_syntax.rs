//! cron(5) syntax, checked here before croner sees a pattern: croner accepts more
//! than cron(5) (7 fields, empty list items, `L`/`W`/`#`, a `+` prefix) and its errors
//! name neither the field nor the allowed range.
//!
//! A field is a comma list of items: `*`, `*/step`, `n`, `n-m` or `n-m/step`. Month
//! and day-of-week also take three-letter names (any case), in ranges too; day-of-week
//! 7 is Sunday like 0; `?` alone in a day field means `*`. The result also says how the
//! two day fields combine (the cron(5) day rule, see [`Checked::days_and`]).

use std::fmt::Write as _;

/// One field of a pattern: its name in messages, its bounds and its value names.
struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    /// Names of the values from `min` on (month: JAN = 1; day-of-week: SUN = 0).
    names: &'static [&'static str],
}

const SECOND: Field = Field {
    name: "second",
    min: 0,
    max: 59,
    names: &[],
};
const MINUTE: Field = Field {
    name: "minute",
    min: 0,
    max: 59,
    names: &[],
};
const HOUR: Field = Field {
    name: "hour",
    min: 0,
    max: 23,
    names: &[],
};
const DAY_OF_MONTH: Field = Field {
    name: "day-of-month",
    min: 1,
    max: 31,
    names: &[],
};
const MONTH: Field = Field {
    name: "month",
    min: 1,
    max: 12,
    names: &[
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ],
};
const DAY_OF_WEEK: Field = Field {
    name: "day-of-week",
    min: 0,
    max: 7,
    names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
};

/// The cron(5) shorthands (Vixie cron's list without `@reboot`, which is no time).
const NICKNAMES: &[(&str, &str)] = &[
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

/// The longest day of each month (February in a leap year).
const MONTH_DAYS: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/// A pattern that passed the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The pattern to hand to croner: its fields joined by single spaces, a nickname
    /// expanded.
    pub pattern: String,
    /// cron(5) ORs day-of-month and day-of-week only when both are restricted; a
    /// field that starts with `*` (`*`, `*/2`, ...) is unrestricted, and then a day
    /// must match both fields.
    pub days_and: bool,
}

/// One parsed field: its values as bits, and whether it starts with `*` (or is `?`).
struct Values {
    bits: u64,
    star: bool,
}

/// Check a 5-field pattern (or 6 with seconds first, or a nickname); the error names
/// the field, the bad value and the allowed range.
pub fn check(pattern: &str) -> Result<Checked, String> {
    let trimmed = pattern.trim();
    let expanded = if trimmed.starts_with('@') {
        nickname(trimmed)?
    } else {
        trimmed
    };
    let parts: Vec<&str> = expanded.split_whitespace().collect();
    let fields: &[Field] = match parts.len() {
        5 => &[MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK],
        6 => &[SECOND, MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK],
        n => {
            return Err(format!(
                "a cron pattern has 5 fields (minute hour day-of-month month day-of-week), \
                 or 6 with seconds first; this one has {n}"
            ));
        }
    };
    let mut values = Vec::with_capacity(fields.len());
    for (field, text) in fields.iter().zip(&parts) {
        values.push(parse_field(field, text)?);
    }
    let at = |i: usize| &values[i + parts.len() - 5];
    let (dom, month, dow) = (at(2), at(3), at(4));
    let days_and = dom.star || dow.star;
    // Only a restricted day-of-month ANDed with an unrestricted day-of-week can miss
    // every real date: a `*`-led day-of-month always holds day 1, and in the 400-year
    // calendar every date falls on every weekday.
    if !dom.star && dow.star && !any_real_date(month.bits, dom.bits) {
        let text = |i: usize| parts[i + parts.len() - 5];
        return Err(format!(
            "it never fires: no month in {:?} has a day in {:?}",
            text(3),
            text(2)
        ));
    }
    Ok(Checked {
        pattern: parts.join(" "),
        days_and,
    })
}

fn nickname(text: &str) -> Result<&'static str, String> {
    NICKNAMES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(text))
        .map(|(_, pattern)| *pattern)
        .ok_or_else(|| {
            let names: Vec<&str> = NICKNAMES.iter().map(|(n, _)| *n).collect();
            format!("unknown nickname {text:?}; use one of {}", names.join(", "))
        })
}

fn any_real_date(months: u64, days: u64) -> bool {
    (1..=12u32).any(|m| {
        months & (1 << m) != 0 && (1..=MONTH_DAYS[m as usize - 1]).any(|d| days & (1 << d) != 0)
    })
}

fn parse_field(field: &Field, text: &str) -> Result<Values, String> {
    let name = field.name;
    let is_day = field.name.starts_with("day");
    if text == "?" && is_day {
        return Ok(Values {
            bits: span(field.min, field.max, 1),
            star: true,
        });
    }
    let mut bits = 0;
    for item in text.split(',') {
        if item.is_empty() {
            return Err(format!("{name} {text:?} has an empty item in its list"));
        }
        bits |= parse_item(field, item)?;
    }
    if field.max == 7 && bits & (1 << 7) != 0 {
        // Day-of-week 7 is Sunday, the same as 0.
        bits = (bits & !(1 << 7)) | 1;
    }
    Ok(Values {
        bits,
        star: text.starts_with('*'),
    })
}

/// One list item as bits: `*`, `*/s`, `n`, `n-m`, `n-m/s`.
fn parse_item(field: &Field, item: &str) -> Result<u64, String> {
    let name = field.name;
    let (range, step) = match item.split_once('/') {
        Some((range, step)) => (range, Some(parse_step(field, step)?)),
        None => (item, None),
    };
    let (low, high) = if range == "*" {
        (field.min, field.max)
    } else if let Some((a, b)) = range.split_once('-') {
        if a.is_empty() || b.is_empty() {
            return Err(format!(
                "{name} range {range:?} needs a value on each side of the -"
            ));
        }
        let (low, high) = (value(field, a)?, value(field, b)?);
        if low > high {
            return Err(format!(
                "{name} range {range} runs backwards; write the smaller value first"
            ));
        }
        (low, high)
    } else {
        let single = value(field, range)?;
        if let Some(step) = step {
            return Err(format!(
                "{name} {item}: a step needs `*` or a range before it, \
                 e.g. */{step} or {single}-{max}/{step}",
                max = field.max
            ));
        }
        (single, single)
    };
    Ok(span(low, high, step.unwrap_or(1)))
}

fn parse_step(field: &Field, text: &str) -> Result<u32, String> {
    let (name, max) = (field.name, field.max);
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{name} step {text:?} is not a number 1–{max}"));
    }
    match text.parse::<u32>() {
        Ok(step) if (1..=max).contains(&step) => Ok(step),
        _ => Err(format!("{name} step {text} is out of range 1–{max}")),
    }
}

/// A number or a name within the field's bounds.
fn value(field: &Field, text: &str) -> Result<u32, String> {
    let (name, min, max) = (field.name, field.min, field.max);
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(format!("{name} {text} is out of range {min}–{max}")),
        };
    }
    if let Some(i) = field
        .names
        .iter()
        .position(|n| n.eq_ignore_ascii_case(text))
    {
        return Ok(min + i as u32);
    }
    let mut message = format!("{name} {text:?} is not a number {min}–{max}");
    if let (Some(first), Some(last)) = (field.names.first(), field.names.last()) {
        let _ = write!(message, " or a name {first}–{last}");
    }
    if field.name.starts_with("day") && text.contains(['L', 'W', '#', 'l', 'w']) {
        message.push_str(" (L, W and # are not cron(5) syntax)");
    }
    Err(message)
}

/// The bits `low`, `low + step`, ... up to `high`.
fn span(low: u32, high: u32, step: u32) -> u64 {
    (low..=high)
        .step_by(step as usize)
        .fold(0, |bits, v| bits | 1 << v)
}
