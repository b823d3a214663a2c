//! JSON Schema checks of tool arguments (before any upstream call) and of JSON results
//! (so structuredContent never contradicts the advertised outputSchema). Uses the
//! `jsonschema` crate; schemas come from the catalog and are compiled once at startup.

use jsonschema::Validator;
use serde_json::Value;

use crate::catalog::ToolSpec;

/// How many violations a message lists; the rest are counted.
const MAX_LISTED: usize = 5;

pub struct ToolSchemas {
    pub input: Validator,
    pub output: Option<Validator>,
}

impl ToolSchemas {
    pub fn compile(tool: &ToolSpec) -> Result<Self, String> {
        let input = compile_text(tool.input_schema)
            .map_err(|e| format!("tool `{}`: inputSchema: {e}", tool.name))?;
        let output = match tool.output_schema {
            Some(text) => Some(
                compile_text(text)
                    .map_err(|e| format!("tool `{}`: outputSchema: {e}", tool.name))?,
            ),
            None => None,
        };
        Ok(Self { input, output })
    }
}

fn compile_text(text: &str) -> Result<Validator, String> {
    let schema: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    jsonschema::validator_for(&schema).map_err(|e| e.to_string())
}

/// `Ok` or a readable list of what is wrong, each with its JSON pointer.
pub fn check(validator: &Validator, instance: &Value) -> Result<(), String> {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| {
            let at = e.instance_path().to_string();
            let at = if at.is_empty() { "/".to_owned() } else { at };
            format!("{at}: {e}")
        })
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    let mut message = errors
        .iter()
        .take(MAX_LISTED)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if errors.len() > MAX_LISTED {
        message.push_str(&format!("; and {} more", errors.len() - MAX_LISTED));
    }
    Err(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn validator(schema: Value) -> Validator {
        jsonschema::validator_for(&schema).unwrap()
    }

    #[test]
    fn reports_missing_and_mistyped_arguments() {
        let v = validator(json!({
            "type": "object",
            "properties": {"petId": {"type": "integer"}, "name": {"type": "string"}},
            "required": ["petId"]
        }));
        assert!(check(&v, &json!({"petId": 3})).is_ok());
        let err = check(&v, &json!({"name": 5})).unwrap_err();
        assert!(err.contains("petId"), "{err}");
        assert!(err.contains("/name"), "{err}");
        assert!(check(&v, &json!([1])).is_err());
    }

    #[test]
    fn long_lists_are_cut() {
        let v = validator(json!({"type": "object", "additionalProperties": {"type": "integer"}}));
        let args: serde_json::Map<String, Value> =
            (0..9).map(|i| (format!("k{i}"), json!("x"))).collect();
        let err = check(&v, &Value::Object(args)).unwrap_err();
        assert!(err.ends_with("and 4 more"), "{err}");
    }
}
