//! OpenAPI discriminators as plain JSON Schema. The `discriminator` keyword means nothing to a
//! JSON Schema validator or to a model reading a tool's schema, so the value it implies is
//! written into each alternative: a `oneOf`/`anyOf` branch (or a schema that inherits a
//! discriminator through `allOf`) gets its discriminating property pinned to the values that
//! select it — the `mapping` keys pointing at it, or else its schema name (OpenAPI's implicit
//! mapping). A property no alternative declares is left alone: that is an improperly placed
//! discriminator, which tools ignore rather than invent a field for.

use serde_json::{Map, Value};

use crate::pointer::Pointer;

/// How far up an `allOf` inheritance chain discriminators are looked for.
const MAX_ANCESTRY: usize = 16;

/// A discriminator: the property that selects the alternative, and its explicit mapping.
pub struct Discriminator<'a> {
    property: &'a str,
    mapping: Option<&'a Map<String, Value>>,
}

impl<'a> Discriminator<'a> {
    /// The `discriminator` of a raw OpenAPI schema object, if it has a usable one.
    pub fn of(schema: &'a Map<String, Value>) -> Option<Self> {
        let Value::Object(discriminator) = schema.get("discriminator")? else {
            return None;
        };
        let property = discriminator.get("propertyName")?.as_str()?;
        let mapping = discriminator.get("mapping").and_then(Value::as_object);
        Some(Discriminator { property, mapping })
    }

    pub fn property(&self) -> &str {
        self.property
    }

    /// The discriminator values selecting the schema at `target`: every mapping key that
    /// names it (as `#/…` or as a bare schema name), else the schema's own name.
    pub fn values_for(&self, target: &Pointer) -> Vec<String> {
        let mut values: Vec<String> = self
            .mapping
            .into_iter()
            .flatten()
            .filter(|(_, to)| to.as_str().and_then(mapping_target).as_ref() == Some(target))
            .map(|(key, _)| key.clone())
            .collect();
        if values.is_empty() {
            values.push(unescape(target.last()));
        }
        values
    }
}

/// A mapping value: a local reference, or a schema name under `#/components/schemas`.
fn mapping_target(text: &str) -> Option<Pointer> {
    if text.starts_with('#') {
        Pointer::parse(text)
    } else if text.contains('/') {
        // A reference into another document: bundling has already rewritten the ones used.
        None
    } else {
        Some(
            Pointer::root()
                .push("components")
                .push("schemas")
                .push(text),
        )
    }
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Most subtypes a base type referenced as itself is expanded into. Bases with more (MS
/// Graph's `entity` maps over a thousand) stay as they are: their property schema only.
const MAX_SUBTYPES: usize = 16;

/// The subtypes a base schema (a discriminator with a `mapping`, no `oneOf`/`anyOf` of its
/// own) stands for when referenced as itself: the mapping's targets, in order, once each.
/// `None` when it is no such base, maps to itself (then it is a concrete type too), names
/// a target that does not exist, or has too many.
pub fn subtypes(root: &Value, schema: &Value, at: &Pointer) -> Option<Vec<Pointer>> {
    let Value::Object(map) = schema else {
        return None;
    };
    if map.contains_key("oneOf") || map.contains_key("anyOf") {
        return None;
    }
    let mapping = Discriminator::of(map)?.mapping?;
    let mut targets: Vec<Pointer> = Vec::new();
    for to in mapping.values() {
        let target = mapping_target(to.as_str()?)?;
        if target == *at || target.resolve(root).is_none() {
            return None;
        }
        if !targets.contains(&target) {
            targets.push(target);
        }
    }
    (!targets.is_empty() && targets.len() <= MAX_SUBTYPES).then_some(targets)
}

/// The discriminators a schema inherits through `allOf` references (not its own: a schema
/// with a discriminator is the polymorphic base, whose property takes any subtype's value).
pub fn inherited<'a>(root: &'a Value, schema: &'a Map<String, Value>) -> Vec<Discriminator<'a>> {
    let mut found = Vec::new();
    let mut seen: Vec<Pointer> = Vec::new();
    let mut frontier = vec![schema];
    for _ in 0..MAX_ANCESTRY {
        let mut next = Vec::new();
        for schema in frontier {
            let Some(Value::Array(parts)) = schema.get("allOf") else {
                continue;
            };
            for part in parts {
                let Some(pointer) = Pointer::of_ref(part) else {
                    continue;
                };
                if seen.contains(&pointer) {
                    continue;
                }
                if let Some(Value::Object(parent)) = pointer.resolve(root) {
                    found.extend(Discriminator::of(parent));
                    next.push(parent);
                }
                seen.push(pointer);
            }
        }
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    found
}

/// Constrain `property` of a converted schema to `values`, and make it required. Nothing
/// changes unless the schema (or, for a branch, the schema holding the discriminator:
/// `declared_outside`) declares the property, or when the values contradict its own `const`.
pub fn pin(schema: &mut Value, property: &str, values: &[String], declared_outside: bool) {
    let Value::Object(map) = schema else { return };
    let declared = map
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| p.contains_key(property));
    if !declared && !declared_outside {
        return;
    }
    let composed = ["allOf", "oneOf", "anyOf"]
        .iter()
        .any(|k| map.contains_key(*k));
    if composed && !declared {
        // Say it beside the composition instead of inside one of its parts.
        let mut wrapper = Value::Object(Map::new());
        pin(&mut wrapper, property, values, true);
        let original = std::mem::take(map);
        map.insert(
            "allOf".into(),
            Value::Array(vec![Value::Object(original), wrapper]),
        );
        return;
    }
    let properties = map
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(properties) = properties else {
        return;
    };
    let slot = properties
        .entry(property)
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(slot) = slot else { return };
    if !constrain(slot, values) {
        return;
    }
    let required = map
        .entry("required")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(required) = required {
        if !required.iter().any(|r| r == property) {
            required.push(property.into());
        }
    }
}

/// Narrow one property schema to `values`; false when its own `const`/`enum` allows none.
fn constrain(slot: &mut Map<String, Value>, values: &[String]) -> bool {
    let wanted: Vec<Value> = values.iter().map(|v| Value::String(v.clone())).collect();
    if let Some(own) = slot.get("const") {
        return wanted.contains(own);
    }
    if let Some(Value::Array(own)) = slot.get("enum") {
        let both: Vec<Value> = own.iter().filter(|v| wanted.contains(v)).cloned().collect();
        if both.is_empty() {
            return false;
        }
        slot.insert("enum".into(), Value::Array(both));
        return true;
    }
    match wanted.as_slice() {
        [one] => {
            slot.insert("const".into(), one.clone());
        }
        _ => {
            slot.insert("enum".into(), Value::Array(wanted));
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema_pointer(name: &str) -> Pointer {
        Pointer::parse(&format!("#/components/schemas/{name}")).unwrap()
    }

    #[test]
    fn values_come_from_the_mapping_or_the_schema_name() {
        let raw = json!({"discriminator": {"propertyName": "kind", "mapping": {
            "one": "#/components/schemas/A", "uno": "A", "two": "#/components/schemas/B"
        }}});
        let d = Discriminator::of(raw.as_object().unwrap()).unwrap();
        assert_eq!(d.property(), "kind");
        assert_eq!(d.values_for(&schema_pointer("A")), ["one", "uno"]);
        assert_eq!(d.values_for(&schema_pointer("B")), ["two"]);
        assert_eq!(d.values_for(&schema_pointer("C")), ["C"]);
    }

    #[test]
    fn pinning_narrows_the_declared_property_and_requires_it() {
        let mut s = json!({"type": "object", "properties": {"kind": {"type": "string"}}});
        pin(&mut s, "kind", &["dog".into()], false);
        assert_eq!(
            s,
            json!({"type": "object", "properties": {"kind": {"type": "string", "const": "dog"}}, "required": ["kind"]})
        );
        let mut s =
            json!({"properties": {"kind": {"enum": ["a", "b", "c"]}}, "required": ["kind"]});
        pin(&mut s, "kind", &["c".into(), "a".into()], false);
        assert_eq!(
            s,
            json!({"properties": {"kind": {"enum": ["a", "c"]}}, "required": ["kind"]})
        );
    }

    #[test]
    fn undeclared_or_contradicted_properties_are_left_alone() {
        let original = json!({"type": "object", "properties": {"bucket": {"type": "string"}}});
        let mut s = original.clone();
        pin(&mut s, "kind", &["x".into()], false);
        assert_eq!(s, original);
        let original = json!({"properties": {"kind": {"const": "cat"}}});
        let mut s = original.clone();
        pin(&mut s, "kind", &["dog".into()], false);
        assert_eq!(s, original);
    }

    #[test]
    fn a_composed_branch_gets_the_pin_beside_it() {
        let mut s = json!({"allOf": [{"type": "string"}, {"minLength": 1}]});
        pin(&mut s, "kind", &["x".into()], true);
        assert_eq!(
            s,
            json!({"allOf": [
                {"allOf": [{"type": "string"}, {"minLength": 1}]},
                {"properties": {"kind": {"const": "x"}}, "required": ["kind"]}
            ]})
        );
    }

    #[test]
    fn inherited_discriminators_are_found_up_the_all_of_chain() {
        let doc = json!({"components": {"schemas": {
            "Base": {"discriminator": {"propertyName": "kind"}, "properties": {"kind": {"type": "string"}}},
            "Mid": {"allOf": [{"$ref": "#/components/schemas/Base"}]},
            "Leaf": {"allOf": [{"$ref": "#/components/schemas/Mid"}, {"$ref": "#/components/schemas/Mid"}]}
        }}});
        let leaf = doc.pointer("/components/schemas/Leaf").unwrap();
        let found = inherited(&doc, leaf.as_object().unwrap());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].property(), "kind");
        let base = doc.pointer("/components/schemas/Base").unwrap();
        assert!(inherited(&doc, base.as_object().unwrap()).is_empty());
    }

    #[test]
    fn only_bases_with_a_short_mapping_to_other_schemas_have_subtypes() {
        let mut doc = json!({"components": {"schemas": {"A": {}, "B": {}, "Base": {
            "discriminator": {"propertyName": "k", "mapping": {"a": "A", "a2": "#/components/schemas/A", "b": "B"}}
        }}}});
        let base = |doc: &Value| doc.pointer("/components/schemas/Base").unwrap().clone();
        let at = schema_pointer("Base");
        assert_eq!(
            subtypes(&doc, &base(&doc), &at),
            Some(vec![schema_pointer("A"), schema_pointer("B")])
        );
        doc["components"]["schemas"]["Base"]["discriminator"]["mapping"]["self"] = json!("Base");
        assert_eq!(subtypes(&doc, &base(&doc), &at), None);
        let many: Map<String, Value> = (0..=MAX_SUBTYPES)
            .map(|i| (format!("v{i}"), json!(format!("S{i}"))))
            .collect();
        for i in 0..=MAX_SUBTYPES {
            doc["components"]["schemas"][format!("S{i}")] = json!({});
        }
        doc["components"]["schemas"]["Base"]["discriminator"]["mapping"] = Value::Object(many);
        assert_eq!(subtypes(&doc, &base(&doc), &at), None);
        let listed =
            json!({"oneOf": [], "discriminator": {"propertyName": "k", "mapping": {"a": "A"}}});
        assert_eq!(subtypes(&doc, &listed, &at), None);
    }
}
