//! JSON pointers (RFC 6901): building them for error messages and resolving local `$ref`s.

use std::fmt;

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pointer(String);

impl Pointer {
    pub fn root() -> Self {
        Pointer(String::new())
    }

    /// Parse a `#/a/b` fragment or `/a/b` pointer. A fragment is part of a URI, so it is
    /// percent-decoded first (RFC 6901 §6): `#/paths/~1keys~1%7Bid%7D` names `/keys/{id}`.
    pub fn parse(text: &str) -> Option<Self> {
        let text = match text.strip_prefix('#') {
            Some(fragment) => percent_decoded(fragment),
            None => text.to_string(),
        };
        if text.is_empty() || text.starts_with('/') {
            Some(Pointer(text))
        } else {
            None
        }
    }

    /// Where a `{"$ref": "#/…"}` object points, when it is a local reference.
    pub fn of_ref(schema: &Value) -> Option<Self> {
        schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(Self::parse)
    }

    /// One allocation: the converter calls this for every key of every schema it walks.
    pub fn push(&self, segment: &str) -> Self {
        let mut out = String::with_capacity(self.0.len() + 1 + segment.len());
        out.push_str(&self.0);
        out.push('/');
        if segment.contains(['~', '/']) {
            out.push_str(&segment.replace('~', "~0").replace('/', "~1"));
        } else {
            out.push_str(segment);
        }
        Pointer(out)
    }

    pub fn index(&self, i: usize) -> Self {
        Pointer(format!("{}/{i}", self.0))
    }

    pub fn resolve<'a>(&self, root: &'a Value) -> Option<&'a Value> {
        root.pointer(&self.0)
    }

    /// The last segment, unescaped (a schema's name for `#/components/schemas/Pet`).
    pub fn last(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or("")
    }
}

/// `%XX` sequences decoded; one that is not a valid escape, or that would not leave UTF-8,
/// is kept as written (a literal `%` in a key of a hand-written spec).
fn percent_decoded(text: &str) -> String {
    if !text.contains('%') {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escape = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escape {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("/")
        } else {
            f.write_str(&self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes_and_resolves() {
        let doc = json!({"paths": {"/pet/{id}": {"get": {"x": 1}}}});
        let p = Pointer::root()
            .push("paths")
            .push("/pet/{id}")
            .push("get")
            .push("x");
        assert_eq!(p.to_string(), "/paths/~1pet~1{id}/get/x");
        assert_eq!(p.resolve(&doc), Some(&json!(1)));
        let tilde = Pointer::root().push("a~/b").push("c");
        assert_eq!(tilde.to_string(), "/a~0~1b/c");
        assert_eq!(tilde.resolve(&json!({"a~/b": {"c": 2}})), Some(&json!(2)));
        assert_eq!(
            Pointer::parse("#/paths")
                .unwrap()
                .resolve(&doc)
                .map(|v| v.is_object()),
            Some(true)
        );
        assert!(Pointer::parse("other.json#/x").is_none());
    }

    #[test]
    fn fragments_are_percent_decoded_pointers_are_not() {
        // DigitalOcean's and Codat's published specs reference parameters this way.
        let doc = json!({"paths": {"/keys/{id}": {"get": {"x": 1}}, "/100%": {"y": 2}}});
        let encoded = Pointer::parse("#/paths/~1keys~1%7Bid%7D/get/x").unwrap();
        assert_eq!(encoded.resolve(&doc), Some(&json!(1)));
        // Not a valid escape: kept as written.
        let literal = Pointer::parse("#/paths/~1100%/y").unwrap();
        assert_eq!(literal.resolve(&doc), Some(&json!(2)));
        assert_eq!(Pointer::parse("#/a%+Fb").unwrap().to_string(), "/a%+Fb");
        // A pointer (no `#`) is not a URI fragment.
        assert_eq!(Pointer::parse("/a%20b").unwrap().to_string(), "/a%20b");
    }
}
