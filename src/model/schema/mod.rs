//! OpenAPI schemas to self-contained JSON Schema 2020-12 (ARCHITECTURE.md, Mapping): every local
//! `$ref` inlined, cycles and runaway nesting cut at a bounded depth, OpenAPI 3.0 dialect
//! translated,
//! `allOf` merged where it can be ([`compose`]), malformed keywords repaired ([`valid`]).

mod compose;
mod discriminator;
mod valid;

pub(crate) use compose::merge_all_of;

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::normalize::Version;
use crate::pointer::Pointer;
use discriminator::Discriminator;

/// How many `$ref`s may be open at once on one branch before expansion stops. Keeps one
/// tool's schema a sane size on specs whose types reference each other in long chains.
pub const MAX_REF_DEPTH: usize = 8;
/// Most schema objects in one converted schema. Densely connected specs (Stripe: every
/// object links to many others) grow exponentially with `$ref` depth; past this budget the
/// schema is converted again with a smaller depth limit, so it stays uniform, not lopsided.
const MAX_NODES: usize = 1_000;
/// How many `$ref`s may be open around a base type that is expanded into its subtypes.
const MAX_POLYMORPHIC_DEPTH: usize = 2;
/// Nesting bound for any schema, referenced or not: no stack overflow on hostile input.
const MAX_NESTING: usize = 64;
/// Most schema objects kept in the expansion memo, so a document whose every expansion
/// is distinct (MS Graph) costs bounded memory; past it, expansions are walked as before.
const MAX_MEMO_NODES: usize = 2_000_000;

/// Keywords whose value is one schema.
pub(crate) const SCHEMA_KEYWORDS: &[&str] = &[
    "items",
    "additionalProperties",
    "not",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "unevaluatedItems",
    "unevaluatedProperties",
    "additionalItems",
    "contentSchema",
];
/// Keywords whose value is an array of schemas.
pub(crate) const SCHEMA_ARRAY_KEYWORDS: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];
/// Keywords whose value maps names to schemas.
pub(crate) const SCHEMA_MAP_KEYWORDS: &[&str] =
    &["properties", "patternProperties", "dependentSchemas"];
/// OpenAPI-only keywords with no JSON Schema meaning, dropped from tool schemas.
const OPENAPI_ONLY: &[&str] = &[
    "discriminator",
    "xml",
    "externalDocs",
    "nullable",
    "$defs",
    "definitions",
    "$schema",
    "$id",
    "$anchor",
    "$dynamicAnchor",
    "$comment",
    // Dynamic references cannot be inlined; what they point to is left unconstrained.
    "$dynamicRef",
    "$recursiveRef",
    "$recursiveAnchor",
    "$vocabulary",
];

/// Where a walk is: how deeply nested in JSON (bounded against hostile input), and how many
/// levels of members (properties, items, branches) below the converted schema's root, which
/// is what [`Converter::convert_shallow`] bounds.
#[derive(Debug, Clone, Copy)]
struct Depth {
    nesting: usize,
    level: usize,
}

impl Depth {
    const ROOT: Depth = Depth {
        nesting: 0,
        level: 0,
    };

    /// One JSON level down, at the same member level (`$ref` targets, `allOf` parts, which
    /// merge into the schema that holds them).
    fn deeper(self) -> Depth {
        Depth {
            nesting: self.nesting + 1,
            ..self
        }
    }

    /// A member: a property, items, a branch of `anyOf`/`oneOf`.
    fn member(self) -> Depth {
        Depth {
            nesting: self.nesting + 1,
            level: self.level + 1,
        }
    }
}

pub struct Converter<'a> {
    root: &'a Value,
    version: Version,
    /// `$ref`s being expanded on the current branch (their [`Converter::id`]s).
    open: Vec<u32>,
    /// The reference depth of this attempt, and the schema objects it has made so far.
    depth_limit: usize,
    nodes: usize,
    /// Whether the budget applies (not on the last, depth-1 attempt).
    enforce: bool,
    /// Member levels converted in full; below them a schema keeps only its own keywords
    /// (type, title, description, enum…). `None`: all.
    levels: Option<usize>,
    /// Expansions already made, for every operation of the document: real specs expand the
    /// same types again and again (Stripe: most of its time went there).
    memo: HashMap<MemoKey, Memo>,
    memo_nodes: usize,
    /// Reference targets (and polymorphic markers) by number, so the open stack and the memo
    /// compare numbers rather than pointers.
    ids: HashMap<Pointer, u32>,
    /// The ids every expansion of this walk checked against `open`, in order: an expansion's
    /// share of it is what its memo entry must find closed to be reused.
    seen: Vec<u32>,
    /// What the expansion being walked depends on besides its [`MemoKey`]: the lowest index
    /// of `open` a recursion cut referred to, and whether a nesting cut happened.
    depends_on_open: usize,
    nesting_cut: bool,
}

/// What decides the result of expanding a reference, when that result refers to nothing
/// open above it: the target, whether it is an `allOf` parent, how many more references
/// may open below it, and how many of the polymorphic levels are still available.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct MemoKey {
    target: u32,
    parent: bool,
    remaining: usize,
    polymorphic_levels: usize,
    /// Member levels still converted in full, when they are bounded.
    levels_left: Option<usize>,
}

struct Memo {
    value: Value,
    /// The schema objects walking it made, so the node budget counts them all the same.
    nodes: usize,
    /// The ids it checked against `open`, sorted: had one of them been open, it would have
    /// been cut there instead.
    checked: Box<[u32]>,
}

/// Why a walk stopped early.
#[derive(Debug)]
enum Stop {
    /// This attempt made more schema objects than its budget: `convert` tries again with a
    /// smaller depth limit.
    OverBudget,
    /// The schema is not valid: the pointer of the bad keyword, then why.
    Invalid(String),
}

impl From<String> for Stop {
    fn from(message: String) -> Self {
        Stop::Invalid(message)
    }
}

impl<'a> Converter<'a> {
    pub fn new(root: &'a Value, version: Version) -> Self {
        Converter {
            root,
            version,
            open: Vec::new(),
            depth_limit: MAX_REF_DEPTH,
            nodes: 0,
            enforce: true,
            levels: None,
            memo: HashMap::new(),
            memo_nodes: 0,
            ids: HashMap::new(),
            seen: Vec::new(),
            depends_on_open: usize::MAX,
            nesting_cut: false,
        }
    }

    /// Like [`Converter::convert`], but only the top `levels` levels of members are
    /// converted in full; the schemas below them keep their own keywords (type, title,
    /// description, enum, const…) and no subschemas. For output schemas that are described
    /// to that depth anyway: walking what would be thrown away cost most of Stripe's
    /// generation, and the node budget then goes to the levels that are kept.
    pub fn convert_shallow(
        &mut self,
        schema: &Value,
        at: &Pointer,
        levels: usize,
    ) -> Result<Value, String> {
        self.levels = Some(levels);
        let converted = self.convert(schema, at);
        self.levels = None;
        converted
    }

    /// Convert the schema found at `at` (used to name broken references): with the deepest
    /// reference expansion whose walk stays within the node budget, else depth 1 without one.
    pub fn convert(&mut self, schema: &Value, at: &Pointer) -> Result<Value, String> {
        if let Some(value) = self.attempt(schema, at, MAX_REF_DEPTH)? {
            return Ok(value);
        }
        // A walk only grows with the depth limit, so a binary search finds the deepest limit
        // that fits in about three walks, where trying each depth downwards took up to seven
        // (most of them over budget and thrown away).
        let (mut fits, mut over) = (1, MAX_REF_DEPTH);
        let mut best = None;
        while over - fits > 1 {
            let mid = (fits + over) / 2;
            match self.attempt(schema, at, mid)? {
                Some(value) => {
                    fits = mid;
                    best = Some(value);
                }
                None => over = mid,
            }
        }
        match best {
            Some(value) => Ok(value),
            // Depth 1 has no budget, so it always ends.
            None => Ok(self
                .attempt(schema, at, 1)?
                .unwrap_or_else(|| cut("schema too large"))),
        }
    }

    /// One walk with reference depth `limit`: `None` when it went over the node budget.
    fn attempt(
        &mut self,
        schema: &Value,
        at: &Pointer,
        limit: usize,
    ) -> Result<Option<Value>, String> {
        self.open.clear();
        self.seen.clear();
        self.depends_on_open = usize::MAX;
        self.nesting_cut = false;
        self.depth_limit = limit;
        self.nodes = 0;
        self.enforce = limit > 1;
        match self.walk(schema, at, Depth::ROOT) {
            Ok(value) => Ok(Some(value)),
            Err(Stop::Invalid(message)) => Err(message),
            Err(Stop::OverBudget) => Ok(None),
        }
    }

    /// Whether a schema at `depth` keeps only its own keywords.
    fn shallow(&self, depth: Depth) -> bool {
        self.levels.is_some_and(|levels| depth.level >= levels)
    }

    fn walk(&mut self, schema: &Value, at: &Pointer, depth: Depth) -> Result<Value, Stop> {
        if depth.nesting > MAX_NESTING {
            // Depends on where the schema sits, so no expansion around it is memoized.
            self.nesting_cut = true;
            return Ok(cut("nested too deeply"));
        }
        self.nodes += 1;
        if self.enforce && self.nodes > MAX_NODES {
            // Abandon this attempt; `convert` retries with a smaller depth limit.
            return Err(Stop::OverBudget);
        }
        let Value::Object(map) = schema else {
            // `true`/`false` are valid 2020-12 schemas; anything else is not a schema.
            return match schema {
                Value::Bool(_) => Ok(schema.clone()),
                _ => Err(Stop::Invalid(format!("{at}: expected a schema object"))),
            };
        };
        if let Some(reference) = map.get("$ref") {
            return self.expand(reference, map, at, depth, false);
        }
        let shallow = self.shallow(depth);
        let mut out = Map::new();
        for (key, value) in map {
            if key.starts_with("x-") || OPENAPI_ONLY.contains(&key.as_str()) {
                continue;
            }
            if shallow && key != "allOf" && is_subschema_keyword(key) {
                continue;
            }
            let here = at.push(key);
            if key == "items" {
                if let Value::Array(tuple) = value {
                    // Draft-04 tuple form: 2020-12 spells it prefixItems.
                    let mut list = Vec::with_capacity(tuple.len());
                    for (i, item) in tuple.iter().enumerate() {
                        list.push(self.walk(item, &here.index(i), depth.member())?);
                    }
                    out.insert("prefixItems".into(), Value::Array(list));
                    continue;
                }
            }
            let converted = if SCHEMA_KEYWORDS.contains(&key.as_str()) {
                // 3.0 allows `items` only as one schema; 3.1 tuples use prefixItems.
                if value.is_object() || value.is_boolean() {
                    self.walk(value, &here, depth.member())?
                } else {
                    value.clone()
                }
            } else if SCHEMA_ARRAY_KEYWORDS.contains(&key.as_str()) {
                let Value::Array(items) = value else {
                    return Err(Stop::Invalid(format!(
                        "{here}: expected an array of schemas"
                    )));
                };
                let mut list = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let part = if key == "allOf" {
                        depth.deeper()
                    } else {
                        depth.member()
                    };
                    list.push(self.walk_item(key, item, &here.index(i), part)?);
                }
                if key == "oneOf" || key == "anyOf" {
                    pin_branches(map, items, &mut list);
                }
                Value::Array(list)
            } else if SCHEMA_MAP_KEYWORDS.contains(&key.as_str()) {
                let Value::Object(members) = value else {
                    return Err(Stop::Invalid(format!(
                        "{here}: expected an object of schemas"
                    )));
                };
                let mut converted = Map::new();
                for (name, member) in members {
                    converted.insert(
                        name.clone(),
                        self.walk(member, &here.push(name), depth.member())?,
                    );
                }
                Value::Object(converted)
            } else {
                // enum, const, default, examples, …: data, copied as is (never searched for refs).
                value.clone()
            };
            out.insert(key.clone(), converted);
        }
        compose::merge_all_of(&mut out);
        if self.version == Version::V3_0 {
            translate_3_0(map, &mut out);
        }
        valid::repair(&mut out);
        Ok(Value::Object(out))
    }

    /// One schema of an `allOf`/`anyOf`/`oneOf`/`prefixItems` list. A referenced `allOf`
    /// part is a parent type, so the discriminator it declares is not pinned on it.
    fn walk_item(
        &mut self,
        keyword: &str,
        item: &Value,
        at: &Pointer,
        depth: Depth,
    ) -> Result<Value, Stop> {
        match item {
            Value::Object(map) if keyword == "allOf" => match map.get("$ref") {
                Some(reference) => self.expand(reference, map, at, depth, true),
                None => self.walk(item, at, depth),
            },
            _ => self.walk(item, at, depth),
        }
    }

    /// A base type referenced as itself, whose discriminator maps to subtypes: one of them,
    /// each with the discriminating property pinned (OpenAPI's `allOf` inheritance, as
    /// Redocly and most generators read it).
    fn one_of_subtypes(
        &mut self,
        base: &Value,
        subtypes: &[Pointer],
        at: &Pointer,
        depth: Depth,
    ) -> Result<Value, Stop> {
        let mut out = Map::new();
        for key in ["title", "description"] {
            if let Some(annotation) = base.get(key) {
                out.insert(key.into(), annotation.clone());
            }
        }
        if self.shallow(depth) {
            return Ok(Value::Object(out));
        }
        let mut list = Vec::with_capacity(subtypes.len());
        for subtype in subtypes {
            let reference = Value::String(format!("#{subtype}"));
            list.push(self.expand(&reference, &Map::new(), at, depth.member(), false)?);
        }
        out.insert("oneOf".into(), Value::Array(list));
        Ok(Value::Object(out))
    }

    /// The expansion of `target` (found at `resolved`) itself, before the referencing site's
    /// siblings apply; memoized when it refers to nothing open above it.
    fn expand_target(
        &mut self,
        key: MemoKey,
        target: &Pointer,
        resolved: &Value,
        marker: u32,
        at: &Pointer,
        depth: Depth,
    ) -> Result<Value, Stop> {
        // Near the top of a tool's schema only: deeper down every level of subtypes would
        // multiply the schema (MS Graph's output grew by a third with no such bound).
        let subtypes = if key.parent || key.polymorphic_levels == 0 {
            None
        } else {
            discriminator::subtypes(self.root, resolved, target)
        };
        let index = self.open.len();
        let nodes_before = self.nodes;
        let seen_before = self.seen.len();
        let outer = (
            std::mem::replace(&mut self.depends_on_open, usize::MAX),
            std::mem::take(&mut self.nesting_cut),
        );
        self.open.push(match subtypes {
            Some(_) => marker,
            None => key.target,
        });
        let expanded = match &subtypes {
            Some(subtypes) => self.one_of_subtypes(resolved, subtypes, at, depth),
            None => self.walk(resolved, target, depth.deeper()),
        };
        self.open.pop();
        let self_contained = self.depends_on_open >= index && !self.nesting_cut;
        self.depends_on_open = self.depends_on_open.min(outer.0);
        self.nesting_cut |= outer.1;
        let mut expanded = expanded?;
        if !key.parent {
            // A subtype used as itself: the discriminator it inherits takes its own value.
            if let Value::Object(raw) = resolved {
                for inherited in discriminator::inherited(self.root, raw) {
                    let values = inherited.values_for(target);
                    discriminator::pin(&mut expanded, inherited.property(), &values, false);
                }
            }
        }
        let nodes = self.nodes - nodes_before;
        if self_contained && self.memo_nodes + nodes <= MAX_MEMO_NODES {
            let mut checked = self.seen[seen_before..].to_vec();
            checked.sort_unstable();
            checked.dedup();
            self.memo_nodes += nodes;
            self.memo.insert(
                key,
                Memo {
                    value: expanded.clone(),
                    nodes,
                    checked: checked.into_boxed_slice(),
                },
            );
        }
        Ok(expanded)
    }

    /// The number standing for `pointer` in `open` and the memo.
    fn id(&mut self, pointer: &Pointer) -> u32 {
        let next = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
        *self.ids.entry(pointer.clone()).or_insert(next)
    }

    /// Inline the schema `reference` points to; `parent` when it is an `allOf` part.
    fn expand(
        &mut self,
        reference: &Value,
        map: &Map<String, Value>,
        at: &Pointer,
        depth: Depth,
        parent: bool,
    ) -> Result<Value, Stop> {
        let text = reference
            .as_str()
            .ok_or_else(|| format!("{at}/$ref: not a string"))?;
        let target = Pointer::parse(text).ok_or_else(|| {
            format!("{at}/$ref: `{text}` is not a local reference (only `#/…` is supported)")
        })?;
        // A base being expanded into its subtypes is open under a marker of its own, so the
        // subtypes can still inherit from it (`allOf` parent) but not contain it again.
        let id = self.id(&target);
        let marker = self.id(&target.push("discriminator"));
        self.seen.push(id);
        if !parent {
            self.seen.push(marker);
        }
        let open_at = self
            .open
            .iter()
            .position(|&open| open == id || (!parent && open == marker));
        if let Some(index) = open_at {
            self.depends_on_open = self.depends_on_open.min(index);
            return Ok(cut(&format!(
                "recursive reference to {} not expanded",
                target.last()
            )));
        }
        if self.open.len() >= self.depth_limit {
            return Ok(cut(&format!(
                "{} not expanded (reference depth limit)",
                target.last()
            )));
        }
        let resolved = target
            .resolve(self.root)
            .ok_or_else(|| format!("{at}/$ref: `{text}` points to nothing"))?;
        let key = MemoKey {
            target: id,
            parent,
            remaining: self.depth_limit - self.open.len(),
            polymorphic_levels: MAX_POLYMORPHIC_DEPTH.saturating_sub(self.open.len()),
            levels_left: self.levels.map(|levels| levels.saturating_sub(depth.level)),
        };
        let reusable = self.memo.get(&key).filter(|memo| {
            !self
                .open
                .iter()
                .any(|open| memo.checked.binary_search(open).is_ok())
        });
        let mut expanded = match reusable {
            Some(memo) => {
                self.nodes += memo.nodes;
                self.seen.extend_from_slice(&memo.checked);
                if self.enforce && self.nodes > MAX_NODES {
                    return Err(Stop::OverBudget);
                }
                memo.value.clone()
            }
            None => self.expand_target(key, &target, resolved, marker, at, depth)?,
        };
        // Siblings of `$ref` (3.1; common in 3.0 documents too): annotations at the
        // referencing site (description, default) win over the target's; constraints and
        // subschemas apply on top of the target's, as an `allOf` merged where possible.
        let mut constraints = Map::new();
        let mut annotations = Map::new();
        // 3.0 `nullable` beside a `$ref`: the referenced schema, or null.
        let nullable =
            self.version == Version::V3_0 && map.get("nullable") == Some(&Value::Bool(true));
        for (key, value) in map {
            if key == "$ref" || key.starts_with("x-") || OPENAPI_ONLY.contains(&key.as_str()) {
                continue;
            }
            if [
                "description",
                "title",
                "default",
                "example",
                "examples",
                "deprecated",
            ]
            .contains(&key.as_str())
            {
                annotations.insert(key.clone(), value.clone());
            } else {
                constraints.insert(key.clone(), value.clone());
            }
        }
        if !constraints.is_empty() {
            let extra = self.walk(&Value::Object(constraints), at, depth.deeper())?;
            let mut both = Map::new();
            both.insert("allOf".into(), Value::Array(vec![expanded, extra]));
            compose::merge_all_of(&mut both);
            expanded = Value::Object(both);
        }
        if let Value::Object(out) = &mut expanded {
            if nullable {
                let mut flag = Map::new();
                flag.insert("nullable".into(), Value::Bool(true));
                translate_3_0(&flag, out);
            }
            if self.version == Version::V3_0 {
                if let Some(example) = annotations.remove("example") {
                    annotations
                        .entry("examples")
                        .or_insert_with(|| Value::Array(vec![example]));
                }
            }
            for (key, value) in annotations {
                out.insert(key, value);
            }
            valid::repair(out);
        }
        Ok(expanded)
    }
}

/// `oneOf`/`anyOf` with a discriminator: each referenced branch gets the discriminating
/// property pinned to the values that select it.
fn pin_branches(schema: &Map<String, Value>, raw: &[Value], converted: &mut [Value]) {
    let Some(discriminator) = Discriminator::of(schema) else {
        return;
    };
    let declared_here = schema
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| p.contains_key(discriminator.property()));
    for (raw, branch) in raw.iter().zip(converted) {
        let Some(target) = Pointer::of_ref(raw) else {
            continue;
        };
        let values = discriminator.values_for(&target);
        discriminator::pin(branch, discriminator.property(), &values, declared_here);
    }
}

/// A permissive schema standing where expansion stopped, saying why.
fn cut(reason: &str) -> Value {
    let mut map = Map::new();
    map.insert("description".into(), Value::String(format!("({reason})")));
    Value::Object(map)
}

/// OpenAPI 3.0's dialect to 2020-12: `nullable`, boolean exclusive bounds, `example`.
fn translate_3_0(original: &Map<String, Value>, out: &mut Map<String, Value>) {
    if original.get("nullable") == Some(&Value::Bool(true)) {
        match out.get("type").cloned() {
            Some(Value::String(t)) => {
                out.insert(
                    "type".into(),
                    Value::Array(vec![Value::String(t), "null".into()]),
                );
                if let Some(Value::Array(values)) = out.get_mut("enum") {
                    if !values.contains(&Value::Null) {
                        values.push(Value::Null);
                    }
                }
            }
            Some(_) => {}
            None => {
                // No type: allow null beside whatever the composition says.
                let rest = std::mem::take(out);
                let mut any = Map::new();
                any.insert(
                    "anyOf".into(),
                    Value::Array(vec![
                        Value::Object(rest),
                        serde_json::json!({"type": "null"}),
                    ]),
                );
                *out = any;
                return;
            }
        }
    }
    for (flag, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        match original.get(flag) {
            Some(Value::Bool(true)) => match out.remove(bound) {
                Some(limit) => {
                    out.insert(flag.into(), limit);
                }
                None => {
                    out.remove(flag);
                }
            },
            Some(Value::Bool(false)) => {
                out.remove(flag);
            }
            _ => {}
        }
    }
    if let Some(example) = out.remove("example") {
        out.entry("examples")
            .or_insert_with(|| Value::Array(vec![example]));
    }
}

/// Whether a converted schema describes a JSON object (what structuredContent must be).
pub fn is_object_schema(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(_) => false,
        None => schema.get("properties").is_some() && !has_composition(schema),
    }
}

/// Drop `readOnly` properties (and their `required` entries) everywhere in a request
/// schema: OpenAPI says they are not sent, so a tool must not ask for them.
pub fn strip_read_only(schema: &mut Value) {
    let Value::Object(map) = schema else { return };
    let mut removed = Vec::new();
    if let Some(Value::Object(properties)) = map.get_mut("properties") {
        properties.retain(|name, p| {
            let read_only = p.get("readOnly") == Some(&Value::Bool(true));
            if read_only {
                removed.push(name.clone());
            }
            !read_only
        });
    }
    if let Some(Value::Array(required)) = map.get_mut("required") {
        required.retain(|r| !r.as_str().is_some_and(|r| removed.iter().any(|x| x == r)));
    }
    each_subschema_mut(map, &mut strip_read_only);
}

/// Calls `f` on each direct subschema of `map` (by the keywords above).
pub(crate) fn each_subschema_mut(map: &mut Map<String, Value>, f: &mut dyn FnMut(&mut Value)) {
    for (key, value) in map.iter_mut() {
        if SCHEMA_KEYWORDS.contains(&key.as_str()) {
            f(value);
        } else if SCHEMA_ARRAY_KEYWORDS.contains(&key.as_str()) {
            if let Value::Array(items) = value {
                items.iter_mut().for_each(&mut *f);
            }
        } else if SCHEMA_MAP_KEYWORDS.contains(&key.as_str()) {
            if let Value::Object(members) = value {
                members.values_mut().for_each(&mut *f);
            }
        }
    }
}

/// Whether `key` holds subschemas.
fn is_subschema_keyword(key: &str) -> bool {
    SCHEMA_KEYWORDS.contains(&key)
        || SCHEMA_ARRAY_KEYWORDS.contains(&key)
        || SCHEMA_MAP_KEYWORDS.contains(&key)
}

pub fn has_composition(schema: &Value) -> bool {
    ["allOf", "anyOf", "oneOf", "not", "if"]
        .iter()
        .any(|k| schema.get(k).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn convert(doc: &Value, schema: Value) -> Value {
        Converter::new(doc, Version::V3_0)
            .convert(&schema, &Pointer::root())
            .unwrap()
    }

    /// The expansion memo changes nothing: converting every schema of a densely cyclic
    /// document with one converter (as a whole document is converted) gives exactly what a
    /// fresh converter per schema gives, in either order. Cycles longer than the depth limit
    /// make the same type cut for recursion at one site and for depth at another.
    #[test]
    fn the_memo_gives_what_a_fresh_converter_gives() {
        for n in [3, 5, 9, 13] {
            let to = |j: usize| json!({"$ref": format!("#/components/schemas/S{}", j % n)});
            let mut schemas = Map::new();
            for i in 0..n {
                schemas.insert(
                    format!("S{i}"),
                    json!({"type": "object", "description": format!("S{i}"), "properties": {
                        "next": to(i + 1),
                        "skip": {"type": "array", "items": to(i + 3)},
                        "back": {"allOf": [to(i + n - 2)], "description": "back"},
                    }}),
                );
            }
            let doc = json!({"components": {"schemas": schemas}});
            // Each type alone, then beside another, so a type is met under different parents.
            let mut wholes: Vec<Value> = (0..n).map(to).collect();
            for i in 0..n {
                wholes.push(json!({"properties": {"a": to(i), "b": to(i * 7 + 2)}}));
            }
            let mut shared = Converter::new(&doc, Version::V3_0);
            for schema in wholes.iter().chain(wholes.iter().rev()) {
                let fresh = Converter::new(&doc, Version::V3_0)
                    .convert(schema, &Pointer::root())
                    .unwrap();
                let memoized = shared.convert(schema, &Pointer::root()).unwrap();
                assert_eq!(memoized, fresh, "{n} types: {schema}");
            }
            assert!(!shared.memo.is_empty());
        }
    }

    /// A shallow conversion keeps every level above the bound as the full one has it, and
    /// below it only a schema's own keywords; allOf parts still merge into their schema.
    #[test]
    fn shallow_conversion_keeps_the_top_levels_and_own_keywords_below() {
        let doc = json!({"components": {"schemas": {
            "Base": {"type": "object", "description": "base", "properties": {"id": {"type": "string"}}},
            "Leaf": {"allOf": [{"$ref": "#/components/schemas/Base"}, {"title": "Leaf", "properties": {"n": {"type": "integer"}}}]},
            "Mid": {"type": "object", "properties": {"leaf": {"$ref": "#/components/schemas/Leaf"}, "list": {"type": "array", "items": {"$ref": "#/components/schemas/Leaf"}}}}
        }}});
        let top =
            json!({"type": "object", "properties": {"mid": {"$ref": "#/components/schemas/Mid"}}});
        let full = Converter::new(&doc, Version::V3_0)
            .convert(&top, &Pointer::root())
            .unwrap();
        let shallow = Converter::new(&doc, Version::V3_0)
            .convert_shallow(&top, &Pointer::root(), 2)
            .unwrap();
        // Levels 0 and 1 as in full; level 2 (mid's members) keeps own keywords only.
        let leaf = &shallow["properties"]["mid"]["properties"]["leaf"];
        assert_eq!(leaf["type"], "object");
        assert_eq!(leaf["title"], "Leaf");
        assert_eq!(leaf["description"], "base");
        assert!(leaf.get("properties").is_none(), "{leaf}");
        assert!(shallow["properties"]["mid"]["properties"]["list"]
            .get("items")
            .is_none());
        assert_eq!(
            full["properties"]["mid"]["properties"]["leaf"]["properties"]["n"]["type"],
            "integer"
        );
        let mut trimmed = full.clone();
        for member in ["leaf", "list"] {
            let node = &mut trimmed["properties"]["mid"]["properties"][member];
            let map = node.as_object_mut().unwrap();
            map.remove("properties");
            map.remove("items");
        }
        assert_eq!(shallow, trimmed);
    }

    #[test]
    fn refs_are_inlined_and_none_remain() {
        let doc = json!({"components": {"schemas": {
            "Pet": {"type": "object", "properties": {"category": {"$ref": "#/components/schemas/Category"}}},
            "Category": {"type": "object", "properties": {"id": {"type": "integer"}}, "xml": {"name": "c"}}
        }}});
        let out = convert(&doc, json!({"$ref": "#/components/schemas/Pet"}));
        assert_eq!(
            out,
            json!({"type": "object", "properties": {"category": {"type": "object", "properties": {"id": {"type": "integer"}}}}})
        );
    }

    #[test]
    fn cycles_are_cut_with_a_reason() {
        let doc = json!({"components": {"schemas": {
            "Node": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Node"}}}
        }}});
        let out = convert(&doc, json!({"$ref": "#/components/schemas/Node"}));
        assert_eq!(
            out["properties"]["next"],
            json!({"description": "(recursive reference to Node not expanded)"})
        );
        assert!(!out.to_string().contains("$ref"));
    }

    #[test]
    fn dangling_refs_are_errors_naming_the_place() {
        let doc = json!({});
        let err = Converter::new(&doc, Version::V3_0)
            .convert(
                &json!({"$ref": "#/components/schemas/Nope"}),
                &Pointer::root().push("paths"),
            )
            .unwrap_err();
        assert!(
            err.contains("/paths/$ref") && err.contains("points to nothing"),
            "{err}"
        );
    }

    #[test]
    fn openapi_3_0_dialect_is_translated() {
        let doc = json!({});
        let out = convert(
            &doc,
            json!({
                "type": "integer", "nullable": true, "minimum": 1, "exclusiveMinimum": true,
                "maximum": 9, "exclusiveMaximum": false, "example": 3, "x-internal": "yes"
            }),
        );
        assert_eq!(
            out,
            json!({"type": ["integer", "null"], "exclusiveMinimum": 1, "maximum": 9, "examples": [3]})
        );
    }

    #[test]
    fn nullable_enum_accepts_null() {
        let out = convert(
            &json!({}),
            json!({"type": "string", "enum": ["a"], "nullable": true}),
        );
        assert_eq!(
            out,
            json!({"type": ["string", "null"], "enum": ["a", null]})
        );
    }

    #[test]
    fn data_keywords_are_never_searched_for_refs() {
        let out = convert(
            &json!({}),
            json!({"type": "object", "default": {"$ref": "not-a-ref"}, "properties": {"$ref": {"type": "string"}}}),
        );
        assert_eq!(out["default"], json!({"$ref": "not-a-ref"}));
        assert_eq!(out["properties"]["$ref"], json!({"type": "string"}));
    }

    #[test]
    fn ref_siblings_override_the_target() {
        let doc =
            json!({"components": {"schemas": {"Id": {"type": "integer", "description": "an id"}}}});
        let out = convert(
            &doc,
            json!({"$ref": "#/components/schemas/Id", "description": "the pet's id"}),
        );
        assert_eq!(
            out,
            json!({"type": "integer", "description": "the pet's id"})
        );
    }

    #[test]
    fn ref_siblings_that_constrain_are_merged_and_nullable_refs_accept_null() {
        let doc = json!({"components": {"schemas": {
            "Pet": {"type": "object", "properties": {"name": {"type": "string"}}}
        }}});
        let out = convert(
            &doc,
            json!({"$ref": "#/components/schemas/Pet", "required": ["name"], "nullable": true}),
        );
        assert_eq!(
            out,
            json!({"type": ["object", "null"], "properties": {"name": {"type": "string"}}, "required": ["name"]})
        );
    }

    #[test]
    fn openapi_3_1_keywords_are_kept() {
        let schema = json!({
            "type": ["string", "null"], "const": "a", "examples": ["a"],
            "exclusiveMinimum": 1, "$comment": "dropped", "$dynamicRef": "#meta",
            "items": [{"type": "string"}], "unevaluatedProperties": false
        });
        let out = Converter::new(&json!({}), Version::V3_1)
            .convert(&schema, &Pointer::root())
            .unwrap();
        assert_eq!(
            out,
            json!({"type": ["string", "null"], "const": "a", "examples": ["a"],
                   "exclusiveMinimum": 1, "prefixItems": [{"type": "string"}], "unevaluatedProperties": false})
        );
    }

    #[test]
    fn all_of_bodies_become_plain_objects() {
        let doc = json!({"components": {"schemas": {
            "Base": {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}
        }}});
        let out = convert(
            &doc,
            json!({"allOf": [{"$ref": "#/components/schemas/Base"}, {"properties": {"name": {"type": "string"}}}]}),
        );
        assert_eq!(
            out,
            json!({"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}})
        );
    }

    #[test]
    fn read_only_properties_leave_request_schemas() {
        let mut s = json!({"type": "object", "required": ["id", "name"], "properties": {
            "id": {"type": "integer", "readOnly": true},
            "name": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "object", "properties": {"id": {"readOnly": true}, "x": {}}}}
        }});
        strip_read_only(&mut s);
        assert_eq!(
            s,
            json!({"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "object", "properties": {"x": {}}}}
            }})
        );
    }

    #[test]
    fn densely_linked_schemas_stay_a_sane_size() {
        // Ten types, each linking to all ten: 10^8 expansions at full depth.
        let mut schemas = Map::new();
        for i in 0..10 {
            let props: Map<String, Value> = (0..10)
                .map(|j| {
                    (
                        format!("p{j}"),
                        json!({"$ref": format!("#/components/schemas/T{j}")}),
                    )
                })
                .collect();
            schemas.insert(
                format!("T{i}"),
                json!({"type": "object", "properties": props}),
            );
        }
        let doc = json!({"components": {"schemas": schemas}});
        let out = convert(&doc, json!({"$ref": "#/components/schemas/T0"}));
        let size = out.to_string().len();
        assert!(size < 200_000, "{size} bytes");
        // Uniform: every first-level property is expanded to the same depth.
        assert_eq!(out["properties"]["p1"]["type"], "object");
        assert_eq!(out["properties"]["p9"]["type"], "object");
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let mut schema = json!({"type": "string"});
        // Parsers stop at 128 levels; a built value can go deeper.
        for _ in 0..500 {
            schema = json!({"type": "array", "items": schema});
        }
        let out = convert(&json!({}), schema);
        assert!(out.to_string().contains("nested too deeply"));
    }

    #[test]
    fn discriminators_pin_each_alternative() {
        let doc = json!({"components": {"schemas": {
            "Pet": {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string"}},
                    "discriminator": {"propertyName": "kind", "mapping": {"puppy": "#/components/schemas/Puppy"}}},
            "Dog": {"allOf": [{"$ref": "#/components/schemas/Pet"}, {"properties": {"bark": {"type": "boolean"}}}]},
            "Puppy": {"allOf": [{"$ref": "#/components/schemas/Dog"}, {"properties": {"age": {"type": "integer"}}}]},
            "Box": {"type": "object", "properties": {"size": {"type": "integer"}}}
        }}});
        // Inheritance: a subtype used as itself takes its own value, never its parent's too.
        let dog = convert(&doc, json!({"$ref": "#/components/schemas/Dog"}));
        assert_eq!(
            dog["properties"]["kind"],
            json!({"type": "string", "const": "Dog"})
        );
        let puppy = convert(&doc, json!({"$ref": "#/components/schemas/Puppy"}));
        assert_eq!(
            puppy["properties"]["kind"],
            json!({"type": "string", "const": "puppy"})
        );
        assert_eq!(puppy["required"], json!(["kind"]));
        // The base referenced as itself stands for the subtypes its mapping names.
        let pet = convert(&doc, json!({"$ref": "#/components/schemas/Pet"}));
        assert_eq!(pet["oneOf"].as_array().map(Vec::len), Some(1));
        assert_eq!(pet["oneOf"][0], puppy);
        // Without a mapping the subtypes are unknown: the base stays what it says.
        let mut open = doc.clone();
        open["components"]["schemas"]["Pet"]["discriminator"] = json!({"propertyName": "kind"});
        let pet = convert(&open, json!({"$ref": "#/components/schemas/Pet"}));
        assert_eq!(pet["properties"]["kind"], json!({"type": "string"}));
        assert!(pet.get("discriminator").is_none() && pet.get("oneOf").is_none());
        // oneOf with its own mapping; a branch without the property is left alone.
        let either = convert(
            &doc,
            json!({"oneOf": [{"$ref": "#/components/schemas/Dog"}, {"$ref": "#/components/schemas/Box"}],
                   "discriminator": {"propertyName": "kind", "mapping": {"dog": "Dog"}}}),
        );
        // The mapping's `dog` contradicts the `Dog` inherited from Pet: the inherited one stays.
        assert_eq!(either["oneOf"][0]["properties"]["kind"]["const"], "Dog");
        assert_eq!(
            either["oneOf"][1],
            json!({"type": "object", "properties": {"size": {"type": "integer"}}})
        );
    }

    #[test]
    fn a_base_expanded_into_subtypes_is_not_expanded_again_inside_them() {
        let doc = json!({"components": {"schemas": {
            "Node": {"type": "object", "properties": {"kind": {"type": "string"}},
                     "discriminator": {"propertyName": "kind", "mapping": {"dir": "#/components/schemas/Dir"}}},
            "Dir": {"allOf": [{"$ref": "#/components/schemas/Node"},
                              {"properties": {"children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}}}]}
        }}});
        let node = convert(&doc, json!({"$ref": "#/components/schemas/Node"}));
        let dir = &node["oneOf"][0];
        assert_eq!(dir["properties"]["kind"]["const"], "dir");
        assert_eq!(
            dir["properties"]["children"]["items"],
            json!({"description": "(recursive reference to Node not expanded)"})
        );
    }

    #[test]
    fn bases_deep_in_a_schema_keep_their_own_shape() {
        let doc = json!({"components": {"schemas": {
            "Base": {"type": "object", "properties": {"kind": {"type": "string"}},
                     "discriminator": {"propertyName": "kind", "mapping": {"s": "#/components/schemas/Sub"}}},
            "Sub": {"allOf": [{"$ref": "#/components/schemas/Base"}]},
            "Outer": {"type": "object", "properties": {
                "near": {"$ref": "#/components/schemas/Base"},
                "inner": {"$ref": "#/components/schemas/Inner"}}},
            "Inner": {"type": "object", "properties": {"far": {"$ref": "#/components/schemas/Base"}}}
        }}});
        let out = convert(&doc, json!({"$ref": "#/components/schemas/Outer"}));
        assert!(out["properties"]["near"].get("oneOf").is_some());
        let far = &out["properties"]["inner"]["properties"]["far"];
        assert_eq!(far["properties"]["kind"], json!({"type": "string"}));
        assert!(far.get("oneOf").is_none());
    }
}
