//! An upstream reply → the MCP tool result: errors carry the status and a bounded excerpt;
//! a JSON object becomes structuredContent only when it matches the tool's outputSchema.

use jsonschema::Validator;
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::Value;

use crate::upstream::Reply;
use crate::validate;

/// Longest body excerpt quoted in an error result, in characters.
const EXCERPT_CHARS: usize = 2000;

pub fn tool_result(reply: &Reply, output: Option<&Validator>) -> CallToolResult {
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
    let json = parse_json(reply);
    match (output, json) {
        (Some(schema), Some(value)) if value.is_object() => match validate::check(schema, &value) {
            Ok(()) => {
                let mut result =
                    CallToolResult::success(vec![ContentBlock::text(value.to_string())]);
                result.structured_content = Some(value);
                result
            }
            Err(why) => mismatch(status, &why, &reply.body),
        },
        (Some(_), _) => mismatch(status, "the response is not a JSON object", &reply.body),
        (None, _) if reply.body.is_empty() => CallToolResult::success(vec![ContentBlock::text(
            format!("HTTP {status} (no content)"),
        )]),
        (None, _) => CallToolResult::success(vec![ContentBlock::text(body_text(reply))]),
    }
}

pub fn error(message: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message.into())])
}

/// The call went through, but its reply cannot be given as the promised structured result.
fn mismatch(status: reqwest::StatusCode, why: &str, body: &[u8]) -> CallToolResult {
    error(format!(
        "The upstream request succeeded (HTTP {status}), but its response does not match the tool's output schema ({why}). Response: {}",
        excerpt(body)
    ))
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

fn body_text(reply: &Reply) -> String {
    match std::str::from_utf8(&reply.body) {
        Ok(text) => text.to_owned(),
        Err(_) => format!(
            "HTTP {}: {} bytes of {} (binary content not shown)",
            reply.status,
            reply.body.len(),
            reply.content_type.as_deref().unwrap_or("unknown type")
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
        assert!(text(&tool_result(&prism, None)).contains("Invalid security scheme"));

        let long = "x".repeat(EXCERPT_CHARS * 2);
        assert!(text(&tool_result(&reply(500, None, &long), None)).ends_with("(truncated)"));
    }

    #[test]
    fn structured_only_when_schema_matches() {
        let schema = jsonschema::validator_for(&json!({
            "type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]
        }))
        .unwrap();
        let ok = tool_result(
            &reply(200, Some("application/json"), r#"{"id":1}"#),
            Some(&schema),
        );
        assert_eq!(ok.structured_content, Some(json!({"id": 1})));
        assert_eq!(ok.is_error, Some(false));

        let bad = tool_result(
            &reply(200, Some("application/json"), r#"{"id":"x"}"#),
            Some(&schema),
        );
        assert_eq!(bad.is_error, Some(true));
        assert!(bad.structured_content.is_none());
    }

    #[test]
    fn plain_text_and_arrays_pass_through() {
        let r = tool_result(&reply(200, Some("application/json"), "[1,2]"), None);
        assert_eq!(text(&r), "[1,2]");
        assert!(r.structured_content.is_none());
        let r = tool_result(&reply(204, None, ""), None);
        assert!(text(&r).contains("no content"));
    }
}
