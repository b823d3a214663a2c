//! A tool's `outputSchema` from the operation's 2xx JSON response schema (ARCHITECTURE.md,
//! Mapping).
//!
//! The official SDK clients reject a successful result whose `structuredContent` does not
//! match the declared `outputSchema`, and real upstreams drift from their specs (required
//! fields left out, new enum values, nulls, extra fields). So by default the schema
//! *describes* the reply instead of policing it: types and structure stay, while `required`,
//! `enum`, `additionalProperties: false` and value constraints go (enum values move into the
//! description), every value may be `null`, numbers may arrive as strings, and nesting and
//! size are capped. `strict` keeps the spec's schema as converted; `none` declares no output
//! schemas.
//!
//! A response schema that does not describe a JSON object (lists above all) is wrapped as
//! `{"result": …}`, and so are its replies: they travel as `structuredContent` too.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::schema;
use super::SchemaJson;

/// Which output schemas tools declare (`output_schemas` in mcp-gen.toml).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum OutputSchemas {
    /// Types and structure only; ordinary drift still conforms.
    #[default]
    Describe,
    /// The spec's schema, constraints and formats and all: replies that drift from it become
    /// error results.
    Strict,
    /// No output schemas: replies come back as text (objects also as structuredContent).
    None,
}

/// The property a non-object reply is wrapped in.
pub const WRAP_PROPERTY: &str = "result";

/// Levels of nesting a described schema keeps below its root (a member of `properties`,
/// `items`, `additionalProperties` or a branch of `anyOf`/`allOf` is one level down); deeper
/// values keep their type only.
pub(super) const MAX_DEPTH: usize = 4;
/// Most bytes of one described schema (compact JSON). Past it the schema is described again
/// with one level less, down to the root's own members, then without descriptions, and
/// finally as any object.
const MAX_BYTES: usize = 8 * 1024;
/// Longest description kept in a described schema (its own text and the enum values listed
/// after it), in characters.
const MAX_DESCRIPTION_CHARS: usize = 240;
/// Most enum values listed in a description, and the longest one, in characters.
const MAX_LISTED_VALUES: usize = 16;
const MAX_VALUE_CHARS: usize = 40;

/// The declared output: the schema, and whether replies are wrapped in `{"result": …}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub schema: SchemaJson,
    pub wrapped: bool,
}

/// The output a response schema (already converted to 2020-12) declares under `mode`.
pub fn output(converted: Value, mode: OutputSchemas) -> Option<Output> {
    let wrapped = !is_object(&converted);
    let schema = match mode {
        OutputSchemas::None => return None,
        OutputSchemas::Strict => strict(converted, wrapped),
        OutputSchemas::Describe => described(&converted, wrapped),
    };
    Some(Output {
        schema: SchemaJson::new(&schema),
        wrapped,
    })
}

/// The spec's schema, in the shape MCP clients accept: an object root (`type` exactly
/// `"object"`, even for a nullable object: a `null` reply then simply does not conform), and
/// root members that are schema objects (the TypeScript SDK v1 rejects a whole `tools/list`
/// with a boolean one).
fn strict(converted: Value, wrapped: bool) -> Value {
    if wrapped {
        return json!({
            "type": "object",
            "properties": {WRAP_PROPERTY: object_schema(converted)},
            "required": [WRAP_PROPERTY],
        });
    }
    let mut schema = converted;
    if let Value::Object(map) = &mut schema {
        map.insert("type".into(), "object".into());
        if let Some(Value::Object(members)) = map.get_mut("properties") {
            for member in members.values_mut() {
                *member = object_schema(std::mem::take(member));
            }
        }
    }
    schema
}

/// A boolean schema spelled as an object: `true` → `{}`, `false` → `{"not": {}}`.
fn object_schema(schema: Value) -> Value {
    match schema {
        Value::Bool(true) => json!({}),
        Value::Bool(false) => json!({"not": {}}),
        other => other,
    }
}

/// Objects travel as they are; anything else (arrays, scalars, untyped) is wrapped. A nullable
/// object counts as an object (a `null` reply simply does not conform), and so does a union
/// whose every branch that says what it is says object (polymorphic objects `oneOf: [Cat,
/// Dog]`, 3.1's nullable `anyOf: [Cat, {type: null}]`).
fn is_object(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::Array(types)) => {
            types.iter().any(|t| t == "object")
                && types.iter().all(|t| t == "object" || t == "null")
        }
        Some(_) => schema::is_object_schema(schema),
        None => {
            let branches = |key: &str| schema.get(key).and_then(Value::as_array);
            if branches("allOf").is_some_and(|parts| parts.iter().any(is_object)) {
                return true;
            }
            let own = schema.get("properties").is_some();
            match branches("oneOf").or_else(|| branches("anyOf")) {
                Some(list) => {
                    let shaped: Vec<&Value> = list
                        .iter()
                        .filter(|b| says_what_it_is(b) && !is_null_only(b))
                        .collect();
                    if shaped.is_empty() {
                        own
                    } else {
                        shaped.into_iter().all(is_object)
                    }
                }
                None => own,
            }
        }
    }
}

/// Whether a schema says what kind of value it is (rather than only constraining one).
fn says_what_it_is(schema: &Value) -> bool {
    [
        "type",
        "properties",
        "items",
        "allOf",
        "anyOf",
        "oneOf",
        "enum",
        "const",
    ]
    .iter()
    .any(|k| schema.get(k).is_some())
}

fn is_null_only(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == "null",
        Some(Value::Array(types)) => types.iter().all(|t| t == "null"),
        _ => schema.get("const") == Some(&Value::Null),
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
        let schema = shape(converted, wrapped, &budget);
        if serde_json::to_vec(&schema).map_or(usize::MAX, |v| v.len()) <= MAX_BYTES {
            return schema;
        }
        if budget.depth > floor {
            budget.depth -= 1;
        } else if budget.notes {
            budget.notes = false;
        } else {
            break;
        }
    }
    // Not even the top level's members fit: any object (or any result) conforms.
    let note = "(structure not described: too large)";
    if wrapped {
        json!({"type": "object", "properties": {WRAP_PROPERTY: {"description": note}}})
    } else {
        json!({"type": "object", "description": note})
    }
}

/// The described schema under one budget, with the object root MCP asks for.
fn shape(converted: &Value, wrapped: bool, budget: &Budget) -> Value {
    if wrapped {
        let inner =
            describe(converted, budget.depth - 1, budget.notes).unwrap_or_else(|| json!({}));
        return json!({"type": "object", "properties": {WRAP_PROPERTY: inner}});
    }
    let mut root = describe(converted, budget.depth, budget.notes).unwrap_or_else(|| json!({}));
    // `null` is no reply to carry as structuredContent.
    if let Value::Object(map) = &mut root {
        map.insert("type".into(), "object".into());
    }
    root
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
/// `notes_kept` keeps titles, descriptions and enum values. Always a schema object: the
/// TypeScript SDK v1 rejects a `tools/list` whose root members are booleans.
fn describe(schema: &Value, depth: usize, notes_kept: bool) -> Option<Value> {
    let map = match schema {
        Value::Object(map) => map,
        Value::Bool(false) => return None,
        _ => return Some(json!({})),
    };
    let mut out = Map::new();
    let mut notes = Vec::new();
    let below = depth.saturating_sub(1);
    for (key, value) in map {
        match key.as_str() {
            "title" if notes_kept => {
                out.insert(key.clone(), value.clone());
            }
            "deprecated" if value == &Value::Bool(true) => {
                out.insert(key.clone(), value.clone());
            }
            "enum" if notes_kept => notes.extend(values_note("Known values", value)),
            "const" if notes_kept => {
                notes.extend(values_note("Expected value", &json!([value])));
            }
            "properties" if depth > 0 => {
                let Value::Object(members) = value else {
                    continue;
                };
                let kept: Map<String, Value> = members
                    .iter()
                    .filter_map(|(name, member)| {
                        Some((name.clone(), describe(member, below, notes_kept)?))
                    })
                    .collect();
                out.insert(key.clone(), Value::Object(kept));
            }
            // A tuple's positions would be read differently by 2020-12 and draft-07
            // validators (the TypeScript SDK v1): a tuple is described as an array only.
            "items" if depth > 0 && value.is_object() && !map.contains_key("prefixItems") => {
                if let Some(member) = describe(value, below, notes_kept) {
                    out.insert(key.clone(), member);
                }
            }
            // Only for maps: beside `properties` it would judge the undeclared extras.
            "additionalProperties"
                if depth > 0 && value.is_object() && !map.contains_key("properties") =>
            {
                if let Some(member) = describe(value, below, notes_kept) {
                    out.insert(key.clone(), member);
                }
            }
            // `oneOf` fails when two loosened branches both match; any one branch will do.
            "anyOf" | "oneOf" | "allOf" if depth > 0 => {
                let Value::Array(branches) = value else {
                    continue;
                };
                let kept: Vec<Value> = branches
                    .iter()
                    .filter_map(|b| describe(b, below, notes_kept))
                    .collect();
                if !kept.is_empty() {
                    let key = if key == "allOf" { "allOf" } else { "anyOf" };
                    out.insert(key.into(), Value::Array(kept));
                }
            }
            // Everything else polices values (required, enum, bounds, formats, patterns and
            // patternProperties (whose regex dialects the clients' validators disagree on),
            // additionalProperties: false, not, if/then/else…) or is bulk (examples).
            _ => {}
        }
    }
    let mut types = match map.get("type") {
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
    // Numbers often arrive as strings (64-bit ids, decimals); a field that is only ever
    // null in the spec may start carrying a value: both stay open.
    if types.iter().any(|t| t == "integer" || t == "number") && !types.iter().any(|t| t == "string")
    {
        types.push("string".into());
    }
    if types.iter().all(|t| t == "null") {
        types.clear();
    } else if !types.iter().any(|t| t == "null") {
        types.push("null".into());
    }
    // Type, title and description first: the order a reader looks for them.
    let mut head = Map::new();
    if !types.is_empty() {
        head.insert("type".into(), json!(types));
    }
    if let Some(title) = out.remove("title") {
        head.insert("title".into(), title);
    }
    let description = map
        .get("description")
        .and_then(Value::as_str)
        .filter(|_| notes_kept)
        .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
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
        head.insert(
            "description".into(),
            Value::String(shorten(&text, MAX_DESCRIPTION_CHARS)),
        );
    }
    head.extend(out);
    Some(Value::Object(head))
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

/// `Known values: a, b, c (and 3 more).`; nothing for an empty list.
fn values_note(label: &str, values: &Value) -> Option<String> {
    let list = values.as_array().map(Vec::as_slice).unwrap_or_default();
    if list.is_empty() {
        return None;
    }
    let shown: Vec<String> = list
        .iter()
        .take(MAX_LISTED_VALUES)
        .map(|v| {
            // JSON spelling: a value with a comma in it still reads as one value.
            let text = match v {
                Value::String(s) if !s.contains([',', '"']) => s.clone(),
                other => other.to_string(),
            };
            shorten(&text, MAX_VALUE_CHARS)
        })
        .collect();
    let more = list.len().saturating_sub(MAX_LISTED_VALUES);
    let tail = if more > 0 {
        format!(" (and {more} more)")
    } else {
        String::new()
    };
    Some(format!("{label}: {}{tail}.", shown.join(", ")))
}

/// `text` cut to at most `max` characters, marked with `…` when cut.
fn shorten(text: &str, max: usize) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(max).collect();
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
            out.schema.to_value(),
            json!({
                "type": "object",
                "properties": {
                    "id": {"type": ["integer", "string", "null"]},
                    "name": {"type": ["string", "null"], "description": "The name"},
                    "status": {"type": ["string", "null"], "description": "Known values: available, pending, sold."},
                    "kind": {"type": ["string", "null"], "description": "Known values: cat, dog."},
                    "photoUrls": {"type": ["array", "null"], "items": {"type": ["string", "null"]}},
                    "shape": {"anyOf": [
                        {"type": ["string", "null"]},
                        {"type": ["object", "null"], "properties": {"x": {"type": ["number", "string", "null"]}}}
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
            list.schema.to_value(),
            json!({"type": "object", "properties": {"result": {
                "type": ["array", "null"],
                "items": {"type": ["object", "null"], "properties": {"id": {"type": ["integer", "string", "null"]}}}
            }}})
        );
        let strict = output(json!({"type": "string"}), OutputSchemas::Strict).unwrap();
        assert!(strict.wrapped);
        assert_eq!(
            strict.schema.to_value(),
            json!({"type": "object", "properties": {"result": {"type": "string"}}, "required": ["result"]})
        );
        // A nullable object is an object; an untyped schema is wrapped.
        assert!(!described(json!({"type": ["object", "null"], "properties": {}})).wrapped);
        assert!(described(json!({})).wrapped);
        let cat = json!({"type": "object", "properties": {"meows": {"type": "boolean"}}});
        let dog = json!({"properties": {"barks": {"type": "boolean"}}});
        let pets = output(json!({"oneOf": [cat, dog]}), OutputSchemas::Strict).unwrap();
        assert!(!pets.wrapped);
        assert_eq!(pets.schema.to_value()["type"], "object");
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
        let out = described(deep).schema.to_value();
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
        let out = described(json!({"type": "object", "properties": wide}))
            .schema
            .to_value();
        // Not even the top level fits: any object conforms.
        assert_eq!(
            out,
            json!({"type": "object", "description": "(structure not described: too large)"})
        );

        let some: Map<String, Value> = (0..20)
            .map(|i| {
                let member = json!({"type": "object", "description": "x".repeat(500), "properties": {
                    "a": {"type": "string", "description": "y".repeat(300)}
                }});
                (format!("p{i}"), member)
            })
            .collect();
        let out = described(json!({"type": "object", "properties": some}))
            .schema
            .to_value();
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
        let out = out.schema.to_value();
        let text = out
            .pointer("/properties/e/description")
            .unwrap()
            .as_str()
            .unwrap();
        assert!(text.starts_with("Known values: v0, v1,"));
        assert!(text.ends_with("(and 24 more)."), "{text}");
    }

    #[test]
    fn shapes_the_clients_read_differently_are_left_out() {
        let out = described(json!({"type": "object", "properties": {
            "any": true,
            "never": false,
            "tuple": {"type": "array", "prefixItems": [{"type": "string"}], "items": {"type": "integer"}},
            "codes": {"type": "object", "patternProperties": {"^[a-z\\_]+$": {"type": "string"}}},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "open": {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "string"}},
            "reserved": {"type": "null"},
            "gone": {"const": null}
        }}));
        assert_eq!(
            out.schema.to_value()["properties"],
            json!({
                "any": {},
                "tuple": {"type": ["array", "null"]},
                "codes": {"type": ["object", "null"]},
                "labels": {"type": ["object", "null"], "additionalProperties": {"type": ["string", "null"]}},
                "open": {"type": ["object", "null"], "properties": {"a": {"type": ["string", "null"]}}},
                "reserved": {},
                "gone": {"description": "Expected value: null."}
            })
        );
    }

    #[test]
    fn strict_schemas_get_an_object_root_and_object_members() {
        let nullable = json!({"type": ["object", "null"], "required": ["a"], "properties": {"a": true, "b": false}});
        let out = output(nullable, OutputSchemas::Strict).unwrap();
        assert!(!out.wrapped);
        assert_eq!(
            out.schema.to_value(),
            json!({"type": "object", "required": ["a"], "properties": {"a": {}, "b": {"not": {}}}})
        );
        let list = output(Value::Bool(true), OutputSchemas::Strict).unwrap();
        assert_eq!(list.schema.to_value()["properties"]["result"], json!({}));
    }

    #[test]
    fn nullable_and_constrained_unions_of_objects_are_objects() {
        let cat = json!({"type": "object", "properties": {"meows": {"type": "boolean"}}});
        assert!(!described(json!({"anyOf": [cat, {"type": "null"}]})).wrapped);
        assert!(!described(json!({"properties": {"a": {}, "b": {}}, "oneOf": [{"required": ["a"]}, {"required": ["b"]}]})).wrapped);
        assert!(described(json!({"anyOf": [{"type": "null"}, {"required": ["a"]}]})).wrapped);
    }

    #[test]
    fn no_shape_of_schema_gets_past_the_size_cap() {
        let size = |v: &Value| serde_json::to_vec(v).unwrap().len();
        let long_names: Map<String, Value> = (0..3000)
            .map(|i| (format!("{i:0>200}"), json!({"type": "string"})))
            .collect();
        let branches: Vec<Value> = (0..900)
            .map(|i| json!({"type": "object", "properties": {format!("p{i}"): {"type": "string"}}}))
            .collect();
        let mut chain = json!({"type": "string"});
        for _ in 0..55 {
            chain = json!({"anyOf": [chain, {"type": "integer"}]});
        }
        let huge_value = json!({"type": "object", "properties": {
            "e": {"type": "string", "enum": ["x".repeat(100_000)], "description": "kept"}
        }});
        for schema in [
            json!({"type": "object", "properties": long_names}),
            json!({"oneOf": branches}),
            json!({"type": "object", "properties": {"c": chain}}),
            huge_value,
        ] {
            let out = described(schema).schema.to_value();
            assert!(size(&out) <= MAX_BYTES, "{}", size(&out));
            assert_eq!(out["type"], "object");
        }
        // The long enum value is cut, not the description beside it.
        let out = described(json!({"type": "object", "properties": {
            "e": {"type": "string", "enum": ["x".repeat(100_000)], "description": "kept"}
        }}));
        let out = out.schema.to_value();
        let text = out["properties"]["e"]["description"].as_str().unwrap();
        assert!(text.starts_with("kept. Known values: xxx"), "{text}");
        assert!(text.chars().count() < 100, "{text}");
    }
}
