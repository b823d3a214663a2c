//! Tool arguments → the upstream request body, in the operation's media type.

use serde_json::{Map, Value};

use crate::catalog::{Body, BodyShape, Style};
use crate::encode::form_pairs;

/// A body ready to send; multipart parts stay structured so the HTTP client can frame them.
#[derive(Debug, PartialEq)]
pub enum Payload {
    Json(Vec<u8>),
    Form(String),
    Multipart(Vec<(String, String)>),
    /// Sent as is with the operation's media type (text, XML, octet-stream, …).
    Raw(Vec<u8>),
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
        Payload::Multipart(fields(&value, body.media_type)?)
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

/// Multipart parts as name/text pairs: arrays repeat the name, nested objects are JSON.
fn fields(value: &Value, media_type: &str) -> Result<Vec<(String, String)>, String> {
    let Value::Object(object) = value else {
        return Err(format!("a {media_type} body must be an object"));
    };
    let mut out = Vec::new();
    for (k, v) in object {
        match v {
            Value::Null => {}
            Value::Array(items) => out.extend(items.iter().map(|i| (k.clone(), text(i)))),
            other => out.push((k.clone(), text(other))),
        }
    }
    Ok(out)
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
            // Keys in serde_json's (sorted) order; `plain` uses the default: exploded form.
            Some(Payload::Form("deep[a]=x%20y&piped=a|b&g=2&r=1".into()))
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
                ("meta".into(), r#"{"k":1}"#.into()),
                ("n".into(), "2".into())
            ]))
        );
        let raw = body("text/plain", BodyShape::Whole { arg: "body" }, true);
        assert_eq!(
            payload(&raw, &args(json!({"body": "hello"}))).unwrap(),
            Some(Payload::Raw(b"hello".to_vec()))
        );
    }
}
