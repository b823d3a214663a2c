//! The upstream API's own credentials (design §6), read from the environment at startup.
//! Secrets never reach a log line: `Debug` is written by hand and errors name variables only.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::catalog::{Catalog, Location, SchemeKind, UpstreamScheme};

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

enum Secret {
    Static(Placement),
    ClientCredentials(TokenSource),
    /// Not configured: the environment variables that are missing.
    Missing(Vec<&'static str>),
}

pub struct Credentials {
    schemes: HashMap<&'static str, Secret>,
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

impl Credentials {
    pub fn from_env(catalog: &Catalog, http: reqwest::Client) -> Self {
        Self::from_lookup(catalog, http, |name| {
            std::env::var(name).ok().filter(|v| !v.is_empty())
        })
    }

    pub fn from_lookup(
        catalog: &Catalog,
        http: reqwest::Client,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Self {
        let schemes = catalog
            .upstream_schemes
            .iter()
            .map(|s| (s.name, resolve(s, &http, &lookup)))
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

    /// Placements for the first alternative whose schemes are all configured; an error naming
    /// the variables to set when none is.
    pub async fn placements(
        &self,
        alternatives: &[&[&'static str]],
    ) -> Result<Vec<Placement>, String> {
        if alternatives.is_empty() {
            return Ok(Vec::new());
        }
        let usable = alternatives.iter().find(|alt| {
            alt.iter()
                .all(|n| matches!(self.schemes.get(n), Some(s) if !matches!(s, Secret::Missing(_))))
        });
        let Some(alternative) = usable else {
            return Err(self.missing_message(alternatives[0]));
        };
        let mut out = Vec::new();
        for name in alternative.iter() {
            match self.schemes.get(name) {
                Some(Secret::Static(p)) => out.push(p.clone()),
                Some(Secret::ClientCredentials(source)) => out.push(Placement::Header(
                    "Authorization".to_owned(),
                    format!("Bearer {}", source.token().await?),
                )),
                Some(Secret::Missing(_)) | None => return Err(self.missing_message(alternative)),
            }
        }
        Ok(out)
    }

    fn missing_message(&self, alternative: &[&'static str]) -> String {
        let mut vars = Vec::new();
        for name in alternative {
            match self.schemes.get(name) {
                Some(Secret::Missing(v)) => vars.extend(v.iter().copied()),
                None => return format!("upstream security scheme `{name}` is not supported"),
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
            client_id_env,
            client_secret_env,
            scopes,
        } => need(&[client_id_env, client_secret_env]).map(|v| {
            Secret::ClientCredentials(TokenSource {
                http: http.clone(),
                token_url,
                client_id: v[0].clone(),
                client_secret: v[1].clone(),
                scopes,
                cached: Mutex::new(None),
            })
        }),
    };
    result.unwrap_or_else(Secret::Missing)
}

/// OAuth 2 client-credentials tokens, fetched on first use and reused until shortly before
/// they expire. The mutex also keeps concurrent calls from fetching at once.
struct TokenSource {
    http: reqwest::Client,
    token_url: &'static str,
    client_id: String,
    client_secret: String,
    scopes: &'static [&'static str],
    cached: Mutex<Option<(String, Instant)>>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<u64>,
}

impl TokenSource {
    async fn token(&self) -> Result<String, String> {
        let mut cached = self.cached.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let mut form = vec![("grant_type", "client_credentials".to_owned())];
        if !self.scopes.is_empty() {
            form.push(("scope", self.scopes.join(" ")));
        }
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", crate::encode::enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        // client_secret_basic (RFC 6749 §2.3.1): both parts form-encoded before base64.
        let basic = STANDARD.encode(format!(
            "{}:{}",
            crate::encode::enc(&self.client_id),
            crate::encode::enc(&self.client_secret)
        ));
        let response = self
            .http
            .post(self.token_url)
            .header("Authorization", format!("Basic {basic}"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| format!("upstream token request failed: {}", e.without_url()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("upstream token endpoint answered HTTP {status}"));
        }
        let parsed: TokenResponse = response
            .bytes()
            .await
            .ok()
            .and_then(|body| serde_json::from_slice(&body).ok())
            .ok_or_else(|| "upstream token endpoint sent no usable access_token".to_owned())?;
        // Renew a little early so a token never expires in flight.
        let lifetime = parsed.expires_in.unwrap_or(300).saturating_sub(30).max(5);
        *cached = Some((
            parsed.access_token.clone(),
            Instant::now() + Duration::from_secs(lifetime),
        ));
        Ok(parsed.access_token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::*;

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
        let catalog = Box::leak(Box::new(Catalog {
            server_name: "x",
            server_title: "X",
            api_version: "1",
            default_issuer: "",
            default_upstream: "",
            default_resource: "",
            tools: &[],
            upstream_schemes: SCHEMES,
        }));
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
            .placements(&[&["api_key"], &["q", "basic"]])
            .await
            .unwrap();
        assert_eq!(
            got,
            [
                Placement::Query("key".into(), "k1".into()),
                Placement::Header("Authorization".into(), "Basic dTpw".into())
            ]
        );
        assert!(c.placements(&[]).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn missing_credentials_name_the_variable() {
        let c = creds(&[]);
        let err = c.placements(&[&["api_key"]]).await.unwrap_err();
        assert!(err.contains("UPSTREAM_API_KEY"), "{err}");
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
                client_id_env: "CC_CLIENT_ID",
                client_secret_env: "CC_CLIENT_SECRET",
                scopes: &["read", "write"],
            },
        }]));
        let catalog = Box::leak(Box::new(Catalog {
            server_name: "x",
            server_title: "X",
            api_version: "1",
            default_issuer: "",
            default_upstream: "",
            default_resource: "",
            tools: &[],
            upstream_schemes: schemes,
        }));
        let vars: HashMap<&str, &str> =
            HashMap::from([("CC_CLIENT_ID", "id"), ("CC_CLIENT_SECRET", "s&cret")]);
        let c = Credentials::from_lookup(catalog, reqwest::Client::new(), |k| {
            vars.get(k).map(|v| v.to_string())
        });
        for _ in 0..2 {
            let got = c.placements(&[&["cc"]]).await.unwrap();
            assert_eq!(
                got,
                [Placement::Header(
                    "Authorization".into(),
                    "Bearer tok-1".into()
                )]
            );
        }
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn debug_never_shows_secrets() {
        let p = Placement::Header("api_key".into(), "s3cret".into());
        assert!(!format!("{p:?}").contains("s3cret"));
    }
}
