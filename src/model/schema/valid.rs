//! Keep a tool schema valid JSON Schema 2020-12 whatever the spec wrote: real documents carry
//! `required: true` on properties, numbers as strings, `type: file`, a single `example` where
//! an array belongs. A keyword whose value has the wrong shape is repaired when its meaning is
//! clear and dropped otherwise (a dropped constraint only makes the tool more permissive; the
//! upstream API still validates).

use serde_json::{Map, Value};

const TYPES: &[&str] = &[
    "null", "boolean", "object", "array", "number", "string", "integer",
];
const NUMBERS: &[&str] = &["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"];
const COUNTS: &[&str] = &[
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "minContains",
    "maxContains",
];
const STRINGS: &[&str] = &[
    "pattern",
    "format",
    "title",
    "description",
    "contentMediaType",
    "contentEncoding",
];
const BOOLS: &[&str] = &["uniqueItems", "readOnly", "writeOnly", "deprecated"];

/// Repair or drop the keywords of one schema object (its subschemas are handled as they
/// are converted).
pub fn repair(schema: &mut Map<String, Value>) {
    schema.retain(|key, value| keep(key.as_str(), value));
    if let Some(Value::Array(list)) = schema.get_mut("required") {
        let mut seen = Vec::new();
        list.retain(|v| {
            v.is_string() && !seen.contains(v) && {
                seen.push(v.clone());
                true
            }
        });
    }
    if let Some(example) = schema.get("examples") {
        if !example.is_array() {
            let one = example.clone();
            schema.insert("examples".into(), Value::Array(vec![one]));
        }
    }
    if let Some(Value::Array(list)) = schema.get_mut("type") {
        let mut seen = Vec::new();
        list.retain(|v| {
            let ok = v.as_str().is_some_and(|t| TYPES.contains(&t)) && !seen.contains(v);
            seen.push(v.clone());
            ok
        });
        if list.is_empty() {
            schema.remove("type");
        }
    }
    if let Some(Value::String(t)) = schema.get("type") {
        match t.as_str() {
            t if TYPES.contains(&t) => {}
            "file" => {
                schema.insert("type".into(), "string".into());
                schema
                    .entry("format")
                    .or_insert_with(|| Value::String("binary".into()));
            }
            _ => {
                schema.remove("type");
            }
        }
    }
}

fn keep(key: &str, value: &Value) -> bool {
    if NUMBERS.contains(&key) {
        value.is_number()
    } else if key == "multipleOf" {
        value.as_f64().is_some_and(|n| n > 0.0)
    } else if COUNTS.contains(&key) {
        value.is_u64()
    } else if STRINGS.contains(&key) {
        value.is_string()
    } else if BOOLS.contains(&key) {
        value.is_boolean()
    } else {
        match key {
            "required" | "enum" => value.is_array(),
            "type" => value.is_string() || value.is_array(),
            "dependentRequired" => value.as_object().is_some_and(|m| {
                m.values()
                    .all(|v| v.as_array().is_some_and(|l| l.iter().all(Value::is_string)))
            }),
            // Draft-07 keyword with schemas inside that are never converted: not kept.
            "dependencies" | "definitions" => false,
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wrong_shapes_are_repaired_or_dropped() {
        let Value::Object(mut s) = json!({
            "type": ["string", "string", "weird", "null"], "required": true, "minLength": "3",
            "maximum": 5, "multipleOf": 0, "examples": "x", "uniqueItems": "yes", "pattern": "^a"
        }) else {
            unreachable!()
        };
        repair(&mut s);
        assert_eq!(
            Value::Object(s),
            json!({"type": ["string", "null"], "maximum": 5, "examples": ["x"], "pattern": "^a"})
        );
        let Value::Object(mut s) = json!({"type": "file", "required": ["a", "a", 3]}) else {
            unreachable!()
        };
        repair(&mut s);
        assert_eq!(
            Value::Object(s),
            json!({"type": "string", "required": ["a"], "format": "binary"})
        );
    }
}
