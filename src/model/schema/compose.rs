//! `allOf` merged into one schema where that changes nothing a validator would say about
//! ordinary inputs: the usual "base type + extra properties" pattern becomes a plain object
//! schema, so request bodies built that way can be flattened into tool arguments. When the
//! parts disagree (two different `type`s, two `oneOf`s, …) the `allOf` is kept as it is.

use serde_json::{Map, Value};

/// Keywords where the first value wins on conflict: annotations, not constraints.
const ANNOTATIONS: &[&str] = &[
    "title",
    "description",
    "default",
    "examples",
    "example",
    "deprecated",
    "readOnly",
    "writeOnly",
    "format",
];

/// Merge `schema.allOf` into `schema` in place, or leave it untouched.
pub fn merge_all_of(schema: &mut Map<String, Value>) {
    let Some(Value::Array(parts)) = schema.get("allOf") else {
        return;
    };
    let mut merged = schema.clone();
    merged.remove("allOf");
    for part in parts {
        match part {
            Value::Object(part) => {
                if !merge_into(&mut merged, part) {
                    return;
                }
            }
            Value::Bool(true) => {}
            _ => return,
        }
    }
    *schema = merged;
}

fn merge_into(acc: &mut Map<String, Value>, part: &Map<String, Value>) -> bool {
    for (key, value) in part {
        let Some(existing) = acc.get_mut(key) else {
            acc.insert(key.clone(), value.clone());
            continue;
        };
        if existing == value || ANNOTATIONS.contains(&key.as_str()) {
            continue;
        }
        match (key.as_str(), existing, value) {
            ("properties", Value::Object(mine), Value::Object(theirs)) => {
                for (name, schema) in theirs {
                    match mine.get_mut(name) {
                        None => {
                            mine.insert(name.clone(), schema.clone());
                        }
                        Some(current) if current == schema => {}
                        Some(current) => {
                            // Both sides constrain this property: both must hold.
                            let mut both = Map::new();
                            both.insert(
                                "allOf".into(),
                                Value::Array(vec![current.clone(), schema.clone()]),
                            );
                            merge_all_of(&mut both);
                            *current = Value::Object(both);
                        }
                    }
                }
            }
            ("required", Value::Array(mine), Value::Array(theirs)) => {
                for name in theirs {
                    if !mine.contains(name) {
                        mine.push(name.clone());
                    }
                }
            }
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn merged(v: Value) -> Value {
        let Value::Object(mut map) = v else {
            panic!("object")
        };
        merge_all_of(&mut map);
        Value::Object(map)
    }

    #[test]
    fn base_and_extension_become_one_object() {
        let out = merged(json!({"description": "a dog", "allOf": [
            {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}, "description": "a pet"},
            {"type": "object", "required": ["bark"], "properties": {"bark": {"type": "boolean"}, "name": {"minLength": 1}}}
        ]}));
        assert_eq!(
            out,
            json!({"description": "a dog", "type": "object", "required": ["name", "bark"], "properties": {
                "name": {"type": "string", "minLength": 1}, "bark": {"type": "boolean"}
            }})
        );
    }

    #[test]
    fn conflicting_parts_stay_an_all_of() {
        let input = json!({"allOf": [{"type": "string"}, {"type": "integer"}]});
        assert_eq!(merged(input.clone()), input);
        let input = json!({"allOf": [{"oneOf": [{}]}, {"oneOf": [{"type": "string"}]}]});
        assert_eq!(merged(input.clone()), input);
    }
}
