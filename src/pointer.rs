//! JSON pointers (RFC 6901): building them for error messages and resolving local `$ref`s.

use std::fmt;

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pointer(String);

impl Pointer {
    pub fn root() -> Self {
        Pointer(String::new())
    }

    /// Parse a `#/a/b` fragment or `/a/b` pointer.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.strip_prefix('#').unwrap_or(text);
        if text.is_empty() || text.starts_with('/') {
            Some(Pointer(text.to_string()))
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

    pub fn push(&self, segment: &str) -> Self {
        let escaped = segment.replace('~', "~0").replace('/', "~1");
        Pointer(format!("{}/{escaped}", self.0))
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
        assert_eq!(
            Pointer::parse("#/paths")
                .unwrap()
                .resolve(&doc)
                .map(|v| v.is_object()),
            Some(true)
        );
        assert!(Pointer::parse("other.json#/x").is_none());
    }
}
