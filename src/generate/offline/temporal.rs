//! ISO dates and datetimes as numbers, and back in the column's own style.

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, NaiveDate, Timelike};
use regex::Regex;

/// How a column writes its datetimes, so generated ones look the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeStyle {
    pub date_only: bool,
    /// ' ' or 'T'.
    pub separator: char,
    pub seconds: bool,
    pub fraction_digits: usize,
    /// `Z`, `+02:00` or nothing, kept as written.
    pub suffix: String,
}

static ISO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(\d{4})-(\d{2})-(\d{2})(?:([T ])(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$")
        .expect("valid regex")
});

/// Seconds since 1970 (ignoring any offset, which is kept as text) and the style.
pub fn parse(text: &str) -> Option<(f64, TimeStyle)> {
    let c = ISO.captures(text)?;
    let num = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
    let date = NaiveDate::from_ymd_opt(num(1)? as i32, num(2)?, num(3)?)?;
    let date_only = c.get(4).is_none();
    let (h, m, s) = if date_only {
        (0, 0, 0)
    } else {
        (num(5)?, num(6)?, num(7).unwrap_or(0))
    };
    let fraction = c.get(8).map(|m| m.as_str()).unwrap_or("");
    let nanos: f64 = if fraction.is_empty() {
        0.0
    } else {
        format!("0.{fraction}").parse().unwrap_or(0.0)
    };
    let at = date.and_hms_opt(h, m, s)?.and_utc().timestamp() as f64 + nanos;
    Some((
        at,
        TimeStyle {
            date_only,
            separator: c
                .get(4)
                .and_then(|m| m.as_str().chars().next())
                .unwrap_or(' '),
            seconds: c.get(7).is_some(),
            fraction_digits: fraction.len(),
            suffix: c.get(9).map(|m| m.as_str().to_string()).unwrap_or_default(),
        },
    ))
}

/// Writes `seconds` since 1970 in `style`.
pub fn format(seconds: f64, style: &TimeStyle) -> Option<String> {
    // Round the fraction to the digits shown (f64 seconds near 1.7e9 carry
    // only about seven decimal places).
    let digits = style.fraction_digits.min(9) as u32;
    let scale = 10u64.pow(digits);
    let mut whole = seconds.floor() as i64;
    let mut units = ((seconds - seconds.floor()) * scale as f64).round() as u64;
    if units >= scale {
        whole += 1;
        units = 0;
    }
    let at = DateTime::from_timestamp(whole, 0)?.naive_utc();
    // Written by hand rather than with strftime: this runs once per
    // generated value, millions of times.
    use std::fmt::Write;
    let mut out = String::with_capacity(32);
    let _ = write!(out, "{:04}-{:02}-{:02}", at.year(), at.month(), at.day());
    if style.date_only {
        return Some(out);
    }
    let _ = write!(
        out,
        "{}{:02}:{:02}",
        style.separator,
        at.hour(),
        at.minute()
    );
    if style.seconds {
        let _ = write!(out, ":{:02}", at.second());
    }
    if digits > 0 {
        let _ = write!(out, ".{units:0width$}", width = digits as usize);
    }
    out.push_str(&style.suffix);
    Some(out)
}

/// One day in seconds.
pub const DAY: f64 = 86_400.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_each_style() {
        for text in [
            "2024-02-29",
            "2024-02-29 13:45:07",
            "2024-02-29T13:45",
            "2024-02-29T13:45:07.123Z",
            "1999-12-31 23:59:59+02:00",
        ] {
            let (at, style) = parse(text).unwrap();
            assert_eq!(format(at, &style).as_deref(), Some(text), "{text}");
        }
        assert!(parse("2024-13-01").is_none());
        assert!(parse("yesterday").is_none());
    }
}
