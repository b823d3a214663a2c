//! What a tool's replies declare: the `outputSchema` from the operation's 2xx JSON
//! responses.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::schema::Converter;
use super::site::{schema_error, Site};
use super::{deref, Output, OutputSchemas};
use crate::error::Result;

/// Outputs already made, by the schemas they came from: operations of real APIs answer with
/// the same few types (Stripe's 452 operations), and describing a big converted schema costs
/// more than anything else about an operation. Keyed by each response schema's `$ref`, or by
/// its place when it is written inline (so it is never reused). A document is mapped under one
/// output mode, so the mode is not part of the key.
#[derive(Default)]
pub struct Outputs(HashMap<Vec<String>, Option<Output>>);

/// What structuredContent will be: the schema of the 2xx JSON responses (`anyOf` them when
/// they differ, as a 200 list beside a 202 job object).
pub(super) fn output(
    site: &Site,
    converter: &mut Converter,
    outputs: &mut Outputs,
    mode: OutputSchemas,
) -> Result<Option<Output>> {
    if mode == OutputSchemas::None {
        return Ok(None);
    }
    let Some(responses) = site.op.get("responses").and_then(Value::as_object) else {
        return Ok(None);
    };
    let responses_at = site.at.push("responses");
    let mut found: Vec<(&Value, crate::pointer::Pointer)> = Vec::new();
    for (code, response) in responses.iter().filter(|(code, _)| code.starts_with('2')) {
        let (response, at) = deref(site.root, response, &responses_at.push(code))?;
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            continue;
        };
        let Some((media, media_obj)) = content.iter().find(|(m, _)| is_json(m)) else {
            continue;
        };
        let Some(schema) = media_obj.get("schema") else {
            continue;
        };
        found.push((schema, at.push("content").push(media).push("schema")));
    }
    let key: Vec<String> = found
        .iter()
        .map(|(schema, at)| match schema.as_object() {
            Some(map) if map.len() == 1 => match map.get("$ref").and_then(Value::as_str) {
                Some(target) => target.to_owned(),
                None => at.to_string(),
            },
            _ => at.to_string(),
        })
        .collect();
    if let Some(output) = outputs.0.get(&key) {
        return Ok(output.clone());
    }
    let mut schemas: Vec<Value> = Vec::new();
    for (schema, schema_at) in &found {
        // Described, the schema is read only to MAX_DEPTH levels of members (whose own
        // keywords are the last thing read): nothing below them is converted.
        let converted = match mode {
            OutputSchemas::Describe => {
                converter.convert_shallow(schema, schema_at, super::output::MAX_DEPTH)
            }
            _ => converter.convert(schema, schema_at),
        }
        .map_err(|e| schema_error(schema_at, e))?;
        if !schemas.contains(&converted) {
            schemas.push(converted);
        }
    }
    let converted = match schemas.len() {
        0 => return Ok(None),
        1 => schemas.remove(0),
        _ => json!({"anyOf": schemas}),
    };
    let output = super::output::output(converted, mode);
    outputs.0.insert(key, output.clone());
    Ok(output)
}

/// `application/json` and `…+json` (not `application/x-ndjson` or `json-seq`: many values).
pub(super) fn is_json(media: &str) -> bool {
    let base = media
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    base == "application/json" || base.ends_with("+json")
}
