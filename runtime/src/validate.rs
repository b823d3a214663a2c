//! JSON Schema checks of tool arguments (before any upstream call) and of JSON results
//! (so structuredContent never contradicts the advertised outputSchema). Uses the
//! `jsonschema` crate; schemas come from the catalog and are compiled at a tool's first call
//! (the MCP handler keeps them, within a bound).
//!
//! Both checks cost bounded memory whatever the instance: the arguments' shape is bounded
//! first ([`Limits`]), a valid instance is recognised without collecting anything, and only a
//! small invalid instance has every error listed (a large one reports its first error).

use std::fmt;

use jsonschema::Validator;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::catalog::ToolSpec;

/// How many violations a message lists; the rest are counted.
const MAX_LISTED: usize = 5;
/// Up to this many values, every error is collected (a few per value at most); beyond it,
/// only the first is reported, because the crate collects all of them eagerly.
const LIST_ALL_UP_TO: usize = 1_000;
/// Longest quoted error, in characters: an error may quote the whole instance.
const MAX_ERROR_CHARS: usize = 300;

pub struct ToolSchemas {
    pub input: Validator,
    pub output: Option<OutputCheck>,
}

/// The compiled `outputSchema`, and whether replies are wrapped as `{"result": …}`.
pub struct OutputCheck {
    pub validator: Validator,
    pub wrapped: bool,
}

impl ToolSchemas {
    pub fn compile(tool: &ToolSpec) -> Result<Self, String> {
        let input = compile_text(tool.input_schema)
            .map_err(|e| format!("tool `{}`: inputSchema: {e}", tool.name))?;
        let output = match tool.output {
            Some(declared) => Some(OutputCheck {
                validator: compile_output(declared.schema)
                    .map_err(|e| format!("tool `{}`: outputSchema: {e}", tool.name))?,
                wrapped: declared.wrapped,
            }),
            None => None,
        };
        Ok(Self { input, output })
    }
}

fn compile_text(text: &str) -> Result<Validator, String> {
    compile(text, false)
}

/// Replies are judged as the TypeScript SDK clients judge them, formats included (a strict
/// schema keeps them): a reply they would reject is never sent as a success.
fn compile_output(text: &str) -> Result<Validator, String> {
    compile(text, true)
}

fn compile(text: &str, formats: bool) -> Result<Validator, String> {
    let schema: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    jsonschema::options()
        .should_validate_formats(formats)
        .build(&schema)
        .map_err(|e| e.to_string())
}

/// `Ok` or a readable list of what is wrong, each with its JSON pointer.
pub fn check(validator: &Validator, instance: &Value) -> Result<(), String> {
    check_reply(validator, instance).map_err(|m| m.message)
}

/// Why an instance does not match: for the caller (the message, which quotes the data) and
/// for the log (the schema keywords that failed: the spec's words, never the data's).
pub struct Mismatch {
    pub message: String,
    pub keywords: String,
}

/// Like [`check`], with the failing schema keywords too, in one validation pass.
pub fn check_reply(validator: &Validator, instance: &Value) -> Result<(), Mismatch> {
    if validator.is_valid(instance) {
        return Ok(());
    }
    let read = |e: jsonschema::ValidationError<'_>| {
        let at = e.instance_path().to_string();
        let at = if at.is_empty() { "/".to_owned() } else { at };
        let keyword = cut(&e.schema_path().to_string());
        (format!("{at}: {}", cut(&e.to_string())), keyword)
    };
    let (errors, note) = if at_most(instance, LIST_ALL_UP_TO) {
        (validator.iter_errors(instance).map(read).collect(), "")
    } else {
        let first: Vec<_> = validator
            .validate(instance)
            .err()
            .map(read)
            .into_iter()
            .collect();
        (first, " (first error; others not listed)")
    };
    let errors: Vec<(String, String)> = errors;
    if errors.is_empty() {
        return Err(Mismatch {
            message: "does not match the schema".to_owned(),
            keywords: String::new(),
        });
    }
    let listed = |part: fn(&(String, String)) -> &String, separator: &str| {
        let mut seen: Vec<&String> = Vec::new();
        for item in &errors {
            if !seen.contains(&part(item)) {
                seen.push(part(item));
            }
        }
        let more = seen.len().saturating_sub(MAX_LISTED);
        let mut text = seen
            .into_iter()
            .take(MAX_LISTED)
            .cloned()
            .collect::<Vec<_>>()
            .join(separator);
        if more > 0 {
            text.push_str(&format!("{separator}and {more} more"));
        }
        text
    };
    Err(Mismatch {
        message: format!("{}{note}", listed(|e| &e.0, "; ")),
        keywords: listed(|e| &e.1, ", "),
    })
}

fn cut(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(MAX_ERROR_CHARS).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

/// Whether `value` holds at most `n` values (itself included); stops counting past `n`.
fn at_most(value: &Value, n: usize) -> bool {
    fn count(value: &Value, left: &mut usize) -> bool {
        if *left == 0 {
            return false;
        }
        *left -= 1;
        match value {
            Value::Array(items) => items.iter().all(|v| count(v, left)),
            Value::Object(members) => members.values().all(|v| count(v, left)),
            _ => true,
        }
    }
    let mut left = n;
    count(value, &mut left)
}

/// Bounds on the shape of tool arguments, checked before the schema (whose cost grows with
/// the instance) and, over HTTP, on the raw request before anything is built from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Nested arrays and objects, the arguments object being level 1.
    pub depth: usize,
    /// Items of one array.
    pub items: usize,
    /// Members of one object.
    pub members: usize,
    /// Bytes of one string or member name.
    pub string_bytes: usize,
    /// Values in all, containers included.
    pub values: usize,
}

/// Levels and values of the JSON-RPC envelope around the arguments
/// (`{"params": {"arguments": …}, "method", "id", "jsonrpc", …}`).
const ENVELOPE_LEVELS: usize = 2;
const ENVELOPE_VALUES: usize = 64;

impl Limits {
    pub const DEFAULT: Limits = Limits {
        depth: 32,
        items: 10_000,
        members: 1_000,
        string_bytes: 1024 * 1024,
        values: 100_000,
    };

    /// The same bounds for a whole JSON-RPC message that carries arguments `nested` levels
    /// below `params.arguments` (1 for catalog mode's `call_operation`, whose own
    /// `arguments` hold the operation's).
    pub fn for_message(self, nested: usize) -> Limits {
        Limits {
            depth: self.depth + ENVELOPE_LEVELS + nested,
            values: self.values + ENVELOPE_VALUES,
            ..self
        }
    }

    /// `Ok`, or the first place where `value` exceeds a limit.
    pub fn check(&self, value: &Value) -> Result<(), Violation> {
        self.walk(|node| node.deserialize(value))
    }

    /// Like [`Limits::check`], on JSON text, without building it. Text that is not JSON passes:
    /// whoever parses it next reports that.
    pub fn check_json(&self, text: &[u8]) -> Result<(), Violation> {
        self.walk(|node| {
            let mut deserializer = serde_json::Deserializer::from_slice(text);
            node.deserialize(&mut deserializer)
        })
    }

    fn walk<E>(&self, run: impl FnOnce(Node<'_, '_>) -> Result<(), E>) -> Result<(), Violation> {
        let mut walker = Walker {
            limits: self,
            path: Vec::new(),
            values: 0,
            violation: None,
        };
        let _ = run(Node {
            walker: &mut walker,
            level: 0,
        });
        walker.violation.map_or(Ok(()), Err)
    }
}

/// The tool error for arguments over a limit; phrased like a schema violation.
pub fn over_limit(tool: &str, violation: &Violation) -> String {
    format!("Invalid arguments for `{tool}`: {violation}")
}

/// Where a value exceeds which limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer of the offending value (`""` is the root).
    pub pointer: String,
    pub limit: Limit,
    pub max: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Depth,
    Items,
    Members,
    StringBytes,
    Values,
}

impl Violation {
    /// The pointer relative to `prefix` (a pointer itself), when the violation lies inside it.
    pub fn within(&self, prefix: &str) -> Option<Violation> {
        let rest = self.pointer.strip_prefix(prefix)?;
        (rest.is_empty() || rest.starts_with('/')).then(|| Violation {
            pointer: rest.to_owned(),
            ..self.clone()
        })
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        let max = self.max;
        match self.limit {
            Limit::Depth => write!(
                f,
                "{at}: nested deeper than {max} levels (ARGUMENT_MAX_DEPTH)"
            ),
            Limit::Items => write!(
                f,
                "{at}: array of more than {max} items (ARGUMENT_MAX_ITEMS)"
            ),
            Limit::Members => write!(
                f,
                "{at}: object of more than {max} members (ARGUMENT_MAX_MEMBERS)"
            ),
            Limit::StringBytes => write!(
                f,
                "{at}: string longer than {max} bytes (ARGUMENT_MAX_STRING_BYTES)"
            ),
            Limit::Values => write!(
                f,
                "{at}: more than {max} values in all (ARGUMENT_MAX_VALUES)"
            ),
        }
    }
}

struct Walker<'l> {
    limits: &'l Limits,
    /// Member names and item indexes down to the current value.
    path: Vec<String>,
    values: usize,
    violation: Option<Violation>,
}

impl Walker<'_> {
    /// Records the violation at the current path; the error stops the walk.
    fn exceed<E: de::Error>(&mut self, limit: Limit, max: usize) -> E {
        let pointer = self
            .path
            .iter()
            .map(|step| format!("/{}", step.replace('~', "~0").replace('/', "~1")))
            .collect();
        self.violation = Some(Violation {
            pointer,
            limit,
            max,
        });
        E::custom("argument limit exceeded")
    }

    fn count<E: de::Error>(&mut self) -> Result<(), E> {
        self.values += 1;
        if self.values > self.limits.values {
            return Err(self.exceed(Limit::Values, self.limits.values));
        }
        Ok(())
    }

    fn string<E: de::Error>(&mut self, text: &str) -> Result<(), E> {
        if text.len() > self.limits.string_bytes {
            return Err(self.exceed(Limit::StringBytes, self.limits.string_bytes));
        }
        Ok(())
    }

    fn enter<E: de::Error>(&mut self, level: usize) -> Result<usize, E> {
        self.count()?;
        if level + 1 > self.limits.depth {
            return Err(self.exceed(Limit::Depth, self.limits.depth));
        }
        Ok(level + 1)
    }
}

/// One value to walk; `level` counts the containers around it.
struct Node<'w, 'l> {
    walker: &'w mut Walker<'l>,
    level: usize,
}

impl<'de> DeserializeSeed<'de> for Node<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.walker.count()
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.walker.count()
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.walker.count()
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.walker.count()
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.walker.count()
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<(), E> {
        self.walker.count()?;
        self.walker.string(text)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let level = self.walker.enter(self.level)?;
        let mut index = 0usize;
        loop {
            self.walker.path.push(index.to_string());
            let item = seq.next_element_seed(Node {
                walker: &mut *self.walker,
                level,
            })?;
            self.walker.path.pop();
            if item.is_none() {
                return Ok(());
            }
            index += 1;
            if index > self.walker.limits.items {
                return Err(self.walker.exceed(Limit::Items, self.walker.limits.items));
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let level = self.walker.enter(self.level)?;
        let mut members = 0usize;
        while let Some(name) = map.next_key_seed(Name {
            walker: &mut *self.walker,
        })? {
            members += 1;
            if members > self.walker.limits.members {
                return Err(self
                    .walker
                    .exceed(Limit::Members, self.walker.limits.members));
            }
            self.walker.path.push(name);
            map.next_value_seed(Node {
                walker: &mut *self.walker,
                level,
            })?;
            self.walker.path.pop();
        }
        Ok(())
    }
}

/// A member name: bounded like a string, kept for the path.
struct Name<'w, 'l> {
    walker: &'w mut Walker<'l>,
}

impl<'de> DeserializeSeed<'de> for Name<'_, '_> {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Name<'_, '_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<String, E> {
        self.walker.string(text)?;
        Ok(text.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn validator(schema: Value) -> Validator {
        jsonschema::validator_for(&schema).unwrap()
    }

    #[test]
    fn replies_are_judged_with_formats_and_logged_by_schema_keyword() {
        let output = compile_output(
            r#"{"type": "object", "properties": {
                "d": {"type": "string", "format": "date-time"},
                "sessions": {"type": "object", "additionalProperties": {"type": "integer"}}
            }}"#,
        )
        .unwrap();
        assert!(check_reply(&output, &json!({"d": "2026-11-30T10:00:00Z"})).is_ok());
        let bad = check_reply(&output, &json!({"d": "yesterday"})).unwrap_err();
        assert!(bad.message.contains("/d"), "{}", bad.message);
        assert_eq!(bad.keywords, "/properties/d/format");
        // A key of the reply (here a session token) is data: the log line never names it.
        let secret =
            check_reply(&output, &json!({"sessions": {"tok-123\nFAKE LOG": "x"}})).unwrap_err();
        assert!(!secret.keywords.contains("tok-123"), "{}", secret.keywords);
        assert!(secret.message.contains("tok-123"));
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

    #[test]
    fn large_invalid_instances_report_their_first_error_briefly() {
        let v = validator(json!({
            "type": "object",
            "properties": {"body": {"type": "array", "items": {"type": "object"}}}
        }));
        let args = json!({"body": vec![0; 50_000]});
        let err = check(&v, &args).unwrap_err();
        assert!(err.starts_with("/body/0: "), "{err}");
        assert!(err.contains("first error"), "{err}");
        assert!(!err.contains("more"), "{err}");
        // An error quoting a huge instance is cut.
        let whole = validator(json!({"type": "object", "required": ["x"]}));
        let err = check(&whole, &args).unwrap_err();
        assert!(err.len() < 2 * MAX_ERROR_CHARS, "{}", err.len());
    }

    fn both(limits: &Limits, value: &Value) -> Result<(), Violation> {
        let from_text = limits.check_json(value.to_string().as_bytes());
        let from_value = limits.check(value);
        assert_eq!(from_text, from_value, "{value}");
        from_value
    }

    #[test]
    fn limits_name_the_place_and_the_limit() {
        let limits = Limits {
            depth: 3,
            items: 4,
            members: 2,
            string_bytes: 5,
            values: 20,
        };
        assert!(both(&limits, &json!({"a": [1, 2, 3, 4], "b": {"c": "12345"}})).is_ok());
        let cases = [
            (json!({"a": [1, 2, 3, 4, 5]}), "/a", Limit::Items),
            (json!({"a": 1, "b": 2, "c": 3}), "", Limit::Members),
            (
                json!({"a/b": {"~": "123456"}}),
                "/a~1b/~0",
                Limit::StringBytes,
            ),
            (json!({"long name": 1}), "", Limit::StringBytes),
            (json!({"a": [[[1]]]}), "/a/0/0", Limit::Depth),
            (
                json!({"a": [[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3]]}),
                "/a/3/2",
                Limit::Values,
            ),
        ];
        for (value, pointer, limit) in cases {
            let violation = both(&limits, &value).unwrap_err();
            assert_eq!(
                (violation.pointer.as_str(), violation.limit),
                (pointer, limit),
                "{value}"
            );
        }
        let message = both(&limits, &json!({"a": [1, 2, 3, 4, 5]}))
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "/a: array of more than 4 items (ARGUMENT_MAX_ITEMS)"
        );
    }

    #[test]
    fn messages_are_checked_without_being_built() {
        let limits = Limits::DEFAULT.for_message(0);
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"t","arguments":{{"body":[{}0]}}}}}}"#,
            "0,".repeat(Limits::DEFAULT.items)
        );
        let violation = limits.check_json(body.as_bytes()).unwrap_err();
        let inside = violation.within("/params/arguments").unwrap();
        assert_eq!(
            (inside.pointer.as_str(), inside.limit),
            ("/body", Limit::Items)
        );
        assert!(violation.within("/params/arg").is_none());
        assert!(limits.check_json(b"not json").is_ok());
        // Arguments at the limits fit in a message.
        let deep = (0..Limits::DEFAULT.depth - 1).fold(json!(1), |v, _| json!([v]));
        let message = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                             "params": {"name": "t", "arguments": {"a": deep}}});
        assert!(limits.check(&message).is_ok());
        assert!(
            Limits::DEFAULT
                .check(&message["params"]["arguments"])
                .is_ok()
        );
    }
}
