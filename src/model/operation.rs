//! One operation to one tool: name, description, input and output schemas, HTTP binding.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use super::schema::{self, Converter};
use super::security::Schemes;
use super::{
    binary, deref, naming, Annotations, BinaryField, Body, BodyShape, FieldEncoding, HttpBinding,
    Location, Options, Output, OutputSchemas, Param, Style, Tool,
};
use crate::error::{Error, Result};
use crate::json;
use crate::normalize::Version;
use crate::pointer::Pointer;
use crate::warning::{Class, Warning};

/// What a body schema may say and still become separate tool arguments: anything else
/// (`oneOf`, `not`, `minProperties`, `patternProperties`, …) constrains the body as a whole,
/// which splitting it up would lose, so such a body stays one `body` argument.
const FLATTEN_KEEPS: &[&str] = &[
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

/// Descriptions longer than this are cut: clients put them in a model's context.
const MAX_DESCRIPTION: usize = 1024;

/// Where an operation sits in the document.
pub struct Site<'a> {
    pub root: &'a Value,
    pub version: Version,
    pub path: &'a str,
    pub method: &'a str,
    pub item: &'a Value,
    pub op: &'a Value,
    pub at: &'a Pointer,
}

/// A parameter after `$ref`s are followed, with its converted schema.
struct RawParam {
    name: String,
    location: Location,
    required: bool,
    style: Style,
    explode: bool,
    allow_reserved: bool,
    schema: Value,
}

/// The operation's tool. A defect in one argument's or the output's schema degrades that
/// part (with a warning); any other defect is an error the caller turns into leaving the
/// operation out, so nothing of a broken operation (its name included) is kept.
pub fn build(
    site: &Site,
    schemes: &Schemes,
    options: &Options,
    names: &mut naming::Registry,
    warnings: &mut Vec<Warning>,
) -> Result<Tool> {
    let method = site.method.to_ascii_uppercase();
    let op_id = site.op.get("operationId").and_then(Value::as_str);
    let facts = super::select::OpFacts {
        op: site.op,
        method: site.method,
        path: site.path,
    };
    let configured = super::select::configured_name(&options.select, &facts);
    let wanted = match configured.or_else(|| site.op.get("x-mcp-name").and_then(Value::as_str)) {
        Some(name) => naming::sanitize(name),
        None => naming::candidate(op_id, site.method, site.path),
    };

    let mut security = schemes.resolve(site.root, site.op, site.at, warnings)?;
    super::select::refine_access(
        &options.select,
        &facts,
        options.auth,
        security.scopes_defaulted,
        &mut security.access,
    );
    // Places the server's own credential fills are not the caller's to set.
    let filled: BTreeSet<(Location, String)> = security
        .credentials
        .iter()
        .flatten()
        .filter_map(|s| schemes.fills(s))
        .map(|(l, n)| (l, n.to_ascii_lowercase()))
        .collect();

    let mut converter = Converter::new(site.root, site.version);
    let (raw, mut headers) = parameters(site, &mut converter, warnings)?;
    let raw: Vec<RawParam> = raw
        .into_iter()
        .filter(|p| {
            let keep = !filled.contains(&(p.location, p.name.to_ascii_lowercase()));
            if !keep {
                warnings.push(Warning::new(
                    Class::CredentialParameter,
                    site.at,
                    format!(
                        "{} parameter `{}` is filled by the upstream credential, not taken as an argument",
                        p.location.as_str(),
                        p.name
                    ),
                ));
            }
            keep
        })
        .collect();

    let (params, mut properties, mut required) = arguments(raw);
    let body = body(
        site,
        &mut converter,
        &mut properties,
        &mut required,
        warnings,
    )?;

    // A required `Content-Type` without a value of its own: the body's media type, sent
    // even when the caller leaves an optional body out.
    if let Some(wanted) = headers
        .iter_mut()
        .find(|(n, v)| n == "Content-Type" && v.is_empty())
    {
        match &body {
            Some(body) if is_header_value(&body.media_type) => {
                wanted.1 = body.media_type.clone();
            }
            _ => warnings.push(Warning::new(
                Class::ServerHeader,
                site.at,
                "a required `Content-Type` header with no default and no body media type to send: none is sent without a body",
            )),
        }
    }
    headers.retain(|(_, v)| !v.is_empty());

    let mut input = Map::new();
    input.insert("type".into(), "object".into());
    input.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        input.insert("required".into(), json!(required));
    }

    let output = match output(site, &mut converter, options.output_schemas) {
        Ok(output) => output,
        Err(Error::Spec { location, message }) => {
            warnings.push(Warning::new(
                Class::NoOutputSchema,
                location,
                format!(
                    "{message}; {} declares no output schema",
                    operation_label(site)
                ),
            ));
            None
        }
        Err(other) => return Err(other),
    };
    Ok(Tool {
        name: names.claim(&wanted, options.max_name_len),
        title: text(site.op, "summary").map(|s| single_line(&s)),
        description: description(site, &method),
        input_schema: Value::Object(input),
        output,
        annotations: Annotations::for_method(&method),
        access: security.access,
        http: HttpBinding {
            method,
            path: site.path.to_string(),
            params,
            body,
            credentials: security.credentials,
            required_headers: headers,
            documents_redirects: documents_redirects(site.op),
        },
    })
}

/// `GET /pets/{id}`: how warnings name an operation whose tool may not exist.
fn operation_label(site: &Site) -> String {
    format!("{} {}", site.method.to_ascii_uppercase(), site.path)
}

/// The schema of an argument whose schema in the spec cannot be read: any value is accepted,
/// and the description says why (clients show it to the model).
fn untyped(site: &Site, what: &str, e: Error, warnings: &mut Vec<Warning>) -> Result<Value> {
    let Error::Spec { location, message } = e else {
        return Err(e);
    };
    warnings.push(Warning::new(
        Class::UntypedArgument,
        &location,
        format!(
            "{message}; {what} of {} takes any value",
            operation_label(site)
        ),
    ));
    Ok(json!({
        "description": format!("Any value: the API description's schema for this cannot be read ({message}).")
    }))
}

fn text(value: &Value, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

fn single_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn description(site: &Site, method: &str) -> String {
    let parts: Vec<String> = [text(site.op, "summary"), text(site.op, "description")]
        .into_iter()
        .flatten()
        .collect();
    let mut parts = parts;
    parts.dedup();
    let mut full = if parts.is_empty() {
        format!("{method} {}", site.path)
    } else {
        parts.join("\n\n")
    };
    if site.op.get("deprecated") == Some(&Value::Bool(true)) {
        full.push_str("\n\nDeprecated.");
    }
    truncate(&full, MAX_DESCRIPTION)
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max - 1).collect();
    format!("{}…", cut.trim_end())
}

/// A header name and the value the spec requires.
type Header = (String, String);

/// Whether the operation lists a 3xx response (`301`, `3XX`, …).
fn documents_redirects(op: &Value) -> bool {
    op.get("responses")
        .and_then(Value::as_object)
        .is_some_and(|r| r.keys().any(|code| code.starts_with('3')))
}

/// The value a required `Accept` or `Content-Type` header parameter asks for: its default,
/// or its only allowed value. Empty for a `Content-Type` without one (the body's media type
/// is sent); `None` when there is nothing to send or it is no valid header value.
fn required_header_value(p: &Value, name: &str, schema: Option<&Value>) -> Option<String> {
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
fn is_header_value(v: &str) -> bool {
    v.len() <= 1024 && v.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
}

/// Path-item parameters overlaid by the operation's (same name and location replaces),
/// and the `Accept`/`Content-Type` values the spec requires (see [`required_header_value`]).
fn parameters(
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

/// Converter errors start with the pointer of the bad keyword: that is the location.
fn schema_error(at: &Pointer, e: String) -> Error {
    match e.split_once(": ") {
        Some((place, message)) if place.starts_with('/') => Error::spec(place, message),
        _ => Error::spec(at.to_string(), e),
    }
}

/// The `style` of a parameter or of an `encoding` entry, if it names one.
fn style_of(owner: &Value, at: &Pointer) -> Result<Option<Style>> {
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

/// Per-field `encoding` of a form-urlencoded body (OpenAPI 3 §4.8.15): only fields whose
/// style differs from the default (form, exploded) are listed.
fn form_encoding(media: &str, media_obj: &Value, at: &Pointer) -> Result<Vec<FieldEncoding>> {
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

fn parent(at: &Pointer) -> Pointer {
    let text = at.to_string();
    let cut = text.rfind('/').unwrap_or(0);
    Pointer::parse(&text[..cut]).unwrap_or_else(Pointer::root)
}

fn parameter_schema(p: &Value, at: &Pointer, converter: &mut Converter) -> Result<Value> {
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
fn arguments(raw: Vec<RawParam>) -> (Vec<Param>, Map<String, Value>, Vec<String>) {
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

/// The media type sent: JSON first, then forms, then anything else the spec lists.
fn pick_media_type(content: &Map<String, Value>) -> Option<(&String, &Value)> {
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

fn body(
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

/// What structuredContent will be: the schema of the 2xx JSON responses (`anyOf` them when
/// they differ, as a 200 list beside a 202 job object).
fn output(site: &Site, converter: &mut Converter, mode: OutputSchemas) -> Result<Option<Output>> {
    if mode == OutputSchemas::None {
        return Ok(None);
    }
    let Some(responses) = site.op.get("responses").and_then(Value::as_object) else {
        return Ok(None);
    };
    let responses_at = site.at.push("responses");
    let mut schemas: Vec<Value> = Vec::new();
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
        let schema_at = at.push("content").push(media).push("schema");
        let converted = converter
            .convert(schema, &schema_at)
            .map_err(|e| schema_error(&schema_at, e))?;
        if !schemas.contains(&converted) {
            schemas.push(converted);
        }
    }
    let converted = match schemas.len() {
        0 => return Ok(None),
        1 => schemas.remove(0),
        _ => json!({"anyOf": schemas}),
    };
    Ok(super::output::output(converted, mode))
}

/// `application/json` and `…+json` (not `application/x-ndjson` or `json-seq`: many values).
fn is_json(media: &str) -> bool {
    let base = media
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    base == "application/json" || base.ends_with("+json")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Options;
    use serde_json::json;

    fn tool(root: Value, path: &str, method: &str) -> (Tool, Vec<Warning>) {
        let op = &root["paths"][path][method];
        let item = &root["paths"][path];
        let at = Pointer::root().push("paths").push(path).push(method);
        let site = Site {
            root: &root,
            version: Version::V3_0,
            path,
            method,
            item,
            op,
            at: &at,
        };
        let mut w = Vec::new();
        let schemes = Schemes::read(&root, &Options::default(), &mut w).unwrap();
        let t = build(
            &site,
            &schemes,
            &Options::default(),
            &mut naming::Registry::default(),
            &mut w,
        )
        .unwrap();
        (t, w)
    }

    #[test]
    fn path_query_header_and_flattened_body() {
        let root = json!({"paths": {"/pets/{id}": {
            "parameters": [{"name": "id", "in": "path", "schema": {"type": "integer"}}],
            "put": {
                "operationId": "updatePet",
                "parameters": [
                    {"name": "dry", "in": "query", "schema": {"type": "boolean"}},
                    {"name": "X-Trace", "in": "header", "required": true, "schema": {"type": "string"}, "description": "trace id"}
                ],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}
                }}}},
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}
            }
        }}});
        let (t, _) = tool(root, "/pets/{id}", "put");
        assert_eq!(t.name, "update_pet");
        assert_eq!(
            t.input_schema,
            json!({
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "dry": {"type": "boolean"},
                    "X-Trace": {"type": "string", "description": "trace id"},
                    "name": {"type": "string"},
                    "age": {"type": "integer"}
                },
                "required": ["id", "X-Trace", "name"]
            })
        );
        assert_eq!(
            t.http.body,
            Some(Body {
                media_type: "application/json".into(),
                required: true,
                shape: BodyShape::Flattened {
                    fields: vec!["name".into(), "age".into()]
                },
                encoding: vec![],
                binary: vec![],
            })
        );
        assert_eq!(t.http.params[1].style, Style::Form);
        assert!(t.http.params[1].explode);
        assert_eq!(
            t.output.map(|o| (o.schema, o.wrapped)),
            Some((json!({"type": "object"}), false))
        );
        assert!(t.annotations.idempotent && !t.annotations.read_only && !t.annotations.destructive);
    }

    #[test]
    fn output_covers_every_2xx_json_response_and_only_json() {
        let root = json!({"paths": {"/jobs": {"post": {
            "operationId": "startJobs",
            "responses": {
                "200": {"description": "done", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "string"}}}}},
                "202": {"description": "queued", "content": {"application/json; charset=utf-8": {"schema": {"type": "object", "properties": {"job": {"type": "string"}}}}}},
                "204": {"description": "nothing"}
            }
        }}, "/events": {"get": {
            "operationId": "events",
            "responses": {"200": {"description": "a stream", "content": {"application/x-ndjson": {"schema": {"type": "object"}}}}}
        }}}});
        let (t, _) = tool(root.clone(), "/jobs", "post");
        let output = t.output.unwrap();
        assert!(output.wrapped);
        assert_eq!(
            output.schema["properties"]["result"]["anyOf"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        let (t, _) = tool(root, "/events", "get");
        assert!(t.output.is_none());
    }

    #[test]
    fn allow_reserved_is_kept_for_path_parameters_only() {
        let root = json!({"paths": {"/files/{path}": {"get": {
            "parameters": [
                {"name": "path", "in": "path", "required": true, "allowReserved": true, "schema": {"type": "string"}},
                {"name": "q", "in": "query", "allowReserved": true, "schema": {"type": "string"}}
            ],
            "responses": {"200": {"description": "ok"}}
        }}}});
        let (t, _) = tool(root, "/files/{path}", "get");
        let reserved: Vec<bool> = t.http.params.iter().map(|p| p.allow_reserved).collect();
        assert_eq!(reserved, [true, false]);
    }

    #[test]
    fn clashing_names_are_prefixed_and_bodies_that_clash_stay_whole() {
        let root = json!({"paths": {"/a/{id}": {"post": {
            "parameters": [
                {"name": "id", "in": "path", "schema": {"type": "string"}},
                {"name": "id", "in": "query", "schema": {"type": "string"}}
            ],
            "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {"id": {"type": "string"}}}}}},
            "responses": {}
        }}}});
        let (t, _) = tool(root, "/a/{id}", "post");
        let keys: Vec<&String> = t.input_schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(keys, ["id", "query_id", "body"]);
        assert_eq!(t.http.params[1].arg, "query_id");
        assert_eq!(t.http.params[1].name, "id");
        assert_eq!(t.name, "post_a_id");
    }

    #[test]
    fn credential_headers_are_not_arguments() {
        let root = json!({
            "components": {"securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "api_key"}}},
            "paths": {"/x": {"delete": {
                "security": [{"key": []}],
                "parameters": [{"name": "api_key", "in": "header", "schema": {"type": "string"}}],
                "responses": {}
            }}}
        });
        let (t, w) = tool(root, "/x", "delete");
        assert_eq!(t.input_schema["properties"], json!({}));
        assert!(
            w.iter()
                .any(|w| w.message.contains("filled by the upstream credential")),
            "{w:?}"
        );
        assert!(t.annotations.destructive);
    }

    #[test]
    fn form_bodies_keep_the_fields_non_default_encoding() {
        let root = json!({"paths": {"/f": {"post": {
            "requestBody": {"content": {"application/x-www-form-urlencoded": {
                "schema": {"type": "object", "properties": {
                    "a": {"type": "object"}, "b": {"type": "array"}, "c": {"type": "object"}
                }},
                "encoding": {
                    "a": {"style": "deepObject", "explode": true},
                    "b": {"style": "pipeDelimited"},
                    "c": {"style": "form"}
                }
            }}},
            "responses": {}
        }}}});
        let (t, _) = tool(root, "/f", "post");
        let field = |field: &str, style, explode| FieldEncoding {
            field: field.into(),
            style,
            explode,
        };
        assert_eq!(
            t.http.body.unwrap().encoding,
            vec![
                field("a", Style::DeepObject, true),
                field("b", Style::PipeDelimited, false)
            ]
        );
    }

    #[test]
    fn raw_bodies_are_one_string_argument() {
        let root = json!({"paths": {"/up": {"post": {
            "requestBody": {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
            "responses": {}
        }}}});
        let (t, _) = tool(root, "/up", "post");
        assert_eq!(t.input_schema["properties"]["body"]["type"], "string");
        assert!(
            matches!(t.http.body.unwrap().shape, BodyShape::Whole { ref arg } if arg == "body")
        );
    }

    #[test]
    fn long_descriptions_are_cut() {
        let long = "word ".repeat(1000);
        let root = json!({"paths": {"/x": {"get": {"summary": "Sum", "description": long, "responses": {}}}}});
        let (t, _) = tool(root, "/x", "get");
        assert!(t.description.chars().count() <= MAX_DESCRIPTION);
        assert!(t.description.starts_with("Sum\n\nword"));
        assert_eq!(t.title.as_deref(), Some("Sum"));
    }

    #[test]
    fn unreadable_argument_schemas_take_any_value_and_say_why() {
        let root = json!({"paths": {"/a": {"post": {
            "parameters": [{"name": "mode", "in": "query", "description": "How.", "schema": {"$ref": "#/components/schemas/Gone"}}],
            "requestBody": {"content": {"application/json": {"schema": null}}},
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/nowhere"}}}}}
        }}}});
        let (t, w) = tool(root, "/a", "post");
        let props = &t.input_schema["properties"];
        assert_eq!(
            props["mode"]["description"],
            "How.\n\nAny value: the API description's schema for this cannot be read (`#/components/schemas/Gone` points to nothing)."
        );
        assert_eq!(props["mode"].as_object().unwrap().len(), 1);
        assert!(props["body"]["description"]
            .as_str()
            .unwrap()
            .contains("(expected a schema object)"));
        assert!(t.output.is_none());
        let classes: Vec<Class> = w.iter().map(|w| w.class).collect();
        assert_eq!(
            classes,
            [
                Class::UntypedArgument,
                Class::UntypedArgument,
                Class::NoOutputSchema
            ]
        );
        assert_eq!(
            w[1].at,
            "/paths/~1a/post/requestBody/content/application~1json/schema"
        );
        assert!(w[2].message.ends_with("POST /a declares no output schema"));
    }

    #[test]
    fn required_accept_and_content_type_values_are_kept_to_send() {
        let header = |name: &str, required: bool, schema: Value| json!({"name": name, "in": "header", "required": required, "schema": schema});
        let root = json!({"paths": {
            "/notes": {"post": {
                "parameters": [
                    header("content-type", true, json!({"type": "string", "default": "application/json"})),
                    header("Accept", true, json!({"type": "string", "enum": ["application/vnd.x.v2+json"]}))
                ],
                "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {"302": {"description": "elsewhere"}}
            }},
            "/plain": {"get": {
                "parameters": [
                    // A value only as an example, a bad value, and an optional one: not sent.
                    header("Accept", true, json!({"type": "string", "example": "application/json;version=2"})),
                    header("Content-Type", true, json!({"type": "string", "default": "a\r\nb"})),
                    header("X-Other", false, json!({"type": "string"}))
                ],
                "responses": {"200": {"description": "ok"}}
            }},
            "/upload": {"put": {
                "parameters": [header("Content-Type", true, json!({"type": "string"}))],
                "requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}},
                "responses": {"204": {"description": "ok"}}
            }}
        }});
        let (t, w) = tool(root.clone(), "/notes", "post");
        assert_eq!(
            t.http.required_headers,
            [
                (
                    "Accept".to_string(),
                    "application/vnd.x.v2+json".to_string()
                ),
                ("Content-Type".to_string(), "application/json".to_string())
            ]
        );
        assert!(t.http.documents_redirects);
        assert!(w.is_empty(), "{w:?}");
        let (t, w) = tool(root.clone(), "/plain", "get");
        assert!(t.http.required_headers.is_empty() && !t.http.documents_redirects);
        assert_eq!(
            w.iter().filter(|w| w.class == Class::ServerHeader).count(),
            2
        );
        assert!(t.input_schema["properties"].get("X-Other").is_some());
        // Required without a value: the body's media type.
        let (t, _) = tool(root, "/upload", "put");
        assert_eq!(
            t.http.required_headers,
            [("Content-Type".to_string(), "text/csv".to_string())]
        );
    }
}
