//! An operation's parameters: path-item and operation parameters merged, their schemas
//! converted, their styles read, and the argument names they get; the `Accept` and
//! `Content-Type` values a spec requires as header parameters.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use super::schema::Converter;
use super::site::{schema_error, text, untyped, Site};
use super::{deref, naming, Location, Param, Style};
use crate::error::{Error, Result};
use crate::pointer::Pointer;
use crate::warning::{Class, Warning};

/// A parameter after `$ref`s are followed, with its converted schema.
pub(super) struct RawParam {
    pub(super) name: String,
    pub(super) location: Location,
    pub(super) required: bool,
    pub(super) style: Style,
    pub(super) explode: bool,
    pub(super) allow_reserved: bool,
    pub(super) schema: Value,
}

/// A header name and the value the spec requires.
pub(super) type Header = (String, String);

/// The value a required `Accept` or `Content-Type` header parameter asks for: its default,
/// or its only allowed value. Empty for a `Content-Type` without one (the body's media type
/// is sent); `None` when there is nothing to send or it is no valid header value.
pub(super) fn required_header_value(
    p: &Value,
    name: &str,
    schema: Option<&Value>,
) -> Option<String> {
    if p.get("required") != Some(&Value::Bool(true)) {
        return None;
    }
    let schema = schema?;
    let value = match (schema.get("default"), schema.get("enum")) {
        (Some(Value::String(d)), _) => Some(d.clone()),
        (_, Some(Value::Array(only))) if only.len() == 1 => only[0].as_str().map(String::from),
        _ => None,
    };
    match value {
        Some(v) if is_header_value(&v) && !v.trim().is_empty() => Some(v.trim().to_string()),
        Some(_) => None,
        None if name == "content-type" => Some(String::new()),
        None => None,
    }
}

/// Short printable ASCII: a value the spec gives that can go into a header as is.
pub(super) fn is_header_value(v: &str) -> bool {
    v.len() <= 1024 && v.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
}

/// Path-item parameters overlaid by the operation's (same name and location replaces),
/// and the `Accept`/`Content-Type` values the spec requires (see [`required_header_value`]).
pub(super) fn parameters(
    site: &Site,
    converter: &mut Converter,
    warnings: &mut Vec<Warning>,
) -> Result<(Vec<RawParam>, Vec<Header>)> {
    let mut merged: Vec<(Value, Pointer)> = Vec::new();
    let item_at = parent(site.at);
    for (owner, at) in [(site.item, item_at), (site.op, site.at.clone())] {
        let Some(list) = owner.get("parameters") else {
            continue;
        };
        let list_at = at.push("parameters");
        let Some(list) = list.as_array() else {
            return Err(Error::spec(list_at.to_string(), "must be an array"));
        };
        for (i, p) in list.iter().enumerate() {
            let (p, p_at) = deref(site.root, p, &list_at.index(i))?;
            let key = (p.get("name").cloned(), p.get("in").cloned());
            merged.retain(|(q, _)| (q.get("name").cloned(), q.get("in").cloned()) != key);
            merged.push((p.clone(), p_at));
        }
    }
    let mut out = Vec::new();
    let mut headers = Vec::new();
    for (p, at) in merged {
        let name = p
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::spec(at.to_string(), "parameter without a `name`"))?;
        let location = p
            .get("in")
            .and_then(Value::as_str)
            .and_then(Location::parse)
            .ok_or_else(|| {
                Error::spec(
                    at.push("in").to_string(),
                    "must be path, query, header or cookie",
                )
            })?;
        // OpenAPI: these headers are described by other fields and ignored as parameters.
        let lower = name.to_ascii_lowercase();
        if location == Location::Header
            && ["accept", "content-type", "authorization"].contains(&lower.as_str())
        {
            if lower != "authorization" {
                let schema = parameter_schema(&p, &at, converter).ok();
                if let Some(value) = required_header_value(&p, &lower, schema.as_ref()) {
                    let canonical = if lower == "accept" {
                        "Accept"
                    } else {
                        "Content-Type"
                    };
                    headers.retain(|(n, _)| n != canonical);
                    headers.push((canonical.to_string(), value));
                    continue;
                }
            }
            warnings.push(Warning::new(
                Class::ServerHeader,
                &at,
                format!("header `{name}` is set by the server, not taken as an argument"),
            ));
            continue;
        }
        let mut schema = match parameter_schema(&p, &at, converter) {
            Ok(schema) => schema,
            Err(e) => untyped(site, &format!("parameter `{name}`"), e, warnings)?,
        };
        if let (Some(desc), Value::Object(map)) = (text(&p, "description"), &mut schema) {
            // A reason the argument is untyped stays after the spec's own words.
            let desc = match map.get("description").and_then(Value::as_str) {
                Some(why) => format!("{desc}\n\n{why}"),
                None => desc,
            };
            map.insert("description".into(), Value::String(desc));
        }
        let style = match style_of(&p, &at)? {
            Some(style) => style,
            None if matches!(location, Location::Query | Location::Cookie) => Style::Form,
            None => Style::Simple,
        };
        let explode = p
            .get("explode")
            .and_then(Value::as_bool)
            .unwrap_or(style == Style::Form);
        // Only path values are sent with reserved characters as is; query values stay
        // encoded, so they can never add a parameter.
        let allow_reserved =
            location == Location::Path && p.get("allowReserved") == Some(&Value::Bool(true));
        out.push(RawParam {
            name: name.to_string(),
            location,
            // Path parameters are always required, whatever the document says.
            required: location == Location::Path || p.get("required") == Some(&Value::Bool(true)),
            style,
            explode,
            allow_reserved,
            schema,
        });
    }
    headers.sort();
    Ok((out, headers))
}

/// The `style` of a parameter or of an `encoding` entry, if it names one.
pub(super) fn style_of(owner: &Value, at: &Pointer) -> Result<Option<Style>> {
    Ok(Some(match owner.get("style").and_then(Value::as_str) {
        None => return Ok(None),
        Some("form") => Style::Form,
        Some("spaceDelimited") => Style::SpaceDelimited,
        Some("pipeDelimited") => Style::PipeDelimited,
        Some("deepObject") => Style::DeepObject,
        Some("matrix") => Style::Matrix,
        Some("label") => Style::Label,
        Some("simple") => Style::Simple,
        Some(other) => {
            return Err(Error::spec(
                at.push("style").to_string(),
                format!("unknown style `{other}`"),
            ))
        }
    }))
}

pub(super) fn parent(at: &Pointer) -> Pointer {
    let text = at.to_string();
    let cut = text.rfind('/').unwrap_or(0);
    Pointer::parse(&text[..cut]).unwrap_or_else(Pointer::root)
}

pub(super) fn parameter_schema(
    p: &Value,
    at: &Pointer,
    converter: &mut Converter,
) -> Result<Value> {
    let (schema, schema_at) = if let Some(s) = p.get("schema") {
        (s, at.push("schema"))
    } else if let Some((media, m)) = p
        .get("content")
        .and_then(Value::as_object)
        .and_then(|c| c.iter().next())
    {
        match m.get("schema") {
            Some(s) => (s, at.push("content").push(media).push("schema")),
            None => return Ok(json!({})),
        }
    } else {
        return Ok(json!({"type": "string"}));
    };
    converter
        .convert(schema, &schema_at)
        .map_err(|e| schema_error(&schema_at, e))
}

/// Argument names for parameters; a name used in two locations is prefixed with the
/// location (`query_id`) everywhere but in the path, so the clash is visible.
pub(super) fn arguments(raw: Vec<RawParam>) -> (Vec<Param>, Map<String, Value>, Vec<String>) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for p in &raw {
        *seen.entry(naming::argument(&p.name)).or_default() += 1;
    }
    let mut taken = BTreeSet::new();
    let mut params = Vec::new();
    let mut properties = Map::new();
    let mut required = Vec::new();
    for p in raw {
        let plain = naming::argument(&p.name);
        let mut arg = if seen.get(&plain).copied().unwrap_or(0) > 1 && p.location != Location::Path
        {
            naming::argument(&format!("{}_{}", p.location.as_str(), p.name))
        } else {
            plain
        };
        while !taken.insert(arg.clone()) {
            arg.push('_');
        }
        let mut schema = p.schema;
        if arg != p.name {
            if let Value::Object(map) = &mut schema {
                let note = format!("({} parameter `{}`)", p.location.as_str(), p.name);
                let desc = match map.get("description").and_then(Value::as_str) {
                    Some(d) => format!("{d} {note}"),
                    None => note,
                };
                map.insert("description".into(), Value::String(desc));
            }
        }
        properties.insert(arg.clone(), schema);
        if p.required {
            required.push(arg.clone());
        }
        params.push(Param {
            arg,
            name: p.name,
            location: p.location,
            required: p.required,
            style: p.style,
            explode: p.explode,
            allow_reserved: p.allow_reserved,
        });
    }
    (params, properties, required)
}
