//! The schema rules of the profiles, on a tool's input schema: `problems` finds what a
//! profile refuses; `conform` makes a schema acceptable to the targeted profiles, merging an
//! `allOf` into its parent where that keeps its meaning and leaving an argument untyped
//! (with a description saying why) where nothing else would do.

use serde_json::{json, Map, Value};

use super::{Forbidden, Profile, Targets};
use crate::model::{
    each_subschema_mut, merge_all_of as merge_here, SCHEMA_ARRAY_KEYWORDS as LIST,
    SCHEMA_KEYWORDS as ONE, SCHEMA_MAP_KEYWORDS as MAP,
};

/// Where a schema's subschemas are, as (pointer suffix, subschema).
fn children(schema: &Map<String, Value>) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    for (key, value) in schema {
        let key_ptr = escape(key);
        if ONE.contains(&key.as_str()) {
            out.push((format!("/{key_ptr}"), value));
        } else if LIST.contains(&key.as_str()) {
            if let Value::Array(items) = value {
                for (i, item) in items.iter().enumerate() {
                    out.push((format!("/{key_ptr}/{i}"), item));
                }
            }
        } else if MAP.contains(&key.as_str()) {
            if let Value::Object(entries) = value {
                for (name, sub) in entries {
                    out.push((format!("/{key_ptr}/{}", escape(name)), sub));
                }
            }
        }
    }
    out
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Every place in `schema` (a JSON pointer into it) that `profile` refuses.
pub fn problems(schema: &Value, profile: Profile) -> Vec<String> {
    let mut found = Vec::new();
    let Value::Object(root) = schema else {
        return vec![format!("{profile}: the input schema is not an object")];
    };
    if profile.needs_object_root() && root.get("type") != Some(&json!("object")) {
        found.push(format!(
            "{profile}: the input schema's root is not `type: object`"
        ));
    }
    for f in profile.forbids() {
        if f.root_only && root.contains_key(f.keyword) {
            found.push(format!("{profile}: `{}` at the root", f.keyword));
        }
    }
    walk(schema, "", &mut |at, map| {
        for f in profile.forbids().iter().filter(|f| !f.root_only) {
            if map.contains_key(f.keyword) {
                found.push(format!("{profile}: `{}` at `{}`", f.keyword, pointer(at)));
            }
        }
    });
    found
}

fn pointer(at: &str) -> &str {
    if at.is_empty() {
        "/"
    } else {
        at
    }
}

fn walk(schema: &Value, at: &str, visit: &mut dyn FnMut(&str, &Map<String, Value>)) {
    let Value::Object(map) = schema else {
        return;
    };
    visit(at, map);
    for (suffix, child) in children(map) {
        walk(child, &format!("{at}{suffix}"), visit);
    }
}

/// An argument `conform` left untyped: its name, and the keyword and profile that refused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Untyped {
    pub argument: String,
    pub keyword: &'static str,
    pub profile: Profile,
}

/// Makes an input schema (`type: object` with `properties`) acceptable to `targets`:
/// every `allOf` merged into its parent where the branches do not disagree, then each
/// argument whose schema still has a refused keyword left untyped. Nothing changes when no
/// targeted profile refuses anything.
pub fn conform(schema: &mut Value, targets: &Targets) -> Vec<Untyped> {
    let forbidden: Vec<(Profile, Forbidden)> = targets
        .forbidden()
        .into_iter()
        .filter(|(_, f)| !f.root_only)
        .collect();
    if forbidden.is_empty() {
        return Vec::new();
    }
    if forbidden.iter().any(|(_, f)| f.keyword == "allOf") {
        merge_all_of(schema);
    }
    let Some(Value::Object(properties)) = schema.get_mut("properties") else {
        return Vec::new();
    };
    let mut untyped = Vec::new();
    for (name, property) in properties.iter_mut() {
        let mut refused = None;
        walk(property, "", &mut |_, map| {
            if refused.is_none() {
                refused = forbidden
                    .iter()
                    .find(|(_, f)| map.contains_key(f.keyword))
                    .copied();
            }
        });
        if let Some((profile, f)) = refused {
            let description = property.get("description").and_then(Value::as_str);
            let why = format!(
                "Any value: this argument's schema uses `{}`, which {} refuses.",
                f.keyword,
                client(profile)
            );
            let text = match description {
                Some(d) if !d.is_empty() => format!("{d}\n\n{why}"),
                _ => why,
            };
            *property = json!({ "description": text });
            untyped.push(Untyped {
                argument: name.clone(),
                keyword: f.keyword,
                profile,
            });
        }
    }
    untyped
}

/// The client as people call it.
pub fn client(profile: Profile) -> &'static str {
    match profile {
        Profile::Openai => "OpenAI",
        Profile::Claude => "Claude",
        Profile::Cursor => "Cursor",
        Profile::Gemini => "Gemini",
        Profile::Vscode => "VS Code",
    }
}

/// Merges, bottom-up, every `allOf` whose branches can be folded into their parent (the
/// converter's own merge: the `allOf`s left are those whose parts disagree).
fn merge_all_of(schema: &mut Value) {
    let Value::Object(map) = schema else {
        return;
    };
    each_subschema_mut(map, &mut merge_all_of);
    merge_here(map);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn openai() -> Targets {
        Targets::new(&[Profile::Openai])
    }

    #[test]
    fn openai_refuses_all_of_anywhere_and_combinators_at_the_root() {
        let schema = json!({"type": "object", "properties": {
            "a": {"allOf": [{"type": "string"}]}
        }});
        assert_eq!(
            problems(&schema, Profile::Openai),
            ["openai: `allOf` at `/properties/a`"]
        );
        assert!(problems(&schema, Profile::Claude).is_empty());
        let root = json!({"type": "object", "anyOf": [{}], "properties": {}});
        assert_eq!(
            problems(&root, Profile::Openai),
            ["openai: `anyOf` at the root"]
        );
        let array = json!({"type": "array"});
        assert_eq!(
            problems(&array, Profile::Cursor),
            ["cursor: the input schema's root is not `type: object`"]
        );
    }

    #[test]
    fn gemini_refuses_references_and_conditionals() {
        let schema = json!({"type": "object", "properties": {
            "a": {"items": {"$ref": "#/$defs/x"}},
            "b": {"if": {}, "then": {}}
        }});
        let found = problems(&schema, Profile::Gemini);
        assert!(
            found.contains(&"gemini: `$ref` at `/properties/a/items`".to_string()),
            "{found:?}"
        );
        assert!(
            found.contains(&"gemini: `if` at `/properties/b`".to_string()),
            "{found:?}"
        );
        assert!(problems(&schema, Profile::Openai).is_empty());
    }

    #[test]
    fn a_property_named_like_a_keyword_is_not_one() {
        let schema = json!({"type": "object", "properties": {"allOf": {"type": "string"}, "if": {"type": "string"}}});
        assert!(problems(&schema, Profile::Openai).is_empty());
        assert!(problems(&schema, Profile::Gemini).is_empty());
    }

    #[test]
    fn an_all_of_of_objects_is_merged_into_one_object() {
        let mut schema = json!({"type": "object", "properties": {"body": {
            "description": "The pet.",
            "allOf": [
                {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]},
                {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"], "description": "ignored"}
            ]
        }}});
        assert!(conform(&mut schema, &openai()).is_empty());
        assert_eq!(
            schema["properties"]["body"],
            json!({"description": "The pet.", "type": "object",
                   "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
                   "required": ["id", "name"]})
        );
        assert!(problems(&schema, Profile::Openai).is_empty());
    }

    #[test]
    fn nested_all_ofs_merge_bottom_up() {
        let mut schema = json!({"type": "object", "properties": {"x": {"type": "array", "items": {
            "allOf": [{"allOf": [{"minLength": 1}]}, {"type": "string"}]
        }}}});
        assert!(conform(&mut schema, &openai()).is_empty());
        assert_eq!(
            schema["properties"]["x"]["items"],
            json!({"minLength": 1, "type": "string"})
        );
    }

    #[test]
    fn a_contradictory_all_of_leaves_the_argument_untyped() {
        let mut schema = json!({"type": "object", "properties": {
            "n": {"description": "A number.", "allOf": [{"type": "integer"}, {"type": "string"}]},
            "ok": {"type": "string"}
        }});
        let untyped = conform(&mut schema, &openai());
        assert_eq!(
            untyped,
            [Untyped {
                argument: "n".into(),
                keyword: "allOf",
                profile: Profile::Openai
            }]
        );
        assert_eq!(
            schema["properties"]["n"],
            json!({"description": "A number.\n\nAny value: this argument's schema uses `allOf`, which OpenAI refuses."})
        );
        assert_eq!(schema["properties"]["ok"], json!({"type": "string"}));
        assert!(problems(&schema, Profile::Openai).is_empty());
    }

    #[test]
    fn nothing_changes_without_a_profile_that_refuses() {
        let original =
            json!({"type": "object", "properties": {"a": {"allOf": [{"type": "string"}]}}});
        let mut schema = original.clone();
        assert!(conform(
            &mut schema,
            &Targets::new(&[Profile::Claude, Profile::Cursor])
        )
        .is_empty());
        assert_eq!(schema, original);
        assert!(conform(&mut schema, &Targets::none()).is_empty());
        assert_eq!(schema, original);
    }
}
