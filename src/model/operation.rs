//! One operation to one tool: name, description, input and output schemas, HTTP binding.
//! The parts live beside it: `parameters` (parameters and required headers), `request_body`
//! (the body), `responses` (the output schema), `site` (what they share).

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::parameters::{arguments, is_header_value, parameters, RawParam};
use super::request_body::body;
use super::responses::{output, Outputs};
use super::schema::Converter;
use super::security::Schemes;
pub use super::site::Site;
use super::site::{operation_label, text};
use super::{naming, Annotations, HttpBinding, Location, Options, SchemaJson, Tool};
use crate::error::{Error, Result};
use crate::warning::{Class, Warning};

/// What the operations of one document share as they are mapped: expansions of its types,
/// and the outputs already made.
pub struct Shared<'a> {
    pub converter: Converter<'a>,
    pub outputs: Outputs,
}

impl<'a> Shared<'a> {
    pub fn new(root: &'a Value, version: crate::normalize::Version) -> Self {
        Shared {
            converter: Converter::new(root, version),
            outputs: Outputs::default(),
        }
    }
}

/// Descriptions longer than this are cut: clients put them in a model's context.
const MAX_DESCRIPTION: usize = 1024;

/// The operation's tool. A defect in one argument's or the output's schema degrades that
/// part (with a warning); any other defect is an error the caller turns into leaving the
/// operation out, so nothing of a broken operation (its name included) is kept.
pub fn build(
    site: &Site,
    schemes: &Schemes,
    options: &Options,
    shared: &mut Shared,
    warnings: &mut Vec<Warning>,
) -> Result<Tool> {
    let converter = &mut shared.converter;
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

    let (raw, mut headers) = parameters(site, converter, warnings)?;
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
    let body = body(site, converter, &mut properties, &mut required, warnings)?;

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
    let mut input = Value::Object(input);
    super::conform(&mut input, &options.profiles, site, warnings);

    let output = match output(site, converter, &mut shared.outputs, options.output_schemas) {
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
        // Claimed in document order by the caller, once the operation is known to be kept.
        name: wanted,
        title: text(site.op, "summary").map(|s| single_line(&s)),
        description: description(site, &method),
        input_schema: SchemaJson::new(&input),
        output,
        annotations: Annotations::for_method(&method),
        group: group(site),
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

/// The toolset an operation belongs to: its first tag, else its path's first segment
/// (`/pets/{id}` → `pets`), else `default`. Written so `TOOLSETS` can name it: letters,
/// digits, `_`, `.` and `-` only (other runs become one `-`), and never `all`.
fn group(site: &Site) -> String {
    let tag = site
        .op
        .get("tags")
        .and_then(Value::as_array)
        .and_then(|tags| tags.iter().find_map(Value::as_str))
        .and_then(group_name);
    tag.or_else(|| {
        site.path
            .split('/')
            .find(|s| !s.is_empty() && !s.starts_with('{'))
            .and_then(group_name)
    })
    .unwrap_or_else(|| "default".to_owned())
}

fn group_name(raw: &str) -> Option<String> {
    let mut out = String::new();
    for c in raw.chars() {
        if c.is_alphanumeric() || matches!(c, '_' | '.' | '-') {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    (!out.is_empty() && !out.eq_ignore_ascii_case("all")).then(|| out.to_owned())
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

/// Whether the operation lists a 3xx response (`301`, `3XX`, …).
fn documents_redirects(op: &Value) -> bool {
    op.get("responses")
        .and_then(Value::as_object)
        .is_some_and(|r| r.keys().any(|code| code.starts_with('3')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_can_be_written_in_toolsets() {
        assert_eq!(group_name("pet").as_deref(), Some("pet"));
        assert_eq!(
            group_name("Users, Groups #2").as_deref(),
            Some("Users-Groups-2")
        );
        assert_eq!(group_name("  Ökonomie ").as_deref(), Some("Ökonomie"));
        assert_eq!(group_name("All"), None);
        assert_eq!(group_name(" , "), None);
    }
    use crate::model::Options;
    use crate::model::{Body, BodyShape, FieldEncoding, Style};
    use crate::normalize::Version;
    use crate::pointer::Pointer;
    use serde_json::json;

    fn tool(root: Value, path: &str, method: &str) -> (Tool, Vec<Warning>) {
        let op = &root["paths"][path][method];
        let item = &root["paths"][path];
        let at = Pointer::root().push("paths").push(path).push(method);
        let site = Site {
            root: &root,
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
            &mut Shared::new(&root, Version::V3_0),
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
            t.input_schema.to_value(),
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
            t.output.map(|o| (o.schema.to_value(), o.wrapped)),
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
            output.schema.to_value()["properties"]["result"]["anyOf"]
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
        let input = t.input_schema.to_value();
        let keys: Vec<&String> = input["properties"].as_object().unwrap().keys().collect();
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
        assert_eq!(t.input_schema.to_value()["properties"], json!({}));
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
        assert_eq!(
            t.input_schema.to_value()["properties"]["body"]["type"],
            "string"
        );
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
        let input = t.input_schema.to_value();
        let props = &input["properties"];
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
        assert!(t.input_schema.to_value()["properties"]
            .get("X-Other")
            .is_some());
        // Required without a value: the body's media type.
        let (t, _) = tool(root, "/upload", "put");
        assert_eq!(
            t.http.required_headers,
            [("Content-Type".to_string(), "text/csv".to_string())]
        );
    }
}
