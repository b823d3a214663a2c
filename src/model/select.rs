//! What the user's configuration (`mcp-gen.toml`, flags) says about operations: which ones
//! become tools, which scopes they need when the spec is silent, and per-operation overrides.
//! The types double as the config file's sections, so they deserialize strictly.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Access, AuthMode, SchemeKind, Tool, UpstreamScheme};
use crate::warning::{Class, Warning};

/// Everything configurable about the mapping beyond auth mode, default scopes and name length.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    pub filters: Filters,
    /// Tried in order; the first that matches gives the scopes of an operation whose spec
    /// names none.
    pub scope_rules: Vec<ScopeRule>,
    /// `a` → `[b, c]`: a token holding `a` also satisfies tools that need `b` or `c`.
    /// Baked into the server as its default `SCOPE_IMPLIES`; tools keep declaring exactly
    /// the scopes they need.
    pub scope_implications: BTreeMap<String, Vec<String>>,
    /// Keyed by operationId, or by `METHOD /path` for operations without one.
    pub overrides: BTreeMap<String, Override>,
    /// Scheme name → environment variable (apiKey, bearer) or prefix (basic: `_USERNAME`,
    /// `_PASSWORD`; client credentials: `_CLIENT_ID`, `_CLIENT_SECRET`, `_TOKEN_URL`) the
    /// server reads its upstream credential from.
    pub credential_env: BTreeMap<String, String>,
}

/// Include lists are "any of" (empty: everything); exclude lists win over include lists.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filters {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include_tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include_operations: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_operations: Vec<String>,
    /// Globs over the path template: `*` within one segment, `**` across segments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include_paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include_methods: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_methods: Vec<String>,
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        *self == Filters::default()
    }
}

/// Every matcher given must match; at least one must be given (checked by the config).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub scopes: Vec<String>,
}

impl ScopeRule {
    pub fn has_matcher(&self) -> bool {
        self.tag.is_some()
            || self.method.is_some()
            || self.operation.is_some()
            || self.path.is_some()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Replaces the scopes from the spec (like `x-mcp-scopes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
}

/// The facts about one operation the rules look at.
pub struct OpFacts<'a> {
    pub op: &'a Value,
    /// Lower case, as in the document.
    pub method: &'a str,
    pub path: &'a str,
}

impl OpFacts<'_> {
    fn operation_id(&self) -> Option<&str> {
        self.op.get("operationId").and_then(Value::as_str)
    }

    fn tags(&self) -> impl Iterator<Item = &str> {
        self.op
            .get("tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    }

    /// The key of `[tools.…]` overrides: the operationId, else `METHOD /path`.
    pub fn key(&self) -> String {
        match self.operation_id() {
            Some(id) => id.to_string(),
            None => format!("{} {}", self.method.to_ascii_uppercase(), self.path),
        }
    }
}

/// Why the filters leave this operation out, if they do.
pub fn excluded(f: &Filters, facts: &OpFacts) -> Option<String> {
    let id = facts.operation_id();
    let has_tag = |list: &[String]| facts.tags().any(|t| list.iter().any(|x| x == t));
    let method_in = |list: &[String]| list.iter().any(|m| m.eq_ignore_ascii_case(facts.method));
    let path_in = |list: &[String]| list.iter().any(|g| glob(g, facts.path));
    let id_in = |list: &[String]| id.is_some_and(|id| list.iter().any(|x| x == id));
    if !f.include_tags.is_empty() && !has_tag(&f.include_tags) {
        return Some("no tag in include_tags".into());
    }
    if has_tag(&f.exclude_tags) {
        return Some("a tag in exclude_tags".into());
    }
    if !f.include_operations.is_empty() && !id_in(&f.include_operations) {
        return Some("not in include_operations".into());
    }
    if id_in(&f.exclude_operations) {
        return Some("in exclude_operations".into());
    }
    if !f.include_paths.is_empty() && !path_in(&f.include_paths) {
        return Some("path not in include_paths".into());
    }
    if path_in(&f.exclude_paths) {
        return Some("path in exclude_paths".into());
    }
    if !f.include_methods.is_empty() && !method_in(&f.include_methods) {
        return Some("method not in include_methods".into());
    }
    if method_in(&f.exclude_methods) {
        return Some("method in exclude_methods".into());
    }
    None
}

/// The config's name for this operation's tool, if it gives one.
pub fn configured_name<'a>(s: &'a Selection, facts: &OpFacts) -> Option<&'a str> {
    s.overrides.get(&facts.key())?.name.as_deref()
}

/// Config scopes on top of what the spec said. `defaulted`: the spec named no scopes, so the
/// tool got the default ones and the scope rules may replace them. An override's scopes
/// protect even an anonymous operation, as `x-mcp-scopes` does.
pub fn refine_access(
    s: &Selection,
    facts: &OpFacts,
    auth: AuthMode,
    defaulted: bool,
    access: &mut Access,
) {
    let fixed = s.overrides.get(&facts.key()).and_then(|o| o.scopes.clone());
    if let (Some(fixed), AuthMode::OAuth2) = (&fixed, auth) {
        access.oauth2 = Some(fixed.clone());
    }
    let Some(scopes) = access.oauth2.as_mut() else {
        return;
    };
    if fixed.is_none() && defaulted {
        if let Some(rule) = s.scope_rules.iter().find(|r| rule_matches(r, facts)) {
            *scopes = rule.scopes.clone();
        }
    }
}

/// Title and description overrides, applied after the tool is built.
pub fn apply_text_overrides(s: &Selection, facts: &OpFacts, tool: &mut Tool) {
    let Some(o) = s.overrides.get(&facts.key()) else {
        return;
    };
    if let Some(title) = &o.title {
        tool.title = Some(title.clone());
    }
    if let Some(description) = &o.description {
        tool.description = description.clone();
    }
}

/// Environment variable names the config chose for upstream credentials.
pub fn rename_credentials(s: &Selection, schemes: &mut [UpstreamScheme]) {
    for scheme in schemes {
        let Some(env) = s.credential_env.get(&scheme.name) else {
            continue;
        };
        match &mut scheme.kind {
            SchemeKind::ApiKey { env: e, .. } | SchemeKind::Bearer { env: e } => *e = env.clone(),
            SchemeKind::Basic {
                username_env,
                password_env,
            } => {
                *username_env = format!("{env}_USERNAME");
                *password_env = format!("{env}_PASSWORD");
            }
            SchemeKind::ClientCredentials {
                token_url_env,
                client_id_env,
                client_secret_env,
                ..
            } => {
                *token_url_env = format!("{env}_TOKEN_URL");
                *client_id_env = format!("{env}_CLIENT_ID");
                *client_secret_env = format!("{env}_CLIENT_SECRET");
            }
            // The caller's token: no variable of its own to rename.
            SchemeKind::TokenExchange | SchemeKind::Passthrough => {}
        }
    }
}

/// Override keys and credential names that match nothing: almost always a typo.
pub fn unused(
    s: &Selection,
    seen_keys: &BTreeSet<String>,
    schemes: &[UpstreamScheme],
) -> Vec<Warning> {
    let unused = |message: String| Warning::new(Class::UnusedConfig, "config", message);
    let mut out: Vec<Warning> = s
        .overrides
        .keys()
        .filter(|k| !seen_keys.contains(*k))
        .map(|k| unused(format!("[tools.\"{k}\"] matches no operation")))
        .collect();
    out.extend(
        s.credential_env
            .keys()
            .filter(|k| !schemes.iter().any(|u| &u.name == *k))
            .map(|k| {
                unused(format!(
                    "[credentials.\"{k}\"] matches no upstream credential in use"
                ))
            }),
    );
    out
}

fn rule_matches(r: &ScopeRule, facts: &OpFacts) -> bool {
    r.tag.as_ref().is_none_or(|t| facts.tags().any(|x| x == t))
        && r.method
            .as_ref()
            .is_none_or(|m| m.eq_ignore_ascii_case(facts.method))
        && r.operation
            .as_ref()
            .is_none_or(|o| facts.operation_id() == Some(o.as_str()))
        && r.path.as_ref().is_none_or(|g| glob(g, facts.path))
}

/// `*` matches within one path segment, `**` across segments, `?` one character.
pub fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match p {
            [] => t.is_empty(),
            [b'*', b'*', rest @ ..] => (0..=t.len()).any(|i| go(rest, &t[i..])),
            [b'*', rest @ ..] => {
                let segment = t.iter().position(|&c| c == b'/').unwrap_or(t.len());
                (0..=segment).any(|i| go(rest, &t[i..]))
            }
            [b'?', rest @ ..] => matches!(t, [c, ..] if *c != b'/') && go(rest, &t[1..]),
            [c, rest @ ..] => t.first() == Some(c) && go(rest, &t[1..]),
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn facts<'a>(op: &'a Value, method: &'a str, path: &'a str) -> OpFacts<'a> {
        OpFacts { op, method, path }
    }

    #[test]
    fn globs_respect_segments() {
        assert!(glob("/pets/*", "/pets/{petId}"));
        assert!(!glob("/pets/*", "/pets/{petId}/photos"));
        assert!(glob("/pets/**", "/pets/{petId}/photos"));
        assert!(glob("/store/?rder", "/store/order"));
        assert!(!glob("/store", "/store/order"));
    }

    #[test]
    fn filters_include_then_exclude() {
        let op = json!({"operationId": "getPet", "tags": ["pet"]});
        let f = facts(&op, "get", "/pet/{id}");
        let mut filters = Filters {
            include_tags: vec!["pet".into()],
            ..Filters::default()
        };
        assert_eq!(excluded(&filters, &f), None);
        filters.exclude_methods = vec!["GET".into()];
        assert_eq!(
            excluded(&filters, &f).as_deref(),
            Some("method in exclude_methods")
        );
        let filters = Filters {
            include_tags: vec!["store".into()],
            ..Filters::default()
        };
        assert!(excluded(&filters, &f).is_some());
    }

    #[test]
    fn rules_fill_only_defaulted_scopes() {
        let op = json!({"operationId": "deletePet", "tags": ["pet"]});
        let f = facts(&op, "delete", "/pet/{id}");
        let s = Selection {
            scope_rules: vec![
                ScopeRule {
                    tag: Some("store".into()),
                    scopes: vec!["store".into()],
                    ..ScopeRule::default()
                },
                ScopeRule {
                    tag: Some("pet".into()),
                    method: Some("DELETE".into()),
                    scopes: vec!["pets:admin".into()],
                    ..ScopeRule::default()
                },
            ],
            scope_implications: BTreeMap::from([(
                "pets:admin".to_string(),
                vec!["pets:write".to_string()],
            )]),
            ..Selection::default()
        };
        let mut access = Access {
            anonymous: false,
            oauth2: Some(vec![]),
        };
        refine_access(&s, &f, AuthMode::OAuth2, true, &mut access);
        // Implications do not widen what a tool asks for; the server applies them to tokens.
        assert_eq!(access.oauth2, Some(vec!["pets:admin".to_string()]));
        let mut from_spec = Access {
            anonymous: false,
            oauth2: Some(vec!["x".into()]),
        };
        refine_access(&s, &f, AuthMode::OAuth2, false, &mut from_spec);
        assert_eq!(from_spec.oauth2, Some(vec!["x".to_string()]));
        let mut noauth = Access {
            anonymous: true,
            oauth2: None,
        };
        refine_access(&s, &f, AuthMode::OAuth2, true, &mut noauth);
        assert_eq!(noauth.oauth2, None);
    }

    #[test]
    fn override_keys_fall_back_to_method_and_path() {
        let op = json!({});
        assert_eq!(facts(&op, "get", "/a/{b}").key(), "GET /a/{b}");
    }
}
