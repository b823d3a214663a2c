//! The upstream base URL the generated server calls by default: the spec's first server.

use serde_json::Value;

use crate::warning::{Class, Warning};

pub fn default_upstream(root: &Value, warnings: &mut Vec<Warning>) -> String {
    let Some(server) = root
        .get("servers")
        .and_then(Value::as_array)
        .and_then(|s| s.first())
    else {
        warnings.push(Warning::new(
            Class::UpstreamUrl,
            "/servers",
            "none listed; set UPSTREAM_BASE_URL when running the server",
        ));
        return String::new();
    };
    let mut url = server
        .get("url")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    // Server variables take their defaults.
    if let Some(Value::Object(vars)) = server.get("variables") {
        for (name, var) in vars {
            if let Some(default) = var.get("default").and_then(Value::as_str) {
                url = url.replace(&format!("{{{name}}}"), default);
            }
        }
    }
    if !crate::load::is_url(&url) {
        warnings.push(Warning::new(
            Class::UpstreamUrl,
            "/servers/0/url",
            format!("`{url}` is not an absolute http(s) URL; set UPSTREAM_BASE_URL when running the server"),
        ));
    }
    url.trim_end_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn first_server_with_variable_defaults() {
        let mut w = Vec::new();
        let root = json!({"servers": [{"url": "https://{region}.example.com/v1/", "variables": {"region": {"default": "eu"}}}, {"url": "https://b"}]});
        assert_eq!(default_upstream(&root, &mut w), "https://eu.example.com/v1");
        assert!(w.is_empty());
    }

    #[test]
    fn missing_or_relative_servers_warn() {
        let mut w = Vec::new();
        assert_eq!(default_upstream(&json!({}), &mut w), "");
        assert_eq!(
            default_upstream(&json!({"servers": [{"url": "/v2"}]}), &mut w),
            "/v2"
        );
        assert_eq!(w.len(), 2);
    }
}
