//! The authorization server's signing keys. `jwks_uri` comes from the issuer's RFC 8414
//! metadata (OpenID Connect discovery as fallback); the key set is cached, refetched when a
//! token names an unknown `kid` (at most once per [`MIN_REFRESH`], however many such tokens
//! arrive; the startup and background fetches do not count, so a key rotated in right after
//! startup is still picked up) and kept when the authorization server is unreachable, so a
//! brief outage does not lock users out.

use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use reqwest::Url;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::upstream::describe;

/// Refetches never happen more often than this, whatever tokens arrive.
const MIN_REFRESH: Duration = Duration::from_secs(10);
/// Until keys were loaded once (the authorization server may start after us), retry sooner.
const MIN_RETRY_UNLOADED: Duration = Duration::from_secs(1);
/// Cached keys older than this are refreshed in the background, so revoked keys go away.
const MAX_AGE: Duration = Duration::from_secs(3600);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

pub struct KeyStore {
    issuer: String,
    http: reqwest::Client,
    keys: RwLock<Arc<Vec<Jwk>>>,
    refresh: Mutex<RefreshState>,
}

#[derive(Default)]
struct RefreshState {
    jwks_uri: Option<String>,
    /// Any fetch (startup, background, on demand): limits background refreshes.
    last_attempt: Option<Instant>,
    /// Fetches caused by tokens with an unknown `kid`: the ones a caller can provoke.
    last_on_demand: Option<Instant>,
    fetched_at: Option<Instant>,
}

impl KeyStore {
    pub fn new(issuer: &str, http: reqwest::Client) -> Arc<Self> {
        Arc::new(Self {
            issuer: issuer.to_owned(),
            http,
            keys: RwLock::new(Arc::new(Vec::new())),
            refresh: Mutex::new(RefreshState::default()),
        })
    }

    /// Keys that may have signed a token with this `kid` and `alg`.
    pub async fn candidates(
        self: &Arc<Self>,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Vec<DecodingKey> {
        let found = self.matching(kid, alg);
        if !found.is_empty() {
            if self.is_stale().await {
                let store = Arc::clone(self);
                tokio::spawn(async move { store.refresh().await });
            }
            return found;
        }
        // Matched again even when this call did not fetch: a concurrent one may have.
        self.refresh_on_demand().await;
        self.matching(kid, alg)
    }

    /// Fetches the key set unless one was attempted recently (startup and background use).
    /// `true` when the keys were replaced; failures are logged and the old keys kept.
    pub async fn refresh(&self) -> bool {
        let mut state = self.refresh.lock().await;
        let interval = state.interval();
        if state.last_attempt.is_some_and(|t| t.elapsed() < interval) {
            return false;
        }
        self.fetch_now(&mut state).await
    }

    /// A token named a `kid` we do not hold: fetch, unless an earlier such token already
    /// caused a fetch within the interval (so random kids cannot flood the AS).
    async fn refresh_on_demand(&self) -> bool {
        let mut state = self.refresh.lock().await;
        let interval = state.interval();
        if state.last_on_demand.is_some_and(|t| t.elapsed() < interval) {
            return false;
        }
        state.last_on_demand = Some(Instant::now());
        self.fetch_now(&mut state).await
    }

    async fn fetch_now(&self, state: &mut RefreshState) -> bool {
        state.last_attempt = Some(Instant::now());
        match self.fetch(state).await {
            Ok(keys) => {
                tracing::info!(issuer = %self.issuer, keys = keys.len(), "loaded signing keys");
                if let Ok(mut slot) = self.keys.write() {
                    *slot = Arc::new(keys);
                }
                state.fetched_at = Some(Instant::now());
                true
            }
            Err(e) if state.fetched_at.is_none() => {
                tracing::error!(
                    issuer = %self.issuer,
                    error = %e,
                    "cannot reach the authorization server for its signing keys; every access token is refused until it answers (retried on the next token)"
                );
                state.jwks_uri = None;
                false
            }
            Err(e) => {
                tracing::warn!(issuer = %self.issuer, error = %e, "cannot reload signing keys; keeping the cached ones");
                // Metadata may have moved: rediscover next time.
                state.jwks_uri = None;
                false
            }
        }
    }

    async fn is_stale(&self) -> bool {
        // Never block a request on a fetch in progress: a busy lock means one is under way.
        let Ok(state) = self.refresh.try_lock() else {
            return false;
        };
        state.fetched_at.is_none_or(|t| t.elapsed() > MAX_AGE)
    }
}

impl RefreshState {
    fn interval(&self) -> Duration {
        if self.fetched_at.is_some() {
            MIN_REFRESH
        } else {
            MIN_RETRY_UNLOADED
        }
    }
}

impl KeyStore {
    fn matching(&self, kid: Option<&str>, alg: Algorithm) -> Vec<DecodingKey> {
        let keys = match self.keys.read() {
            Ok(keys) => Arc::clone(&keys),
            Err(_) => return Vec::new(),
        };
        keys.iter()
            .filter(|k| kid.is_none() || k.common.key_id.as_deref() == kid)
            .filter(|k| usable_for(k, alg))
            .filter_map(|k| DecodingKey::from_jwk(k).ok())
            .collect()
    }

    async fn fetch(&self, state: &mut RefreshState) -> Result<Vec<Jwk>, String> {
        let jwks_uri = match &state.jwks_uri {
            Some(uri) => uri.clone(),
            None => {
                let uri = self.discover().await?;
                state.jwks_uri = Some(uri.clone());
                uri
            }
        };
        let document = fetch_json(&self.http, &jwks_uri).await?;
        let keys = document
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("{jwks_uri} has no \"keys\" array"))?;
        // One odd key (an unknown type, an encryption key) must not hide the others.
        Ok(keys
            .iter()
            .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
            .collect())
    }

    async fn discover(&self) -> Result<String, String> {
        let metadata = fetch_metadata(&self.http, &self.issuer).await?;
        metadata
            .get("jwks_uri")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| "the authorization server metadata has no jwks_uri".to_owned())
    }
}

/// The issuer's authorization server metadata, from the first of [`metadata_urls`] that
/// answers with a document about this issuer.
pub async fn fetch_metadata(http: &reqwest::Client, issuer: &str) -> Result<Value, String> {
    let mut failures = Vec::new();
    for url in metadata_urls(issuer)? {
        match fetch_json(http, &url).await {
            Ok(metadata) => {
                let claimed = metadata.get("issuer").and_then(Value::as_str).unwrap_or("");
                // RFC 8414 §3.3: the metadata must be about the issuer we asked for.
                if claimed.trim_end_matches('/') != issuer.trim_end_matches('/') {
                    failures.push(format!("{url}: issuer is {claimed:?}"));
                    continue;
                }
                return Ok(metadata);
            }
            Err(e) => failures.push(e),
        }
    }
    Err(format!(
        "no authorization server metadata: {}",
        failures.join("; ")
    ))
}

/// RFC 8414 (well-known inserted before the issuer's path), then OpenID Connect discovery
/// (appended, then inserted).
pub fn metadata_urls(issuer: &str) -> Result<Vec<String>, String> {
    let url = Url::parse(issuer).map_err(|e| format!("bad issuer URL: {e}"))?;
    let origin = url.origin().ascii_serialization();
    let path = url.path().trim_end_matches('/');
    let mut urls = vec![format!(
        "{origin}/.well-known/oauth-authorization-server{path}"
    )];
    urls.push(format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    ));
    if !path.is_empty() {
        urls.push(format!("{origin}/.well-known/openid-configuration{path}"));
    }
    Ok(urls)
}

/// Whether this JWK may verify a signature made with `alg`: a signing key whose type and
/// curve fit the algorithm, and whose own `alg`, if any, is the same. Symmetric keys never.
fn usable_for(key: &Jwk, alg: Algorithm) -> bool {
    if matches!(
        key.common.public_key_use,
        Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
    ) {
        return false;
    }
    if let Some(declared) = key.common.key_algorithm
        && Algorithm::from_str(&declared.to_string()).ok() != Some(alg)
    {
        return false;
    }
    match (&key.algorithm, alg) {
        (AlgorithmParameters::RSA(_), a) => matches!(
            a,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
        ),
        (AlgorithmParameters::EllipticCurve(p), Algorithm::ES256) => p.curve == EllipticCurve::P256,
        (AlgorithmParameters::EllipticCurve(p), Algorithm::ES384) => p.curve == EllipticCurve::P384,
        (AlgorithmParameters::OctetKeyPair(p), Algorithm::EdDSA) => {
            p.curve == EllipticCurve::Ed25519
        }
        _ => false,
    }
}

async fn fetch_json(http: &reqwest::Client, url: &str) -> Result<Value, String> {
    let mut response = http
        .get(url)
        .header("Accept", "application/json")
        .timeout(FETCH_TIMEOUT)
        .send()
        .await
        .map_err(|e| format!("{url}: {}", describe(&e.without_url())))?;
    if !response.status().is_success() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("{url}: {}", describe(&e.without_url())))?
    {
        if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(format!("{url}: document too large"));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|e| format!("{url}: not JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_locations() {
        assert_eq!(
            metadata_urls("http://127.0.0.1:9000").unwrap(),
            [
                "http://127.0.0.1:9000/.well-known/oauth-authorization-server",
                "http://127.0.0.1:9000/.well-known/openid-configuration"
            ]
        );
        assert_eq!(
            metadata_urls("https://as.example/tenant1/").unwrap(),
            [
                "https://as.example/.well-known/oauth-authorization-server/tenant1",
                "https://as.example/tenant1/.well-known/openid-configuration",
                "https://as.example/.well-known/openid-configuration/tenant1"
            ]
        );
    }

    #[test]
    fn symmetric_and_mismatched_keys_are_never_used() {
        let oct: Jwk =
            serde_json::from_str(r#"{"kty":"oct","k":"c2VjcmV0","alg":"HS256"}"#).unwrap();
        assert!(!usable_for(&oct, Algorithm::HS256));
        let ec: Jwk = serde_json::from_str(
            r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#,
        )
        .unwrap();
        assert!(usable_for(&ec, Algorithm::ES256));
        assert!(!usable_for(&ec, Algorithm::ES384));
        assert!(!usable_for(&ec, Algorithm::RS256));
    }
}
