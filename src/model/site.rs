//! Where an operation sits in the document, and how its defects are told: the helpers the
//! parts of an operation's mapping share.

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::pointer::Pointer;
use crate::warning::{Class, Warning};

/// Where an operation sits in the document.
pub struct Site<'a> {
    pub root: &'a Value,
    pub path: &'a str,
    pub method: &'a str,
    pub item: &'a Value,
    pub op: &'a Value,
    pub at: &'a Pointer,
}

/// `GET /pets/{id}`: how warnings name an operation whose tool may not exist.
pub(super) fn operation_label(site: &Site) -> String {
    format!("{} {}", site.method.to_ascii_uppercase(), site.path)
}

/// The schema of an argument whose schema in the spec cannot be read: any value is accepted,
/// and the description says why (clients show it to the model).
pub(super) fn untyped(
    site: &Site,
    what: &str,
    e: Error,
    warnings: &mut Vec<Warning>,
) -> Result<Value> {
    let Error::Spec { location, message } = e else {
        return Err(e);
    };
    warnings.push(Warning::new(
        Class::UntypedArgument,
        &location,
        format!(
            "{message}; {what} of {} takes any value",
            operation_label(site)
        ),
    ));
    Ok(json!({
        "description": format!("Any value: the API description's schema for this cannot be read ({message}).")
    }))
}

pub(super) fn text(value: &Value, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// Converter errors start with the pointer of the bad keyword: that is the location.
pub(super) fn schema_error(at: &Pointer, e: String) -> Error {
    match e.split_once(": ") {
        Some((place, message)) if place.starts_with('/') => Error::spec(place, message),
        _ => Error::spec(at.to_string(), e),
    }
}
