//! Rules on one column at a time, learned from its profile.

use rusqlite::types::Value;

use super::{EVIDENCE_ROWS, Rejection, shown};
use crate::db::formats::{Format, has_format, shape};
use crate::db::profile::ColumnProfile;
use crate::generate::offline::temporal;
use crate::generate::plan::{ColumnPlan, allowed_values};

/// A format or set of shapes must cover this share of a column's text to bind new values.
const KEPT_SHARE: f64 = 0.95;
/// A closed set has at most this many values (the profile's top values hold them all).
const CLOSED_SET_MAX: u64 = 10;
/// How far past the observed range a number or date may go, as a share of the range.
const RANGE_MARGIN: f64 = 0.1;

#[derive(Debug, Clone, PartialEq)]
pub enum ColumnRule {
    /// The data has no NULL here (the column is nullable, so SQLite would take one).
    NeverNull,
    /// The data never has empty (or blank) text here.
    NeverEmpty,
    /// At least 95% of the text is in this format.
    Format(Format),
    /// The few shapes that cover at least 95% of the text (`(999) 999-9999`, `AAA-9999`).
    /// `widths_vary`: the data's numbers grow in width (`item 9`, `item 99`), so a digit
    /// run of any width keeps the shape. `tail_grows`: every value is different (a
    /// sequence such as `EV-000123`), so its last number may outgrow its width.
    Shapes {
        shapes: Vec<String>,
        widths_vary: bool,
        tail_grows: bool,
    },
    /// Numbers stay near `[min, max]`.
    Range {
        lo: f64,
        hi: f64,
        min: f64,
        max: f64,
    },
    /// ISO dates and times stay near `[min, max]` (seconds since 1970).
    DateRange {
        lo: f64,
        hi: f64,
        min: String,
        max: String,
        /// `lo` and `hi` written like the data: ISO text of one style sorts in time order,
        /// so a value of the same length is judged by comparing text, without parsing.
        lo_text: Option<String>,
        hi_text: Option<String>,
    },
    /// Text from a small closed set the data always keeps (plus what a CHECK allows).
    OneOf(Vec<Value>),
}

/// Words a format has at most: a phone (`(999) 999-9999`) or a timestamp has two or three.
const MAX_FORMAT_WORDS: usize = 3;

/// The rules `profile` supports for `column`, from `rows` rows in all.
pub fn learn(column: &ColumnPlan, profile: &ColumnProfile, rows: u64) -> Vec<ColumnRule> {
    let mut rules = Vec::new();
    if rows < EVIDENCE_ROWS {
        return rules;
    }
    // A column every row has distinct (a sequence, an id) grows past its maximum.
    let distinct_everywhere = profile.distinct_count + profile.null_count >= rows;
    if !column.not_null && profile.null_count == 0 {
        rules.push(ColumnRule::NeverNull);
    }
    let text_values = profile.storage.text;
    let mostly_text = text_values * 2 > rows - profile.null_count;
    if mostly_text && profile.text.as_ref().is_some_and(|t| t.min_length > 0) {
        rules.push(ColumnRule::NeverEmpty);
    }
    if text_values >= EVIDENCE_ROWS {
        if let Some(f) = profile.formats.first().filter(|f| f.share >= KEPT_SHARE) {
            rules.push(ColumnRule::Format(f.format));
        }
        // Formatted values (phones, codes, dates) only: words have a shape per length,
        // and a closed set says more about categories. A longer templated sentence
        // (`note number 12 about …`) is text, not a format: new rows write new words.
        let formatted = profile.shapes.iter().all(|s| {
            s.shape.contains('9')
                && !s.shape.ends_with('…')
                && s.shape.split_whitespace().count() <= MAX_FORMAT_WORDS
        });
        let covered: u64 = profile.shapes.iter().map(|s| s.count).sum();
        if formatted
            && covered as f64 >= KEPT_SHARE * text_values as f64
            && !profile.shapes.is_empty()
        {
            let shapes: Vec<String> = profile.shapes.iter().map(|s| s.shape.clone()).collect();
            let collapsed: std::collections::HashSet<String> =
                shapes.iter().map(|s| any_width(s)).collect();
            rules.push(ColumnRule::Shapes {
                widths_vary: collapsed.len() < shapes.len(),
                tail_grows: distinct_everywhere,
                shapes,
            });
        }
    }

    if let Some(n) = &profile.numeric
        && !n.from_text
        && !distinct_everywhere
        && n.max > n.min
    {
        let margin = (n.max - n.min) * RANGE_MARGIN;
        rules.push(ColumnRule::Range {
            lo: n.min - margin,
            hi: n.max + margin,
            min: n.min,
            max: n.max,
        });
    }
    if let Some(d) = &profile.dates
        && let (Some((lo, style)), Some((hi, _))) =
            (temporal::parse(&d.min), temporal::parse(&d.max))
        && hi > lo
    {
        let margin = (hi - lo) * RANGE_MARGIN;
        let (lo, hi) = (lo - margin, hi + margin);
        let same_length = |t: Option<String>| t.filter(|t| t.len() == d.min.len());
        rules.push(ColumnRule::DateRange {
            lo,
            hi,
            min: d.min.clone(),
            max: d.max.clone(),
            lo_text: same_length(temporal::format(lo.max(0.0), &style)),
            hi_text: same_length(temporal::format(hi, &style)),
        });
    }
    let non_null = rows - profile.null_count;
    if mostly_text
        && column.foreign_key.is_none()
        && profile.distinct_count <= CLOSED_SET_MAX
        && profile.distinct_count >= 1
        && profile.top_values.len() as u64 == profile.distinct_count
        // Each value seen several times: the set is kept, not just not yet grown.
        && non_null >= 3 * profile.distinct_count
    {
        let mut set: Vec<Value> = profile.top_values.iter().map(|v| v.value.clone()).collect();
        for check in &column.checks {
            if let Some(allowed) = allowed_values(check, &column.name) {
                set.extend(allowed);
            }
        }
        rules.push(ColumnRule::OneOf(set));
    }
    rules
}

impl ColumnRule {
    /// `value` is what the row gives the column (`None`: a default only SQLite knows).
    pub fn check(&self, name: &str, value: Option<&Value>) -> Result<(), Rejection> {
        let Some(value) = value else {
            return Ok(());
        };
        let reject = |reason: String, detail: String| Err(Rejection { reason, detail });
        match (self, value) {
            (ColumnRule::NeverNull, Value::Null) => reject(
                format!("{name} is NULL, but is never NULL in the data"),
                format!("{name} is NULL (never NULL in the data)"),
            ),
            (_, Value::Null) => Ok(()),
            (ColumnRule::NeverEmpty, Value::Text(t)) if t.trim().is_empty() => reject(
                format!("{name} is empty, but is never empty in the data"),
                format!("{name} is empty (never empty in the data)"),
            ),
            (ColumnRule::Format(f), Value::Text(t)) if !has_format(t, *f) => reject(
                format!("{name} is not {} like the data", article(*f)),
                format!("{name} {} is not {}", shown(value), article(*f)),
            ),
            (
                ColumnRule::Shapes {
                    shapes,
                    widths_vary,
                    tail_grows,
                },
                Value::Text(t),
            ) if !has_shape(shapes, *widths_vary, *tail_grows, t) => reject(
                format!("{name} does not have the shape of the data ({})", shapes[0]),
                format!(
                    "{name} {} does not have the shape {}",
                    shown(value),
                    shapes[0]
                ),
            ),
            (ColumnRule::Range { lo, hi, min, max }, v) => match number(v) {
                Some(x) if x < *lo || x > *hi => reject(
                    format!(
                        "{name} is far outside the data's range ({} to {})",
                        plain(*min),
                        plain(*max)
                    ),
                    format!(
                        "{name} {} is far outside {} to {}",
                        shown(value),
                        plain(*min),
                        plain(*max)
                    ),
                ),
                _ => Ok(()),
            },
            (
                ColumnRule::DateRange {
                    lo,
                    hi,
                    min,
                    max,
                    lo_text,
                    hi_text,
                },
                Value::Text(t),
            ) => {
                let inside_as_text = match (lo_text, hi_text) {
                    (Some(l), Some(h)) if t.len() == l.len() && t.is_char_boundary(10) => {
                        // Same style as the data (the date part is digits): text order is
                        // time order.
                        Some(t.as_str() >= l.as_str() && t.as_str() <= h.as_str())
                    }
                    _ => None,
                };
                let outside = match inside_as_text {
                    Some(true) => false,
                    _ => temporal::parse(t.trim()).is_some_and(|(x, _)| x < *lo || x > *hi),
                };
                if outside {
                    reject(
                        format!("{name} is far outside the data's dates ({min} to {max})"),
                        format!("{name} {} is far outside {min} to {max}", shown(value)),
                    )
                } else {
                    Ok(())
                }
            }
            (ColumnRule::OneOf(set), v) if !set.iter().any(|s| same(s, v)) => reject(
                format!("{name} is not one of the data's values"),
                format!("{name} {} is not one of the data's values", shown(value)),
            ),
            _ => Ok(()),
        }
    }
}

fn article(f: Format) -> String {
    let name = match f {
        Format::Email => "an email address",
        Format::Url => "a URL",
        Format::Uuid => "a UUID",
        Format::Phone => "a phone number",
        Format::IsoDate => "an ISO date (YYYY-MM-DD)",
        Format::IsoDateTime => "an ISO date and time",
        Format::Time => "a time of day",
        Format::IntegerText => "a whole number",
        Format::DecimalText => "a decimal number",
        Format::Code => "a code",
    };
    name.to_string()
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Real(r) => Some(*r),
        _ => None,
    }
}

fn plain(x: f64) -> String {
    crate::db::value::format_real(x)
}

/// Equal as the data means it: numbers by value, text exactly.
fn same(a: &Value, b: &Value) -> bool {
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// Whether `text` has one of `shapes`: exactly; with digit runs of any width when
/// `widths_vary`; with a longer last number when `tail_grows`.
fn has_shape(shapes: &[String], widths_vary: bool, tail_grows: bool, text: &str) -> bool {
    // The common case, checked without building the value's shape.
    if shapes.iter().any(|s| shape_is(text, s)) {
        return true;
    }
    let own = shape(text);
    if widths_vary {
        let own = any_width(&own);
        return shapes.iter().any(|s| any_width(s) == own);
    }
    shapes.contains(&own) || (tail_grows && shapes.iter().any(|s| longer_tail(s, &own)))
}

/// `own` is `shape` with its last run of digits longer (`AA-9999999` for `AA-999999`).
fn longer_tail(shape: &str, own: &str) -> bool {
    let split = |s: &str| -> Option<(String, usize, String)> {
        let end = s.rfind('9')? + 1;
        let start = s[..end].trim_end_matches('9').len();
        Some((s[..start].to_string(), end - start, s[end..].to_string()))
    };
    match (split(shape), split(own)) {
        (Some((head, width, tail)), Some((own_head, own_width, own_tail))) => {
            head == own_head && tail == own_tail && own_width >= width
        }
        _ => false,
    }
}

/// Whether `text` has exactly `shape` (as `formats::shape` writes it), without allocating.
fn shape_is(text: &str, shape: &str) -> bool {
    let mut expected = shape.chars();
    for (i, ch) in text.chars().enumerate() {
        if i == 40 {
            // `shape` cuts long values with a mark.
            return expected.next() == Some('…') && expected.next().is_none();
        }
        let class = match ch {
            '0'..='9' => '9',
            c if c.is_uppercase() => 'A',
            c if c.is_lowercase() => 'a',
            c => c,
        };
        if expected.next() != Some(class) {
            return false;
        }
    }
    expected.next().is_none()
}

/// A shape with each run of digits as one `9`: `item 999` and `item 9` alike.
fn any_width(shape: &str) -> String {
    let mut out = String::with_capacity(shape.len());
    for c in shape.chars() {
        if !(c == '9' && out.ends_with('9')) {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_is_agrees_with_shape() {
        for text in [
            "(215) 555-0123",
            "EV-000123",
            "Ünïcode 9",
            "",
            &"x".repeat(50),
        ] {
            assert!(shape_is(text, &shape(text)), "{text}");
            assert!(!shape_is(text, "(999) 999-999"), "{text}");
        }
    }

    #[test]
    fn shapes_are_kept_and_sequences_may_outgrow_their_width() {
        let phones = vec!["(999) 999-9999".to_string()];
        assert!(has_shape(&phones, false, false, "(215) 555-0123"));
        assert!(!has_shape(&phones, false, false, "(1200) 793-4837"));
        // A sequence's last number grows past its width; nothing else may change.
        let codes = vec!["AA-999999".to_string()];
        assert!(has_shape(&codes, false, true, "EV-1000001"));
        assert!(!has_shape(&codes, false, true, "EV-99999"));
        assert!(!has_shape(&codes, false, true, "EVX-1000001"));
        assert!(!has_shape(&codes, false, false, "EV-1000001"));
        // Numbers that already vary in width may take any width.
        let items = vec!["aaaa 9".to_string(), "aaaa 99".to_string()];
        assert!(has_shape(&items, true, false, "item 12345"));
        assert!(!has_shape(&items, true, false, "item twelve"));
    }
}
