//! An operation's request body: the media type sent, its schema as one argument or as
//! top-level arguments, form encodings, and bytes as base64.

use serde_json::{json, Map, Value};

use super::parameters::style_of;
use super::schema::{self, Converter};
use super::site::{schema_error, text, untyped, Site};
use super::{binary, deref, naming, BinaryField, Body, BodyShape, FieldEncoding, Style};
use crate::error::{Error, Result};
use crate::json;
use crate::pointer::Pointer;
use crate::warning::{Class, Warning};

/// What a body schema may say and still become separate tool arguments: anything else
/// (`oneOf`, `not`, `minProperties`, `patternProperties`, …) constrains the body as a whole,
/// which splitting it up would lose, so such a body stays one `body` argument.
pub(super) const FLATTEN_KEEPS: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "title",
    "description",
    "examples",
    "default",
    "deprecated",
];

/// Per-field `encoding` of a form-urlencoded body (OpenAPI 3 §4.8.15): only fields whose
/// style differs from the default (form, exploded) are listed.
pub(super) fn form_encoding(
    media: &str,
    media_obj: &Value,
    at: &Pointer,
) -> Result<Vec<FieldEncoding>> {
    if !media.starts_with("application/x-www-form-urlencoded") {
        return Ok(Vec::new());
    }
    let Some(Value::Object(entries)) = media_obj.get("encoding") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (field, entry) in entries {
        let entry_at = at.push("encoding").push(field);
        let style = style_of(entry, &entry_at)?.unwrap_or(Style::Form);
        let explode = entry
            .get("explode")
            .and_then(Value::as_bool)
            .unwrap_or(style == Style::Form);
        if (style, explode) != (Style::Form, true) {
            out.push(FieldEncoding {
                field: field.clone(),
                style,
                explode,
            });
        }
    }
    Ok(out)
}

/// The media type sent: JSON first, then forms, then anything else the spec lists.
pub(super) fn pick_media_type(content: &Map<String, Value>) -> Option<(&String, &Value)> {
    let rank = |media: &str| {
        let m = media
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if m == "application/json" {
            0
        } else if m.ends_with("+json") || m.ends_with("/json") {
            1
        } else if m == "application/x-www-form-urlencoded" {
            2
        } else if m == "multipart/form-data" {
            3
        } else {
            4
        }
    };
    content.iter().min_by_key(|(media, _)| rank(media))
}

pub(super) fn body(
    site: &Site,
    converter: &mut Converter,
    properties: &mut Map<String, Value>,
    required: &mut Vec<String>,
    warnings: &mut Vec<Warning>,
) -> Result<Option<Body>> {
    let Some(raw) = site.op.get("requestBody") else {
        return Ok(None);
    };
    let (body, body_at) = deref(site.root, raw, &site.at.push("requestBody"))?;
    let Some(content) = body.get("content").and_then(Value::as_object) else {
        return Err(Error::spec(
            body_at.push("content").to_string(),
            "a request body needs `content`",
        ));
    };
    let Some((media, media_obj)) = pick_media_type(content) else {
        warnings.push(Warning::new(
            Class::NoMediaType,
            body_at.push("content"),
            "no media type listed; the tool sends no body",
        ));
        return Ok(None);
    };
    let body_required = body.get("required") == Some(&Value::Bool(true));
    let schema_at = body_at.push("content").push(media).push("schema");
    let mut schema = match media_obj.get("schema") {
        Some(s) => match converter.convert(s, &schema_at) {
            Ok(schema) => schema,
            Err(e) => untyped(
                site,
                "the request body",
                schema_error(&schema_at, e),
                warnings,
            )?,
        },
        None => json!({}),
    };
    schema::strip_read_only(&mut schema);
    let is_json = media.contains("json");
    let is_form = media.starts_with("application/x-www-form-urlencoded")
        || media.starts_with("multipart/form-data");
    // Raw payloads travel as one string argument: text as is, bytes as base64.
    let mut raw_bytes = false;
    if !is_json && !is_form {
        (schema, raw_bytes) = binary::raw_body(media, &schema);
    }
    let mut files = if media.starts_with("multipart/form-data") {
        binary::file_fields(&mut schema, media_obj)
    } else {
        Vec::new()
    };
    if let (Some(desc), Value::Object(map)) = (text(body, "description"), &mut schema) {
        map.entry("description").or_insert(Value::String(desc));
    }

    let flattenable = (is_json || is_form)
        && schema::is_object_schema(&schema)
        && schema
            .as_object()
            .is_some_and(|m| m.keys().all(|k| FLATTEN_KEEPS.contains(&k.as_str())))
        && schema
            .get("additionalProperties")
            .is_none_or(|a| a == &Value::Bool(false))
        && schema
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|p| {
                !p.is_empty()
                    && p.keys()
                        .all(|k| naming::is_valid_argument(k) && !properties.contains_key(k))
            });
    let shape = if flattenable {
        let fields = schema
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let inner_required = json::strings(schema.get("required"));
        let names: Vec<String> = fields.keys().cloned().collect();
        for (k, v) in fields {
            properties.insert(k, v);
        }
        if body_required {
            required.extend(inner_required.into_iter().filter(|r| names.contains(r)));
        }
        BodyShape::Flattened { fields: names }
    } else {
        let mut arg = "body".to_string();
        while properties.contains_key(&arg) {
            arg = format!("request_{arg}");
        }
        properties.insert(arg.clone(), schema);
        if body_required {
            required.push(arg.clone());
        }
        if raw_bytes {
            files.push(BinaryField {
                field: arg.clone(),
                content_type: media.clone(),
            });
        }
        BodyShape::Whole { arg }
    };
    let encoding = form_encoding(media, media_obj, &body_at.push("content").push(media))?;
    Ok(Some(Body {
        media_type: media.clone(),
        required: body_required,
        shape,
        encoding,
        binary: files,
    }))
}
