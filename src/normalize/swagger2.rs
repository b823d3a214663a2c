//! Swagger 2.0 → OpenAPI 3.0, at the JSON level, so the rest of the pipeline sees one shape:
//! `host`/`basePath`/`schemes` → `servers`, `definitions`/`parameters`/`responses`/
//! `securityDefinitions` → `components`, `body`/`formData` parameters → `requestBody` (media
//! types from `consumes`), response schemas → `content` (from `produces`), simple parameter
//! types → `schema`, `collectionFormat` → `style`/`explode`, and every local `$ref` rewritten.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::refs::{self, KEY as EXTERNAL};
use crate::error::{Error, Result};
use crate::json;
use crate::openapi;
use crate::pointer::Pointer;
use crate::warning::{Class, LeftOut, Warning};

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch"];
/// Keys of a non-body 2.0 parameter that describe its value: they move into `schema`.
const VALUE_KEYS: &[&str] = &[
    "type",
    "format",
    "items",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "enum",
    "multipleOf",
];

/// The document in 3.0 form; operations too broken to convert are left out, each with a
/// warning, and counted in `dropped`.
pub fn convert(root: &Value, warnings: &mut Vec<Warning>, dropped: &mut usize) -> Result<Value> {
    let Value::Object(src) = root else {
        return Err(Error::spec("/", "not an object"));
    };
    match src.get("swagger").and_then(Value::as_str) {
        Some("2.0") => {}
        _ => {
            return Err(Error::spec(
                "/swagger",
                "unsupported Swagger version; only 2.0 is converted",
            ))
        }
    }
    let consumes = json::strings(src.get("consumes"));
    let produces = json::strings(src.get("produces"));
    let mut out = Map::new();
    out.insert("openapi".into(), "3.0.3".into());
    for (key, value) in src {
        let keep = matches!(key.as_str(), "info" | "tags" | "externalDocs" | "security")
            || key.starts_with("x-");
        if keep {
            out.insert(key.clone(), value.clone());
        }
    }
    out.insert("servers".into(), servers(src));

    let mut components = Map::new();
    if let Some(Value::Object(defs)) = src.get("definitions") {
        let schemas = defs
            .iter()
            .map(|(k, v)| (k.clone(), schema(v)))
            .collect::<Map<_, _>>();
        components.insert("schemas".into(), Value::Object(schemas));
    }
    if let Some(Value::Object(params)) = src.get("parameters") {
        let mut kept = Map::new();
        for (name, p) in params {
            let p = inline_external(root, p);
            // body and formData parameters become request bodies where they are used.
            if !is_body_like(p) {
                kept.insert(name.clone(), parameter(p));
            }
        }
        components.insert("parameters".into(), Value::Object(kept));
    }
    if let Some(Value::Object(responses)) = src.get("responses") {
        let converted = responses
            .iter()
            .map(|(k, v)| (k.clone(), response(inline_external(root, v), &produces)))
            .collect::<Map<_, _>>();
        components.insert("responses".into(), Value::Object(converted));
    }
    if let Some(Value::Object(defs)) = src.get("securityDefinitions") {
        let at = Pointer::root().push("securityDefinitions");
        let mut schemes = Map::new();
        for (name, def) in defs {
            schemes.insert(name.clone(), security_scheme(def, &at.push(name), warnings));
        }
        components.insert("securitySchemes".into(), Value::Object(schemes));
    }
    out.insert("components".into(), Value::Object(components));

    let mut paths = Map::new();
    if let Some(Value::Object(src_paths)) = src.get("paths") {
        let at = Pointer::root().push("paths");
        for (path, item) in src_paths {
            if path.starts_with("x-") {
                continue;
            }
            let ctx = Ctx {
                root,
                consumes: &consumes,
                produces: &produces,
            };
            let item = inline_external(root, item);
            // A defect confined to one path item or operation leaves that part out.
            match path_item(&ctx, item, &at.push(path), warnings, dropped) {
                Ok(item) => {
                    paths.insert(path.clone(), item);
                }
                Err(e) => {
                    warnings.push(Warning::left_out(e, LeftOut::PathItem)?);
                    *dropped += openapi::operations_in(item);
                }
            }
        }
    } else if let Some(other) = src.get("paths") {
        out.insert("paths".into(), other.clone());
    }
    if src.get("paths").is_some_and(Value::is_object) {
        out.insert("paths".into(), Value::Object(paths));
    }
    let mut out = Value::Object(out);
    fix_external_schemas(&mut out);
    rewrite_refs(&mut out);
    Ok(out)
}

/// Bundled files (ARCHITECTURE.md, Pipeline: refs to other files) hold 2.0 content the conversion
/// above never walked. Path items, parameters and responses referenced there are inlined where they
/// are used and converted with the rest; this follows a `$ref` into the bundle.
fn inline_external<'a>(root: &'a Value, value: &'a Value) -> &'a Value {
    let mut current = value;
    for _ in 0..32 {
        match current.get("$ref").and_then(Value::as_str) {
            Some(r) if refs::into_bundle(r) => {
                match Pointer::parse(r).and_then(|p| p.resolve(root)) {
                    Some(target) => current = target,
                    // Dangling: left for the model stage to report with its place.
                    None => return current,
                }
            }
            _ => return current,
        }
    }
    current
}

/// What is still referenced in the bundle after inlining is a schema: each one reached,
/// and the ones it references in turn, gets the 2.0 schema keywords fixed in place.
fn fix_external_schemas(out: &mut Value) {
    let mut pending = Vec::new();
    if let Value::Object(map) = &*out {
        for (key, value) in map {
            if key != EXTERNAL {
                references(value, &mut pending);
            }
        }
    }
    let mut done = BTreeSet::new();
    while let Some(reference) = pending.pop() {
        if done.contains(&reference) {
            continue;
        }
        let Some(target) = Pointer::parse(&reference)
            .map(|p| p.to_string())
            .and_then(|p| out.pointer_mut(&p))
        else {
            continue;
        };
        fix_schema(target, 0);
        references(target, &mut pending);
        done.insert(reference);
    }
}

/// Every `$ref` under `value` into the bundled files (data keywords and extensions are not
/// searched).
fn references(value: &Value, found: &mut Vec<String>) {
    let mut stack = vec![(value, false)];
    while let Some((v, names)) = stack.pop() {
        match v {
            Value::Object(map) => {
                for (key, child) in map {
                    match (key.as_str(), child) {
                        ("$ref", Value::String(r)) if !names && refs::into_bundle(r) => {
                            found.push(r.clone());
                        }
                        (k, _) => {
                            if let Some(child_names) = refs::searched(k, names) {
                                stack.push((child, child_names));
                            }
                        }
                    }
                }
            }
            Value::Array(list) => stack.extend(list.iter().map(|v| (v, false))),
            _ => {}
        }
    }
}

struct Ctx<'a> {
    root: &'a Value,
    consumes: &'a [String],
    produces: &'a [String],
}

/// One server per scheme (https first); without `host`, a relative URL the user overrides.
fn servers(src: &Map<String, Value>) -> Value {
    let base = src.get("basePath").and_then(Value::as_str).unwrap_or("");
    let base = base.trim_end_matches('/');
    let Some(host) = src.get("host").and_then(Value::as_str) else {
        let url = if base.is_empty() { "/" } else { base };
        return json!([{ "url": url }]);
    };
    let mut schemes = json::strings(src.get("schemes"));
    schemes.retain(|s| s == "https" || s == "http");
    schemes.sort_by_key(|s| s != "https");
    if schemes.is_empty() {
        schemes.push("https".into());
    }
    Value::Array(
        schemes
            .iter()
            .map(|s| json!({ "url": format!("{s}://{host}{base}") }))
            .collect(),
    )
}

fn is_body_like(p: &Value) -> bool {
    matches!(
        p.get("in").and_then(Value::as_str),
        Some("body") | Some("formData")
    )
}

/// Follow a `#/parameters/…` reference inside the 2.0 document.
fn deref_param<'a>(root: &'a Value, p: &'a Value, at: &Pointer) -> Result<&'a Value> {
    let mut current = p;
    for _ in 0..32 {
        let Some(reference) = current.get("$ref").and_then(Value::as_str) else {
            return Ok(current);
        };
        current = Pointer::parse(reference)
            .and_then(|ptr| ptr.resolve(root))
            .ok_or_else(|| {
                Error::spec(
                    format!("{at}/$ref"),
                    format!("`{reference}` points to nothing in this document"),
                )
            })?;
    }
    Err(Error::spec(at.to_string(), "`$ref` chain does not end"))
}

fn path_item(
    ctx: &Ctx,
    item: &Value,
    at: &Pointer,
    warnings: &mut Vec<Warning>,
    dropped: &mut usize,
) -> Result<Value> {
    let Value::Object(item) = item else {
        return Ok(item.clone());
    };
    let mut out = Map::new();
    // Path-level body/formData parameters apply to every operation: pushed down.
    let mut shared_body = Vec::new();
    for (key, value) in item {
        match key.as_str() {
            "parameters" => {
                let mut kept = Vec::new();
                for (i, p) in value.as_array().into_iter().flatten().enumerate() {
                    let p = inline_external(ctx.root, p);
                    let p_at = at.push("parameters").index(i);
                    let resolved = deref_param(ctx.root, p, &p_at)?;
                    if is_body_like(resolved) {
                        shared_body.push(resolved.clone());
                    } else if p.get("$ref").is_some() {
                        kept.push(p.clone());
                    } else {
                        kept.push(parameter(p));
                    }
                }
                out.insert(key.clone(), Value::Array(kept));
            }
            m if METHODS.contains(&m) => {}
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    for method in METHODS {
        if let Some(op) = item.get(*method) {
            match operation(ctx, op, &shared_body, &at.push(method)) {
                Ok(op) => {
                    out.insert((*method).to_string(), op);
                }
                Err(e) => {
                    warnings.push(Warning::left_out(e, LeftOut::Operation)?);
                    *dropped += 1;
                }
            }
        }
    }
    Ok(Value::Object(out))
}

fn operation(ctx: &Ctx, op: &Value, shared_body: &[Value], at: &Pointer) -> Result<Value> {
    let Value::Object(op) = op else {
        return Ok(op.clone());
    };
    let consumes = match op.get("consumes") {
        Some(c) => json::strings(Some(c)),
        None => ctx.consumes.to_vec(),
    };
    let produces = match op.get("produces") {
        Some(p) => json::strings(Some(p)),
        None => ctx.produces.to_vec(),
    };
    let mut out = Map::new();
    let mut params = Vec::new();
    let mut body: Option<Value> = None;
    let mut form: Vec<Value> = shared_body
        .iter()
        .filter(|p| p.get("in").and_then(Value::as_str) == Some("formData"))
        .cloned()
        .collect();
    if let Some(b) = shared_body
        .iter()
        .find(|p| p.get("in").and_then(Value::as_str) == Some("body"))
    {
        body = Some(b.clone());
    }
    for (i, p) in op
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let p = inline_external(ctx.root, p);
        let resolved = deref_param(ctx.root, p, &at.push("parameters").index(i))?;
        match resolved.get("in").and_then(Value::as_str) {
            Some("body") => body = Some(resolved.clone()),
            Some("formData") => {
                let name = resolved.get("name");
                form.retain(|f| f.get("name") != name);
                form.push(resolved.clone());
            }
            _ if p.get("$ref").is_some() => params.push(p.clone()),
            _ => params.push(parameter(p)),
        }
    }
    for (key, value) in op {
        match key.as_str() {
            "consumes" | "produces" | "parameters" | "schemes" => {}
            "responses" => {
                let converted = value
                    .as_object()
                    .map(|r| {
                        r.iter()
                            .map(|(code, resp)| {
                                let resp = inline_external(ctx.root, resp);
                                (code.clone(), response(resp, &produces))
                            })
                            .collect::<Map<_, _>>()
                    })
                    .map(Value::Object)
                    .unwrap_or_else(|| value.clone());
                out.insert(key.clone(), converted);
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    if !params.is_empty() {
        out.insert("parameters".into(), Value::Array(params));
    }
    if let Some(body) = body {
        out.insert("requestBody".into(), body_request(&body, &consumes));
    } else if !form.is_empty() {
        out.insert("requestBody".into(), form_request(&form, &consumes));
    }
    Ok(Value::Object(out))
}

fn body_request(p: &Value, consumes: &[String]) -> Value {
    let media: Vec<&str> = if consumes.is_empty() {
        vec!["application/json"]
    } else {
        consumes.iter().map(String::as_str).collect()
    };
    let schema = p.get("schema").map(schema).unwrap_or_else(|| json!({}));
    let content: Map<String, Value> = media
        .into_iter()
        .map(|m| (m.to_string(), json!({ "schema": schema })))
        .collect();
    let mut out = json!({ "content": content });
    copy(p, &mut out, &["description", "required"]);
    if let Some(name) = p.get("name") {
        out["x-body-name"] = name.clone();
    }
    out
}

/// formData parameters become one object schema, multipart when a file is among them or
/// the operation consumes only multipart.
fn form_request(form: &[Value], consumes: &[String]) -> Value {
    let has_file = form
        .iter()
        .any(|p| p.get("type").and_then(Value::as_str) == Some("file"));
    let urlencoded = "application/x-www-form-urlencoded";
    let multipart = "multipart/form-data";
    let media = if has_file
        || (consumes.iter().any(|c| c.starts_with(multipart)))
            && !consumes.iter().any(|c| c.starts_with(urlencoded))
    {
        multipart
    } else {
        urlencoded
    };
    let mut properties = Map::new();
    let mut required = Vec::new();
    for p in form {
        let Some(name) = p.get("name").and_then(Value::as_str) else {
            continue;
        };
        let mut s = value_schema(p);
        if let (Some(d), Value::Object(m)) = (p.get("description"), &mut s) {
            m.insert("description".into(), d.clone());
        }
        properties.insert(name.to_string(), s);
        if p.get("required") == Some(&Value::Bool(true)) {
            required.push(Value::String(name.to_string()));
        }
    }
    let mut schema = json!({ "type": "object", "properties": properties });
    if !required.is_empty() {
        schema["required"] = Value::Array(required.clone());
    }
    json!({
        "required": !required.is_empty(),
        "content": { media: { "schema": schema } }
    })
}

/// A 2.0 query/path/header parameter: value keys into `schema`, collectionFormat → style.
fn parameter(p: &Value) -> Value {
    let Value::Object(map) = p else {
        return p.clone();
    };
    if map.contains_key("$ref") {
        return p.clone();
    }
    let mut out = Map::new();
    for (key, value) in map {
        if !VALUE_KEYS.contains(&key.as_str())
            && key != "collectionFormat"
            && key != "allowEmptyValue"
        {
            out.insert(key.clone(), value.clone());
        }
    }
    out.insert("schema".into(), value_schema(p));
    let location = map.get("in").and_then(Value::as_str).unwrap_or("");
    let (style, explode) = match map.get("collectionFormat").and_then(Value::as_str) {
        Some("multi") => (Some("form"), true),
        Some("ssv") => (Some("spaceDelimited"), false),
        Some("pipes") => (Some("pipeDelimited"), false),
        // csv is the default; tsv has no 3.0 equivalent and is sent as csv.
        _ if map.get("type").and_then(Value::as_str) == Some("array") => (
            matches!(location, "query" | "cookie").then_some("form"),
            false,
        ),
        _ => (None, false),
    };
    if let Some(style) = style {
        out.insert("style".into(), style.into());
        out.insert("explode".into(), explode.into());
    } else if map.get("type").and_then(Value::as_str) == Some("array") {
        out.insert("explode".into(), false.into());
    }
    Value::Object(out)
}

/// The schema of a non-body parameter or form field, from its value keys.
fn value_schema(p: &Value) -> Value {
    let mut s = Map::new();
    for key in VALUE_KEYS {
        if let Some(v) = p.get(*key) {
            s.insert((*key).to_string(), v.clone());
        }
    }
    schema(&Value::Object(s))
}

fn response(r: &Value, produces: &[String]) -> Value {
    let Value::Object(map) = r else {
        return r.clone();
    };
    if map.contains_key("$ref") {
        return r.clone();
    }
    let mut out = Map::new();
    for (key, value) in map {
        match key.as_str() {
            "schema" | "examples" => {}
            "headers" => {
                let headers = value
                    .as_object()
                    .map(|h| {
                        h.iter()
                            .map(|(name, header)| {
                                let mut converted = json!({ "schema": value_schema(header) });
                                copy(header, &mut converted, &["description"]);
                                (name.clone(), converted)
                            })
                            .collect::<Map<_, _>>()
                    })
                    .unwrap_or_default();
                out.insert(key.clone(), Value::Object(headers));
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    if let Some(s) = map.get("schema") {
        let s = schema(s);
        let media: Vec<&str> = if produces.is_empty() {
            vec!["application/json"]
        } else {
            produces.iter().map(String::as_str).collect()
        };
        let content: Map<String, Value> = media
            .into_iter()
            .map(|m| (m.to_string(), json!({ "schema": s })))
            .collect();
        out.insert("content".into(), Value::Object(content));
    }
    out.entry("description").or_insert_with(|| "".into());
    Value::Object(out)
}

fn security_scheme(def: &Value, at: &Pointer, warnings: &mut Vec<Warning>) -> Value {
    let kind = def.get("type").and_then(Value::as_str).unwrap_or("");
    let mut out = match kind {
        "basic" => json!({ "type": "http", "scheme": "basic" }),
        "apiKey" => {
            let mut out = json!({ "type": "apiKey" });
            copy(def, &mut out, &["name", "in"]);
            out
        }
        "oauth2" => {
            let scopes = def.get("scopes").cloned().unwrap_or_else(|| json!({}));
            let flow = def.get("flow").and_then(Value::as_str).unwrap_or("");
            let (name, urls): (&str, &[&str]) = match flow {
                "implicit" => ("implicit", &["authorizationUrl"]),
                "password" => ("password", &["tokenUrl"]),
                "application" => ("clientCredentials", &["tokenUrl"]),
                "accessCode" => ("authorizationCode", &["authorizationUrl", "tokenUrl"]),
                other => {
                    warnings.push(Warning::new(
                        Class::UnknownFlow,
                        at.push("flow"),
                        format!("unknown oauth2 flow `{other}`, read as authorizationCode"),
                    ));
                    ("authorizationCode", &["authorizationUrl", "tokenUrl"])
                }
            };
            let mut body = json!({ "scopes": scopes });
            for url in urls {
                body[*url] = def.get(*url).cloned().unwrap_or_else(|| "".into());
            }
            json!({ "type": "oauth2", "flows": { name: body } })
        }
        _ => def.clone(),
    };
    copy(def, &mut out, &["description"]);
    out
}

/// Schema keywords 2.0 spells differently: `type: file`, `x-nullable`, string discriminators.
fn schema(s: &Value) -> Value {
    let mut s = s.clone();
    fix_schema(&mut s, 0);
    s
}

fn fix_schema(s: &mut Value, depth: usize) {
    // Parsed documents nest at most 128 levels; this bound keeps built ones safe too.
    if depth > 256 {
        return;
    }
    let Value::Object(map) = s else { return };
    if map.get("type").and_then(Value::as_str) == Some("file") {
        map.insert("type".into(), "string".into());
        map.insert("format".into(), "binary".into());
    }
    if let Some(n) = map.remove("x-nullable") {
        map.insert("nullable".into(), n);
    }
    if let Some(Value::String(property)) = map.get("discriminator") {
        let property = property.clone();
        map.insert("discriminator".into(), json!({ "propertyName": property }));
    }
    for (key, value) in map.iter_mut() {
        match key.as_str() {
            "items" | "additionalProperties" | "not" => fix_schema(value, depth + 1),
            "allOf" | "anyOf" | "oneOf" => {
                if let Value::Array(list) = value {
                    list.iter_mut().for_each(|v| fix_schema(v, depth + 1));
                }
            }
            "properties" => {
                if let Value::Object(props) = value {
                    props.values_mut().for_each(|v| fix_schema(v, depth + 1));
                }
            }
            _ => {}
        }
    }
}

fn copy(from: &Value, to: &mut Value, keys: &[&str]) {
    for key in keys {
        if let (Some(v), Value::Object(map)) = (from.get(*key), &mut *to) {
            map.insert((*key).to_string(), v.clone());
        }
    }
}

/// `#/definitions/X` → `#/components/schemas/X`, and likewise for parameters and responses.
fn rewrite_refs(value: &mut Value) {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get_mut("$ref") {
                    for (from, to) in [
                        ("#/definitions/", "#/components/schemas/"),
                        ("#/parameters/", "#/components/parameters/"),
                        ("#/responses/", "#/components/responses/"),
                    ] {
                        if let Some(rest) = r.strip_prefix(from) {
                            *r = format!("{to}{rest}");
                            break;
                        }
                    }
                }
                stack.extend(map.values_mut());
            }
            Value::Array(list) => stack.extend(list.iter_mut()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert_ok(doc: Value) -> (Value, Vec<Warning>) {
        let mut w = Vec::new();
        (convert(&doc, &mut w, &mut 0).unwrap(), w)
    }

    #[test]
    fn servers_from_host_base_path_and_schemes() {
        let (out, _) = convert_ok(json!({
            "swagger": "2.0", "info": {}, "paths": {},
            "host": "api.example.com", "basePath": "/v2/", "schemes": ["http", "https", "ws"]
        }));
        assert_eq!(
            out["servers"],
            json!([{"url": "https://api.example.com/v2"}, {"url": "http://api.example.com/v2"}])
        );
        let (out, _) = convert_ok(json!({"swagger": "2.0", "info": {}, "paths": {}}));
        assert_eq!(out["servers"], json!([{"url": "/"}]));
    }

    #[test]
    fn body_form_and_query_parameters() {
        let (out, _) = convert_ok(json!({
            "swagger": "2.0", "info": {}, "consumes": ["application/json"],
            "definitions": {"Pet": {"type": "object", "x-nullable": true}},
            "paths": {"/pets/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": true, "type": "integer"}],
                "put": {
                    "parameters": [
                        {"name": "pet", "in": "body", "required": true, "schema": {"$ref": "#/definitions/Pet"}},
                        {"name": "tags", "in": "query", "type": "array", "items": {"type": "string"}, "collectionFormat": "multi"}
                    ],
                    "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Pet"}}}
                },
                "post": {
                    "consumes": ["multipart/form-data"],
                    "parameters": [
                        {"name": "name", "in": "formData", "type": "string", "required": true},
                        {"name": "file", "in": "formData", "type": "file"}
                    ],
                    "responses": {"default": {"description": "x"}}
                }
            }}
        }));
        let put = &out["paths"]["/pets/{id}"]["put"];
        assert_eq!(
            put["requestBody"],
            json!({"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}, "required": true, "x-body-name": "pet"})
        );
        assert_eq!(
            put["parameters"],
            json!([{"name": "tags", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}, "style": "form", "explode": true}])
        );
        assert_eq!(
            put["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Pet"
        );
        assert_eq!(
            out["paths"]["/pets/{id}"]["parameters"][0]["schema"],
            json!({"type": "integer"})
        );
        let post = &out["paths"]["/pets/{id}"]["post"]["requestBody"];
        assert_eq!(
            post,
            &json!({"required": true, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["name"],
                "properties": {"name": {"type": "string"}, "file": {"type": "string", "format": "binary"}}
            }}}})
        );
        assert_eq!(
            out["components"]["schemas"]["Pet"],
            json!({"type": "object", "nullable": true})
        );
    }

    #[test]
    fn security_definitions_become_schemes() {
        let (out, _) = convert_ok(json!({
            "swagger": "2.0", "info": {}, "paths": {},
            "securityDefinitions": {
                "basic": {"type": "basic"},
                "key": {"type": "apiKey", "in": "query", "name": "k"},
                "oauth": {"type": "oauth2", "flow": "accessCode", "authorizationUrl": "https://a", "tokenUrl": "https://t", "scopes": {"read": "r"}},
                "cc": {"type": "oauth2", "flow": "application", "tokenUrl": "https://t", "scopes": {}}
            }
        }));
        let s = &out["components"]["securitySchemes"];
        assert_eq!(s["basic"], json!({"type": "http", "scheme": "basic"}));
        assert_eq!(
            s["key"],
            json!({"type": "apiKey", "name": "k", "in": "query"})
        );
        assert_eq!(
            s["oauth"]["flows"]["authorizationCode"],
            json!({"scopes": {"read": "r"}, "authorizationUrl": "https://a", "tokenUrl": "https://t"})
        );
        assert_eq!(
            s["cc"]["flows"]["clientCredentials"]["tokenUrl"],
            "https://t"
        );
    }

    #[test]
    fn an_operation_with_a_dangling_parameter_ref_is_left_out_with_its_place() {
        let mut dropped = 0;
        let mut w = Vec::new();
        let out = convert(
            &json!({"swagger": "2.0", "info": {}, "paths": {
                "/a": {"get": {"parameters": [{"$ref": "#/parameters/nope"}]}, "put": {}},
                "/b": {"parameters": [{"$ref": "#/parameters/gone"}], "get": {}, "post": {}}
            }}),
            &mut w,
            &mut dropped,
        )
        .unwrap();
        assert_eq!(dropped, 3);
        assert_eq!(out["paths"], json!({"/a": {"put": {}}}));
        let shown: Vec<String> = w.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "/paths/~1a/get/parameters/0/$ref: `#/parameters/nope` points to nothing in this document; operation left out [operation-dropped]",
                "/paths/~1b/parameters/0/$ref: `#/parameters/gone` points to nothing in this document; the operations of this path left out [operation-dropped]",
            ]
        );
    }

    #[test]
    fn content_of_bundled_files_is_converted_where_it_is_used() {
        // What the bundler leaves: other files' content under /x-mcp-gen-external.
        let ext = "#/x-mcp-gen-external/common.yaml";
        let (out, _) = convert_ok(json!({
            "swagger": "2.0", "info": {},
            "parameters": {"shared": {"$ref": format!("{ext}/ids")}},
            "paths": {
                "/pets": {"$ref": format!("{ext}/petsPath")},
                "/pets/{id}": {"get": {
                    "parameters": [{"$ref": format!("{ext}/id")}, {"$ref": "#/parameters/shared"}],
                    "responses": {"404": {"$ref": format!("{ext}/NotFound")}}
                }}
            },
            "x-mcp-gen-external": {"common.yaml": {
                "ids": {"name": "ids", "in": "query", "type": "array", "items": {"type": "integer"}, "collectionFormat": "pipes"},
                "id": {"name": "id", "in": "path", "required": true, "type": "integer"},
                "NotFound": {"description": "gone", "schema": {"$ref": format!("{ext}/Pet")}},
                "petsPath": {"post": {
                    "parameters": [{"name": "pet", "in": "body", "schema": {"$ref": format!("{ext}/Pet")}}],
                    "responses": {"200": {"description": "ok"}}
                }},
                "Pet": {"type": "object", "discriminator": "kind", "x-nullable": true, "properties": {
                    "kind": {"type": "string"},
                    "photo": {"type": "file"},
                    "owner": {"$ref": format!("{ext}/Owner")}
                }},
                "Owner": {"type": "object", "properties": {"name": {"type": "string", "x-nullable": true}}}
            }}
        }));
        assert_eq!(
            out["components"]["parameters"]["shared"],
            json!({"name": "ids", "in": "query", "schema": {"type": "array", "items": {"type": "integer"}},
                   "style": "pipeDelimited", "explode": false})
        );
        let get = &out["paths"]["/pets/{id}"]["get"];
        assert_eq!(
            get["parameters"][0],
            json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}})
        );
        assert_eq!(
            get["parameters"][1],
            json!({"$ref": "#/components/parameters/shared"})
        );
        assert_eq!(
            get["responses"]["404"]["content"]["application/json"]["schema"],
            json!({"$ref": format!("{ext}/Pet")})
        );
        let post = &out["paths"]["/pets"]["post"];
        assert_eq!(
            post["requestBody"]["content"]["application/json"]["schema"],
            json!({"$ref": format!("{ext}/Pet")})
        );
        // Schemas reached through those references, and the ones they reference, are 3.0 now.
        let bundled = &out["x-mcp-gen-external"]["common.yaml"];
        assert_eq!(bundled["Pet"]["nullable"], true);
        assert_eq!(
            bundled["Pet"]["discriminator"],
            json!({"propertyName": "kind"})
        );
        assert_eq!(
            bundled["Pet"]["properties"]["photo"],
            json!({"type": "string", "format": "binary"})
        );
        assert_eq!(bundled["Owner"]["properties"]["name"]["nullable"], true);
    }
}
