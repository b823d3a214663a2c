//! The upstream API's own credentials (ARCHITECTURE.md, Upstream credentials), read from the
//! environment at startup, and the caller's identity upstream (token exchange, or pass-through when
//! opted in). Secrets never reach a log line: `Debug` is written by hand and errors name variables
//! only.

use std::collections::HashMap;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::catalog::{Catalog, Location, SchemeKind, UpstreamScheme};
use crate::upstream::error::UpstreamError;
use crate::upstream::tokens::{self, ClientCredentials, Endpoint, Exchanger};

/// Where one credential goes on the upstream request.
#[derive(Clone, PartialEq)]
pub enum Placement {
    Header(String, String),
    Query(String, String),
    Cookie(String, String),
}

impl fmt::Debug for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, name) = match self {
            Placement::Header(n, _) => ("header", n),
            Placement::Query(n, _) => ("query", n),
            Placement::Cookie(n, _) => ("cookie", n),
        };
        write!(f, "{kind} {name}: <redacted>")
    }
}

/// The caller's validated MCP access token, which the gate keeps out of the headers and
/// hands over here. Used only by schemes that act as the caller; `Debug` never shows it.
#[derive(Clone)]
pub struct CallerToken(String);

impl CallerToken {
    pub fn new(token: &str) -> Self {
        Self(token.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for CallerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallerToken(<redacted>)")
    }
}

/// Which of an operation's credential alternatives one call may use. `Debug` is not derived:
/// it would show the caller's token.
#[derive(Clone, Copy)]
pub enum Grant<'a> {
    /// Any alternative. `caller` is the validated MCP token, for schemes acting as the caller.
    Entitled { caller: Option<&'a str> },
    /// Only the empty alternative `{}` of a tool that works without credentials: neither the
    /// server's credentials nor anything acting as the caller.
    Anonymous,
}

impl<'a> Grant<'a> {
    /// The caller's validated token, when the grant lets schemes act as the caller.
    pub fn caller(&self) -> Option<&'a str> {
        match self {
            Grant::Entitled { caller } => *caller,
            Grant::Anonymous => None,
        }
    }
}

enum Secret {
    Static(Placement),
    ClientCredentials(ClientCredentials),
    Exchange(Exchanger),
    Passthrough,
    /// Not configured: the environment variables that are missing.
    Missing(Vec<&'static str>),
}

impl Secret {
    /// Needs the caller's own (validated) MCP token.
    fn acts_as_caller(&self) -> bool {
        matches!(self, Secret::Exchange(_) | Secret::Passthrough)
    }
}

pub struct Credentials {
    schemes: HashMap<&'static str, Secret>,
}

/// The credentials chosen for one request.
#[derive(Debug, Default)]
pub struct Prepared {
    pub placements: Vec<Placement>,
    /// Schemes whose token came from a token endpoint: an upstream 401 may mean it was
    /// revoked, so they are worth one renewal.
    pub renewable: Vec<&'static str>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<_> = self.schemes.keys().collect();
        names.sort();
        f.debug_struct("Credentials")
            .field("schemes", &names)
            .finish()
    }
}

/// Environment variables of the token exchange (one configuration for all schemes).
pub const EXCHANGE_CLIENT_ID: &str = "TOKEN_EXCHANGE_CLIENT_ID";
pub const EXCHANGE_CLIENT_SECRET: &str = "TOKEN_EXCHANGE_CLIENT_SECRET";
pub const EXCHANGE_URL: &str = "TOKEN_EXCHANGE_URL";
pub const EXCHANGE_AUDIENCE: &str = "TOKEN_EXCHANGE_AUDIENCE";

impl Credentials {
    pub fn from_lookup(
        catalog: &Catalog,
        http: reqwest::Client,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Self {
        let schemes = catalog
            .upstream_schemes
            .iter()
            .map(|s| (s.name, resolve(s, catalog, &http, &lookup)))
            .collect();
        Self { schemes }
    }

    /// For each scheme that lacks configuration: its name and the missing variables.
    pub fn missing(&self) -> Vec<(&'static str, &[&'static str])> {
        let mut out: Vec<_> = self
            .schemes
            .iter()
            .filter_map(|(name, s)| match s {
                Secret::Missing(vars) => Some((*name, vars.as_slice())),
                _ => None,
            })
            .collect();
        out.sort();
        out
    }

    /// Names of schemes that send the caller's own token upstream unchanged.
    pub fn passthrough(&self) -> Vec<&'static str> {
        let mut out: Vec<_> = self
            .schemes
            .iter()
            .filter(|(_, s)| matches!(s, Secret::Passthrough))
            .map(|(n, _)| *n)
            .collect();
        out.sort();
        out
    }

    /// Credentials for the first alternative whose schemes are all configured (and, for
    /// those acting as the caller, that has a caller token); an error naming what is
    /// missing when none is. An anonymous grant gets none: the tool works without them.
    pub async fn prepare(
        &self,
        alternatives: &[&[&'static str]],
        grant: Grant<'_>,
    ) -> Result<Prepared, UpstreamError> {
        if matches!(grant, Grant::Anonymous) {
            return Ok(Prepared::default());
        }
        let caller = grant.caller();
        if alternatives.is_empty() {
            return Ok(Prepared::default());
        }
        let usable = |s: &Secret| {
            !matches!(s, Secret::Missing(_)) && (caller.is_some() || !s.acts_as_caller())
        };
        let chosen = alternatives
            .iter()
            .find(|alt| alt.iter().all(|n| self.schemes.get(n).is_some_and(usable)));
        let Some(alternative) = chosen else {
            return Err(UpstreamError::NoCredential(
                self.unusable_message(alternatives[0]),
            ));
        };
        let mut out = Prepared::default();
        for name in alternative.iter() {
            let bearer = |token: String| {
                Placement::Header("Authorization".to_owned(), format!("Bearer {token}"))
            };
            match (self.schemes.get(name), caller) {
                (Some(Secret::Static(p)), _) => out.placements.push(p.clone()),
                (Some(Secret::ClientCredentials(source)), _) => {
                    let token = source.token().await.map_err(UpstreamError::Token)?;
                    out.placements.push(bearer(token));
                    out.renewable.push(name);
                }
                (Some(Secret::Exchange(exchanger)), Some(subject)) => {
                    let token = exchanger
                        .exchange(subject)
                        .await
                        .map_err(UpstreamError::Token)?;
                    out.placements.push(bearer(token));
                    out.renewable.push(name);
                }
                (Some(Secret::Passthrough), Some(token)) => {
                    out.placements.push(bearer(token.to_owned()))
                }
                _ => {
                    return Err(UpstreamError::NoCredential(
                        self.unusable_message(alternative),
                    ));
                }
            }
        }
        Ok(out)
    }

    /// Drops the cached tokens of these schemes that the upstream just refused: the
    /// server's own, and the one exchanged for this caller (never other callers').
    pub async fn forget(&self, names: &[&'static str], caller: Option<&str>) {
        for name in names {
            match (self.schemes.get(name), caller) {
                (Some(Secret::ClientCredentials(source)), _) => source.forget().await,
                (Some(Secret::Exchange(exchanger)), Some(subject)) => {
                    exchanger.forget(subject).await
                }
                _ => {}
            }
        }
    }

    fn unusable_message(&self, alternative: &[&'static str]) -> String {
        let mut vars = Vec::new();
        for name in alternative {
            match self.schemes.get(name) {
                Some(Secret::Missing(v)) => vars.extend(v.iter().copied()),
                None => return format!("upstream security scheme `{name}` is not supported"),
                Some(s) if s.acts_as_caller() => {
                    return "this tool acts as the signed-in user upstream: call it with an OAuth access token".to_owned();
                }
                _ => {}
            }
        }
        format!(
            "the upstream credential is not configured: set {} in the server's environment",
            vars.join(" and ")
        )
    }
}

fn resolve(
    scheme: &UpstreamScheme,
    catalog: &Catalog,
    http: &reqwest::Client,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Secret {
    let need = |vars: &[&'static str]| -> Result<Vec<String>, Vec<&'static str>> {
        let values: Vec<Option<String>> = vars.iter().map(|v| lookup(v)).collect();
        let missing: Vec<&'static str> = vars
            .iter()
            .zip(&values)
            .filter(|(_, v)| v.is_none())
            .map(|(n, _)| *n)
            .collect();
        if missing.is_empty() {
            Ok(values.into_iter().flatten().collect())
        } else {
            Err(missing)
        }
    };
    let client = |v: &[String]| tokens::Client {
        id: v[0].clone(),
        secret: v[1].clone(),
    };
    let result = match &scheme.kind {
        SchemeKind::ApiKey {
            location,
            param,
            env,
        } => need(&[env]).map(|v| {
            let (name, value) = (param.to_string(), v[0].clone());
            Secret::Static(match location {
                Location::Query => Placement::Query(name, value),
                Location::Cookie => Placement::Cookie(name, value),
                Location::Header | Location::Path => Placement::Header(name, value),
            })
        }),
        SchemeKind::Bearer { env } => need(&[env]).map(|v| {
            Secret::Static(Placement::Header(
                "Authorization".to_owned(),
                format!("Bearer {}", v[0]),
            ))
        }),
        SchemeKind::Basic {
            username_env,
            password_env,
        } => need(&[username_env, password_env]).map(|v| {
            let encoded = STANDARD.encode(format!("{}:{}", v[0], v[1]));
            Secret::Static(Placement::Header(
                "Authorization".to_owned(),
                format!("Basic {encoded}"),
            ))
        }),
        SchemeKind::ClientCredentials {
            token_url,
            token_url_env,
            client_id_env,
            client_secret_env,
            scopes,
        } => {
            let url = lookup(token_url_env).unwrap_or_else(|| token_url.to_string());
            match need(&[client_id_env, client_secret_env]) {
                // A relative or empty tokenUrl in the spec cannot be used as is.
                Ok(_) if !(url.starts_with("http://") || url.starts_with("https://")) => {
                    Err(vec![*token_url_env])
                }
                Ok(v) => Ok(Secret::ClientCredentials(ClientCredentials::new(
                    http.clone(),
                    url,
                    client(&v),
                    scopes,
                ))),
                Err(missing) => Err(missing),
            }
        }
        SchemeKind::TokenExchange => need(&[EXCHANGE_CLIENT_ID, EXCHANGE_CLIENT_SECRET]).map(|v| {
            let endpoint = match lookup(EXCHANGE_URL) {
                Some(url) => Endpoint::Fixed(url),
                None => Endpoint::Discover(
                    lookup("AUTHORIZATION_SERVER_URL")
                        .unwrap_or_else(|| catalog.default_issuer.to_owned()),
                ),
            };
            let audience = lookup(EXCHANGE_AUDIENCE)
                .or_else(|| lookup("UPSTREAM_BASE_URL"))
                .unwrap_or_else(|| catalog.default_upstream.to_owned());
            Secret::Exchange(Exchanger::new(http.clone(), endpoint, client(&v), audience))
        }),
        SchemeKind::Passthrough => Ok(Secret::Passthrough),
    };
    result.unwrap_or_else(Secret::Missing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::*;

    const ENTITLED: Grant<'static> = Grant::Entitled { caller: None };

    static SCHEMES: &[UpstreamScheme] = &[
        UpstreamScheme {
            name: "api_key",
            kind: SchemeKind::ApiKey {
                location: Location::Header,
                param: "api_key",
                env: "UPSTREAM_API_KEY",
            },
        },
        UpstreamScheme {
            name: "basic",
            kind: SchemeKind::Basic {
                username_env: "BASIC_USERNAME",
                password_env: "BASIC_PASSWORD",
            },
        },
        UpstreamScheme {
            name: "q",
            kind: SchemeKind::ApiKey {
                location: Location::Query,
                param: "key",
                env: "Q_API_KEY",
            },
        },
    ];

    fn creds(vars: &[(&str, &str)]) -> Credentials {
        let catalog = crate::testkit::catalog(&[], SCHEMES);
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Credentials::from_lookup(catalog, reqwest::Client::new(), |k| vars.get(k).cloned())
    }

    #[tokio::test]
    async fn picks_the_first_configured_alternative() {
        let c = creds(&[
            ("Q_API_KEY", "k1"),
            ("BASIC_USERNAME", "u"),
            ("BASIC_PASSWORD", "p"),
        ]);
        let got = c
            .prepare(&[&["api_key"], &["q", "basic"]], ENTITLED)
            .await
            .unwrap();
        assert_eq!(
            got.placements,
            [
                Placement::Query("key".into(), "k1".into()),
                Placement::Header("Authorization".into(), "Basic dTpw".into())
            ]
        );
        assert!(
            c.prepare(&[], ENTITLED)
                .await
                .unwrap()
                .placements
                .is_empty()
        );
    }

    #[tokio::test]
    async fn anonymous_grants_get_no_credential() {
        let c = creds(&[("UPSTREAM_API_KEY", "k"), ("Q_API_KEY", "k1")]);
        let got = c
            .prepare(&[&["api_key"], &["q"]], Grant::Anonymous)
            .await
            .unwrap();
        assert!(got.placements.is_empty() && got.renewable.is_empty());
    }

    #[tokio::test]
    async fn missing_credentials_name_the_variable() {
        let c = creds(&[]);
        let err = c.prepare(&[&["api_key"]], ENTITLED).await.unwrap_err();
        assert!(matches!(err, UpstreamError::NoCredential(_)), "{err:?}");
        assert!(err.to_string().contains("UPSTREAM_API_KEY"), "{err}");
        assert_eq!(c.missing().len(), 3);
    }

    #[tokio::test]
    async fn client_credentials_tokens_are_fetched_once_and_cached() {
        use axum::Router;
        use axum::http::HeaderMap;
        use axum::routing::post;
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};

        let hits = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        let token_endpoint = Router::new().route(
            "/token",
            post(move |headers: HeaderMap, body: String| {
                counter.fetch_add(1, Ordering::SeqCst);
                async move {
                    // "id:s&cret" form-encoded, then base64.
                    let ok = headers.get("authorization").and_then(|v| v.to_str().ok())
                        == Some("Basic aWQ6cyUyNmNyZXQ=")
                        && body == "grant_type=client_credentials&scope=read%20write";
                    let token = if ok { "tok-1" } else { "wrong-request" };
                    format!(
                        r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":3600}}"#
                    )
                }
            }),
        );
        let base = crate::testkit::serve(token_endpoint).await;
        let token_url: &'static str = Box::leak(format!("{base}/token").into_boxed_str());
        let schemes: &'static [UpstreamScheme] = Box::leak(Box::new([UpstreamScheme {
            name: "cc",
            kind: SchemeKind::ClientCredentials {
                token_url,
                token_url_env: "CC_TOKEN_URL",
                client_id_env: "CC_CLIENT_ID",
                client_secret_env: "CC_CLIENT_SECRET",
                scopes: &["read", "write"],
            },
        }]));
        let catalog = crate::testkit::catalog(&[], schemes);
        let vars: HashMap<&str, &str> =
            HashMap::from([("CC_CLIENT_ID", "id"), ("CC_CLIENT_SECRET", "s&cret")]);
        let c = Credentials::from_lookup(catalog, reqwest::Client::new(), |k| {
            vars.get(k).map(|v| v.to_string())
        });
        for _ in 0..2 {
            let got = c.prepare(&[&["cc"]], ENTITLED).await.unwrap();
            assert_eq!(got.renewable, ["cc"]);
            assert_eq!(
                got.placements,
                [Placement::Header(
                    "Authorization".into(),
                    "Bearer tok-1".into()
                )]
            );
        }
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        c.forget(&["cc"], None).await;
        c.prepare(&[&["cc"]], ENTITLED).await.unwrap();
        assert_eq!(hits.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn caller_schemes_need_a_caller_token() {
        static CALLER: &[UpstreamScheme] = &[UpstreamScheme {
            name: "user",
            kind: SchemeKind::Passthrough,
        }];
        let catalog = crate::testkit::catalog(&[], CALLER);
        let c = Credentials::from_lookup(catalog, reqwest::Client::new(), |_| None);
        let err = c.prepare(&[&["user"]], ENTITLED).await.unwrap_err();
        assert!(err.to_string().contains("signed-in user"), "{err}");
        let got = c
            .prepare(
                &[&["user"]],
                Grant::Entitled {
                    caller: Some("tok"),
                },
            )
            .await
            .unwrap();
        assert_eq!(
            got.placements,
            [Placement::Header(
                "Authorization".into(),
                "Bearer tok".into()
            )]
        );
        assert_eq!(c.passthrough(), ["user"]);
        assert!(!format!("{:?}", CallerToken::new("tok")).contains("tok"));
    }

    #[test]
    fn debug_never_shows_secrets() {
        let p = Placement::Header("api_key".into(), "s3cret".into());
        assert!(!format!("{p:?}").contains("s3cret"));
    }
}
