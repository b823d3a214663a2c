//! Tool arguments → path, query, header and cookie parts of the upstream request, following
//! the OpenAPI parameter styles. Everything taken from arguments is percent-encoded (all but
//! RFC 3986 unreserved characters), so a value can never add a path segment, a query
//! parameter or a fragment.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, utf8_percent_encode};
use serde_json::{Map, Value};

use crate::catalog::{HttpBinding, Location, Param, Style};

/// Everything except `A-Z a-z 0-9 - . _ ~` is encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A path value whose spec allows reserved characters keeps `/` and the others a segment may
/// hold; `?`, `#` and `%` stay encoded, so it still cannot start a query or a fragment.
const RESERVED_PATH: &AsciiSet = &COMPONENT
    .remove(b'/')
    .remove(b':')
    .remove(b'@')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=');

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

/// Puts the server's credential pairs (encoded `name=value`) before the arguments' own, and
/// refuses arguments that would send a pair of the same name: frameworks read the first or
/// the last of repeated names, so a caller's pair could otherwise stand in for the credential.
pub fn credential_first(
    pairs: &mut Vec<String>,
    credential: Vec<String>,
    what: &str,
) -> Result<(), String> {
    if credential.is_empty() {
        return Ok(());
    }
    let names: Vec<Option<Vec<u8>>> = credential.iter().map(|p| pair_name(p)).collect();
    if let Some(clash) = pairs
        .iter()
        .map(|p| pair_name(p))
        .find(|k| k.is_none() || names.contains(k))
    {
        let shown = clash.map_or_else(
            || "percent-encoded too many times".into(),
            |name| String::from_utf8_lossy(&name).into_owned(),
        );
        return Err(format!(
            "the arguments would send {what} `{shown}`, which carries the server's upstream credential; refused"
        ));
    }
    pairs.splice(0..0, credential);
    Ok(())
}

/// The name of an encoded `name=value` pair as frameworks compare names: decoded, without
/// case, `.` and ` ` read as `_`, and a `[…]` suffix dropped (PHP turns `api.key` and
/// `api_key[]` into `api_key`; ASP.NET ignores case).
fn pair_name(pair: &str) -> Option<Vec<u8>> {
    let raw = pair.split_once('=').map_or(pair, |(k, _)| k);
    let mut name = fully_decoded(raw)?;
    if let Some(bracket) = name.iter().position(|b| *b == b'[') {
        name.truncate(bracket);
    }
    for b in &mut name {
        *b = match b.to_ascii_lowercase() {
            b'.' | b' ' => b'_',
            other => other,
        };
    }
    Some(name)
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
            Some(value) => out.push_str(&path_value(param, value)?),
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    // Two values side by side (`{a}{b}`) can still form a dot segment together.
    if out.split('/').any(is_dot_segment) && !binding.path.split('/').any(is_dot_segment) {
        return Err("the path arguments must not form a `.` or `..` segment".to_owned());
    }
    Ok(out)
}

/// Layers of percent-encoding undone before a text counts as too deeply encoded to judge.
/// Each pass is linear, so a value such as `%2525…25` cannot cost quadratic time.
const MAX_DECODE_LAYERS: usize = 4;

/// The bytes of `s` once every layer of percent-encoding is undone: what an upstream, or a
/// proxy in front of it, may end up routing on (`%252F` → `%2F` → `/`). `None` when more
/// than [`MAX_DECODE_LAYERS`] layers are left: such a text is refused, not judged.
fn fully_decoded(s: &str) -> Option<Vec<u8>> {
    let mut bytes = s.as_bytes().to_vec();
    for _ in 0..=MAX_DECODE_LAYERS {
        let next: Vec<u8> = percent_decode(&bytes).collect();
        if next.len() == bytes.len() {
            return Some(bytes);
        }
        bytes = next;
    }
    None
}

/// Whether decoded bytes hold a `.` or `..` segment, split at `/` or `\` (some servers take
/// both as separators) and ignoring a `;parameter` suffix (Tomcat reads `..;x` as `..`).
fn has_dot_segment(decoded: &[u8]) -> bool {
    decoded.split(|b| matches!(b, b'/' | b'\\')).any(|segment| {
        let name = segment.split(|b| *b == b';').next().unwrap_or_default();
        matches!(name, b"." | b"..")
    })
}

/// `.` or `..`, in any spelling: URL parsers and proxies resolve them, so one formed by a
/// value climbs out of the operation's path. Too deeply encoded counts as one.
fn is_dot_segment(segment: &str) -> bool {
    fully_decoded(segment).is_none_or(|decoded| has_dot_segment(&decoded))
}

/// An empty string, array or object: it would leave its path segment empty, and
/// `DELETE /user/` is routed to the collection by many frameworks.
fn is_empty_value(v: &Value) -> bool {
    match v {
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
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
    items_in(v, explode, encode.then_some(COMPONENT))
}

/// [`items`], each encoded with `set` (`None`: as they are).
fn items_in(v: &Value, explode: bool, set: Option<&'static AsciiSet>) -> Vec<String> {
    let e = |s: String| match set {
        Some(set) => utf8_percent_encode(&s, set).to_string(),
        None => s,
    };
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

/// One path value in its style, encoded. The value fills its segment and only that: it must
/// not be empty, and unless the spec allows reserved characters it must not hold `/` or `\`,
/// even percent-encoded any number of times (upstreams and proxies that decode before routing
/// would turn `%2F` into a new segment), nor be a dot segment.
fn path_value(param: &Param, v: &Value) -> Result<String, String> {
    let set = if param.allow_reserved {
        RESERVED_PATH
    } else {
        COMPONENT
    };
    let text = styled_path_value(param, v, set);
    let arg = param.arg;
    if is_empty_value(v) || text.is_empty() {
        return Err(format!(
            "argument `{arg}` must not be empty: it fills a segment of the request path"
        ));
    }
    let Some(decoded) = fully_decoded(&text) else {
        return Err(format!(
            "argument `{arg}` is percent-encoded too many times to be sent safely"
        ));
    };
    if !param.allow_reserved && decoded.iter().any(|b| matches!(b, b'/' | b'\\')) {
        return Err(format!(
            "argument `{arg}` must not contain `/` or `\\`, percent-encoded or not: it fills one segment of the request path"
        ));
    }
    if has_dot_segment(&decoded) {
        return Err(format!(
            "argument `{arg}` must not be `.` or `..`, percent-encoded or not"
        ));
    }
    Ok(text)
}

fn styled_path_value(param: &Param, v: &Value, set: &'static AsciiSet) -> String {
    let name = enc(param.name);
    let items = |explode| items_in(v, explode, Some(set));
    match param.style {
        Style::Label => {
            let sep = if param.explode { "." } else { "," };
            format!(".{}", items(param.explode).join(sep))
        }
        Style::Matrix => match v {
            Value::Array(_) if param.explode => items(false)
                .iter()
                .map(|i| format!(";{name}={i}"))
                .collect(),
            Value::Object(_) if param.explode => {
                items(true).iter().map(|i| format!(";{i}")).collect()
            }
            _ => format!(";{name}={}", items(false).join(",")),
        },
        _ => items(param.explode).join(","),
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
            allow_reserved: false,
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
            required_headers: &[],
            documents_redirects: false,
        }
    }

    fn run(path: &'static str, params: &'static [Param], args: Value) -> RequestParts {
        let binding = get(path, params);
        request_parts(&binding, args.as_object().unwrap()).unwrap()
    }

    fn refusal(path: &'static str, params: &'static [Param], args: Value) -> String {
        let binding = get(path, params);
        match request_parts(&binding, args.as_object().unwrap()) {
            Ok(parts) => panic!("{args} was sent as {}", parts.path),
            Err(e) => e,
        }
    }

    #[test]
    fn path_values_cannot_escape_their_segment() {
        static PARAMS: &[Param] = &[p("id", Location::Path, Style::Simple, false)];
        for (value, expected) in [
            ("a?c=d#e", "/pet/a%3Fc%3Dd%23e"),
            ("100%", "/pet/100%25"),
            ("sp ace", "/pet/sp%20ace"),
            ("é", "/pet/%C3%A9"),
            ("...", "/pet/..."),
            ("a..b", "/pet/a..b"),
            ("%zz", "/pet/%25zz"),
        ] {
            assert_eq!(
                run("/pet/{id}", PARAMS, json!({"id": value})).path,
                expected
            );
        }
        assert_eq!(run("/pet/{id}", PARAMS, json!({"id": 42})).path, "/pet/42");
        for bad in [
            json!(""),
            json!([]),
            json!({}),
            json!([""]),
            json!("a/b"),
            json!("../admin"),
            json!("a%2Fb"),
            json!("a%2fb"),
            json!("a%252Fb"),
            json!("a%25252Fb"),
            json!("a\\b"),
            json!("a%5Cb"),
            json!(".."),
            json!("."),
            json!("%2e%2e"),
            json!("%2E."),
            json!("%252e%252e"),
            json!(["a", "b/c"]),
            json!({"a/b": 1}),
            json!({"a": "%2F"}),
        ] {
            let err = refusal("/pet/{id}", PARAMS, json!({ "id": bad }));
            assert!(err.contains("argument `id`"), "{bad}: {err}");
        }
    }

    #[test]
    fn every_path_style_keeps_its_segment() {
        static LABEL: &[Param] = &[p("x", Location::Path, Style::Label, false)];
        static MATRIX: &[Param] = &[p("x", Location::Path, Style::Matrix, true)];
        static EXPLODED: &[Param] = &[p("x", Location::Path, Style::Simple, true)];
        static TWO: &[Param] = &[
            p("a", Location::Path, Style::Simple, false),
            p("b", Location::Path, Style::Simple, false),
        ];
        for params in [LABEL, MATRIX, EXPLODED] {
            for bad in [
                json!("a/b"),
                json!(["x", "a%2Fb"]),
                json!({"k/": "v"}),
                json!({"k": "..\\x"}),
            ] {
                refusal("/{x}", params, json!({ "x": bad }));
            }
        }
        refusal("/{x}", LABEL, json!({"x": ""}));
        refusal("/{x}", LABEL, json!({"x": "."}));
        let err = refusal("/{a}{b}", TWO, json!({"a": ".", "b": "x"}));
        assert!(err.contains("argument `a`"), "{err}");
        // Harmless apart, `%252e` together: it decodes to `.`.
        let err = refusal("/{a}{b}", TWO, json!({"a": "%2", "b": "e"}));
        assert!(err.contains("must not form"), "{err}");
        assert_eq!(
            run("/{a}{b}", TWO, json!({"a": "x", "b": "y."})).path,
            "/xy."
        );
    }

    #[test]
    fn allow_reserved_path_values_keep_their_slashes_but_not_dot_segments() {
        static FILE: &[Param] = &[Param {
            allow_reserved: true,
            ..p("path", Location::Path, Style::Simple, false)
        }];
        assert_eq!(
            run("/files/{path}", FILE, json!({"path": "docs/a b/c.txt"})).path,
            "/files/docs/a%20b/c.txt"
        );
        assert_eq!(
            run("/files/{path}", FILE, json!({"path": "a?b#c"})).path,
            "/files/a%3Fb%23c"
        );
        for bad in [
            "",
            "a/../b",
            "./a",
            "a/%2e%2e",
            "..",
            "x\\..\\..\\admin",
            "a/..;jsessionid=1/b",
        ] {
            refusal("/files/{path}", FILE, json!({ "path": bad }));
        }
    }

    #[test]
    fn deeply_encoded_values_are_refused_in_linear_time() {
        static ID: &[Param] = &[p("id", Location::Path, Style::Simple, false)];
        // 1 MiB of `%2525…`: undoing it one layer at a time would take minutes.
        let deep = format!("%{}", "25".repeat(512 * 1024));
        let started = std::time::Instant::now();
        let err = refusal("/items/{id}", ID, json!({ "id": deep }));
        assert!(err.contains("too many times"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        // Three layers of the caller's own are still judged (and `%252F` refused for its `/`).
        assert!(refusal("/items/{id}", ID, json!({"id": "a%25252Fb"})).contains("`/`"));
        assert_eq!(
            run("/items/{id}", ID, json!({"id": "100%25"})).path,
            "/items/100%2525"
        );
    }

    #[test]
    fn credential_pairs_go_first_and_cannot_be_shadowed() {
        let mut pairs = vec!["status=sold".to_owned()];
        credential_first(&mut pairs, vec!["api_key=k".to_owned()], "query parameter").unwrap();
        assert_eq!(pairs, ["api_key=k", "status=sold"]);
        for clash in [
            "api_key=evil",
            "api%5Fkey=evil",
            "api%255Fkey=evil",
            "api_key",
            "API_KEY=evil",
            "api.key=evil",
            "api%20key=evil",
            "api_key%5B%5D=evil",
        ] {
            let mut pairs = vec!["a=1".to_owned(), clash.to_owned()];
            let err = credential_first(&mut pairs, vec!["api_key=k".to_owned()], "query parameter")
                .unwrap_err();
            assert!(
                err.contains("`api_key`") && !err.contains("=k"),
                "{clash}: {err}"
            );
        }
        let mut untouched = vec!["a=1".to_owned()];
        credential_first(&mut untouched, Vec::new(), "cookie").unwrap();
        assert_eq!(untouched, ["a=1"]);
    }

    #[test]
    fn exploded_query_objects_cannot_shadow_a_credential() {
        static OBJ: &[Param] = &[p("filter", Location::Query, Style::Form, true)];
        let mut parts = run("/", OBJ, json!({"filter": {"api_key": "mine", "x": 1}}));
        let err = credential_first(
            &mut parts.query,
            vec!["api_key=k".to_owned()],
            "query parameter",
        )
        .unwrap_err();
        assert!(err.contains("api_key"), "{err}");
    }

    #[test]
    fn path_styles() {
        static LABEL: &[Param] = &[p("x", Location::Path, Style::Label, false)];
        static MATRIX: &[Param] = &[p("x", Location::Path, Style::Matrix, true)];
        static SIMPLE: &[Param] = &[p("x", Location::Path, Style::Simple, true)];
        assert_eq!(run("/{x}", LABEL, json!({"x": [3, 4]})).path, "/.3,4");
        assert_eq!(run("/{x}", MATRIX, json!({"x": [3, 4]})).path, "/;x=3;x=4");
        assert_eq!(
            run("/{x}", MATRIX, json!({"x": {"a": 1, "b": 2}})).path,
            "/;a=1;b=2"
        );
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
