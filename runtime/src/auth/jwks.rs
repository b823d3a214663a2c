//! The authorization server's signing keys. `jwks_uri` comes from the issuer's RFC 8414
//! metadata (OpenID Connect discovery as fallback); the key set is cached, refetched when a
//! token names an unknown `kid` (at most once per [`MIN_REFRESH`], however many such tokens
//! arrive; the startup and background fetches do not count, so a key rotated in right after
//! startup is still picked up) and kept when the authorization server is unreachable, so a
//! brief outage does not lock users out; after `JWKS_MAX_STALE_SECS` without a successful
//! fetch they are no longer trusted.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;
use tokio::sync::Mutex;

use crate::auth::authserver;
use crate::config::ConfigError;
use crate::metrics::AuthCounters;

/// Refetches never happen more often than this, whatever tokens arrive.
const MIN_REFRESH: Duration = Duration::from_secs(10);
/// Until keys were loaded once (the authorization server may start after us), retry sooner.
const MIN_RETRY_UNLOADED: Duration = Duration::from_secs(1);
/// Cached keys older than this are refreshed in the background, so revoked keys go away.
const MAX_AGE: Duration = Duration::from_secs(3600);

/// Default for `JWKS_MAX_STALE_SECS`.
pub const MAX_STALE: Duration = Duration::from_secs(24 * 3600);

pub struct KeyStore {
    issuer: String,
    http: reqwest::Client,
    keys: RwLock<Arc<KeySet>>,
    refresh: Mutex<RefreshState>,
    /// Keys not refreshed for this long are no longer trusted (an outage that outlasts it
    /// could hide a revoked key): tokens are refused until the keys load again.
    max_stale: Duration,
    /// Where fetches are counted, when metrics are on.
    counters: OnceLock<AuthCounters>,
    /// Key sets loaded so far.
    generations: AtomicU64,
}

/// Keys that may have signed a token, and the key set they come from
/// ([`KeyStore::trusted_generation`]).
pub struct Candidates {
    pub keys: Vec<DecodingKey>,
    pub generation: u64,
}

#[derive(Default)]
struct KeySet {
    keys: Vec<Jwk>,
    fetched: Option<Instant>,
    /// Which fetch this is (0: none yet), for what was checked against it.
    generation: u64,
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
    #[cfg(test)]
    pub fn new(issuer: &str, http: reqwest::Client) -> Arc<Self> {
        Self::with_max_stale(issuer, http, MAX_STALE)
    }

    pub fn with_max_stale(issuer: &str, http: reqwest::Client, max_stale: Duration) -> Arc<Self> {
        Arc::new(Self {
            issuer: issuer.to_owned(),
            http,
            keys: RwLock::new(Arc::new(KeySet::default())),
            refresh: Mutex::new(RefreshState::default()),
            max_stale,
            counters: OnceLock::new(),
            generations: AtomicU64::new(0),
        })
    }

    /// Counts every fetch from now on in `counters` (`mcp_jwks_fetches_total`).
    pub fn count_with(&self, counters: AuthCounters) {
        let _ = self.counters.set(counters);
    }

    /// Whether keys were loaded and are still trusted (`JWKS_MAX_STALE_SECS`): tokens can be
    /// checked. The readiness of the server.
    pub fn loaded(&self) -> bool {
        self.keys.read().is_ok_and(|set| {
            set.fetched
                .is_some_and(|fetched| fetched.elapsed() <= self.max_stale)
        })
    }

    /// Which key set is held, while its keys are trusted (loaded, not older than
    /// `JWKS_MAX_STALE_SECS`): a token verified against it needs no new check while it lasts.
    pub fn trusted_generation(&self) -> Option<u64> {
        let set = self.keys.read().ok()?;
        set.fetched.filter(|f| f.elapsed() <= self.max_stale)?;
        Some(set.generation)
    }

    /// Keys that may have signed a token with this `kid` and `alg`; `Err` (why, for the log)
    /// when the cached keys are too old to be trusted.
    pub async fn candidates(
        self: &Arc<Self>,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<Candidates, String> {
        let (found, age, generation) = self.matching(kid, alg);
        if let Some(age) = age.filter(|age| *age > self.max_stale) {
            self.refresh_in_background();
            return Err(format!(
                "signing keys last loaded {}s ago, beyond JWKS_MAX_STALE_SECS={}",
                age.as_secs(),
                self.max_stale.as_secs()
            ));
        }
        if !found.is_empty() {
            if age.is_some_and(|age| age > MAX_AGE) {
                self.refresh_in_background();
            }
            return Ok(Candidates {
                keys: found,
                generation,
            });
        }
        // Matched again even when this call did not fetch: a concurrent one may have.
        self.refresh_on_demand().await;
        let (keys, _, generation) = self.matching(kid, alg);
        Ok(Candidates { keys, generation })
    }

    fn refresh_in_background(self: &Arc<Self>) {
        // Never block a request on a fetch in progress: a busy lock means one is under way.
        if self.refresh.try_lock().is_err() {
            return;
        }
        let store = Arc::clone(self);
        tokio::spawn(async move { store.refresh().await });
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
        let fetched = self.fetch(state).await;
        if let Some(counters) = self.counters.get() {
            counters.jwks_fetch(fetched.is_ok());
        }
        match fetched {
            Ok(keys) => {
                tracing::info!(issuer = %self.issuer, keys = keys.len(), "loaded signing keys");
                if let Ok(mut slot) = self.keys.write() {
                    *slot = Arc::new(KeySet {
                        keys,
                        fetched: Some(Instant::now()),
                        generation: self.generations.fetch_add(1, Ordering::Relaxed) + 1,
                    });
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

/// `JWKS_MAX_STALE_SECS`: how long cached signing keys stay trusted without a successful
/// refresh.
pub fn max_stale_from(lookup: impl Fn(&str) -> Option<String>) -> Result<Duration, ConfigError> {
    let var = "JWKS_MAX_STALE_SECS";
    match lookup(var)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
    {
        None => Ok(MAX_STALE),
        Some(v) => v
            .parse::<u64>()
            .ok()
            // Shorter than the background refresh age would refuse tokens on a healthy AS.
            .filter(|secs| *secs >= MAX_AGE.as_secs())
            .map(Duration::from_secs)
            .ok_or(ConfigError {
                var,
                message: format!(
                    "{v:?} is not a number of seconds of at least {}",
                    MAX_AGE.as_secs()
                ),
            }),
    }
}

impl KeyStore {
    /// Matching keys, how long ago the key set was loaded (`None`: never), and which set.
    fn matching(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> (Vec<DecodingKey>, Option<Duration>, u64) {
        let set = match self.keys.read() {
            Ok(set) => Arc::clone(&set),
            Err(_) => return (Vec::new(), None, 0),
        };
        let found = set
            .keys
            .iter()
            .filter(|k| kid.is_none() || k.common.key_id.as_deref() == kid)
            .filter(|k| usable_for(k, alg))
            .filter_map(|k| DecodingKey::from_jwk(k).ok())
            .collect();
        (found, set.fetched.map(|t| t.elapsed()), set.generation)
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
        let document = authserver::fetch_json(&self.http, &jwks_uri).await?;
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
        let metadata = authserver::fetch_metadata(&self.http, &self.issuer).await?;
        metadata
            .get("jwks_uri")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| "the authorization server metadata has no jwks_uri".to_owned())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
