//! JSON Schema rewriting for each provider's structured-output rules.
//!
//! Callers write one ordinary JSON Schema. OpenAI strict mode wants every property required
//! (optional ones made nullable), `additionalProperties: false` on every object and only a
//! subset of keywords; Anthropic wants `additionalProperties: false` and rejects numeric and
//! length constraints. Constraints a provider rejects are not lost: they move into the
//! node's `description`, where the model still reads them.

use serde_json::{Map, Value, json};

/// The property a non-object root schema is wrapped in (every provider wants an object root).
pub const WRAP_KEY: &str = "value";

/// Keywords dropped everywhere: metadata no provider needs, and applicators that no
/// structured-output mode accepts.
const DROPPED: &[&str] = &[
    "$schema",
    "$id",
    "$comment",
    "examples",
    "readOnly",
    "writeOnly",
    "deprecated",
    "contentEncoding",
    "contentMediaType",
    "patternProperties",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
    "dependentRequired",
    "dependentSchemas",
    "if",
    "then",
    "else",
    "not",
    "contains",
    "minContains",
    "maxContains",
];

/// Keywords OpenAI strict mode does not accept; they move into the description.
const OPENAI_MOVED: &[&str] = &[
    "minLength",
    "maxLength",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "default",
];

/// String formats OpenAI strict mode accepts.
const OPENAI_FORMATS: &[&str] = &[
    "date-time",
    "time",
    "date",
    "duration",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "uuid",
];

/// Keywords Anthropic structured output does not accept; they move into the description.
const ANTHROPIC_MOVED: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "maxItems",
    "minProperties",
    "maxProperties",
    "uniqueItems",
];

/// String formats Anthropic structured output accepts.
const ANTHROPIC_FORMATS: &[&str] = &[
    "date-time",
    "time",
    "date",
    "duration",
    "email",
    "hostname",
    "uri",
    "ipv4",
    "ipv6",
    "uuid",
];

/// A name valid for OpenAI's `json_schema.name` and Anthropic's tool name:
/// `[a-zA-Z0-9_-]{1,64}`.
pub fn sanitize_name(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if clean.is_empty() {
        "answer".to_string()
    } else {
        clean
    }
}

/// Whether a schema describes an object at its root.
pub fn is_object_schema(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(ts)) => ts.len() == 1 && ts[0] == "object",
        Some(_) => false,
        None => schema.get("properties").is_some(),
    }
}

/// Wraps a schema whose root is not an object into `{"value": <schema>}`.
/// Returns the schema to send and whether it was wrapped.
pub fn wrap_root(schema: &Value) -> (Value, bool) {
    if is_object_schema(schema) {
        return (schema.clone(), false);
    }
    let wrapped = json!({
        "type": "object",
        "properties": { WRAP_KEY: schema },
        "required": [WRAP_KEY],
        "additionalProperties": false,
    });
    (wrapped, true)
}

/// Rewrites a schema for OpenAI strict structured outputs.
pub fn openai_strict(schema: &Value) -> Value {
    let mut out = schema.clone();
    strict_node(&mut out);
    out
}

/// Rewrites a schema for Anthropic structured outputs (and the forced-tool fallback).
pub fn anthropic(schema: &Value) -> Value {
    let mut out = schema.clone();
    anthropic_node(&mut out);
    out
}

fn strict_node(node: &mut Value) {
    let Some(obj) = node.as_object_mut() else {
        return;
    };
    common_cleanup(obj);
    let mut notes = take_keywords(obj, OPENAI_MOVED);
    if let Some(note) = take_unsupported_format(obj, OPENAI_FORMATS) {
        notes.push(note);
    }
    append_notes(obj, &notes);

    if is_object_node(obj) {
        let mut props = match obj.remove("properties") {
            Some(Value::Object(props)) => props,
            _ => Map::new(),
        };
        let required = required_names(obj);
        for (name, prop) in props.iter_mut() {
            strict_node(prop);
            if !required.iter().any(|r| r == name) {
                make_nullable(prop);
            }
        }
        let all: Vec<Value> = props.keys().map(|k| Value::String(k.clone())).collect();
        obj.insert("properties".into(), Value::Object(props));
        obj.insert("required".into(), Value::Array(all));
        obj.insert("additionalProperties".into(), Value::Bool(false));
    }
    recurse_children(obj, strict_node);
}

fn anthropic_node(node: &mut Value) {
    let Some(obj) = node.as_object_mut() else {
        return;
    };
    common_cleanup(obj);
    let mut notes = Vec::new();
    // minItems is supported only as 0 or 1.
    if obj
        .get("minItems")
        .and_then(Value::as_u64)
        .is_some_and(|n| n > 1)
    {
        notes.extend(take_keywords(obj, &["minItems"]));
    }
    notes.extend(take_keywords(obj, ANTHROPIC_MOVED));
    if let Some(note) = take_unsupported_format(obj, ANTHROPIC_FORMATS) {
        notes.push(note);
    }
    append_notes(obj, &notes);

    if is_object_node(obj) {
        if let Some(Value::Object(props)) = obj.get_mut("properties") {
            for prop in props.values_mut() {
                anthropic_node(prop);
            }
        }
        obj.insert("additionalProperties".into(), Value::Bool(false));
    }
    recurse_children(obj, anthropic_node);
}

/// Drops metadata keywords and turns `oneOf` into `anyOf` (same meaning for the disjoint
/// alternatives a data schema uses; `oneOf` is not accepted by the providers).
fn common_cleanup(obj: &mut Map<String, Value>) {
    for key in DROPPED {
        obj.remove(*key);
    }
    if let Some(one_of) = obj.remove("oneOf") {
        obj.entry("anyOf").or_insert(one_of);
    }
}

fn is_object_node(obj: &Map<String, Value>) -> bool {
    match obj.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
        _ => obj.contains_key("properties"),
    }
}

/// Applies `f` to nested schemas other than `properties` (handled by the caller).
fn recurse_children(obj: &mut Map<String, Value>, f: fn(&mut Value)) {
    match obj.get_mut("items") {
        Some(Value::Array(items)) => items.iter_mut().for_each(f),
        Some(items) => f(items),
        None => {}
    }
    for key in ["anyOf", "allOf", "prefixItems"] {
        if let Some(Value::Array(list)) = obj.get_mut(key) {
            list.iter_mut().for_each(f);
        }
    }
    for key in ["$defs", "definitions"] {
        if let Some(Value::Object(defs)) = obj.get_mut(key) {
            defs.values_mut().for_each(f);
        }
    }
}

fn take_keywords(obj: &mut Map<String, Value>, keywords: &[&str]) -> Vec<String> {
    keywords
        .iter()
        .filter_map(|k| obj.remove(*k).map(|v| format!("{k}: {v}")))
        .collect()
}

fn take_unsupported_format(obj: &mut Map<String, Value>, supported: &[&str]) -> Option<String> {
    let format = obj.get("format")?.as_str()?.to_string();
    if supported.contains(&format.as_str()) {
        return None;
    }
    obj.remove("format");
    Some(format!("format: {format}"))
}

/// The names an object node lists as `required`.
pub(super) fn required_names(obj: &Map<String, Value>) -> Vec<String> {
    obj.get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Adds a sentence to a node's description ("...; note"), where the model still reads
/// what the schema itself can no longer say.
pub(super) fn add_note(obj: &mut Map<String, Value>, note: &str) {
    let text = match obj.get("description").and_then(Value::as_str) {
        Some(d) if !d.trim().is_empty() => format!("{d}; {note}"),
        _ => note.to_string(),
    };
    obj.insert("description".into(), Value::String(text));
}

fn append_notes(obj: &mut Map<String, Value>, notes: &[String]) {
    if notes.is_empty() {
        return;
    }
    let joined = notes.join(", ");
    let text = match obj.get("description").and_then(Value::as_str) {
        Some(desc) if !desc.trim().is_empty() => format!("{} ({joined})", desc.trim_end()),
        _ => joined,
    };
    obj.insert("description".into(), Value::String(text));
}

/// Lets a node also be `null` (how strict mode spells "optional").
fn make_nullable(node: &mut Value) {
    let Some(obj) = node.as_object_mut() else {
        return;
    };
    if let Some(ty) = obj.get_mut("type") {
        match ty {
            Value::String(t) if t != "null" => {
                *ty = json!([t.clone(), "null"]);
            }
            Value::Array(ts) if !ts.iter().any(|t| t == "null") => ts.push(json!("null")),
            _ => {}
        }
        if let Some(Value::Array(values)) = obj.get_mut("enum")
            && !values.iter().any(Value::is_null)
        {
            values.push(Value::Null);
        }
        return;
    }
    if let Some(Value::Array(alts)) = obj.get_mut("anyOf") {
        if !alts
            .iter()
            .any(|a| a.get("type").is_some_and(|t| t == "null"))
        {
            alts.push(json!({"type": "null"}));
        }
        return;
    }
    let original = std::mem::take(node);
    *node = json!({"anyOf": [original, {"type": "null"}]});
}

/// The schema as compact JSON, for prompts that must carry it (compact, because small
/// local models often have small context windows).
pub fn for_prompt(schema: &Value) -> String {
    schema.to_string()
}

/// Checks the root of an answer against the requested schema, and repairs the one common
/// slip of small models: a bare array where the schema wants `{"rows": [...]}` (an object
/// with a single array property). The caller validates everything below the root.
pub fn fit_root(value: Value, schema: &Value) -> Result<Value, String> {
    if !is_object_schema(schema) {
        return Ok(value);
    }
    match value {
        Value::Object(_) => Ok(value),
        Value::Array(items) => match single_array_property(schema) {
            Some(name) => {
                let mut map = Map::new();
                map.insert(name, Value::Array(items));
                Ok(Value::Object(map))
            }
            None => Err("expected an object, got an array".to_string()),
        },
        other => Err(format!("expected an object, got {}", kind_of(&other))),
    }
}

fn single_array_property(schema: &Value) -> Option<String> {
    let props = schema.get("properties")?.as_object()?;
    if props.len() != 1 {
        return None;
    }
    let (name, prop) = props.iter().next()?;
    let ty = prop.get("type")?;
    let is_array = ty == "array"
        || ty
            .as_array()
            .is_some_and(|ts| ts.iter().any(|t| t == "array"));
    is_array.then(|| name.clone())
}

pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows_schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "rows": {
                    "type": "array",
                    "minItems": 2,
                    "items": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string", "maxLength": 40, "description": "Full name"},
                            "age": {"type": "integer", "minimum": 0, "maximum": 120},
                            "email": {"type": "string", "format": "email", "pattern": "^.+@.+$"},
                            "tier": {"enum": ["free", "pro"], "type": "string"},
                            "code": {"type": "string", "format": "iso-3166"}
                        },
                        "required": ["name"]
                    }
                }
            },
            "required": ["rows"]
        })
    }

    #[test]
    fn strict_requires_everything_and_nulls_the_optional() {
        let s = openai_strict(&rows_schema());
        assert!(s.get("$schema").is_none());
        assert_eq!(s["additionalProperties"], json!(false));
        let item = &s["properties"]["rows"]["items"];
        assert_eq!(item["additionalProperties"], json!(false));
        assert_eq!(
            item["required"],
            json!(["name", "age", "email", "tier", "code"])
        );
        assert_eq!(item["properties"]["name"]["type"], json!("string"));
        assert_eq!(
            item["properties"]["age"]["type"],
            json!(["integer", "null"])
        );
        assert_eq!(item["properties"]["age"]["minimum"], json!(0));
        assert_eq!(
            item["properties"]["tier"]["enum"],
            json!(["free", "pro", null])
        );
        assert_eq!(
            item["properties"]["name"]["description"],
            json!("Full name (maxLength: 40)")
        );
        assert_eq!(
            item["properties"]["code"]["description"],
            json!("format: iso-3166")
        );
        assert_eq!(item["properties"]["email"]["format"], json!("email"));
    }

    #[test]
    fn anthropic_moves_constraints_into_descriptions() {
        let s = anthropic(&rows_schema());
        let rows = &s["properties"]["rows"];
        assert!(rows.get("minItems").is_none());
        assert_eq!(rows["description"], json!("minItems: 2"));
        let item = &rows["items"];
        assert_eq!(item["required"], json!(["name"]));
        assert_eq!(item["additionalProperties"], json!(false));
        assert_eq!(
            item["properties"]["age"]["description"],
            json!("minimum: 0, maximum: 120")
        );
        assert_eq!(
            item["properties"]["email"]["description"],
            json!("pattern: \"^.+@.+$\"")
        );
        assert_eq!(item["properties"]["email"]["format"], json!("email"));
    }

    #[test]
    fn nullable_without_type_wraps_in_any_of() {
        let s = openai_strict(&json!({
            "type": "object",
            "properties": {"x": {"$ref": "#/$defs/X"}, "y": {"oneOf": [{"type": "string"}]}},
            "$defs": {"X": {"type": "object", "properties": {"a": {"type": "string"}}}}
        }));
        assert_eq!(
            s["properties"]["x"],
            json!({"anyOf": [{"$ref": "#/$defs/X"}, {"type": "null"}]})
        );
        assert_eq!(
            s["properties"]["y"],
            json!({"anyOf": [{"type": "string"}, {"type": "null"}]})
        );
        assert_eq!(s["$defs"]["X"]["additionalProperties"], json!(false));
        assert_eq!(s["$defs"]["X"]["required"], json!(["a"]));
    }

    #[test]
    fn non_object_roots_are_wrapped() {
        let (s, wrapped) = wrap_root(&json!({"type": "array", "items": {"type": "string"}}));
        assert!(wrapped);
        assert_eq!(s["required"], json!(["value"]));
        let (_, wrapped) = wrap_root(&rows_schema());
        assert!(!wrapped);
    }

    #[test]
    fn fit_root_wraps_a_bare_rows_array() {
        let fixed = fit_root(json!([{"name": "a"}]), &rows_schema());
        assert_eq!(fixed, Ok(json!({"rows": [{"name": "a"}]})));
        assert!(fit_root(json!("text"), &rows_schema()).is_err());
    }

    #[test]
    fn names_are_sanitized() {
        assert_eq!(sanitize_name("users rows!"), "users_rows_");
        assert_eq!(sanitize_name(""), "answer");
        assert_eq!(sanitize_name(&"x".repeat(80)).len(), 64);
    }
}
