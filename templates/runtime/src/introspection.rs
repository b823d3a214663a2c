//! RFC 7662 token introspection, for authorization servers that issue opaque (non-JWT) access
//! tokens. Configured with `TOKEN_INTROSPECTION_CLIENT_ID` and `TOKEN_INTROSPECTION_CLIENT_SECRET`
//! (client_secret_basic); the endpoint is `TOKEN_INTROSPECTION_URL`, or else the
//! `introspection_endpoint` of the issuer's metadata (RFC 8414). Answers are cached briefly so a
//! busy client does not cost one round trip per request, yet a revoked token stops working
//! within [`ACTIVE_TTL`]. Tokens are never logged.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};

use crate::auth::{LEEWAY_SECS, Rejection, reject};
use crate::config::ConfigError;
use crate::upstream::describe;

/// How long an "active" answer is trusted (never beyond the token's own `exp`).
const ACTIVE_TTL: Duration = Duration::from_secs(30);
/// Inactive answers are cached too, so garbage tokens cannot make us hammer the AS.
const INACTIVE_TTL: Duration = Duration::from_secs(10);
const MAX_CACHED: usize = 10_000;
const TIMEOUT: Duration = Duration::from_secs(5);
const MAX_RESPONSE_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntrospectionConfig {
    /// `None`: discovered from the authorization server's metadata on first use.
    pub url: Option<String>,
    pub client_id: String,
    pub client_secret: String,
}

impl IntrospectionConfig {
    /// `None` when neither `TOKEN_INTROSPECTION_URL` nor the client credentials are set; the
    /// credentials are required as soon as introspection is asked for.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let url = get("TOKEN_INTROSPECTION_URL");
        let asked = url.is_some()
            || get("TOKEN_INTROSPECTION_CLIENT_ID").is_some()
            || get("TOKEN_INTROSPECTION_CLIENT_SECRET").is_some();
        if !asked {
            return Ok(None);
        }
        if let Some(url) = &url {
            check_url(url).map_err(|message| ConfigError {
                var: "TOKEN_INTROSPECTION_URL",
                message,
            })?;
        }
        let required = |var: &'static str| {
            get(var).ok_or(ConfigError {
                var,
                message: "required for token introspection (TOKEN_INTROSPECTION_*)".to_owned(),
            })
        };
        Ok(Some(Self {
            url,
            client_id: required("TOKEN_INTROSPECTION_CLIENT_ID")?,
            client_secret: required("TOKEN_INTROSPECTION_CLIENT_SECRET")?,
        }))
    }

    pub fn from_env() -> Result<Option<Self>, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

/// An introspection endpoint must be an http(s) URL: it receives the client secret.
fn check_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    if matches!(parsed.scheme(), "http" | "https") {
        Ok(())
    } else {
        Err(format!("{url:?} is not an http(s) URL"))
    }
}

struct Cached {
    until: Instant,
    outcome: Result<Map<String, Value>, Rejection>,
}

pub struct Introspector {
    config: IntrospectionConfig,
    /// The endpoint found in the issuer's metadata, when none was configured.
    discovered: tokio::sync::OnceCell<String>,
    http: reqwest::Client,
    issuers: Vec<String>,
    audiences: Vec<String>,
    cache: Mutex<HashMap<String, Cached>>,
}

impl Introspector {
    pub fn new(
        config: IntrospectionConfig,
        http: reqwest::Client,
        issuers: Vec<String>,
        audiences: Vec<String>,
    ) -> Self {
        Self {
            config,
            discovered: tokio::sync::OnceCell::new(),
            http,
            issuers,
            audiences,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The token's claims when the AS says it is active, for this resource, and current.
    pub async fn introspect(&self, token: &str) -> Result<Map<String, Value>, Rejection> {
        if let Some(hit) = self.cached(token) {
            return hit;
        }
        // Transport failures are not cached: the next request asks again.
        let answer = self.ask(token).await?;
        let outcome = self.judge(answer);
        let ttl = match &outcome {
            Ok(claims) => claims
                .get("exp")
                .and_then(Value::as_u64)
                .map_or(ACTIVE_TTL, |exp| {
                    ACTIVE_TTL.min(Duration::from_secs(exp.saturating_sub(unix_now())))
                }),
            Err(_) => INACTIVE_TTL,
        };
        self.store(token, ttl, outcome.clone());
        outcome
    }

    fn cached(&self, token: &str) -> Option<Result<Map<String, Value>, Rejection>> {
        let cache = self.cache.lock().ok()?;
        cache
            .get(token)
            .filter(|c| c.until > Instant::now())
            .map(|c| c.outcome.clone())
    }

    fn store(&self, token: &str, ttl: Duration, outcome: Result<Map<String, Value>, Rejection>) {
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        if cache.len() >= MAX_CACHED {
            let now = Instant::now();
            cache.retain(|_, c| c.until > now);
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
        }
        cache.insert(
            token.to_owned(),
            Cached {
                until: Instant::now() + ttl,
                outcome,
            },
        );
    }

    /// The configured endpoint, or the `introspection_endpoint` of the issuer's metadata.
    async fn endpoint(&self) -> Result<&str, String> {
        if let Some(url) = &self.config.url {
            return Ok(url);
        }
        let issuer = self.issuers.first().map(String::as_str).unwrap_or_default();
        self.discovered
            .get_or_try_init(|| async {
                let metadata = crate::jwks::fetch_metadata(&self.http, issuer).await?;
                let url = metadata
                    .get("introspection_endpoint")
                    .and_then(Value::as_str)
                    .ok_or("the authorization server metadata has no introspection_endpoint")?;
                check_url(url).map(|()| url.to_owned())
            })
            .await
            .map(String::as_str)
    }

    async fn ask(&self, token: &str) -> Result<Map<String, Value>, Rejection> {
        let unavailable = |reason: String| {
            reject(
                "The access token could not be verified right now; try again.",
                reason,
            )
        };
        // RFC 6749 §2.3.1: id and secret are form-encoded before Basic encoding.
        let credentials = format!(
            "{}:{}",
            utf8_percent_encode(&self.config.client_id, NON_ALPHANUMERIC),
            utf8_percent_encode(&self.config.client_secret, NON_ALPHANUMERIC)
        );
        let body = format!(
            "token={}&token_type_hint=access_token",
            utf8_percent_encode(token, NON_ALPHANUMERIC)
        );
        // Not found yet (AS down, no endpoint in its metadata): refused now, asked again later.
        let url = self.endpoint().await.map_err(unavailable)?;
        let mut response = self
            .http
            .post(url)
            .header(
                "Authorization",
                format!("Basic {}", STANDARD.encode(credentials)),
            )
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json")
            .timeout(TIMEOUT)
            .body(body)
            .send()
            .await
            .map_err(|e| unavailable(format!("introspection: {}", describe(&e.without_url()))))?;
        if !response.status().is_success() {
            return Err(unavailable(format!(
                "introspection endpoint answered HTTP {}",
                response.status()
            )));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| unavailable(format!("introspection: {}", describe(&e.without_url()))))?
        {
            if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(unavailable("introspection response too large".to_owned()));
            }
            bytes.extend_from_slice(&chunk);
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(claims)) => Ok(claims),
            _ => Err(unavailable(
                "introspection response is not a JSON object".to_owned(),
            )),
        }
    }

    /// RFC 7662 §2.2 answer → accepted claims, with the same rules as for JWTs.
    fn judge(&self, claims: Map<String, Value>) -> Result<Map<String, Value>, Rejection> {
        if claims.get("active") != Some(&Value::Bool(true)) {
            return Err(reject(
                "The access token is not active.",
                "introspection: inactive",
            ));
        }
        if let Some(kind) = claims.get("token_type").and_then(Value::as_str)
            && !kind.eq_ignore_ascii_case("bearer")
        {
            return Err(reject(
                "The token is not an access token.",
                format!("introspection: token_type {kind:?}"),
            ));
        }
        if let Some(iss) = claims.get("iss")
            && !iss
                .as_str()
                .is_some_and(|i| self.issuers.iter().any(|x| x == i))
        {
            return Err(reject(
                "The access token was issued by another authorization server.",
                "introspection: iss",
            ));
        }
        let audience_ok = match claims.get("aud") {
            Some(Value::String(a)) => self.audiences.contains(a),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .any(|a| self.audiences.iter().any(|x| x == a)),
            _ => false,
        };
        if !audience_ok {
            return Err(reject(
                "The access token was not issued for this resource.",
                "introspection: aud",
            ));
        }
        let now = unix_now();
        if let Some(exp) = claims.get("exp").and_then(Value::as_u64)
            && exp + LEEWAY_SECS < now
        {
            return Err(reject("The access token expired.", "introspection: exp"));
        }
        if let Some(nbf) = claims.get("nbf").and_then(Value::as_u64)
            && nbf > now + LEEWAY_SECS
        {
            return Err(reject(
                "The access token is not valid yet.",
                "introspection: nbf",
            ));
        }
        Ok(claims)
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const RESOURCE: &str = "http://127.0.0.1:8000/mcp";

    fn introspector() -> Introspector {
        Introspector::new(
            IntrospectionConfig {
                url: Some("http://127.0.0.1:1/introspect".into()),
                client_id: "c".into(),
                client_secret: "s".into(),
            },
            reqwest::Client::new(),
            vec!["http://as".into()],
            vec![RESOURCE.into()],
        )
    }

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn judges_answers_like_jwts() {
        let i = introspector();
        let exp = unix_now() + 300;
        let good = json!({"active": true, "iss": "http://as", "aud": RESOURCE, "exp": exp,
                          "scope": "read", "token_type": "Bearer"});
        assert!(i.judge(claims(good.clone())).is_ok());
        let cases = [
            ("active", json!(false), "not active"),
            (
                "aud",
                json!("http://elsewhere/mcp"),
                "not issued for this resource",
            ),
            ("aud", Value::Null, "not issued for this resource"),
            ("iss", json!("http://evil"), "another authorization server"),
            ("exp", json!(unix_now() - 600), "expired"),
            ("token_type", json!("refresh_token"), "not an access token"),
        ];
        for (claim, value, expected) in cases {
            let mut bad = good.clone();
            bad[claim] = value;
            let err = i.judge(claims(bad)).unwrap_err();
            assert!(err.description.contains(expected), "{claim}: {err:?}");
        }
        let mut listed = good;
        listed["aud"] = json!(["x", RESOURCE]);
        assert!(i.judge(claims(listed)).is_ok());
    }

    #[tokio::test]
    async fn unreachable_endpoint_is_refused_and_not_cached() {
        let i = introspector();
        let err = i.introspect("opaque-token").await.unwrap_err();
        assert!(err.description.contains("right now"), "{err:?}");
        assert!(i.cached("opaque-token").is_none());
    }

    #[tokio::test]
    async fn an_unreachable_issuer_means_no_endpoint_yet_and_a_retry_later() {
        let mut config = introspector().config;
        config.url = None;
        let i = Introspector::new(
            config,
            reqwest::Client::new(),
            vec!["http://127.0.0.1:1".into()],
            vec![RESOURCE.into()],
        );
        let err = i.introspect("opaque-token").await.unwrap_err();
        assert!(err.description.contains("right now"), "{err:?}");
        assert!(i.discovered.get().is_none() && i.cached("opaque-token").is_none());
    }

    #[test]
    fn config_requires_client_credentials() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert_eq!(IntrospectionConfig::from_lookup(vars(&[])).unwrap(), None);
        let err = IntrospectionConfig::from_lookup(vars(&[(
            "TOKEN_INTROSPECTION_URL",
            "http://as/introspect",
        )]))
        .unwrap_err();
        assert_eq!(err.var, "TOKEN_INTROSPECTION_CLIENT_ID");
        let ok = IntrospectionConfig::from_lookup(vars(&[
            ("TOKEN_INTROSPECTION_URL", "http://as/introspect"),
            ("TOKEN_INTROSPECTION_CLIENT_ID", "rs"),
            ("TOKEN_INTROSPECTION_CLIENT_SECRET", "pw"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(ok.client_id, "rs");
        // Credentials alone: the endpoint comes from the AS metadata.
        let discovered = IntrospectionConfig::from_lookup(vars(&[
            ("TOKEN_INTROSPECTION_CLIENT_ID", "rs"),
            ("TOKEN_INTROSPECTION_CLIENT_SECRET", "pw"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(discovered.url, None);
        let err =
            IntrospectionConfig::from_lookup(vars(&[("TOKEN_INTROSPECTION_CLIENT_ID", "rs")]))
                .unwrap_err();
        assert_eq!(err.var, "TOKEN_INTROSPECTION_CLIENT_SECRET");
        let err =
            IntrospectionConfig::from_lookup(vars(&[("TOKEN_INTROSPECTION_URL", "as/introspect")]))
                .unwrap_err();
        assert_eq!(err.var, "TOKEN_INTROSPECTION_URL");
    }
}
