//! Tool arguments → the upstream request body, in the operation's media type.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};

use crate::catalog::{BinaryField, Body, BodyShape, Style};
use crate::upstream::encode::form_pairs;

/// Base64 as models write it: standard alphabet, padding optional (whitespace is dropped first).
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A body ready to send; multipart parts stay structured so the HTTP client can frame them.
#[derive(Debug, PartialEq)]
pub enum Payload {
    Json(Vec<u8>),
    Form(String),
    Multipart(Vec<Part>),
    /// Sent as is with the operation's media type (text, XML, octet-stream, …).
    Raw(Vec<u8>),
}

/// One multipart part: a text field, or a file with its content type.
#[derive(Debug, PartialEq)]
pub enum Part {
    Text {
        name: String,
        value: String,
    },
    File {
        name: String,
        bytes: Vec<u8>,
        content_type: &'static str,
    },
}

pub fn payload(body: &Body, args: &Map<String, Value>) -> Result<Option<Payload>, String> {
    let value = match body.shape {
        BodyShape::Whole { arg } => match args.get(arg) {
            Some(Value::Null) | None => None,
            Some(v) => Some(v.clone()),
        },
        BodyShape::Flattened { fields } => {
            let object: Map<String, Value> = fields
                .iter()
                .filter_map(|f| args.get(*f).map(|v| ((*f).to_owned(), v.clone())))
                .collect();
            (!object.is_empty() || body.required).then_some(Value::Object(object))
        }
    };
    let Some(value) = value else {
        return if body.required {
            Err("missing the request body argument".to_owned())
        } else {
            Ok(None)
        };
    };
    let media = essence(body.media_type);
    let payload = if media == "application/json" || media.ends_with("+json") {
        Payload::Json(serde_json::to_vec(&value).map_err(|e| e.to_string())?)
    } else if media == "application/x-www-form-urlencoded" {
        Payload::Form(form(body, &value)?)
    } else if media == "multipart/form-data" {
        Payload::Multipart(fields(&value, body)?)
    } else if let Some(bytes) = body.binary.first() {
        let Value::String(text) = &value else {
            return Err(format!("`{}` must be a base64 string", bytes.field));
        };
        Payload::Raw(decode(bytes.field, text)?)
    } else {
        match value {
            Value::String(s) => Payload::Raw(s.into_bytes()),
            other => Payload::Raw(other.to_string().into_bytes()),
        }
    };
    Ok(Some(payload))
}

fn essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Each field in its `encoding` style; by default form, exploded: arrays repeat the name and
/// an object's properties become fields of their own.
fn form(body: &Body, value: &Value) -> Result<String, String> {
    let Value::Object(object) = value else {
        return Err(format!("a {} body must be an object", body.media_type));
    };
    let mut pairs = Vec::new();
    for (k, v) in object {
        if v.is_null() {
            continue;
        }
        let (style, explode) = body
            .encoding
            .iter()
            .find(|e| e.field == k)
            .map_or((Style::Form, true), |e| (e.style, e.explode));
        pairs.extend(form_pairs(k, style, explode, v));
    }
    Ok(pairs.join("&"))
}

/// Multipart parts: arrays repeat the name, nested objects are JSON, file fields are
/// decoded from base64 and sent as files named after the field.
fn fields(value: &Value, body: &Body) -> Result<Vec<Part>, String> {
    let Value::Object(object) = value else {
        return Err(format!("a {} body must be an object", body.media_type));
    };
    let mut out = Vec::new();
    for (k, v) in object {
        let file = body.binary.iter().find(|f| f.field == k);
        let items = match v {
            Value::Null => continue,
            Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        for item in items {
            out.push(match file {
                Some(file) => file_part(file, item)?,
                None => Part::Text {
                    name: k.clone(),
                    value: text(item),
                },
            });
        }
    }
    Ok(out)
}

fn file_part(file: &BinaryField, value: &Value) -> Result<Part, String> {
    let Value::String(encoded) = value else {
        return Err(format!("`{}` must be a base64 string", file.field));
    };
    Ok(Part::File {
        name: file.field.to_owned(),
        bytes: decode(file.field, encoded)?,
        content_type: file.content_type,
    })
}

fn decode(field: &str, encoded: &str) -> Result<Vec<u8>, String> {
    let compact: String = encoded
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    BASE64
        .decode(compact)
        .map_err(|e| format!("`{field}` must be base64-encoded bytes: {e}"))
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::FieldEncoding;
    use serde_json::json;

    fn body(media_type: &'static str, shape: BodyShape, required: bool) -> Body {
        Body {
            media_type,
            required,
            shape,
            encoding: &[],
            binary: &[],
        }
    }

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn json_whole_and_flattened() {
        let whole = body("application/json", BodyShape::Whole { arg: "body" }, true);
        assert_eq!(
            payload(&whole, &args(json!({"body": {"a": 1}}))).unwrap(),
            Some(Payload::Json(br#"{"a":1}"#.to_vec()))
        );
        assert!(payload(&whole, &Map::new()).is_err());
        let flat = body(
            "application/json",
            BodyShape::Flattened {
                fields: &["name", "tags"],
            },
            false,
        );
        assert_eq!(
            payload(&flat, &args(json!({"name": "x", "petId": 1}))).unwrap(),
            Some(Payload::Json(br#"{"name":"x"}"#.to_vec()))
        );
        assert_eq!(payload(&flat, &Map::new()).unwrap(), None);
    }

    #[test]
    fn form_is_encoded() {
        let form = body(
            "application/x-www-form-urlencoded",
            BodyShape::Flattened {
                fields: &["name", "status"],
            },
            false,
        );
        assert_eq!(
            payload(&form, &args(json!({"name": "a&b=c", "status": ["x", "y"]}))).unwrap(),
            Some(Payload::Form("name=a%26b%3Dc&status=x&status=y".into()))
        );
    }

    #[test]
    fn form_fields_follow_their_encoding() {
        static ENCODING: &[FieldEncoding] = &[
            FieldEncoding {
                field: "deep",
                style: Style::DeepObject,
                explode: true,
            },
            FieldEncoding {
                field: "piped",
                style: Style::PipeDelimited,
                explode: false,
            },
        ];
        let mut form = body(
            "application/x-www-form-urlencoded",
            BodyShape::Whole { arg: "body" },
            true,
        );
        form.encoding = ENCODING;
        let value = json!({"body": {
            "plain": {"r": 1, "g": 2},
            "deep": {"a": "x y"},
            "piped": ["a", "b"]
        }});
        assert_eq!(
            payload(&form, &args(value)).unwrap(),
            // Keys in the caller's order; `plain` uses the default: exploded form.
            Some(Payload::Form("r=1&g=2&deep[a]=x%20y&piped=a|b".into()))
        );
    }

    #[test]
    fn multipart_and_raw() {
        let multi = body(
            "multipart/form-data",
            BodyShape::Whole { arg: "body" },
            true,
        );
        assert_eq!(
            payload(&multi, &args(json!({"body": {"meta": {"k": 1}, "n": 2}}))).unwrap(),
            Some(Payload::Multipart(vec![
                text("meta", r#"{"k":1}"#),
                text("n", "2")
            ]))
        );
        let raw = body("text/plain", BodyShape::Whole { arg: "body" }, true);
        assert_eq!(
            payload(&raw, &args(json!({"body": "hello"}))).unwrap(),
            Some(Payload::Raw(b"hello".to_vec()))
        );
    }

    fn text(name: &str, value: &str) -> Part {
        Part::Text {
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn bytes_arrive_as_base64_and_leave_decoded() {
        static FILES: &[BinaryField] = &[BinaryField {
            field: "photos",
            content_type: "image/png",
        }];
        let mut multi = body(
            "multipart/form-data",
            BodyShape::Flattened {
                fields: &["photos", "id"],
            },
            true,
        );
        multi.binary = FILES;
        let call = json!({"id": 7, "photos": ["iVBORw0K\nGgo=", "AAEC"]});
        assert_eq!(
            payload(&multi, &args(call)).unwrap(),
            // Fields in the spec's order.
            Some(Payload::Multipart(vec![
                Part::File {
                    name: "photos".into(),
                    bytes: b"\x89PNG\r\n\x1a\n".to_vec(),
                    content_type: "image/png"
                },
                Part::File {
                    name: "photos".into(),
                    bytes: vec![0, 1, 2],
                    content_type: "image/png"
                },
                text("id", "7"),
            ]))
        );
        let err = payload(&multi, &args(json!({"photos": "not base64!"}))).unwrap_err();
        assert!(
            err.starts_with("`photos` must be base64-encoded bytes"),
            "{err}"
        );

        static RAW: &[BinaryField] = &[BinaryField {
            field: "body",
            content_type: "application/octet-stream",
        }];
        let mut raw = body(
            "application/octet-stream",
            BodyShape::Whole { arg: "body" },
            true,
        );
        raw.binary = RAW;
        assert_eq!(
            payload(&raw, &args(json!({"body": "AP8"}))).unwrap(),
            Some(Payload::Raw(vec![0, 255]))
        );
        assert!(payload(&raw, &args(json!({"body": 5}))).is_err());
    }
}
