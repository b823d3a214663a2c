//! Tool arguments → path, query, header and cookie parts of the upstream request, following
//! the OpenAPI parameter styles. Everything taken from arguments is percent-encoded (all but
//! RFC 3986 unreserved characters), so a value can never add a path segment, a query
//! parameter or a fragment.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};

use crate::catalog::{HttpBinding, Location, Param, Style};

/// Everything except `A-Z a-z 0-9 - . _ ~` is encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub fn enc(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// The argument-dependent parts of one upstream request.
#[derive(Debug, Default, PartialEq)]
pub struct RequestParts {
    /// The path template with its placeholders filled, already encoded.
    pub path: String,
    /// Encoded `key=value` pairs, in parameter order.
    pub query: Vec<String>,
    /// Header name and raw value (checked for CR/LF, not encoded).
    pub headers: Vec<(&'static str, String)>,
    /// Encoded `name=value` cookie pairs.
    pub cookies: Vec<String>,
}

pub fn request_parts(
    binding: &HttpBinding,
    args: &Map<String, Value>,
) -> Result<RequestParts, String> {
    let mut parts = RequestParts {
        path: fill_path(binding, args)?,
        ..Default::default()
    };
    for param in binding.params {
        let value = match args.get(param.arg) {
            None | Some(Value::Null) => {
                if param.required && param.location != Location::Path {
                    return Err(format!("missing required argument `{}`", param.arg));
                }
                continue;
            }
            Some(v) => v,
        };
        match param.location {
            Location::Path => {}
            Location::Query => parts.query.extend(query(param, value)),
            Location::Header => {
                // OpenAPI ignores these three as parameters; the runtime owns them.
                if ["accept", "content-type", "authorization"]
                    .contains(&param.name.to_ascii_lowercase().as_str())
                {
                    continue;
                }
                let text = simple(value, param.explode, false);
                check_header_value(param.arg, &text)?;
                parts.headers.push((param.name, text));
            }
            Location::Cookie => parts.cookies.push(format!(
                "{}={}",
                enc(param.name),
                simple(value, param.explode, true)
            )),
        }
    }
    Ok(parts)
}

/// Refuses values that could split or smuggle headers.
pub fn check_header_value(arg: &str, value: &str) -> Result<(), String> {
    if value.chars().any(|c| c == '\r' || c == '\n' || c == '\0') {
        return Err(format!("argument `{arg}` must not contain CR, LF or NUL"));
    }
    Ok(())
}

fn fill_path(binding: &HttpBinding, args: &Map<String, Value>) -> Result<String, String> {
    let mut out = String::with_capacity(binding.path.len());
    let mut rest = binding.path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("bad path template {}", binding.path))?;
        let name = &after[..close];
        let param = binding
            .params
            .iter()
            .find(|p| p.location == Location::Path && p.name == name)
            .ok_or_else(|| format!("path template names unknown parameter `{name}`"))?;
        match args.get(param.arg) {
            None | Some(Value::Null) => {
                return Err(format!("missing required argument `{}`", param.arg));
            }
            Some(value) => out.push_str(&path_value(param, value)),
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    // URL parsers resolve `.`/`..` segments, `%2e` spellings included, so a value that
    // forms one on its own could still climb out of the operation's path.
    let dot_segment = out.split('/').any(|seg| {
        let seg = seg.to_ascii_lowercase().replace("%2e", ".");
        seg == "." || seg == ".."
    });
    if dot_segment && !binding.path.split('/').any(|s| s == "." || s == "..") {
        return Err("a path argument must not be `.` or `..`".to_owned());
    }
    Ok(out)
}

/// A scalar as text; `None` for arrays and objects.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// A nested value as text: scalars as themselves, anything deeper as JSON.
fn text(v: &Value) -> String {
    scalar(v).unwrap_or_else(|| v.to_string())
}

/// Items of an array, or `k, v` pairs of an object (exploded as `k=v`), each encoded or not.
fn items(v: &Value, explode: bool, encode: bool) -> Vec<String> {
    let e = |s: String| if encode { enc(&s) } else { s };
    match v {
        Value::Array(a) => a.iter().map(|x| e(text(x))).collect(),
        Value::Object(o) if explode => o
            .iter()
            .map(|(k, x)| format!("{}={}", e(k.clone()), e(text(x))))
            .collect(),
        Value::Object(o) => o
            .iter()
            .flat_map(|(k, x)| [e(k.clone()), e(text(x))])
            .collect(),
        other => vec![e(text(other))],
    }
}

/// `simple` style: comma-separated items.
fn simple(v: &Value, explode: bool, encode: bool) -> String {
    items(v, explode, encode).join(",")
}

fn path_value(param: &Param, v: &Value) -> String {
    let name = enc(param.name);
    match param.style {
        Style::Label => {
            let sep = if param.explode { "." } else { "," };
            format!(".{}", items(v, param.explode, true).join(sep))
        }
        Style::Matrix => match v {
            Value::Array(_) if param.explode => items(v, false, true)
                .iter()
                .map(|i| format!(";{name}={i}"))
                .collect(),
            Value::Object(_) if param.explode => items(v, true, true)
                .iter()
                .map(|i| format!(";{i}"))
                .collect(),
            _ => format!(";{name}={}", simple(v, false, true)),
        },
        _ => simple(v, param.explode, true),
    }
}

fn query(param: &Param, v: &Value) -> Vec<String> {
    form_pairs(param.name, param.style, param.explode, v)
}

/// Encoded `key=value` pairs of one query parameter or form-urlencoded field in its style
/// (the same rules serve both, OpenAPI 3 §4.8.15).
pub fn form_pairs(name: &str, style: Style, explode: bool, v: &Value) -> Vec<String> {
    let name = enc(name);
    match (style, v) {
        (Style::DeepObject, Value::Object(o)) => {
            let mut out = Vec::new();
            deep_object(&name, o, &mut out);
            out
        }
        (Style::SpaceDelimited, Value::Array(_) | Value::Object(_)) => {
            vec![format!("{name}={}", items(v, false, true).join("%20"))]
        }
        (Style::PipeDelimited, Value::Array(_) | Value::Object(_)) => {
            vec![format!("{name}={}", items(v, false, true).join("|"))]
        }
        (_, Value::Array(_)) if explode => items(v, false, true)
            .into_iter()
            .map(|i| format!("{name}={i}"))
            .collect(),
        (_, Value::Object(_)) if explode => items(v, true, true),
        _ => vec![format!("{name}={}", simple(v, false, true))],
    }
}

fn deep_object(prefix: &str, o: &Map<String, Value>, out: &mut Vec<String>) {
    for (k, v) in o {
        let key = format!("{prefix}[{}]", enc(k));
        match v {
            Value::Object(inner) => deep_object(&key, inner, out),
            Value::Array(a) => out.extend(a.iter().map(|x| format!("{key}={}", enc(&text(x))))),
            Value::Null => {}
            other => out.push(format!("{key}={}", enc(&text(other)))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const fn p(name: &'static str, location: Location, style: Style, explode: bool) -> Param {
        Param {
            arg: name,
            name,
            location,
            required: false,
            style,
            explode,
        }
    }

    /// A GET operation with these parameters and no body or credentials.
    fn get(path: &'static str, params: &'static [Param]) -> HttpBinding {
        HttpBinding {
            method: "GET",
            path,
            params,
            body: None,
            credentials: &[],
        }
    }

    fn run(path: &'static str, params: &'static [Param], args: Value) -> RequestParts {
        let binding = get(path, params);
        request_parts(&binding, args.as_object().unwrap()).unwrap()
    }

    #[test]
    fn path_values_cannot_escape_their_segment() {
        static PARAMS: &[Param] = &[p("id", Location::Path, Style::Simple, false)];
        for (value, expected) in [
            ("../admin", "/pet/..%2Fadmin"),
            ("a/b?c=d#e", "/pet/a%2Fb%3Fc%3Dd%23e"),
            ("100%", "/pet/100%25"),
            ("sp ace", "/pet/sp%20ace"),
            ("é", "/pet/%C3%A9"),
        ] {
            assert_eq!(
                run("/pet/{id}", PARAMS, json!({"id": value})).path,
                expected
            );
        }
        assert_eq!(run("/pet/{id}", PARAMS, json!({"id": 42})).path, "/pet/42");
        let binding = get("/pet/{id}", PARAMS);
        for dots in ["..", "."] {
            let args = json!({"id": dots});
            assert!(
                request_parts(&binding, args.as_object().unwrap()).is_err(),
                "{dots}"
            );
        }
    }

    #[test]
    fn path_styles() {
        static LABEL: &[Param] = &[p("x", Location::Path, Style::Label, false)];
        static MATRIX: &[Param] = &[p("x", Location::Path, Style::Matrix, true)];
        static SIMPLE: &[Param] = &[p("x", Location::Path, Style::Simple, true)];
        assert_eq!(run("/{x}", LABEL, json!({"x": [3, 4]})).path, "/.3,4");
        assert_eq!(run("/{x}", MATRIX, json!({"x": [3, 4]})).path, "/;x=3;x=4");
        assert_eq!(run("/{x}", SIMPLE, json!({"x": {"a": 1}})).path, "/a=1");
    }

    #[test]
    fn query_styles() {
        static FORM: &[Param] = &[p("status", Location::Query, Style::Form, true)];
        static FLAT: &[Param] = &[p("status", Location::Query, Style::Form, false)];
        static PIPE: &[Param] = &[p("s", Location::Query, Style::PipeDelimited, false)];
        static SPACE: &[Param] = &[p("s", Location::Query, Style::SpaceDelimited, false)];
        static DEEP: &[Param] = &[p("f", Location::Query, Style::DeepObject, true)];
        let q = |params, args| run("/", params, args).query;
        assert_eq!(
            q(FORM, json!({"status": ["a b", "c&d"]})),
            ["status=a%20b", "status=c%26d"]
        );
        assert_eq!(q(FLAT, json!({"status": ["a", "b"]})), ["status=a,b"]);
        assert_eq!(q(PIPE, json!({"s": ["a", "b"]})), ["s=a|b"]);
        assert_eq!(q(SPACE, json!({"s": ["a", "b"]})), ["s=a%20b"]);
        assert_eq!(
            q(DEEP, json!({"f": {"color": "red", "size": {"max": 3}}})),
            ["f[color]=red", "f[size][max]=3"]
        );
        assert!(q(FORM, json!({})).is_empty());
    }

    #[test]
    fn headers_refuse_line_breaks_and_runtime_owned_names() {
        static H: &[Param] = &[
            p("X-Trace", Location::Header, Style::Simple, false),
            p("Authorization", Location::Header, Style::Simple, false),
        ];
        let binding = get("/", H);
        let args = json!({"X-Trace": "a\r\nX-Evil: 1"});
        assert!(request_parts(&binding, args.as_object().unwrap()).is_err());
        let ok = run(
            "/",
            H,
            json!({"X-Trace": "abc", "Authorization": "Bearer stolen"}),
        );
        assert_eq!(ok.headers, [("X-Trace", "abc".to_owned())]);
    }

    #[test]
    fn cookies_are_encoded() {
        static C: &[Param] = &[p("session", Location::Cookie, Style::Form, false)];
        assert_eq!(
            run("/", C, json!({"session": "a;b=c"})).cookies,
            ["session=a%3Bb%3Dc"]
        );
    }

    #[test]
    fn missing_path_argument_is_an_error() {
        static PARAMS: &[Param] = &[p("id", Location::Path, Style::Simple, false)];
        let binding = get("/pet/{id}", PARAMS);
        assert!(request_parts(&binding, &Map::new()).is_err());
    }
}
