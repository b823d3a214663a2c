//! Per-tool security (ARCHITECTURE.md, Access) and upstream credentials (ARCHITECTURE.md, Upstream
//! credentials).
//!
//! oauth2/openIdConnect schemes describe what MCP clients must present; apiKey and http
//! schemes describe the credential the generated server itself sends upstream. An operation
//! guarded only by upstream credentials still needs a token on the MCP side, so the
//! server's own credential is never spent on anonymous callers.
//!
//! The rule for oauth2 (ARCHITECTURE.md, Upstream credentials): a scheme whose only flow is
//! `clientCredentials` names no user, so it is the server's own upstream credential (token fetched
//! by the server). Any other oauth2/openIdConnect scheme is the user's, the MCP side; what reaches
//! the upstream for it is chosen by `--upstream-auth`: nothing (`env`, the default), an RFC 8693
//! token-exchange result (`token-exchange`), or the caller's token as is (`passthrough`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use serde_json::Value;

use super::{deref, naming, Access, Location, SchemeKind, Tool, UpstreamScheme};
use crate::error::{Error, Result};
use crate::json;
use crate::pointer::Pointer;
use crate::warning::{Class as WarningClass, Warning};

/// How MCP clients authenticate (`--auth`, `auth` in mcp-gen.toml).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    #[default]
    #[value(name = "oauth2")]
    OAuth2,
    None,
}

/// What goes upstream for operations secured by the user's oauth2/openIdConnect schemes
/// (`--upstream-auth`, `upstream_auth` in mcp-gen.toml).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum UpstreamAuth {
    /// Only credentials from the server's environment (apiKey, http, client credentials).
    #[default]
    Env,
    /// The caller's token exchanged at the authorization server (RFC 8693).
    TokenExchange,
    /// The caller's token forwarded unchanged (forbidden by the MCP spec unless opted in).
    Passthrough,
}

impl UpstreamAuth {
    pub fn as_str(self) -> &'static str {
        match self {
            UpstreamAuth::Env => "env",
            UpstreamAuth::TokenExchange => "token-exchange",
            UpstreamAuth::Passthrough => "passthrough",
        }
    }
}

#[derive(Debug, Clone)]
enum Class {
    /// A token the MCP client obtains from the authorization server; `upstream` is what the
    /// server sends upstream for it, per `--upstream-auth`.
    Mcp { upstream: Option<SchemeKind> },
    /// A credential the generated server holds for the upstream API.
    Upstream(SchemeKind),
    /// Understood by nobody here (digest auth, mutual TLS, …).
    Unsupported(String),
}

#[derive(Debug)]
pub struct Schemes {
    classes: BTreeMap<String, Class>,
    auth: AuthMode,
    default_scopes: Vec<String>,
    /// Scopes operations require of each client-credentials scheme: the server asks for
    /// their union, not every scope the flow declares.
    /// A Mutex: operations are mapped on several threads (the union is the same in any order).
    cc_scopes: Mutex<BTreeMap<String, BTreeSet<String>>>,
}

/// What the security requirements of one operation mean for its tool.
#[derive(Debug, PartialEq)]
pub struct Resolved {
    pub access: Access,
    pub credentials: Vec<Vec<String>>,
    /// The spec named no scopes, so config scope rules may fill them in.
    pub scopes_defaulted: bool,
}

impl Schemes {
    pub fn read(
        root: &Value,
        options: &super::Options,
        warnings: &mut Vec<Warning>,
    ) -> Result<Self> {
        let at = Pointer::root().push("components").push("securitySchemes");
        let mut raw = Vec::new();
        if let Some(Value::Object(map)) = at.resolve(root) {
            for (name, scheme) in map {
                let (scheme, _) = deref(root, scheme, &at.push(name))?;
                raw.push((name.clone(), scheme));
            }
        }
        let api_keys = raw.iter().filter(|(_, s)| kind(s) == "apiKey").count();
        if options.auth == AuthMode::None && options.upstream_auth != UpstreamAuth::Env {
            return Err(Error::Usage(format!(
                "--upstream-auth {} acts as the signed-in caller, which needs --auth oauth2",
                options.upstream_auth.as_str()
            )));
        }
        let mut classes = BTreeMap::new();
        for (name, scheme) in raw {
            let class = classify(&name, scheme, api_keys == 1, options.upstream_auth);
            if let Class::Unsupported(reason) = &class {
                warnings.push(Warning::new(
                    WarningClass::UnsupportedScheme,
                    at.push(&name),
                    format!("{reason}; operations needing only it get no upstream credential"),
                ));
            }
            classes.insert(name, class);
        }
        Ok(Schemes {
            classes,
            auth: options.auth,
            default_scopes: options.default_scopes.clone(),
            cc_scopes: Mutex::default(),
        })
    }

    /// The access rule and upstream credentials of the operation at `op_at`.
    pub fn resolve(
        &self,
        root: &Value,
        op: &Value,
        op_at: &Pointer,
        warnings: &mut Vec<Warning>,
    ) -> Result<Resolved> {
        let (requirements, req_at) = match op.get("security") {
            Some(r) => (r, op_at.push("security")),
            None => (
                root.get("security").unwrap_or(&Value::Null),
                Pointer::root().push("security"),
            ),
        };
        let requirements = match requirements {
            Value::Null => &[][..],
            Value::Array(list) => list.as_slice(),
            _ => {
                return Err(Error::spec(
                    req_at.to_string(),
                    "`security` must be an array",
                ))
            }
        };

        let mut anonymous = requirements.is_empty();
        let mut needs_token = false;
        let mut oauth_scopes: Option<Vec<String>> = None;
        let mut credentials = Vec::new();
        for (i, requirement) in requirements.iter().enumerate() {
            let Value::Object(requirement) = requirement else {
                return Err(Error::spec(
                    req_at.index(i).to_string(),
                    "a security requirement must be an object",
                ));
            };
            if requirement.is_empty() {
                anonymous = true;
                continue;
            }
            needs_token = true;
            let mut upstream = Vec::new();
            for (name, scopes) in requirement {
                match self.classes.get(name) {
                    Some(Class::Mcp { upstream: acting }) => {
                        let scopes = json::strings(Some(scopes));
                        oauth_scopes.get_or_insert_with(|| dedup(scopes));
                        if acting.is_some() {
                            upstream.push(name.clone());
                        }
                    }
                    Some(Class::Upstream(SchemeKind::ClientCredentials { .. })) => {
                        self.cc_scopes
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .entry(name.clone())
                            .or_default()
                            .extend(json::strings(Some(scopes)));
                        upstream.push(name.clone());
                    }
                    Some(Class::Upstream(_)) => upstream.push(name.clone()),
                    Some(Class::Unsupported(_)) => {}
                    None => warnings.push(Warning::new(
                        WarningClass::UndefinedScheme,
                        req_at.index(i).push(name),
                        format!("security scheme `{name}` is not defined in components.securitySchemes; ignored"),
                    )),
                }
            }
            if !upstream.is_empty() && !credentials.contains(&upstream) {
                credentials.push(upstream);
            }
        }

        if let Some(scopes) = op.get("x-mcp-scopes") {
            if !scopes
                .as_array()
                .is_some_and(|l| l.iter().all(Value::is_string))
            {
                return Err(Error::spec(
                    op_at.push("x-mcp-scopes").to_string(),
                    "must be an array of strings",
                ));
            }
            oauth_scopes = Some(dedup(json::strings(Some(scopes))));
            needs_token = true;
        }

        let scopes_defaulted = oauth_scopes.is_none();
        let access = match self.auth {
            AuthMode::None => Access {
                anonymous: true,
                oauth2: None,
            },
            AuthMode::OAuth2 if !needs_token => Access {
                anonymous: true,
                oauth2: None,
            },
            AuthMode::OAuth2 => Access {
                anonymous,
                oauth2: Some(oauth_scopes.unwrap_or_else(|| self.default_scopes.clone())),
            },
        };
        Ok(Resolved {
            access,
            credentials,
            scopes_defaulted,
        })
    }

    /// The upstream schemes some tool uses, in name order.
    pub fn used(&self, tools: &[Tool]) -> Vec<UpstreamScheme> {
        let names: BTreeSet<&str> = tools
            .iter()
            .flat_map(|t| t.http.credentials.iter().flatten())
            .map(String::as_str)
            .collect();
        names
            .into_iter()
            .filter_map(|name| match self.classes.get(name) {
                Some(Class::Upstream(SchemeKind::ClientCredentials {
                    token_url,
                    token_url_env,
                    client_id_env,
                    client_secret_env,
                    ..
                })) => Some(UpstreamScheme {
                    name: name.to_string(),
                    kind: SchemeKind::ClientCredentials {
                        token_url: token_url.clone(),
                        token_url_env: token_url_env.clone(),
                        client_id_env: client_id_env.clone(),
                        client_secret_env: client_secret_env.clone(),
                        scopes: self
                            .cc_scopes
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .get(name)
                            .map(|s| s.iter().cloned().collect())
                            .unwrap_or_default(),
                    },
                }),
                Some(Class::Upstream(kind))
                | Some(Class::Mcp {
                    upstream: Some(kind),
                }) => Some(UpstreamScheme {
                    name: name.to_string(),
                    kind: kind.clone(),
                }),
                _ => None,
            })
            .collect()
    }

    /// The wire place an upstream scheme fills, so a tool does not also take it as an argument.
    pub fn fills(&self, scheme: &str) -> Option<(Location, String)> {
        match self.classes.get(scheme) {
            Some(Class::Upstream(SchemeKind::ApiKey {
                location, param, ..
            })) => Some((*location, param.clone())),
            Some(Class::Upstream(_)) | Some(Class::Mcp { upstream: Some(_) }) => {
                Some((Location::Header, "Authorization".to_string()))
            }
            _ => None,
        }
    }
}

fn kind(scheme: &Value) -> &str {
    scheme.get("type").and_then(Value::as_str).unwrap_or("")
}

fn classify(name: &str, scheme: &Value, sole_api_key: bool, user: UpstreamAuth) -> Class {
    let stem = naming::env_stem(name);
    let acting = match user {
        UpstreamAuth::Env => None,
        UpstreamAuth::TokenExchange => Some(SchemeKind::TokenExchange),
        UpstreamAuth::Passthrough => Some(SchemeKind::Passthrough),
    };
    match kind(scheme) {
        "oauth2" => match client_credentials_only(scheme) {
            Some(token_url) => Class::Upstream(SchemeKind::ClientCredentials {
                token_url,
                token_url_env: format!("{stem}_TOKEN_URL"),
                client_id_env: format!("{stem}_CLIENT_ID"),
                client_secret_env: format!("{stem}_CLIENT_SECRET"),
                scopes: Vec::new(),
            }),
            None => Class::Mcp { upstream: acting },
        },
        "openIdConnect" => Class::Mcp { upstream: acting },
        "apiKey" => {
            let location = scheme
                .get("in")
                .and_then(Value::as_str)
                .and_then(Location::parse);
            let param = scheme
                .get("name")
                .and_then(Value::as_str)
                .filter(|p| !p.is_empty());
            match (location, param) {
                (Some(location), Some(param)) if location != Location::Path => {
                    Class::Upstream(SchemeKind::ApiKey {
                        location,
                        param: param.to_string(),
                        env: if sole_api_key {
                            "UPSTREAM_API_KEY".into()
                        } else {
                            format!("{stem}_API_KEY")
                        },
                    })
                }
                _ => Class::Unsupported("apiKey scheme without a valid `in` and `name`".into()),
            }
        }
        "http" => match scheme
            .get("scheme")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("bearer") => Class::Upstream(SchemeKind::Bearer {
                env: format!("{stem}_TOKEN"),
            }),
            Some("basic") => Class::Upstream(SchemeKind::Basic {
                username_env: format!("{stem}_USERNAME"),
                password_env: format!("{stem}_PASSWORD"),
            }),
            other => Class::Unsupported(format!(
                "http scheme `{}` is not supported",
                other.unwrap_or("")
            )),
        },
        other => Class::Unsupported(format!("security scheme type `{other}` is not supported")),
    }
}

/// The `tokenUrl` of an oauth2 scheme whose one and only flow is `clientCredentials` (it
/// may be empty or relative; the generated server then needs `<SCHEME>_TOKEN_URL`).
fn client_credentials_only(scheme: &Value) -> Option<String> {
    let flows = scheme.get("flows")?.as_object()?;
    if flows.len() != 1 {
        return None;
    }
    let flow = flows.get("clientCredentials")?;
    Some(
        flow.get("tokenUrl")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    )
}

fn dedup(list: Vec<String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    list.into_iter()
        .filter(|s| seen.insert(s.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::Options;
    use super::*;
    use serde_json::json;

    fn spec() -> Value {
        json!({
            "components": {"securitySchemes": {
                "oauth": {"type": "oauth2", "flows": {}},
                "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
                "basic": {"type": "http", "scheme": "Basic"},
                "digest": {"type": "http", "scheme": "digest"}
            }}
        })
    }

    fn resolve(op: Value, options: &Options) -> Resolved {
        let root = spec();
        let mut w = Vec::new();
        let schemes = Schemes::read(&root, options, &mut w).unwrap();
        schemes
            .resolve(&root, &op, &Pointer::root(), &mut w)
            .unwrap()
    }

    #[test]
    fn oauth_requirement_gives_its_scopes() {
        let r = resolve(
            json!({"security": [{"oauth": ["write:pets", "read:pets"]}]}),
            &Options::default(),
        );
        assert_eq!(
            r.access,
            Access {
                anonymous: false,
                oauth2: Some(vec!["write:pets".into(), "read:pets".into()])
            }
        );
        assert!(r.credentials.is_empty());
        assert_eq!(
            r.access.security_schemes(),
            json!([{"type": "oauth2", "scopes": ["write:pets", "read:pets"]}])
        );
    }

    #[test]
    fn no_security_is_noauth() {
        let r = resolve(json!({}), &Options::default());
        assert_eq!(
            r.access,
            Access {
                anonymous: true,
                oauth2: None
            }
        );
        assert_eq!(r.access.security_schemes(), json!([{"type": "noauth"}]));
    }

    #[test]
    fn empty_alternative_makes_it_mixed() {
        let r = resolve(
            json!({"security": [{}, {"oauth": ["read"]}]}),
            &Options::default(),
        );
        assert_eq!(
            r.access.security_schemes(),
            json!([{"type": "noauth"}, {"type": "oauth2", "scopes": ["read"]}])
        );
    }

    #[test]
    fn optional_upstream_credential_at_the_root_is_mixed_and_keeps_the_credential() {
        // `security: [{}, {key: []}]` at the document root applies to every operation without
        // its own: anonymous callers are allowed (and the runtime sends them no key); the key
        // alternative needs a token with the default scopes.
        let mut root = spec();
        root["security"] = json!([{}, {"key": []}]);
        let options = Options {
            default_scopes: vec!["api".into()],
            ..Options::default()
        };
        let mut w = Vec::new();
        let schemes = Schemes::read(&root, &options, &mut w).unwrap();
        let r = schemes
            .resolve(&root, &json!({}), &Pointer::root(), &mut w)
            .unwrap();
        assert_eq!(
            r.access,
            Access {
                anonymous: true,
                oauth2: Some(vec!["api".into()])
            }
        );
        assert_eq!(r.credentials, vec![vec!["key".to_string()]]);
    }

    #[test]
    fn upstream_only_requirement_still_needs_a_token_with_default_scopes() {
        let options = Options {
            default_scopes: vec!["api".into()],
            ..Options::default()
        };
        let r = resolve(json!({"security": [{"key": []}]}), &options);
        assert_eq!(
            r.access,
            Access {
                anonymous: false,
                oauth2: Some(vec!["api".into()])
            }
        );
        assert_eq!(r.credentials, vec![vec!["key".to_string()]]);
    }

    #[test]
    fn auth_none_makes_everything_anonymous_but_keeps_upstream_credentials() {
        let options = Options {
            auth: AuthMode::None,
            ..Options::default()
        };
        let r = resolve(json!({"security": [{"oauth": ["a"], "key": []}]}), &options);
        assert_eq!(
            r.access,
            Access {
                anonymous: true,
                oauth2: None
            }
        );
        assert_eq!(r.credentials, vec![vec!["key".to_string()]]);
    }

    #[test]
    fn x_mcp_scopes_override() {
        let r = resolve(
            json!({"security": [{"oauth": ["a"]}], "x-mcp-scopes": ["b", "b"]}),
            &Options::default(),
        );
        assert_eq!(r.access.oauth2, Some(vec!["b".to_string()]));
    }

    #[test]
    fn sole_api_key_uses_the_shorthand_env_name() {
        let mut w = Vec::new();
        let root = spec();
        let s = Schemes::read(&root, &Options::default(), &mut w).unwrap();
        assert!(
            matches!(s.classes.get("key"), Some(Class::Upstream(SchemeKind::ApiKey { env, .. })) if env == "UPSTREAM_API_KEY")
        );
        assert!(
            matches!(s.classes.get("basic"), Some(Class::Upstream(SchemeKind::Basic { username_env, .. })) if username_env == "BASIC_USERNAME")
        );
        assert_eq!(w.len(), 1, "{w:?}");
    }

    #[test]
    fn client_credentials_only_oauth2_is_the_servers_own_credential() {
        let root = json!({"components": {"securitySchemes": {
            "svc": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "https://as.example/token", "scopes": {"a": "", "b": ""}}}},
            "user": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "/t"}, "authorizationCode": {}}}
        }}});
        let mut w = Vec::new();
        let s = Schemes::read(&root, &Options::default(), &mut w).unwrap();
        let op = json!({"security": [{"svc": ["b"]}]});
        let r = s.resolve(&root, &op, &Pointer::root(), &mut w).unwrap();
        assert_eq!(r.credentials, vec![vec!["svc".to_string()]]);
        assert!(
            !r.access.anonymous,
            "the server's token is never spent on anonymous callers"
        );
        let tool_op = json!({"security": [{"user": ["x"]}]});
        let user = s
            .resolve(&root, &tool_op, &Pointer::root(), &mut w)
            .unwrap();
        assert!(user.credentials.is_empty(), "a user flow is the MCP side");
        assert_eq!(user.access.oauth2, Some(vec!["x".to_string()]));
        let fills = s.fills("svc");
        assert_eq!(fills, Some((Location::Header, "Authorization".to_string())));
        assert!(
            matches!(s.classes.get("svc"), Some(Class::Upstream(SchemeKind::ClientCredentials { token_url, client_id_env, token_url_env, .. }))
            if token_url == "https://as.example/token" && client_id_env == "SVC_CLIENT_ID" && token_url_env == "SVC_TOKEN_URL")
        );
    }

    #[test]
    fn upstream_auth_token_exchange_sends_the_user_scheme_upstream() {
        let options = Options {
            upstream_auth: UpstreamAuth::TokenExchange,
            ..Options::default()
        };
        let r = resolve(
            json!({"security": [{"oauth": ["a"]}, {"key": []}]}),
            &options,
        );
        assert_eq!(
            r.credentials,
            vec![vec!["oauth".to_string()], vec!["key".to_string()]]
        );
        let plain = resolve(json!({"security": [{"oauth": ["a"]}]}), &Options::default());
        assert!(
            plain.credentials.is_empty(),
            "default: the client's token never goes upstream"
        );
        let none = Options {
            auth: AuthMode::None,
            upstream_auth: UpstreamAuth::Passthrough,
            ..Options::default()
        };
        let err = Schemes::read(&spec(), &none, &mut Vec::new()).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn undefined_scheme_is_a_warning_and_keeps_the_tool_protected() {
        let root = spec();
        let mut w = Vec::new();
        let s = Schemes::read(&root, &Options::default(), &mut w).unwrap();
        w.clear();
        let r = s
            .resolve(
                &root,
                &json!({"security": [{"ghost": []}]}),
                &Pointer::root(),
                &mut w,
            )
            .unwrap();
        assert!(!r.access.anonymous);
        assert_eq!(w.len(), 1);
    }
}
