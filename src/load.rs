//! Stage 1: read the document from a file, a URL or stdin and parse JSON or YAML into a
//! JSON value. Nothing here knows about OpenAPI.

use std::io::Read;
use std::time::Duration;

use serde_json::Value;

use crate::error::{Error, Result};

/// Documents larger than this are refused rather than parsed (MS Graph is about 35 MB).
const MAX_BYTES: u64 = 256 * 1024 * 1024;

#[derive(Debug)]
pub struct Loaded {
    /// Where it came from, as given (path, URL or `-`).
    pub origin: String,
    pub value: Value,
    /// SHA-256 of the raw bytes, hex.
    pub digest: String,
}

/// Documents at least this large are fingerprinted beside the parse, on another core: both
/// take milliseconds per megabyte, and a thread costs more than hashing a small one.
const DIGEST_APART: usize = 1024 * 1024;

pub fn load(source: &str) -> Result<Loaded> {
    let bytes = read_source(source)?;
    let (value, digest) = if bytes.len() >= DIGEST_APART {
        let (digest, value) = crate::parallel::join(
            || crate::digest::sha256_hex(&bytes),
            || parse(source, &bytes),
        );
        (value, digest)
    } else {
        (parse(source, &bytes), crate::digest::sha256_hex(&bytes))
    };
    Ok(Loaded {
        origin: source.to_string(),
        value: value?,
        digest,
    })
}

fn read_source(source: &str) -> Result<Vec<u8>> {
    if source == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(MAX_BYTES)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::spec("<stdin>", format!("cannot read: {e}")))?;
        return Ok(bytes);
    }
    if is_url(source) {
        return fetch(source);
    }
    let meta =
        std::fs::metadata(source).map_err(|e| Error::spec(source, format!("cannot read: {e}")))?;
    if meta.len() > MAX_BYTES {
        return Err(Error::spec(
            source,
            format!("larger than {MAX_BYTES} bytes"),
        ));
    }
    std::fs::read(source).map_err(|e| Error::spec(source, format!("cannot read: {e}")))
}

fn fetch(url: &str) -> Result<Vec<u8>> {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("mcp-gen/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::spec(url, format!("cannot start an HTTP client: {e}")))?;
    let response = client
        .get(url)
        .send()
        .map_err(|e| Error::spec(url, format!("no answer: {e}")))?;
    let status = response.status();
    if !status.is_success() {
        return Err(Error::spec(
            url,
            format!("the server answered HTTP {status}"),
        ));
    }
    let mut bytes = Vec::new();
    response
        .take(MAX_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::spec(url, format!("reading the body failed: {e}")))?;
    Ok(bytes)
}

/// JSON when the first meaningful character opens an object or array, YAML otherwise
/// (YAML is a superset, but serde_json gives better positions for JSON). `origin` names the
/// document in error messages. Public for the fuzz targets.
pub fn parse(origin: &str, bytes: &[u8]) -> Result<Value> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| Error::spec(origin, format!("not UTF-8 text: {e}")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text.trim_start().chars().next();
    let value: Value = if matches!(first, Some('{') | Some('[')) {
        serde_json::from_str(text).map_err(|e| {
            Error::spec(
                format!("{origin}:{}:{}", e.line(), e.column()),
                format!("invalid JSON: {e}"),
            )
        })?
    } else {
        check_flow_nesting(origin, text)?;
        serde_yaml_ng::from_str(text).map_err(|e| {
            let place = match e.location() {
                Some(l) => format!("{origin}:{}:{}", l.line(), l.column()),
                None => origin.to_string(),
            };
            Error::spec(place, format!("invalid YAML: {e}"))
        })?
    };
    if !value.is_object() {
        return Err(Error::spec(
            origin,
            "the document is not a JSON/YAML object",
        ));
    }
    Ok(value)
}

/// The YAML parser gives up past 128 levels, but only after a scan that grows faster than
/// the square of the nesting of `[`/`{` (fuzzing found it: 200 KB of `[` took two minutes),
/// so deeper flow nesting is refused before parsing. Quoted strings and comments are skipped;
/// no valid OpenAPI document comes near the limit.
fn check_flow_nesting(origin: &str, text: &str) -> Result<()> {
    const LIMIT: usize = 128;
    // Flow collections may span lines, so depth carries over; a quote or comment ends with
    // its line (a multi-line quoted scalar only ends the skip early).
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut previous = '\n';
    let (mut line, mut column) = (1usize, 0usize);
    for c in text.chars() {
        column += 1;
        match (quote, c) {
            (_, '\n') => {
                line += 1;
                column = 0;
                quote = None;
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '#') if previous.is_whitespace() => quote = Some('\n'),
            (None, '[' | '{') => {
                depth += 1;
                if depth > LIMIT {
                    return Err(Error::spec(
                        format!("{origin}:{line}:{column}"),
                        format!("invalid YAML: nested deeper than {LIMIT} levels"),
                    ));
                }
            }
            (None, ']' | '}') => depth = depth.saturating_sub(1),
            _ => {}
        }
        previous = c;
    }
    Ok(())
}

/// An `http(s)` URL, as opposed to a path or `-`.
pub fn is_url(source: &str) -> bool {
    source.starts_with("http://") || source.starts_with("https://")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_flow_nesting_is_refused_before_parsing() {
        let deep = format!("a: {}", "[".repeat(200_000));
        let err = parse("deep.yaml", deep.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "deep.yaml:1:132: invalid YAML: nested deeper than 128 levels"
        );
        // Brackets in quotes and comments do not count; real nesting within the limit parses.
        let fine = format!(
            "a: '{}'\nb: \"{}\"\n# {}\nc: {}{}\n",
            "[".repeat(300),
            "{".repeat(300),
            "[".repeat(300),
            "[".repeat(100),
            "]".repeat(100)
        );
        assert!(parse("fine.yaml", fine.as_bytes()).is_ok());
    }

    #[test]
    fn json_and_yaml_give_the_same_value() {
        let json = parse("a.json", br#"{"openapi": "3.0.3", "paths": {}}"#).unwrap();
        let yaml = parse("a.yaml", b"openapi: 3.0.3\npaths: {}\n").unwrap();
        assert_eq!(json, yaml);
    }

    #[test]
    fn invalid_json_names_line_and_column() {
        let err = parse("spec.json", b"{\n  \"openapi\": ,\n}").unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("spec.json:2:"), "{text}");
        assert_eq!(err.exit_code(), 1);
    }

    #[test]
    fn invalid_yaml_names_the_line() {
        let err = parse("spec.yaml", b"openapi: 3.0.3\npaths: [\n  - a: b\n  c\n").unwrap_err();
        assert!(err.to_string().starts_with("spec.yaml:"), "{err}");
    }

    #[test]
    fn a_scalar_document_is_refused() {
        assert!(parse("x.yaml", b"just text").is_err());
    }
}
