//! A finished JSON Schema as the model keeps it: its compact JSON text, shared.
//!
//! As `serde_json::Value` trees, MS Graph's 11,422 input and output schemas took over 500 MB
//! (an object member costs several times its text), and each output schema was copied into
//! every tool that shares it. Once a tool's schema is final it is frozen into the text every
//! later stage writes anyway (`schemas.rs`, listings, `inspect`), byte for byte what
//! `serde_json::to_string` gives.

use std::fmt;
use std::sync::Arc;

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;

#[derive(Clone)]
pub struct SchemaJson(Arc<RawValue>);

impl SchemaJson {
    pub fn new(value: &Value) -> Self {
        // Serializing a Value cannot fail (its keys are strings), and what serde_json writes
        // is valid JSON.
        let text = serde_json::to_string(value).unwrap_or_else(|_| "{}".to_owned());
        let raw = RawValue::from_string(text).unwrap_or_else(|_| empty());
        SchemaJson(Arc::from(raw))
    }

    /// The compact JSON text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// The schema as a tree again, for the few readers that look inside it.
    pub fn to_value(&self) -> Value {
        serde_json::from_str(self.as_str()).unwrap_or(Value::Null)
    }
}

fn empty() -> Box<RawValue> {
    RawValue::from_string("{}".to_owned()).expect("`{}` is JSON")
}

/// Written as the text it is, without parsing it again.
impl Serialize for SchemaJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl PartialEq for SchemaJson {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl fmt::Debug for SchemaJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn it_reads_and_writes_as_the_value_would() {
        let value = json!({"type": "object", "properties": {"b": {"type": "string"}, "a": {}}});
        let schema = SchemaJson::new(&value);
        assert_eq!(schema.as_str(), serde_json::to_string(&value).unwrap());
        assert_eq!(schema.to_value(), value);
        let entry = json!({"inputSchema": schema.clone()});
        assert_eq!(entry["inputSchema"], value);
        assert_eq!(
            serde_json::to_string(&[&schema]).unwrap(),
            format!("[{}]", schema.as_str())
        );
    }
}
