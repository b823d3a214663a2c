//! The rules for one schema's content. Every schema must be valid against the JSON Schema
//! 2020-12 meta-schema (formats asserted, so every `pattern` must be a valid regex). An input
//! schema must also have a root `{"type": "object"}`, no root oneOf/anyOf/allOf/$defs and no
//! `$ref` / `$dynamicRef` / `$recursiveRef` keyword anywhere (a property *named* `$ref` is
//! fine). Problems are returned without the tool name they follow.

use std::sync::LazyLock;

use jsonschema::Validator;
use serde_json::Value;

const REF_KEYWORDS: [&str; 3] = ["$ref", "$dynamicRef", "$recursiveRef"];
const ROOT_FORBIDDEN: [&str; 4] = ["oneOf", "anyOf", "allOf", "$defs"];
/// Keywords whose value maps property names (not keywords) to schemas.
const NAME_MAPS: [&str; 2] = ["properties", "patternProperties"];
/// Some meta-schema errors quote the whole offending schema.
const MAX_MESSAGE: usize = 200;

/// The 2020-12 meta-schema with its formats asserted: every `pattern` and `patternProperties`
/// key must be an ECMA-262 regex, every `$id` / `$schema` / `$ref` a URI (reference).
static META: LazyLock<Validator> = LazyLock::new(|| {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&referencing::meta::DRAFT202012)
        .expect("the 2020-12 meta-schema compiles")
});

/// The problems of an input schema, each to follow the tool name.
pub fn input_problems(schema: &Value) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(e) = meta_error(schema) {
        found.push(format!(": invalid 2020-12 schema at {e}"));
    }
    match schema.as_object() {
        Some(root) => {
            if root.get("type").and_then(Value::as_str) != Some("object") {
                found.push(": root is not {\"type\": \"object\"}".to_owned());
            }
            for key in ROOT_FORBIDDEN.iter().filter(|k| root.contains_key(**k)) {
                found.push(format!(": root `{key}`"));
            }
        }
        None => found.push(": root is not {\"type\": \"object\"}".to_owned()),
    }
    find_refs(schema, false, &mut String::new(), &mut found);
    found
}

/// The problems of an output schema, each to follow the tool name. MCP wants an object root:
/// structuredContent is an object (non-object replies are wrapped).
pub fn output_problems(schema: &Value) -> Vec<String> {
    let mut found: Vec<String> = meta_error(schema)
        .map(|e| format!(": invalid output schema at {e}"))
        .into_iter()
        .collect();
    if schema.get("type") != Some(&Value::String("object".to_owned())) {
        found.push(": output schema root is not {\"type\": \"object\"}".to_owned());
    }
    found
}

/// Where and why `schema` breaks the 2020-12 meta-schema (the first error).
fn meta_error(schema: &Value) -> Option<String> {
    let error = META.validate(schema).err()?;
    let at = error.instance_path().to_string();
    let at = if at.is_empty() { "/".to_owned() } else { at };
    let message: String = error.to_string().chars().take(MAX_MESSAGE).collect();
    Some(format!("{at}: {message}"))
}

/// Every `$ref` / `$dynamicRef` / `$recursiveRef` keyword under `value` (at `path`). `names`:
/// `value` maps property names to schemas (the value of `properties` or `patternProperties`),
/// so its keys are names, not keywords (while the schema of a property named `properties` is
/// still a schema).
fn find_refs(value: &Value, names: bool, path: &mut String, found: &mut Vec<String>) {
    let len = path.len();
    match value {
        Value::Object(map) => {
            if !names {
                for key in REF_KEYWORDS.iter().filter(|k| map.contains_key(**k)) {
                    found.push(format!("{path}: `{key}` left in the schema"));
                }
            }
            for (key, child) in map {
                path.push('/');
                path.push_str(key);
                find_refs(
                    child,
                    !names && NAME_MAPS.contains(&key.as_str()),
                    path,
                    found,
                );
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                path.push('/');
                path.push_str(&i.to_string());
                find_refs(child, false, path, found);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_found::{assert_has_all, has};
    use serde_json::json;

    #[test]
    fn a_sound_input_schema_passes() {
        let schema = json!({
            "type": "object",
            "properties": {
                "$ref": {"type": "string"},
                "id": {"type": "string", "pattern": "^[a-z]+$"}
            },
            "patternProperties": {"^\\$ref$": {"type": "integer"}},
            "required": ["id"]
        });
        assert_eq!(input_problems(&schema), Vec::<String>::new());
    }

    #[test]
    fn a_meta_schema_invalid_schema_fails() {
        let found = input_problems(&json!({"type": 5}));
        assert!(
            has(&found, ": invalid 2020-12 schema at /type: "),
            "{found:?}"
        );
        assert!(has(&found, "root is not"), "{found:?}");
        let found =
            input_problems(&json!({"type": "object", "properties": {"a": {"minLength": -1}}}));
        assert!(has(&found, "at /properties/a/minLength: "), "{found:?}");
        assert!(has(
            &output_problems(&json!({"required": "id"})),
            ": invalid output schema at /required: "
        ));
        assert!(output_problems(&json!({"type": "object"})).is_empty());
        assert!(has(
            &output_problems(&json!({"type": "array"})),
            "output schema root is not"
        ));
        assert!(has(
            &output_problems(&json!(5)),
            ": invalid output schema at /: "
        ));
    }

    #[test]
    fn patterns_must_be_regexes() {
        let bad = json!({"type": "object", "properties": {"a": {"pattern": "(unclosed"}}});
        assert!(has(&input_problems(&bad), "at /properties/a/pattern: "));
        let bad = json!({"type": "object", "patternProperties": {"[z-a]": {}}});
        assert!(has(&input_problems(&bad), "invalid 2020-12 schema"));
    }

    #[test]
    fn a_ref_left_in_fails() {
        let schema = json!({"type": "object", "properties": {"a": {"$ref": "#/$defs/a"}}});
        assert_eq!(
            input_problems(&schema),
            ["/properties/a: `$ref` left in the schema"]
        );
        let schema = json!({
            "type": "object",
            "$ref": "#",
            "allOf": [{"items": {"$dynamicRef": "#meta"}}],
            "properties": {"properties": {"$recursiveRef": "#"}}
        });
        let found = input_problems(&schema);
        assert_has_all(
            &found,
            &[
                ": `$ref` left in the schema",
                "/allOf/0/items: `$dynamicRef` left in the schema",
                "/properties/properties: `$recursiveRef` left in the schema",
                ": root `allOf`",
            ],
        );
    }

    #[test]
    fn root_combinators_and_defs_fail() {
        let found = input_problems(&json!({"type": "object", "oneOf": [{}], "$defs": {}}));
        assert_eq!(found, [": root `oneOf`", ": root `$defs`"]);
        let found = input_problems(&json!({"type": "string"}));
        assert_eq!(found, [": root is not {\"type\": \"object\"}"]);
    }
}
