//! Keeps a structured-output schema inside each provider's documented limits.
//!
//! A schema over a limit is refused with a 400, so it is shrunk before it is sent, in the
//! order that costs least: first the biggest `enum` lists go (foreign-key lists of 50
//! parent keys are the big ones; the prompt still lists the allowed values and SQLite
//! still checks every row before insert), then Anthropic's nullable columns stop being
//! unions (they become optional properties: left out means NULL). When even that is not
//! enough, the caller moves to a weaker answer mode that has no such limits.

use serde_json::{Map, Value};

use super::schema::{add_note, required_names};

/// OpenAI strict mode: "A schema may have up to 5000 object properties total".
/// Source: developers.openai.com/api/docs/guides/structured-outputs#supported-schemas.
pub const OPENAI_MAX_PROPERTIES: usize = 5_000;
/// OpenAI strict mode: "up to 10 levels of nesting". Same source.
pub const OPENAI_MAX_DEPTH: usize = 10;
/// OpenAI strict mode: "the total string length of all property names, definition names,
/// enum values, and const values cannot exceed 120,000 characters". Same source.
pub const OPENAI_MAX_CHARS: usize = 120_000;
/// OpenAI strict mode: "A schema may have up to 1000 enum values across all enum
/// properties". Same source.
pub const OPENAI_MAX_ENUM_VALUES: usize = 1_000;
/// OpenAI strict mode: "For a single enum property with string values, the total string
/// length of all enum values cannot exceed 15,000 characters when there are more than 250
/// enum values". Same source.
pub const OPENAI_LARGE_ENUM: usize = 250;
pub const OPENAI_LARGE_ENUM_CHARS: usize = 15_000;

/// Anthropic structured outputs: "Parameters with union types: 16" per request.
/// Source: platform.claude.com/docs/en/build-with-claude/structured-outputs (schema
/// complexity limits); the refusal reads "Schemas contains too many parameters with union
/// types (30 parameters, limit: 16)".
pub const ANTHROPIC_MAX_UNION_PARAMS: usize = 16;
/// Anthropic structured outputs: "Optional parameters: 24". Same source; the refusal reads
/// "Schemas contains too many optional parameters (87) ... (limit: 24)".
pub const ANTHROPIC_MAX_OPTIONAL_PARAMS: usize = 24;

/// What was given up to fit, for the log and the user.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Fitted {
    /// Properties whose `enum` was dropped (their values are checked before insert).
    pub dropped_enums: Vec<String>,
    /// Properties made optional instead of nullable unions (Anthropic).
    pub optional_instead_of_null: Vec<String>,
}

/// Why a schema cannot be made to fit; the caller uses a weaker answer mode.
#[derive(Debug, PartialEq, Eq)]
pub struct TooComplex(pub String);

/// Shrinks a schema already rewritten for OpenAI strict mode until it fits.
pub fn fit_openai_strict(schema: &mut Value) -> Result<Fitted, TooComplex> {
    let mut fitted = Fitted::default();
    loop {
        let size = measure(schema);
        if size.properties > OPENAI_MAX_PROPERTIES {
            return Err(TooComplex(format!(
                "{} properties, more than OpenAI's limit of {OPENAI_MAX_PROPERTIES}",
                size.properties
            )));
        }
        if size.depth > OPENAI_MAX_DEPTH {
            return Err(TooComplex(format!(
                "{} levels of nesting, more than OpenAI's limit of {OPENAI_MAX_DEPTH}",
                size.depth
            )));
        }
        let over = size.enum_values > OPENAI_MAX_ENUM_VALUES
            || size.chars > OPENAI_MAX_CHARS
            || size.large_enum_over;
        if !over {
            return Ok(fitted);
        }
        match drop_biggest_enum(schema) {
            Some(name) => fitted.dropped_enums.push(name),
            None => {
                return Err(TooComplex(format!(
                    "{} characters of names, more than OpenAI's limit of {OPENAI_MAX_CHARS}",
                    size.chars
                )));
            }
        }
    }
}

/// Shrinks a schema already rewritten for Anthropic until its union-typed and optional
/// properties fit the grammar limits.
pub fn fit_anthropic(schema: &mut Value) -> Result<Fitted, TooComplex> {
    let mut fitted = Fitted::default();
    let (mut unions, optional) = count_unions_and_optional(schema);
    let mut optional = optional;
    while unions > ANTHROPIC_MAX_UNION_PARAMS {
        if optional >= ANTHROPIC_MAX_OPTIONAL_PARAMS {
            return Err(TooComplex(format!(
                "{unions} nullable columns, more than Anthropic's limit of {ANTHROPIC_MAX_UNION_PARAMS} union-typed and {ANTHROPIC_MAX_OPTIONAL_PARAMS} optional parameters"
            )));
        }
        match make_one_union_optional(schema) {
            Some(name) => {
                fitted.optional_instead_of_null.push(name);
                unions -= 1;
                optional += 1;
            }
            None => break,
        }
    }
    if unions > ANTHROPIC_MAX_UNION_PARAMS || optional > ANTHROPIC_MAX_OPTIONAL_PARAMS {
        return Err(TooComplex(format!(
            "{unions} union-typed and {optional} optional parameters, more than Anthropic's limits of {ANTHROPIC_MAX_UNION_PARAMS} and {ANTHROPIC_MAX_OPTIONAL_PARAMS}"
        )));
    }
    Ok(fitted)
}

#[derive(Debug, Default)]
struct Size {
    properties: usize,
    depth: usize,
    chars: usize,
    enum_values: usize,
    large_enum_over: bool,
}

fn measure(schema: &Value) -> Size {
    let mut size = Size::default();
    measure_node(schema, 0, &mut size);
    size
}

fn measure_node(node: &Value, depth: usize, size: &mut Size) {
    let Some(obj) = node.as_object() else {
        return;
    };
    if let Some(values) = obj.get("enum").and_then(Value::as_array) {
        size.enum_values += values.len();
        let chars = enum_chars(values);
        size.chars += chars;
        size.large_enum_over |= values.len() > OPENAI_LARGE_ENUM && chars > OPENAI_LARGE_ENUM_CHARS;
    }
    if let Some(c) = obj.get("const") {
        size.chars += value_chars(c);
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        size.depth = size.depth.max(depth + 1);
        size.properties += props.len();
        for (name, prop) in props {
            size.chars += name.chars().count();
            measure_node(prop, depth + 1, size);
        }
    }
    for key in ["$defs", "definitions"] {
        if let Some(defs) = obj.get(key).and_then(Value::as_object) {
            for (name, def) in defs {
                size.chars += name.chars().count();
                measure_node(def, depth, size);
            }
        }
    }
    if let Some(items) = obj.get("items") {
        measure_node(items, depth, size);
    }
    if let Some(alts) = obj.get("anyOf").and_then(Value::as_array) {
        for alt in alts {
            measure_node(alt, depth, size);
        }
    }
}

fn value_chars(v: &Value) -> usize {
    match v {
        Value::String(s) => s.chars().count(),
        Value::Null => 0,
        other => other.to_string().len(),
    }
}

fn enum_chars(values: &[Value]) -> usize {
    values.iter().map(value_chars).sum()
}

/// Removes the largest `enum` (by values, then characters) and says so in the property's
/// description. Returns the property's name.
fn drop_biggest_enum(schema: &mut Value) -> Option<String> {
    let mut best: Option<(Vec<String>, usize, usize)> = None;
    find_enums(schema, &mut Vec::new(), &mut |path, values| {
        let score = (values.len(), enum_chars(values));
        if best.as_ref().is_none_or(|(_, n, c)| score > (*n, *c)) {
            best = Some((path.to_vec(), score.0, score.1));
        }
    });
    let (path, _, _) = best?;
    let node = walk_mut(schema, &path)?;
    let obj = node.as_object_mut()?;
    obj.remove("enum");
    add_note(obj, "one of the allowed values given in the instructions");
    path.last().cloned()
}

/// Calls `f` with the path (of property names and structural keys) to every enum.
fn find_enums(node: &Value, path: &mut Vec<String>, f: &mut dyn FnMut(&[String], &[Value])) {
    let Some(obj) = node.as_object() else {
        return;
    };
    if let Some(values) = obj.get("enum").and_then(Value::as_array) {
        f(path, values);
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (name, prop) in props {
            path.push("properties".into());
            path.push(name.clone());
            find_enums(prop, path, f);
            path.pop();
            path.pop();
        }
    }
    if let Some(items) = obj.get("items") {
        path.push("items".into());
        find_enums(items, path, f);
        path.pop();
    }
}

fn walk_mut<'a>(node: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(node, |n, key| n.get_mut(key.as_str()))
}

fn is_union(prop: &Value) -> bool {
    prop.get("type")
        .and_then(Value::as_array)
        .is_some_and(|t| t.len() > 1)
        || prop.get("anyOf").is_some()
}

fn count_unions_and_optional(node: &Value) -> (usize, usize) {
    let mut unions = 0;
    let mut optional = 0;
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        let Some(obj) = n.as_object() else { continue };
        if let Some(props) = obj.get("properties").and_then(Value::as_object) {
            let required = required_names(obj);
            for (name, prop) in props {
                unions += usize::from(is_union(prop));
                optional += usize::from(!required.contains(name));
                stack.push(prop);
            }
        }
        if let Some(items) = obj.get("items") {
            stack.push(items);
        }
        if let Some(alts) = obj.get("anyOf").and_then(Value::as_array) {
            stack.extend(alts);
        }
    }
    (unions, optional)
}

/// Turns the last `["T", "null"]` property of the row object into plain `"T"` and removes it
/// from `required`: omitting it means NULL. Only required two-type unions with `null` are
/// touched (they are what nullable columns look like).
fn make_one_union_optional(schema: &mut Value) -> Option<String> {
    let row = row_object_mut(schema)?;
    let required = required_names(row);
    let props = row.get_mut("properties")?.as_object_mut()?;
    let name = props
        .iter()
        .rev()
        .find(|(name, prop)| required.contains(name) && nullable_single(prop).is_some())
        .map(|(name, _)| name.clone())?;
    let prop = props.get_mut(&name)?.as_object_mut()?;
    let base = nullable_single(&Value::Object(prop.clone()))?;
    prop.insert("type".into(), Value::String(base));
    if let Some(Value::Array(values)) = prop.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
    add_note(prop, "leave this key out for NULL");
    if let Some(Value::Array(req)) = row.get_mut("required") {
        req.retain(|r| r.as_str() != Some(name.as_str()));
    }
    Some(name)
}

/// `Some("string")` for a `{"type": ["string", "null"]}` property.
fn nullable_single(prop: &Value) -> Option<String> {
    let types = prop.get("type")?.as_array()?;
    if types.len() != 2 || !types.iter().any(|t| t == "null") {
        return None;
    }
    types
        .iter()
        .find(|t| *t != "null")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The object whose properties are the columns: `rows.items` in a rows answer, else the
/// root object itself.
fn row_object_mut(schema: &mut Value) -> Option<&mut Map<String, Value>> {
    let has_rows = schema
        .pointer("/properties/rows/items/properties")
        .is_some();
    if has_rows {
        schema
            .pointer_mut("/properties/rows/items")?
            .as_object_mut()
    } else {
        schema.as_object_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows_of(props: Map<String, Value>) -> Value {
        let names: Vec<Value> = props.keys().map(|k| json!(k)).collect();
        json!({"type": "object", "additionalProperties": false, "required": ["rows"], "properties": {
            "rows": {"type": "array", "items": {"type": "object", "additionalProperties": false,
                "required": names, "properties": props}}}})
    }

    #[test]
    fn openai_drops_the_biggest_enums_first_until_under_1000_values() {
        let mut props = Map::new();
        props.insert(
            "status".into(),
            json!({"type": "string", "enum": ["a", "b", "c"]}),
        );
        for i in 0..22 {
            let keys: Vec<Value> = (0..50).map(|k| json!(i * 1000 + k)).collect();
            props.insert(format!("fk{i}"), json!({"type": "integer", "enum": keys}));
        }
        let mut schema = rows_of(props);
        let fitted = fit_openai_strict(&mut schema).expect("fits");
        // 22 × 50 + 3 = 1103 values: three lists of 50 have to go, the small one stays.
        assert_eq!(fitted.dropped_enums.len(), 3, "{fitted:?}");
        assert!(measure(&schema).enum_values <= OPENAI_MAX_ENUM_VALUES);
        let items = &schema["properties"]["rows"]["items"]["properties"];
        assert!(items["status"]["enum"].is_array());
        let dropped = &items[fitted.dropped_enums[0].as_str()];
        assert!(dropped.get("enum").is_none());
        assert!(
            dropped["description"]
                .as_str()
                .unwrap()
                .contains("allowed values")
        );
    }

    #[test]
    fn openai_refuses_what_cannot_shrink() {
        let mut props = Map::new();
        for i in 0..5_001 {
            props.insert(format!("c{i}"), json!({"type": "string"}));
        }
        let mut schema = rows_of(props);
        assert!(fit_openai_strict(&mut schema).is_err());
    }

    #[test]
    fn anthropic_turns_extra_unions_into_optional_properties() {
        let mut props = Map::new();
        props.insert("id".into(), json!({"type": "integer"}));
        for i in 0..30 {
            props.insert(format!("c{i}"), json!({"type": ["string", "null"]}));
        }
        let mut schema = rows_of(props);
        let fitted = fit_anthropic(&mut schema).expect("fits");
        assert_eq!(fitted.optional_instead_of_null.len(), 14);
        let (unions, optional) = count_unions_and_optional(&schema);
        assert_eq!((unions, optional), (16, 14));
        let c29 = &schema["properties"]["rows"]["items"]["properties"]["c29"];
        assert_eq!(c29["type"], json!("string"));
    }

    #[test]
    fn anthropic_gives_up_past_both_limits() {
        let mut props = Map::new();
        for i in 0..45 {
            props.insert(format!("c{i}"), json!({"type": ["string", "null"]}));
        }
        let mut schema = rows_of(props);
        assert!(fit_anthropic(&mut schema).is_err());
    }
}
