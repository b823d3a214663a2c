//! Reading lists of strings out of spec JSON (media types, scopes, `required`). Where the
//! document has something else, the list is empty: the structure was validated earlier, and
//! a stray non-string entry is skipped rather than failing the whole generation.

use serde_json::Value;

pub fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_of_an_array_and_nothing_otherwise() {
        assert_eq!(strings(Some(&json!(["a", 1, "b"]))), ["a", "b"]);
        assert!(strings(Some(&json!("a"))).is_empty());
        assert!(strings(None).is_empty());
    }
}
