//! A tool's `outputSchema` from the operation's 2xx JSON response schema (design §3).
//!
//! The official SDK clients reject a successful result whose `structuredContent` does not
//! match the declared `outputSchema`, and real upstreams drift from their specs (required
//! fields left out, new enum values, nulls, extra fields). So by default the schema
//! *describes* the reply instead of policing it: types and structure stay, while `required`,
//! `enum`, `additionalProperties: false` and value constraints go (enum values move into the
//! description), every value may be `null`, and nesting and size are capped. `strict` keeps
//! the spec's schema as converted; `none` declares no output schemas.
//!
//! Replies that are not JSON objects (lists above all) are wrapped as `{"result": …}`, so
//! every JSON reply can travel as `structuredContent`.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::schema;

/// Which output schemas tools declare (`output_schemas` in mcp-gen.toml).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum OutputSchemas {
    /// Types and structure only; ordinary drift still conforms.
    #[default]
    Describe,
    /// The spec's schema, constraints and all: replies that drift become error results.
    Strict,
    /// No output schemas: replies come back as text (objects also as structuredContent).
    None,
}

/// The property a non-object reply is wrapped in.
pub const WRAP_PROPERTY: &str = "result";

/// Levels of nested properties and items a described schema keeps below its root; deeper
/// values keep their type only.
const MAX_DEPTH: usize = 4;
/// Most bytes of one described schema (compact JSON). Past it the schema is described again
/// with one level less, down to the root's own properties, and then without descriptions.
const MAX_BYTES: usize = 8 * 1024;
/// Longest description kept in a described schema, in characters.
const MAX_DESCRIPTION_CHARS: usize = 160;
/// Most enum values listed in a description.
const MAX_LISTED_VALUES: usize = 16;

/// The declared output: the schema, and whether replies are wrapped in `{"result": …}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub schema: Value,
    pub wrapped: bool,
}

/// The output a response schema (already converted to 2020-12) declares under `mode`.
pub fn output(converted: Value, mode: OutputSchemas) -> Option<Output> {
    let wrapped = !is_object(&converted);
    let schema = match mode {
        OutputSchemas::None => return None,
        OutputSchemas::Strict if wrapped => json!({
            "type": "object",
            "properties": {WRAP_PROPERTY: converted},
            "required": [WRAP_PROPERTY],
        }),
        OutputSchemas::Strict => {
            let mut schema = converted;
            // MCP wants `"type": "object"` at the root; a union of objects says it only below.
            if let Value::Object(map) = &mut schema {
                map.entry("type").or_insert_with(|| "object".into());
            }
            schema
        }
        OutputSchemas::Describe => described(&converted, wrapped),
    };
    Some(Output { schema, wrapped })
}

/// Objects travel as they are; anything else (arrays, scalars, untyped) is wrapped. A nullable
/// object counts as an object (a `null` reply simply does not conform), and so does a union
/// whose every branch is one (polymorphic objects: `oneOf: [Cat, Dog]`).
fn is_object(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::Array(types)) => {
            types.iter().any(|t| t == "object")
                && types.iter().all(|t| t == "object" || t == "null")
        }
        Some(_) => schema::is_object_schema(schema),
        None => {
            let branches = |key: &str| schema.get(key).and_then(Value::as_array);
            if let Some(parts) = branches("allOf") {
                if parts.iter().any(is_object) {
                    return true;
                }
            }
            match (branches("oneOf"), branches("anyOf")) {
                (Some(list), _) | (None, Some(list)) => {
                    !list.is_empty() && list.iter().all(is_object)
                }
                (None, None) => schema::is_object_schema(schema),
            }
        }
    }
}

/// The described schema, made smaller level by level until it fits [`MAX_BYTES`].
fn described(converted: &Value, wrapped: bool) -> Value {
    // The wrapper is a level of its own.
    let floor = usize::from(wrapped) + 1;
    let mut budget = Budget {
        depth: MAX_DEPTH,
        notes: true,
    };
    loop {
        let schema = if wrapped {
            let inner =
                describe(converted, budget.depth - 1, budget.notes).unwrap_or(Value::Bool(true));
            json!({"type": "object", "properties": {WRAP_PROPERTY: inner}})
        } else {
            let mut root =
                describe(converted, budget.depth, budget.notes).unwrap_or_else(|| json!({}));
            // The MCP spec wants an object root; `null` is no reply to wrap in structuredContent.
            if let Value::Object(map) = &mut root {
                map.insert("type".into(), "object".into());
            }
            root
        };
        if serde_json::to_vec(&schema).map_or(0, |v| v.len()) <= MAX_BYTES {
            return schema;
        }
        if budget.depth > floor {
            budget.depth -= 1;
        } else if budget.notes {
            budget.notes = false;
        } else {
            // The types of the top level's members: the least that still helps.
            return schema;
        }
    }
}

/// How much of a schema a description keeps.
struct Budget {
    /// Levels of members below the root.
    depth: usize,
    /// Titles, descriptions and the values of enums.
    notes: bool,
}

/// One schema described: `None` for a schema that allows nothing (`false`), whose keyword
/// or property is then dropped. `depth` is how many levels of members below this one stay;
/// `notes` keeps titles, descriptions and enum values.
fn describe(schema: &Value, depth: usize, notes_kept: bool) -> Option<Value> {
    let map = match schema {
        Value::Object(map) => map,
        Value::Bool(allowed) => return allowed.then_some(Value::Bool(true)),
        _ => return Some(Value::Bool(true)),
    };
    let mut out = Map::new();
    let mut notes = Vec::new();
    for (key, value) in map {
        match key.as_str() {
            "title" if notes_kept => {
                out.insert(key.clone(), value.clone());
            }
            "deprecated" if value == &Value::Bool(true) => {
                out.insert(key.clone(), value.clone());
            }
            "enum" if notes_kept => notes.push(values_note("Known values", value)),
            "const" if notes_kept => notes.push(values_note("Expected value", &json!([value]))),
            "properties" | "patternProperties" if depth > 0 => {
                let Value::Object(members) = value else {
                    continue;
                };
                let kept: Map<String, Value> = members
                    .iter()
                    .filter_map(|(name, member)| {
                        Some((name.clone(), describe(member, depth - 1, notes_kept)?))
                    })
                    .collect();
                out.insert(key.clone(), Value::Object(kept));
            }
            "items" | "additionalProperties" if depth > 0 && value.is_object() => {
                if let Some(member) = describe(value, depth - 1, notes_kept) {
                    out.insert(key.clone(), member);
                }
            }
            "prefixItems" if depth > 0 => {
                let Value::Array(items) = value else { continue };
                let kept = items
                    .iter()
                    .map(|item| describe(item, depth - 1, notes_kept).unwrap_or(Value::Bool(true)))
                    .collect();
                out.insert(key.clone(), Value::Array(kept));
            }
            // `oneOf` fails when two loosened branches both match; any one branch will do.
            "anyOf" | "oneOf" | "allOf" => {
                let Value::Array(branches) = value else {
                    continue;
                };
                let kept: Vec<Value> = branches
                    .iter()
                    .filter_map(|b| describe(b, depth, notes_kept))
                    .collect();
                if !kept.is_empty() {
                    let key = if key == "allOf" { "allOf" } else { "anyOf" };
                    out.insert(key.into(), Value::Array(kept));
                }
            }
            // Everything else polices values (required, enum, bounds, formats, patterns,
            // additionalProperties: false, not, if/then/else…) or is bulk (examples).
            _ => {}
        }
    }
    let types = match map.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect(),
        // An untyped enum or const still says what kind of value it is.
        _ => match (map.get("enum"), map.get("const")) {
            (Some(Value::Array(list)), _) => value_types(list),
            (_, Some(one)) => value_types(std::slice::from_ref(one)),
            _ => Vec::new(),
        },
    };
    // Type, title and description first: the order a reader looks for them.
    let mut head = Map::new();
    if !types.is_empty() {
        let mut types = types;
        if !types.iter().any(|t| t == "null") {
            types.push("null".into());
        }
        head.insert("type".into(), json!(types));
    }
    if let Some(title) = out.remove("title") {
        head.insert("title".into(), title);
    }
    let description = map
        .get("description")
        .and_then(Value::as_str)
        .filter(|_| notes_kept)
        .map(shorten)
        .filter(|d| !d.is_empty());
    let text = match (description, notes.is_empty()) {
        (Some(d), true) => Some(d),
        // End the sentence before the note that follows it.
        (Some(d), false) if d.ends_with(['.', '!', '?', '…']) => {
            Some(format!("{d} {}", notes.join(" ")))
        }
        (Some(d), false) => Some(format!("{d}. {}", notes.join(" "))),
        (None, false) => Some(notes.join(" ")),
        (None, true) => None,
    };
    if let Some(text) = text {
        head.insert("description".into(), Value::String(text));
    }
    head.extend(out);
    let out = head;
    Some(Value::Object(out))
}

/// The JSON types of an `enum` list (or of one `const` value).
fn value_types(list: &[Value]) -> Vec<String> {
    let mut types: Vec<String> = Vec::new();
    for value in list {
        let t = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        if !types.iter().any(|x| x == t) {
            types.push(t.to_owned());
        }
    }
    // 1 and 1.5 in one enum: numbers.
    if types.iter().any(|t| t == "number") {
        types.retain(|t| t != "integer");
    }
    types
}

/// `Known values: a, b, c (and 3 more).`
fn values_note(label: &str, values: &Value) -> String {
    let list = values.as_array().map(Vec::as_slice).unwrap_or_default();
    let shown: Vec<String> = list
        .iter()
        .take(MAX_LISTED_VALUES)
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    let more = list.len().saturating_sub(MAX_LISTED_VALUES);
    let tail = if more > 0 {
        format!(" (and {more} more)")
    } else {
        String::new()
    };
    format!("{label}: {}{tail}.", shown.join(", "))
}

/// The first sentence or so of a description, at most [`MAX_DESCRIPTION_CHARS`].
fn shorten(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(MAX_DESCRIPTION_CHARS).collect();
    if chars.next().is_some() {
        format!("{}…", head.trim_end())
    } else {
        head
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn described(schema: Value) -> Output {
        output(schema, OutputSchemas::Describe).unwrap()
    }

    #[test]
    fn describe_keeps_types_and_structure_and_drops_what_polices() {
        let pet = json!({
            "type": "object",
            "required": ["name", "photoUrls"],
            "additionalProperties": false,
            "properties": {
                "id": {"type": "integer", "format": "int64", "minimum": 1},
                "name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 20, "description": "The name"},
                "status": {"type": "string", "enum": ["available", "pending", "sold"]},
                "kind": {"enum": ["cat", "dog"]},
                "photoUrls": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "secret": false,
                "shape": {"oneOf": [{"type": "string"}, {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]}]}
            }
        });
        let out = described(pet);
        assert!(!out.wrapped);
        assert_eq!(
            out.schema,
            json!({
                "type": "object",
                "properties": {
                    "id": {"type": ["integer", "null"]},
                    "name": {"type": ["string", "null"], "description": "The name"},
                    "status": {"type": ["string", "null"], "description": "Known values: available, pending, sold."},
                    "kind": {"type": ["string", "null"], "description": "Known values: cat, dog."},
                    "photoUrls": {"type": ["array", "null"], "items": {"type": ["string", "null"]}},
                    "shape": {"anyOf": [
                        {"type": ["string", "null"]},
                        {"type": ["object", "null"], "properties": {"x": {"type": ["number", "null"]}}}
                    ]}
                }
            })
        );
    }

    #[test]
    fn lists_and_scalars_are_wrapped() {
        let list = described(
            json!({"type": "array", "items": {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}}),
        );
        assert!(list.wrapped);
        assert_eq!(
            list.schema,
            json!({"type": "object", "properties": {"result": {
                "type": ["array", "null"],
                "items": {"type": ["object", "null"], "properties": {"id": {"type": ["integer", "null"]}}}
            }}})
        );
        let strict = output(json!({"type": "string"}), OutputSchemas::Strict).unwrap();
        assert!(strict.wrapped);
        assert_eq!(
            strict.schema,
            json!({"type": "object", "properties": {"result": {"type": "string"}}, "required": ["result"]})
        );
        // A nullable object is an object; an untyped schema is wrapped.
        assert!(!described(json!({"type": ["object", "null"], "properties": {}})).wrapped);
        assert!(described(json!({})).wrapped);
        let cat = json!({"type": "object", "properties": {"meows": {"type": "boolean"}}});
        let dog = json!({"properties": {"barks": {"type": "boolean"}}});
        let pets = output(json!({"oneOf": [cat, dog]}), OutputSchemas::Strict).unwrap();
        assert!(!pets.wrapped);
        assert_eq!(pets.schema["type"], "object");
        assert!(described(json!({"anyOf": [{"type": "object"}, {"type": "string"}]})).wrapped);
        assert!(!described(json!({"allOf": [{"type": "object"}, {"description": "x"}]})).wrapped);
        assert!(output(json!({"type": "object"}), OutputSchemas::None).is_none());
    }

    #[test]
    fn deep_and_large_schemas_are_capped() {
        // Five levels of nesting: the fifth keeps its type only.
        let mut deep = json!({"type": "object", "properties": {"leaf": {"type": "string"}}});
        for _ in 0..5 {
            deep = json!({"type": "object", "properties": {"next": deep}});
        }
        let out = described(deep).schema;
        let at_cap = out
            .pointer("/properties/next/properties/next/properties/next/properties/next")
            .unwrap();
        assert_eq!(at_cap, &json!({"type": ["object", "null"]}));

        // Hundreds of documented properties: cut to fit, shallow levels first.
        let wide: Map<String, Value> = (0..300)
            .map(|i| {
                let member = json!({"type": "object", "description": "x".repeat(500), "properties": {
                    "a": {"type": "string"}, "b": {"type": "integer"}
                }});
                (format!("p{i}"), member)
            })
            .collect();
        let out = described(json!({"type": "object", "properties": wide})).schema;
        // Even the top level alone is over the budget: its members' types stay.
        assert_eq!(
            out.pointer("/properties/p299"),
            Some(&json!({"type": ["object", "null"]}))
        );

        let some: Map<String, Value> = (0..20)
            .map(|i| {
                let member = json!({"type": "object", "description": "x".repeat(500), "properties": {
                    "a": {"type": "string", "description": "y".repeat(300)}
                }});
                (format!("p{i}"), member)
            })
            .collect();
        let out = described(json!({"type": "object", "properties": some})).schema;
        assert!(serde_json::to_vec(&out).unwrap().len() <= MAX_BYTES);
        let first = out
            .pointer("/properties/p0/description")
            .and_then(Value::as_str)
            .unwrap();
        assert_eq!(first.chars().count(), MAX_DESCRIPTION_CHARS + 1, "{first}");
        assert!(out.pointer("/properties/p0/properties").is_none());
    }

    #[test]
    fn long_enums_are_listed_in_part() {
        let values: Vec<String> = (0..40).map(|i| format!("v{i}")).collect();
        let out = described(
            json!({"type": "object", "properties": {"e": {"type": "string", "enum": values}}}),
        );
        let text = out
            .schema
            .pointer("/properties/e/description")
            .unwrap()
            .as_str()
            .unwrap();
        assert!(text.starts_with("Known values: v0, v1,"));
        assert!(text.ends_with("(and 24 more)."), "{text}");
    }
}
