//! An upstream reply → the MCP tool result. Errors carry the status and a bounded excerpt;
//! a JSON object becomes structuredContent (when an outputSchema is declared, only if it
//! matches: a mismatch is logged and the data still comes back, as text); arrays and
//! scalars are text; images are image content; other binaries are described, not dumped.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsonschema::Validator;
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::Value;

use crate::upstream::Reply;
use crate::validate;

/// Longest body excerpt quoted in an error result, in characters.
const EXCERPT_CHARS: usize = 2000;

pub fn tool_result(tool: &str, reply: &Reply, output: Option<&Validator>) -> CallToolResult {
    let status = reply.status;
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
    if reply.body.is_empty() {
        return CallToolResult::success(vec![ContentBlock::text(format!(
            "Done: the upstream API answered HTTP {status} with no content."
        ))]);
    }
    let media = media_type(reply);
    if media.starts_with("image/") {
        return CallToolResult::success(vec![ContentBlock::image(
            STANDARD.encode(&reply.body),
            media,
        )]);
    }
    match parse_json(reply) {
        Some(value @ Value::Object(_)) => {
            if let Some(schema) = output
                && let Err(why) = validate::check(schema, &value)
            {
                // structuredContent never contradicts the declared outputSchema (design §3).
                tracing::warn!(tool, %why, "upstream response does not match the outputSchema; sent as text only");
                return CallToolResult::success(vec![ContentBlock::text(value.to_string())]);
            }
            let mut result = CallToolResult::success(vec![ContentBlock::text(value.to_string())]);
            result.structured_content = Some(value);
            result
        }
        Some(value) => CallToolResult::success(vec![ContentBlock::text(value.to_string())]),
        None => CallToolResult::success(vec![ContentBlock::text(body_text(reply, &media))]),
    }
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

fn parse_json(reply: &Reply) -> Option<Value> {
    let declared = reply
        .content_type
        .as_deref()
        .is_some_and(|t| t.to_ascii_lowercase().contains("json"));
    if declared || reply.content_type.is_none() {
        serde_json::from_slice(&reply.body).ok()
    } else {
        None
    }
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
        );
        assert_eq!(r.is_error, Some(true));
        assert!(text(&r).contains("404 Not Found"));
        assert!(text(&r).contains("Pet not found"));

        let mut prism = reply(401, None, "");
        prism.violations = Some("[{\"message\":\"Invalid security scheme used\"}]".into());
        assert!(text(&tool_result("t", &prism, None)).contains("Invalid security scheme"));

        let long = "x".repeat(EXCERPT_CHARS * 2);
        assert!(text(&tool_result("t", &reply(500, None, &long), None)).ends_with("(truncated)"));
    }

    #[test]
    fn structured_only_when_schema_matches() {
        let schema = jsonschema::validator_for(&json!({
            "type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]
        }))
        .unwrap();
        let ok = tool_result(
            "t",
            &reply(200, Some("application/json"), r#"{"id":1}"#),
            Some(&schema),
        );
        assert_eq!(ok.structured_content, Some(json!({"id": 1})));
        assert_eq!(ok.is_error, Some(false));

        // A mismatch still answers, with the data as text and no contradicting structure.
        let bad = tool_result(
            "t",
            &reply(200, Some("application/json"), r#"{"id":"x"}"#),
            Some(&schema),
        );
        assert_eq!(bad.is_error, Some(false));
        assert!(bad.structured_content.is_none());
        assert_eq!(text(&bad), r#"{"id":"x"}"#);

        let free = tool_result("t", &reply(200, None, r#"{"a":[1]}"#), None);
        assert_eq!(free.structured_content, Some(json!({"a": [1]})));
    }

    #[test]
    fn images_and_binaries() {
        let png = tool_result("t", &reply(200, Some("image/png"), "\u{89}PNG"), None);
        let image = png.content[0].as_image().unwrap();
        assert_eq!(image.mime_type, "image/png");
        assert_eq!(image.data, STANDARD.encode("\u{89}PNG"));
        let pdf = tool_result("t", &reply(200, Some("application/pdf"), "%PDF-1.4"), None);
        assert!(
            text(&pdf).contains("8 bytes of application/pdf"),
            "{}",
            text(&pdf)
        );
        let xml = tool_result("t", &reply(200, Some("application/xml"), "<a/>"), None);
        assert_eq!(text(&xml), "<a/>");
    }

    #[test]
    fn plain_text_and_arrays_pass_through() {
        let r = tool_result("t", &reply(200, Some("application/json"), "[1,2]"), None);
        assert_eq!(text(&r), "[1,2]");
        assert!(r.structured_content.is_none());
        let r = tool_result("t", &reply(204, None, ""), None);
        assert!(text(&r).contains("204 No Content"), "{}", text(&r));
        assert_eq!(r.is_error, Some(false));
    }
}
