//! Cell values: SQLite's five storage classes, shown to people and to JSON.

/// The one value type every engine reads and binds (SQLite's five storage classes).
pub use rusqlite::types::Value;
use rusqlite::types::ValueRef;

/// A value as JSON: NULL, numbers and text map directly; a blob becomes
/// `{"blob_hex": "..."}` so it is never mistaken for text.
pub fn to_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Integer(i) => (*i).into(),
        Value::Real(f) => serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Value::Text(s) => s.clone().into(),
        Value::Blob(b) => serde_json::json!({ "blob_hex": hex(b) }),
    }
}

/// The inverse of [`to_json`] for the shapes it produces.
pub fn from_json(json: &serde_json::Value) -> Option<Value> {
    Some(match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Integer(*b as i64),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i),
            None => Value::Real(n.as_f64()?),
        },
        serde_json::Value::String(s) => Value::Text(s.clone()),
        serde_json::Value::Object(map) => Value::Blob(unhex(map.get("blob_hex")?.as_str()?)?),
        serde_json::Value::Array(_) => return None,
    })
}

/// A short human rendering: NULL is the word NULL, text is shown as is.
pub fn display(value: &Value) -> String {
    match value {
        Value::Null => "NULL".into(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => format_real(*f),
        Value::Text(s) => s.clone(),
        Value::Blob(b) => format!("<{} bytes>", b.len()),
    }
}

/// Reals keep a decimal point so 3.0 does not read as the integer 3.
pub fn format_real(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{f:.1}")
    } else {
        f.to_string()
    }
}

/// An owned copy of a value. SQLite does not check that TEXT is valid
/// UTF-8; such text keeps replacement characters instead of failing (the
/// conversion rusqlite offers panics on it).
pub fn owned(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Text(bytes) => Value::Text(String::from_utf8_lossy(bytes).into_owned()),
        other => other.into(),
    }
}

/// Column `i` of a result row as an owned value (see [`owned`]).
pub fn value_at(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Value> {
    Ok(owned(row.get_ref(i)?))
}

/// An unambiguous byte encoding of a row's values (storage class included),
/// for de-duplication and fingerprints.
pub fn encode_row(row: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in row {
        encode_value(v, &mut |bytes| out.extend_from_slice(bytes));
    }
    out
}

/// Feeds one value's encoding to `sink`: a tag for its storage class, then
/// its bytes (length-prefixed for text and blobs).
fn encode_value(v: &Value, sink: &mut dyn FnMut(&[u8])) {
    match v {
        Value::Null => sink(&[0]),
        Value::Integer(i) => {
            sink(&[1]);
            sink(&i.to_le_bytes());
        }
        Value::Real(f) => {
            sink(&[2]);
            sink(&f.to_le_bytes());
        }
        Value::Text(s) => {
            sink(&[3]);
            sink(&(s.len() as u64).to_le_bytes());
            sink(s.as_bytes());
        }
        Value::Blob(b) => {
            sink(&[4]);
            sink(&(b.len() as u64).to_le_bytes());
            sink(b);
        }
    }
}

/// A stable 64-bit fingerprint of a row's values.
pub fn fingerprint(row: &[Value]) -> u64 {
    fingerprint_of(row.iter())
}

/// The same fingerprint, from borrowed values, without building the row:
/// the writer fingerprints every row it inserts.
pub fn fingerprint_of<'v>(values: impl Iterator<Item = &'v Value>) -> u64 {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    for v in values {
        encode_value(v, &mut |bytes| hasher.update(bytes));
    }
    hasher.digest()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_keeps_storage_class() {
        for v in [
            Value::Null,
            Value::Integer(-7),
            Value::Real(2.5),
            Value::Text("O'Brien".into()),
            Value::Blob(vec![0, 255, 16]),
        ] {
            assert_eq!(from_json(&to_json(&v)), Some(v));
        }
    }

    #[test]
    fn streaming_fingerprint_equals_the_one_shot_hash() {
        let row = vec![
            Value::Null,
            Value::Integer(7),
            Value::Real(0.5),
            Value::Text("é".into()),
            Value::Blob(vec![1]),
        ];
        assert_eq!(
            fingerprint(&row),
            xxhash_rust::xxh3::xxh3_64(&encode_row(&row))
        );
    }

    #[test]
    fn display_marks_null_and_reals() {
        assert_eq!(display(&Value::Null), "NULL");
        assert_eq!(display(&Value::Real(3.0)), "3.0");
        assert_eq!(display(&Value::Text(String::new())), "");
    }
}
