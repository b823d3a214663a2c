//! An upstream reply → the MCP tool result. Errors carry the status and a bounded excerpt.
//!
//! A tool that declares an `outputSchema` answers a success only with `structuredContent`
//! that conforms to it: the official SDK clients reject anything else. Its JSON replies become
//! `structuredContent` (wrapped as `{"result": …}` when they are not objects) and an empty one
//! `{}`. A reply that still does not conform (a type the spec did not promise, text where it
//! promised JSON) comes back as an error result that explains the mismatch and carries the
//! reply unchanged, so the data still reaches the model; the mismatch is logged as a warning.
//!
//! Without an `outputSchema`, JSON objects are `structuredContent` as well, other JSON is
//! text, images are image content, and other binaries are described, not dumped.
//!
//! A redirect the server did not follow (another origin, too many hops) is reported with its
//! target. When the operation documents 3xx responses it is the answer, a success (an error
//! result only for a tool with an `outputSchema`, which no redirect fits); otherwise an error.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::StatusCode;
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{Map, Value};

use crate::reply::Reply;
use crate::validate::{self, Limits, OutputCheck};

/// Longest body excerpt quoted in an error result, in characters.
const EXCERPT_CHARS: usize = 2000;
/// The property a wrapped reply travels in (the generator's `WRAP_PROPERTY`).
const WRAP_PROPERTY: &str = "result";
/// Most JSON values a reply is read into. A value costs the parsed tree about 80 bytes
/// however short its text, so a 4 MB reply of `0,0,0,…` would take 160 MB; past this many
/// a reply travels as text, unparsed (a model could not read more anyway).
pub const MAX_REPLY_VALUES: usize = 500_000;

/// The result of one call. `redirects`: the operation documents 3xx responses.
pub fn tool_result(
    tool: &str,
    reply: &Reply,
    output: Option<&OutputCheck>,
    redirects: bool,
) -> CallToolResult {
    let status = reply.status;
    if status.is_redirection() {
        return redirect(reply, redirects && output.is_none(), redirects);
    }
    if !status.is_success() {
        let mut detail = excerpt(&reply.body);
        if detail.trim().is_empty() {
            detail = match &reply.violations {
                Some(v) => cut(v),
                None => "(empty body)".to_owned(),
            };
        }
        return error(format!("The upstream API answered HTTP {status}: {detail}"));
    }
    match output {
        Some(check) => declared(tool, reply, check),
        None => undeclared(reply),
    }
}

/// A 3xx reply: where it points, and whether the operation said it could answer so.
fn redirect(reply: &Reply, success: bool, documented: bool) -> CallToolResult {
    let status = reply.status;
    let mut text = if status == StatusCode::NOT_MODIFIED {
        format!(
            "The upstream API answered HTTP {status}: nothing changed since the version the request named."
        )
    } else {
        let what = if documented {
            "a redirect this operation documents"
        } else {
            "a redirect this operation does not document"
        };
        let target = match &reply.location {
            Some(location) => format!("Location: {}", cut(location)),
            None => "no Location shown".to_owned(),
        };
        format!(
            "The upstream API answered HTTP {status}, {what}. It was not followed (the server \
             follows redirects only within the upstream's own origin). {target}"
        )
    };
    let body = excerpt(&reply.body);
    if !body.trim().is_empty() {
        text.push_str(&format!("\n\n{body}"));
    }
    if success {
        CallToolResult::success(vec![ContentBlock::text(text)])
    } else {
        error(text)
    }
}

/// A success of a tool with an `outputSchema`: conforming `structuredContent`, or an error
/// result that says why not and still carries the reply.
fn declared(tool: &str, reply: &Reply, check: &OutputCheck) -> CallToolResult {
    let status = reply.status;
    let media = media_type(reply);
    let value = if reply.body.is_empty() {
        Value::Object(Map::new())
    } else {
        match parse_json(reply) {
            Parsed::Json(value) if check.wrapped => {
                Value::Object(Map::from_iter([(WRAP_PROPERTY.to_owned(), value)]))
            }
            Parsed::Json(value) => value,
            Parsed::TooManyValues => {
                tracing::warn!(
                    tool,
                    status = status.as_u16(),
                    max_values = MAX_REPLY_VALUES,
                    "upstream reply has too many JSON values to check against the outputSchema; answered as an error result carrying the reply"
                );
                return carried(
                    status,
                    &format!(
                        "it holds more than {MAX_REPLY_VALUES} JSON values, more than the server reads to check against the tool's output schema"
                    ),
                    raw_content(reply, &media),
                );
            }
            Parsed::NotJson => {
                tracing::warn!(tool, status = status.as_u16(), content_type = ?media, "upstream reply is not the JSON the outputSchema describes; answered as an error result carrying the reply");
                let shown = if media.is_empty() { "none" } else { &media };
                return carried(
                    status,
                    &format!("the reply is not JSON (Content-Type: {shown})"),
                    raw_content(reply, &media),
                );
            }
        }
    };
    match validate::check_reply(&check.validator, &value) {
        Ok(()) => {
            let text = if reply.body.is_empty() {
                no_content(status)
            } else {
                value.to_string()
            };
            let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
            result.structured_content = Some(value);
            result
        }
        Err(mismatch) => {
            // The schema's keywords, not the reply's paths: keys of a reply can be data.
            tracing::warn!(tool, status = status.as_u16(), schema_keywords = ?mismatch.keywords, "upstream reply does not match the outputSchema; answered as an error result carrying the reply");
            let original = match value {
                Value::Object(mut map) if check.wrapped => {
                    map.remove(WRAP_PROPERTY).unwrap_or_default()
                }
                other => other,
            };
            let text = if reply.body.is_empty() {
                "(no content)".to_owned()
            } else {
                original.to_string()
            };
            carried(
                status,
                &format!(
                    "it does not match the tool's output schema ({})",
                    mismatch.message
                ),
                vec![ContentBlock::text(text)],
            )
        }
    }
}

/// The error result for a success the outputSchema cannot carry: why, then the reply.
fn carried(status: StatusCode, why: &str, reply: Vec<ContentBlock>) -> CallToolResult {
    let mut content = vec![ContentBlock::text(format!(
        "The upstream API answered HTTP {status} and the request was carried out, but {why}. \
         The reply follows unchanged."
    ))];
    content.extend(reply);
    CallToolResult::error(content)
}

/// A success of a tool without an `outputSchema`.
fn undeclared(reply: &Reply) -> CallToolResult {
    let status = reply.status;
    if reply.body.is_empty() {
        return CallToolResult::success(vec![ContentBlock::text(no_content(status))]);
    }
    let media = media_type(reply);
    if media.starts_with("image/") {
        return CallToolResult::success(raw_content(reply, &media));
    }
    match parse_json(reply) {
        Parsed::Json(value @ Value::Object(_)) => {
            let mut result = CallToolResult::success(vec![ContentBlock::text(value.to_string())]);
            result.structured_content = Some(value);
            result
        }
        Parsed::Json(value) => CallToolResult::success(vec![ContentBlock::text(value.to_string())]),
        Parsed::TooManyValues | Parsed::NotJson => {
            CallToolResult::success(raw_content(reply, &media))
        }
    }
}

fn no_content(status: StatusCode) -> String {
    format!("Done: the upstream API answered HTTP {status} with no content.")
}

/// A reply that is not JSON as content: an image, text, or a description of binary bytes.
fn raw_content(reply: &Reply, media: &str) -> Vec<ContentBlock> {
    if media.starts_with("image/") {
        return vec![ContentBlock::image(
            STANDARD.encode(&reply.body),
            media.to_owned(),
        )];
    }
    vec![ContentBlock::text(body_text(reply, media))]
}

pub fn error(message: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message.into())])
}

/// The reply's media type, lower case without parameters (empty when not given).
fn media_type(reply: &Reply) -> String {
    reply
        .content_type
        .as_deref()
        .and_then(|t| t.split(';').next())
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

enum Parsed {
    Json(Value),
    NotJson,
    /// JSON (or not) with more than [`MAX_REPLY_VALUES`] values, left unparsed.
    TooManyValues,
}

fn parse_json(reply: &Reply) -> Parsed {
    let declared = reply
        .content_type
        .as_deref()
        .is_some_and(|t| t.to_ascii_lowercase().contains("json"));
    if !declared && reply.content_type.is_some() {
        return Parsed::NotJson;
    }
    if too_many_values(&reply.body) {
        return Parsed::TooManyValues;
    }
    match serde_json::from_slice(&reply.body) {
        Ok(value) => Parsed::Json(value),
        Err(_) => Parsed::NotJson,
    }
}

/// Whether JSON text holds more than [`MAX_REPLY_VALUES`] values, counted without building
/// them. Every value but the first takes at least two bytes (itself and a separator), so
/// shorter text is not walked at all.
fn too_many_values(body: &[u8]) -> bool {
    if body.len() <= 2 * MAX_REPLY_VALUES {
        return false;
    }
    let values = Limits {
        depth: usize::MAX,
        items: usize::MAX,
        members: usize::MAX,
        string_bytes: usize::MAX,
        values: MAX_REPLY_VALUES,
    };
    values.check_json(body).is_err()
}

/// Text as text; anything that is not text (by type, or not UTF-8) is described.
fn body_text(reply: &Reply, media: &str) -> String {
    let binary_type = media.starts_with("audio/")
        || media.starts_with("video/")
        || media.starts_with("font/")
        || matches!(
            media,
            "application/octet-stream" | "application/pdf" | "application/zip" | "application/gzip"
        );
    match std::str::from_utf8(&reply.body) {
        Ok(text) if !binary_type && !text.contains('\0') => text.to_owned(),
        _ => format!(
            "The upstream API answered HTTP {} with {} bytes of {} (binary content not shown).",
            reply.status,
            reply.body.len(),
            if media.is_empty() {
                "unknown type"
            } else {
                media
            }
        ),
    }
}

fn excerpt(body: &[u8]) -> String {
    cut(&String::from_utf8_lossy(body))
}

fn cut(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    if chars.next().is_some() {
        format!("{head}… (truncated)")
    } else {
        head
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Bytes;
    use reqwest::StatusCode;
    use serde_json::json;

    fn reply(status: u16, ct: Option<&str>, body: &str) -> Reply {
        Reply {
            status: StatusCode::from_u16(status).unwrap(),
            content_type: ct.map(str::to_owned),
            body: Bytes::from(body.to_owned()),
            violations: None,
            location: None,
        }
    }

    fn text(r: &CallToolResult) -> String {
        r.content[0]
            .as_text()
            .map(|t| t.text.clone())
            .unwrap_or_default()
    }

    #[test]
    fn errors_carry_status_and_excerpt() {
        let r = tool_result(
            "t",
            &reply(
                404,
                Some("application/json"),
                r#"{"message":"Pet not found"}"#,
            ),
            None,
            false,
        );
        assert_eq!(r.is_error, Some(true));
        assert!(text(&r).contains("404 Not Found"));
        assert!(text(&r).contains("Pet not found"));

        let mut prism = reply(401, None, "");
        prism.violations = Some("[{\"message\":\"Invalid security scheme used\"}]".into());
        assert!(text(&tool_result("t", &prism, None, false)).contains("Invalid security scheme"));

        let long = "x".repeat(EXCERPT_CHARS * 2);
        assert!(
            text(&tool_result("t", &reply(500, None, &long), None, false)).ends_with("(truncated)")
        );
    }

    #[test]
    fn redirects_are_reported_with_their_target() {
        let mut moved = reply(302, None, "");
        moved.location = Some("https://downloads.example.com/a.tar.gz".into());
        // Documented, no outputSchema: the answer.
        let r = tool_result("t", &moved, None, true);
        assert_eq!(r.is_error, Some(false));
        assert!(text(&r).contains("HTTP 302 Found, a redirect this operation documents"));
        assert!(text(&r).ends_with("Location: https://downloads.example.com/a.tar.gz"));
        // Documented, but no redirect fits an outputSchema: an error result saying so.
        let schema = check(json!({"type": "object"}), false);
        let r = tool_result("t", &moved, Some(&schema), true);
        assert_eq!(r.is_error, Some(true));
        assert!(text(&r).contains("a redirect this operation documents"));
        // Not documented: an error, still with the target; never "upstream error" wording.
        let r = tool_result("t", &moved, None, false);
        assert_eq!(r.is_error, Some(true));
        assert!(text(&r).contains("does not document"));
        assert!(text(&r).contains("Location: https://downloads.example.com"));
        let r = tool_result("t", &reply(304, None, ""), None, true);
        assert_eq!(r.is_error, Some(false));
        assert!(
            text(&r).ends_with(
                "304 Not Modified: nothing changed since the version the request named."
            )
        );
    }

    fn check(schema: Value, wrapped: bool) -> OutputCheck {
        OutputCheck {
            validator: jsonschema::validator_for(&schema).unwrap(),
            wrapped,
        }
    }

    #[test]
    fn declared_output_is_structured_or_an_error_that_carries_the_reply() {
        let schema = check(
            json!({"type": "object", "properties": {"id": {"type": ["integer", "null"]}}}),
            false,
        );
        let ok = tool_result(
            "t",
            &reply(200, Some("application/json"), r#"{"id":1,"extra":true}"#),
            Some(&schema),
            false,
        );
        assert_eq!(ok.structured_content, Some(json!({"id": 1, "extra": true})));
        assert_eq!(ok.is_error, Some(false));

        // Never a success without conforming structuredContent (the SDK clients reject it).
        let bad = tool_result(
            "t",
            &reply(200, Some("application/json"), r#"{"id":"x"}"#),
            Some(&schema),
            false,
        );
        assert_eq!(bad.is_error, Some(true));
        assert!(bad.structured_content.is_none());
        assert!(text(&bad).contains("/id"), "{}", text(&bad));
        assert_eq!(bad.content[1].as_text().unwrap().text, r#"{"id":"x"}"#);

        let html = tool_result(
            "t",
            &reply(200, Some("text/html"), "<p>maintenance</p>"),
            Some(&schema),
            false,
        );
        assert_eq!(html.is_error, Some(true));
        assert!(text(&html).contains("not JSON (Content-Type: text/html)"));
        assert_eq!(
            html.content[1].as_text().unwrap().text,
            "<p>maintenance</p>"
        );

        let empty = tool_result("t", &reply(200, None, ""), Some(&schema), false);
        assert_eq!(empty.is_error, Some(false));
        assert_eq!(empty.structured_content, Some(json!({})));

        let free = tool_result("t", &reply(200, None, r#"{"a":[1]}"#), None, false);
        assert_eq!(free.structured_content, Some(json!({"a": [1]})));
    }

    #[test]
    fn wrapped_replies_travel_as_result() {
        let list = check(
            json!({"type": "object", "properties": {"result": {"type": ["array", "null"]}}}),
            true,
        );
        let r = tool_result(
            "t",
            &reply(200, Some("application/json"), "[1,2]"),
            Some(&list),
            false,
        );
        assert_eq!(r.structured_content, Some(json!({"result": [1, 2]})));
        assert_eq!(text(&r), r#"{"result":[1,2]}"#);
        let object = tool_result(
            "t",
            &reply(200, Some("application/json"), r#"{"a":1}"#),
            Some(&list),
            false,
        );
        assert_eq!(object.is_error, Some(true));
    }

    #[test]
    fn images_and_binaries() {
        let png = tool_result(
            "t",
            &reply(200, Some("image/png"), "\u{89}PNG"),
            None,
            false,
        );
        let image = png.content[0].as_image().unwrap();
        assert_eq!(image.mime_type, "image/png");
        assert_eq!(image.data, STANDARD.encode("\u{89}PNG"));
        let pdf = tool_result(
            "t",
            &reply(200, Some("application/pdf"), "%PDF-1.4"),
            None,
            false,
        );
        assert!(
            text(&pdf).contains("8 bytes of application/pdf"),
            "{}",
            text(&pdf)
        );
        let xml = tool_result(
            "t",
            &reply(200, Some("application/xml"), "<a/>"),
            None,
            false,
        );
        assert_eq!(text(&xml), "<a/>");
    }

    #[test]
    fn a_reply_of_too_many_values_travels_unparsed() {
        let many = format!("[{}0]", "0,".repeat(MAX_REPLY_VALUES));
        let schema = check(json!({"type": "object"}), true);
        let r = tool_result(
            "t",
            &reply(200, Some("application/json"), &many),
            Some(&schema),
            false,
        );
        assert_eq!(r.is_error, Some(true));
        assert!(
            text(&r).contains(&format!("more than {MAX_REPLY_VALUES} JSON values")),
            "{}",
            text(&r)
        );
        assert_eq!(r.content[1].as_text().unwrap().text, many);
        let r = tool_result("t", &reply(200, None, &many), None, false);
        assert_eq!((r.is_error, text(&r)), (Some(false), many));

        // At the limit (the array and its items), and long enough to be counted: parsed
        // and checked as usual.
        let most = format!("[{}0]{}", "0,".repeat(MAX_REPLY_VALUES - 2), " ".repeat(8));
        assert!(most.len() > 2 * MAX_REPLY_VALUES);
        let r = tool_result(
            "t",
            &reply(200, Some("application/json"), &most),
            Some(&schema),
            false,
        );
        assert_eq!(r.is_error, Some(false));
        assert_eq!(
            r.structured_content.unwrap()["result"]
                .as_array()
                .map(Vec::len),
            Some(MAX_REPLY_VALUES - 1)
        );
    }

    #[test]
    fn plain_text_and_arrays_pass_through() {
        let r = tool_result(
            "t",
            &reply(200, Some("application/json"), "[1,2]"),
            None,
            false,
        );
        assert_eq!(text(&r), "[1,2]");
        assert!(r.structured_content.is_none());
        let r = tool_result("t", &reply(204, None, ""), None, false);
        assert!(text(&r).contains("204 No Content"), "{}", text(&r));
        assert_eq!(r.is_error, Some(false));
    }
}
