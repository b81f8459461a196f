//! Small helpers on values and numbers: reading SQLite values as numbers
//! or text, rounding numbers back into values, ranges, kernel steps and
//! sequence gaps.

use rand::Rng;
use rand_distr::{Distribution, Normal};
use rusqlite::types::Value;

pub(super) fn is_numeric_column(values: &[&Value]) -> bool {
    let present: Vec<&&Value> = values
        .iter()
        .filter(|v| !matches!(v, Value::Null))
        .collect();
    !present.is_empty() && present.iter().all(|v| number(v).is_some())
}

pub(super) fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Real(f) => Some(*f),
        _ => None,
    }
}

pub(super) fn text(v: &Value) -> Option<&str> {
    match v {
        Value::Text(s) => Some(s.as_str()),
        _ => None,
    }
}

pub(super) fn number_value(v: f64, integer: bool, decimals: u32, real: bool) -> Value {
    if integer && !real {
        Value::Integer(v.round() as i64)
    } else if integer {
        Value::Real(v.round())
    } else {
        let scale = 10f64.powi(decimals.min(12) as i32);
        Value::Real((v * scale).round() / scale)
    }
}

pub(super) fn bounds(values: &[f64]) -> (f64, f64) {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lo, hi)
}

/// Silverman's rule-of-thumb bandwidth: the standard deviation of the step
/// that smooths the sample into a density without blurring its shape.
pub(super) fn kernel_step(values: &[f64]) -> f64 {
    let n = values.len();
    if n < 2 {
        return 0.0;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let iqr = sorted[n * 3 / 4] - sorted[n / 4];
    let spread = if iqr > 0.0 { sd.min(iqr / 1.34) } else { sd };
    0.9 * spread * (n as f64).powf(-0.2)
}

pub(super) fn gaussian<R: Rng + ?Sized>(rng: &mut R, sd: f64) -> f64 {
    if sd > 0.0 && sd.is_finite() {
        Normal::new(0.0, sd).map_or(0.0, |n| n.sample(rng))
    } else {
        0.0
    }
}

/// The differences between consecutive sorted numbers, to space a
/// continued sequence the way the table spaces it.
/// The next number of a sequence: `next`, moving on by one of the data's gaps. A sequence
/// that reaches the end of i64 goes on from `restart` (the middle of the data's range,
/// where a column that holds both ends of i64 has room), so UNIQUE columns keep taking rows.
pub(super) fn step_sequence<R: rand::Rng + ?Sized>(
    next: &mut i64,
    gaps: &[i64],
    restart: &mut i64,
    rng: &mut R,
) -> i64 {
    use rand::seq::IndexedRandom;
    let n = *next;
    let gap = gaps.choose(rng).copied().unwrap_or(1).max(1);
    *next = match n.checked_add(gap) {
        Some(after) => after,
        None => {
            let from = *restart;
            // A second wrap starts past the first one's values.
            *restart = from.saturating_add(1 << 32);
            from
        }
    };
    n
}

/// Where a sequence over `numbers` goes on once it reaches the end of i64.
pub(super) fn restart_of(numbers: &[i64]) -> i64 {
    let lo = numbers.iter().copied().min().unwrap_or(0);
    let hi = numbers.iter().copied().max().unwrap_or(0);
    lo / 2 + hi / 2
}

pub(super) fn gaps_of(numbers: &mut [i64]) -> Vec<i64> {
    numbers.sort_unstable();
    let gaps: Vec<i64> = numbers
        .windows(2)
        .filter_map(|w| w[1].checked_sub(w[0]))
        .filter(|g| *g > 0 && *g <= 1000)
        .collect();
    if gaps.is_empty() { vec![1] } else { gaps }
}
