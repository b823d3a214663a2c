//! Bytes in a JSON tool call. A tool's arguments are JSON, so a request body of bytes (an
//! image, a PDF, `application/octet-stream`) and a multipart file field take base64 text,
//! marked `contentEncoding: base64` in the input schema; the server decodes it and sends the
//! bytes, multipart files as file parts with a filename and a content type.

use serde_json::{Map, Value};

use super::BinaryField;

/// What a file part is sent as when the spec's `encoding` names no (usable) content type.
const DEFAULT_FILE_TYPE: &str = "application/octet-stream";

/// Media types whose payload is text: sent as the string the tool was given.
fn is_textual(media: &str) -> bool {
    let essence = media.split(';').next().unwrap_or("").trim();
    let essence = essence.to_ascii_lowercase();
    let (kind, subtype) = essence.split_once('/').unwrap_or((essence.as_str(), ""));
    kind == "text"
        || subtype.ends_with("+xml")
        || subtype.ends_with("+yaml")
        || [
            "xml",
            "yaml",
            "x-yaml",
            "javascript",
            "graphql",
            "sql",
            "x-ndjson",
            "csv",
        ]
        .contains(&subtype)
}

/// The argument schema of a raw (neither JSON nor form) body, and whether it is bytes.
pub fn raw_body(media: &str, schema: &Value) -> (Value, bool) {
    // `format: byte` is base64 the upstream itself expects: text, sent as given.
    let byte = schema.get("format").and_then(Value::as_str) == Some("byte");
    if is_textual(media) || byte {
        let description = format!("Request body ({media})");
        return (
            serde_json::json!({"type": "string", "description": description}),
            false,
        );
    }
    let description = format!("Request body ({media}), base64-encoded");
    let schema = serde_json::json!({
        "type": "string",
        "contentEncoding": "base64",
        "contentMediaType": media,
        "description": description,
    });
    (schema, true)
}

/// The file fields of a multipart body schema: each is marked base64 in place (an array of
/// files, each item), and listed with the content type its part is sent with.
pub fn file_fields(schema: &mut Value, media_obj: &Value) -> Vec<BinaryField> {
    let Some(Value::Object(properties)) = schema.get_mut("properties") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, field) in properties.iter_mut() {
        let target = match field {
            Value::Object(f) if f.get("type").and_then(Value::as_str) == Some("array") => {
                f.get_mut("items")
            }
            other => Some(other),
        };
        let Some(Value::Object(file)) = target else {
            continue;
        };
        if !is_file(file) {
            continue;
        }
        file.insert("contentEncoding".into(), "base64".into());
        let declared = media_obj
            .get("encoding")
            .and_then(|e| e.get(name))
            .and_then(|e| e.get("contentType"))
            .and_then(Value::as_str);
        out.push(BinaryField {
            field: name.clone(),
            content_type: content_type(declared),
        });
    }
    out
}

/// A file in OpenAPI terms: `format: binary` (3.0, and 2.0's `type: file` converted), or a
/// `contentMediaType` without `contentEncoding` (3.1: raw bytes of that type).
fn is_file(schema: &Map<String, Value>) -> bool {
    schema.get("format").and_then(Value::as_str) == Some("binary")
        || (schema.contains_key("contentMediaType") && !schema.contains_key("contentEncoding"))
}

/// The first media type of an `encoding.contentType` list, when it is a well-formed
/// `type/subtype` (it ends up in a request header); the default otherwise.
fn content_type(declared: Option<&str>) -> String {
    let first = declared
        .and_then(|d| d.split(',').next())
        .map(str::trim)
        .unwrap_or("");
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    match first.split_once('/') {
        Some((kind, subtype)) if token(kind) && token(subtype) => first.to_ascii_lowercase(),
        _ => DEFAULT_FILE_TYPE.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn raw_bodies_are_bytes_unless_their_media_type_is_text() {
        let (schema, bytes) = raw_body("image/png", &json!({"type": "string", "format": "binary"}));
        assert!(bytes);
        assert_eq!(schema["contentEncoding"], "base64");
        assert_eq!(schema["contentMediaType"], "image/png");
        assert!(raw_body("application/octet-stream", &json!({})).1);
        for text in [
            "text/plain; charset=utf-8",
            "application/xml",
            "application/atom+xml",
            "application/x-yaml",
        ] {
            let (schema, bytes) = raw_body(text, &json!({"type": "string"}));
            assert!(!bytes, "{text}");
            assert!(schema.get("contentEncoding").is_none());
        }
        assert!(!raw_body("application/octet-stream", &json!({"format": "byte"})).1);
    }

    #[test]
    fn multipart_files_are_found_marked_and_typed() {
        let mut schema = json!({"type": "object", "properties": {
            "id": {"type": "integer"},
            "photo": {"type": "string", "format": "binary"},
            "pages": {"type": "array", "items": {"type": "string", "contentMediaType": "application/pdf"}},
            "token": {"type": "string", "contentMediaType": "text/plain", "contentEncoding": "base64"}
        }});
        let media = json!({"encoding": {
            "photo": {"contentType": "image/png, image/jpeg"},
            "pages": {"contentType": "bad\r\nX-Injected: 1"}
        }});
        let files = file_fields(&mut schema, &media);
        assert_eq!(
            files,
            [
                BinaryField {
                    field: "photo".into(),
                    content_type: "image/png".into()
                },
                BinaryField {
                    field: "pages".into(),
                    content_type: DEFAULT_FILE_TYPE.into()
                },
            ]
        );
        assert_eq!(schema["properties"]["photo"]["contentEncoding"], "base64");
        assert_eq!(
            schema["properties"]["pages"]["items"]["contentEncoding"],
            "base64"
        );
        assert!(schema["properties"]["id"].get("contentEncoding").is_none());
    }
}
