//! RFC 7662 token introspection, for authorization servers that issue opaque (non-JWT) access
//! tokens. Configured with `TOKEN_INTROSPECTION_CLIENT_ID` and `TOKEN_INTROSPECTION_CLIENT_SECRET`
//! (client_secret_basic); the endpoint is `TOKEN_INTROSPECTION_URL`, or else the
//! `introspection_endpoint` of the issuer's metadata (RFC 8414). Answers are cached briefly so a
//! busy client does not cost one round trip per request, yet a revoked token stops working
//! within [`ACTIVE_TTL`]. Tokens are never logged nor kept: caches hold their SHA-256.
//!
//! Anyone can send a token, so what a stream of made-up ones costs is bounded: tokens not in
//! the cache are introspected at most `TOKEN_INTROSPECTION_MAX_PER_SEC` times per second on
//! average (bursts of twice that), at most [`MAX_CONCURRENT`] at once; beyond that a token is
//! refused with a 401 "try again" and not cached. Refusals are cached apart from accepted
//! tokens, so they never push an accepted token out of its cache.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};
use tokio::sync::Semaphore;

use crate::auth::authserver;
use crate::auth::rejection::{CNF_BOUND, LEEWAY_SECS, Rejection, TRY_AGAIN, reject};
use crate::cache::{Lru, TokenKey};
use crate::config::ConfigError;
use crate::metrics::{AuthCounters, FetchResult};
use crate::outbound::Failure;

/// How long an "active" answer is trusted (never beyond the token's own `exp`).
const ACTIVE_TTL: Duration = Duration::from_secs(30);
/// Refusals are cached too, so one garbage token sent again costs nothing.
const INACTIVE_TTL: Duration = Duration::from_secs(10);
const MAX_ACTIVE: usize = 10_000;
const MAX_INACTIVE: usize = 10_000;
/// Introspections in flight at most; more wait up to [`QUEUE_WAIT`] for a turn.
pub const MAX_CONCURRENT: usize = 8;
const QUEUE_WAIT: Duration = Duration::from_secs(2);
/// Default of `TOKEN_INTROSPECTION_MAX_PER_SEC`.
pub const DEFAULT_PER_SEC: u32 = 10;
const MAX_RESPONSE_BYTES: usize = 256 * 1024;

#[derive(Clone, PartialEq, Eq)]
pub struct IntrospectionConfig {
    /// `None`: discovered from the authorization server's metadata on first use.
    pub url: Option<String>,
    pub client_id: String,
    pub client_secret: String,
    /// Introspections of tokens not in the cache, per second on average.
    pub per_sec: u32,
}

/// Written by hand so the client secret never reaches a log line.
impl std::fmt::Debug for IntrospectionConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntrospectionConfig")
            .field("url", &self.url)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("per_sec", &self.per_sec)
            .finish()
    }
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
        let per_sec = match get("TOKEN_INTROSPECTION_MAX_PER_SEC") {
            None => DEFAULT_PER_SEC,
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or(ConfigError {
                    var: "TOKEN_INTROSPECTION_MAX_PER_SEC",
                    message: format!("{v:?} is not a positive whole number"),
                })?,
        };
        Ok(Some(Self {
            url,
            client_id: required("TOKEN_INTROSPECTION_CLIENT_ID")?,
            client_secret: required("TOKEN_INTROSPECTION_CLIENT_SECRET")?,
            per_sec,
        }))
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

/// A token bucket: [`Budget::spend`] succeeds `per_sec` times a second on average, with
/// bursts up to twice that.
struct Budget {
    available: f64,
    updated: Instant,
}

pub struct Introspector {
    config: IntrospectionConfig,
    /// The endpoint found in the issuer's metadata, when none was configured.
    discovered: tokio::sync::OnceCell<String>,
    http: reqwest::Client,
    issuers: Vec<String>,
    audiences: Vec<String>,
    active: Mutex<Lru<Cached>>,
    inactive: Mutex<Lru<Cached>>,
    running: Semaphore,
    /// Introspections of tokens never seen active: what a flood of garbage drains.
    budget: Mutex<Budget>,
    /// Re-checks of tokens that were active when last asked (their answer expired from the
    /// cache): a flood of unknown tokens cannot lock out the users already signed in.
    renewals: Mutex<Budget>,
    /// The endpoint gave a usable answer at least once: tokens can be checked.
    reached: AtomicBool,
    /// Where requests are counted, when metrics are on.
    counters: Option<AuthCounters>,
}

impl Introspector {
    pub fn new(
        config: IntrospectionConfig,
        http: reqwest::Client,
        issuers: Vec<String>,
        audiences: Vec<String>,
    ) -> Self {
        let burst = f64::from(config.per_sec) * 2.0;
        Self {
            config,
            discovered: tokio::sync::OnceCell::new(),
            http,
            issuers,
            audiences,
            active: Mutex::new(Lru::new(MAX_ACTIVE)),
            inactive: Mutex::new(Lru::new(MAX_INACTIVE)),
            running: Semaphore::new(MAX_CONCURRENT),
            budget: Mutex::new(Budget {
                available: burst,
                updated: Instant::now(),
            }),
            renewals: Mutex::new(Budget {
                available: burst,
                updated: Instant::now(),
            }),
            reached: AtomicBool::new(false),
            counters: None,
        }
    }

    /// Counts every introspection from now on (`mcp_introspection_requests_total`).
    pub fn count_with(&mut self, counters: AuthCounters) {
        self.counters = Some(counters);
    }

    fn count(&self, result: FetchResult) {
        if let Some(counters) = &self.counters {
            counters.introspection(result);
        }
    }

    /// Whether the endpoint answered usably at least once: the readiness of a server whose
    /// tokens may be opaque.
    pub fn reached(&self) -> bool {
        self.reached.load(Ordering::Relaxed)
    }

    /// Asks the endpoint about a token that was never issued, outside the budget and the
    /// caches, to learn whether it answers (before any caller sent a token). `true` when it
    /// did.
    pub async fn probe(&self) -> bool {
        let answered = self.ask("mcp-readiness-probe").await.is_ok();
        self.count(if answered {
            FetchResult::Inactive
        } else {
            FetchResult::Error
        });
        answered
    }

    /// The token's claims when the AS says it is active, for this resource, and current.
    pub async fn introspect(&self, token: &str) -> Result<Map<String, Value>, Rejection> {
        let key = TokenKey::of(token);
        if let Some(hit) = self.cached(&key) {
            return hit;
        }
        // Over budget: refused at once, so a flood neither queues nor waits for a refill.
        let budget = if self.was_active(&key) {
            &self.renewals
        } else {
            &self.budget
        };
        if !self.spend(budget) {
            self.count(FetchResult::Throttled);
            return Err(reject(
                TRY_AGAIN,
                "introspection: TOKEN_INTROSPECTION_MAX_PER_SEC reached",
            ));
        }
        let _turn = tokio::time::timeout(QUEUE_WAIT, self.running.acquire())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or_else(|| {
                self.count(FetchResult::Throttled);
                reject(TRY_AGAIN, "introspection: too many in flight")
            })?;
        // Another request with the same token may have asked while this one waited.
        if let Some(hit) = self.cached(&key) {
            return hit;
        }
        // Transport failures are not cached: the next request asks again.
        let answer = self
            .ask(token)
            .await
            .inspect_err(|_| self.count(FetchResult::Error))?;
        let outcome = self.judge(answer);
        self.count(if outcome.is_ok() {
            FetchResult::Ok
        } else {
            FetchResult::Inactive
        });
        let ttl = match &outcome {
            Ok(claims) => claims
                .get("exp")
                .and_then(Value::as_u64)
                .map_or(ACTIVE_TTL, |exp| {
                    ACTIVE_TTL.min(Duration::from_secs(exp.saturating_sub(unix_now())))
                }),
            Err(_) => INACTIVE_TTL,
        };
        self.store(key, ttl, outcome.clone());
        outcome
    }

    fn spend(&self, budget: &Mutex<Budget>) -> bool {
        let Ok(mut budget) = budget.lock() else {
            return false;
        };
        let rate = f64::from(self.config.per_sec);
        let refill = budget.updated.elapsed().as_secs_f64() * rate;
        budget.available = (budget.available + refill).min(rate * 2.0);
        budget.updated = Instant::now();
        if budget.available >= 1.0 {
            budget.available -= 1.0;
            true
        } else {
            false
        }
    }

    /// A current cached answer. Expired active answers stay (until evicted or replaced) to
    /// mark their token as one that was active: see [`Self::was_active`].
    fn cached(&self, key: &TokenKey) -> Option<Result<Map<String, Value>, Rejection>> {
        for (cache, keep_expired) in [(&self.active, true), (&self.inactive, false)] {
            let Ok(mut cache) = cache.lock() else {
                continue;
            };
            match cache.get(key) {
                Some(c) if c.until > Instant::now() => return Some(c.outcome.clone()),
                Some(_) if !keep_expired => cache.remove(key),
                _ => {}
            }
        }
        None
    }

    fn was_active(&self, key: &TokenKey) -> bool {
        self.active
            .lock()
            .is_ok_and(|mut cache| cache.get(key).is_some())
    }

    fn store(&self, key: TokenKey, ttl: Duration, outcome: Result<Map<String, Value>, Rejection>) {
        let cache = if outcome.is_ok() {
            &self.active
        } else {
            // No longer active: re-checks of this token take the budget of unknown ones.
            if let Ok(mut active) = self.active.lock() {
                active.remove(&key);
            }
            &self.inactive
        };
        if let Ok(mut cache) = cache.lock() {
            cache.insert(
                key,
                Cached {
                    until: Instant::now() + ttl,
                    outcome,
                },
            );
        }
    }

    /// The configured endpoint, or the `introspection_endpoint` of the issuer's metadata.
    async fn endpoint(&self) -> Result<&str, String> {
        if let Some(url) = &self.config.url {
            return Ok(url);
        }
        let issuer = self.issuers.first().map(String::as_str).unwrap_or_default();
        self.discovered
            .get_or_try_init(|| async {
                let metadata = authserver::fetch_metadata(&self.http, issuer).await?;
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
        let unavailable = |reason: String| reject(TRY_AGAIN, reason);
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
        let response = self
            .http
            .post(url)
            .header(
                "Authorization",
                format!("Basic {}", STANDARD.encode(credentials)),
            )
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json")
            .timeout(authserver::TIMEOUT)
            .body(body)
            .send()
            .await
            .map_err(|e| unavailable(format!("introspection: {}", Failure::from(e))))?;
        if !response.status().is_success() {
            return Err(unavailable(format!(
                "introspection endpoint answered HTTP {}",
                response.status()
            )));
        }
        let bytes = authserver::read_capped(response, MAX_RESPONSE_BYTES, "introspection")
            .await
            .map_err(unavailable)?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(claims)) => {
                self.reached.store(true, Ordering::Relaxed);
                Ok(claims)
            }
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
        if claims.contains_key("cnf") {
            return Err(reject(CNF_BOUND, "introspection: cnf"));
        }
        if let Some(kind) = claims.get("token_type").and_then(Value::as_str)
            && kind.eq_ignore_ascii_case("dpop")
        {
            return Err(reject(
                CNF_BOUND,
                format!("introspection: token_type {kind:?}"),
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
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const RESOURCE: &str = "http://127.0.0.1:8000/mcp";

    fn introspector() -> Introspector {
        Introspector::new(
            IntrospectionConfig {
                url: Some("http://127.0.0.1:1/introspect".into()),
                client_id: "c".into(),
                client_secret: "s".into(),
                per_sec: DEFAULT_PER_SEC,
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

    /// An introspection endpoint that counts its calls and knows one active token.
    async fn counting_endpoint() -> (String, Arc<AtomicUsize>) {
        use axum::Router;
        use axum::routing::post;
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        let router = Router::new().route(
            "/introspect",
            post(move |body: String| {
                counter.fetch_add(1, Ordering::SeqCst);
                async move {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    if body.starts_with("token=good&") {
                        json!({"active": true, "iss": "http://as", "aud": RESOURCE,
                               "exp": unix_now() + 300, "scope": "read"})
                        .to_string()
                    } else {
                        json!({"active": false}).to_string()
                    }
                }
            }),
        );
        let base = crate::testkit::serve(router).await;
        (format!("{base}/introspect"), hits)
    }

    /// An introspector at a counting endpoint, allowed `per_sec` introspections a second.
    async fn limited_introspector(per_sec: u32) -> (Arc<Introspector>, Arc<AtomicUsize>) {
        let (url, hits) = counting_endpoint().await;
        let mut config = introspector().config;
        config.url = Some(url);
        config.per_sec = per_sec;
        let i = Introspector::new(
            config,
            reqwest::Client::new(),
            vec!["http://as".into()],
            vec![RESOURCE.into()],
        );
        (Arc::new(i), hits)
    }

    /// `n` distinct garbage tokens at once; how many were refused with "try again".
    async fn flood(i: &Arc<Introspector>, n: usize) -> usize {
        let tasks: Vec<_> = (0..n)
            .map(|n| {
                let i = Arc::clone(i);
                tokio::spawn(async move { i.introspect(&format!("garbage-{n}")).await })
            })
            .collect();
        let mut try_again = 0;
        for task in tasks {
            if task
                .await
                .unwrap()
                .is_err_and(|e| e.description == TRY_AGAIN)
            {
                try_again += 1;
            }
        }
        try_again
    }

    #[tokio::test]
    async fn a_garbage_flood_costs_a_bounded_number_of_introspections() {
        let (i, hits) = limited_introspector(5).await;
        assert!(i.introspect("good").await.is_ok());
        // The same garbage twice: the refusal is cached.
        for _ in 0..2 {
            let err = i.introspect("garbage").await.unwrap_err();
            assert!(err.description.contains("not active"), "{err:?}");
        }
        assert_eq!(hits.load(Ordering::SeqCst), 2);
        let started = Instant::now();
        let try_again = flood(&i, 200).await;
        // Burst (2 × 5) plus 5 a second of flood, plus one for rounding.
        let bound = 10 + (started.elapsed().as_secs_f64() * 5.0).ceil() as usize + 1;
        let asked = hits.load(Ordering::SeqCst) - 2;
        assert!(asked <= bound, "{asked} introspections > {bound}");
        assert!(try_again >= 200 - bound, "{try_again}");
        // The accepted token is still cached: no new round trip.
        assert!(i.introspect("good").await.is_ok());
        assert_eq!(hits.load(Ordering::SeqCst) - 2, asked);
    }

    #[tokio::test]
    async fn users_signed_in_before_a_flood_are_rechecked_during_it() {
        let (i, hits) = limited_introspector(5).await;
        assert!(i.introspect("good").await.is_ok());
        // Its answer expires from the cache, as it does after ACTIVE_TTL.
        {
            let key = TokenKey::of("good");
            let mut active = i.active.lock().unwrap();
            let outcome = active.get(&key).unwrap().outcome.clone();
            let until = Instant::now().checked_sub(Duration::from_secs(1)).unwrap();
            active.insert(key, Cached { until, outcome });
        }
        let refused = flood(&i, 100).await;
        assert!(
            refused > 50,
            "the flood drained the budget ({refused} refused)"
        );
        let after_flood = hits.load(Ordering::SeqCst);
        // The signed-in user is asked about again, from a budget the flood cannot drain.
        assert!(i.introspect("good").await.is_ok());
        assert_eq!(hits.load(Ordering::SeqCst), after_flood + 1);
    }

    #[test]
    fn bound_tokens_and_trailing_slashes_are_refused() {
        let i = introspector();
        let good = json!({"active": true, "iss": "http://as", "aud": RESOURCE,
                          "exp": unix_now() + 300});
        let mut dpop = good.clone();
        dpop["token_type"] = json!("DPoP");
        assert_eq!(i.judge(claims(dpop)).unwrap_err().description, CNF_BOUND);
        let mut mtls = good.clone();
        mtls["cnf"] = json!({"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"});
        assert_eq!(i.judge(claims(mtls)).unwrap_err().description, CNF_BOUND);
        let mut slash = good.clone();
        slash["iss"] = json!("http://as/");
        assert!(i.judge(claims(slash)).is_err());
        let mut slash = good;
        slash["aud"] = json!(format!("{RESOURCE}/"));
        assert!(i.judge(claims(slash)).is_err());
    }

    #[tokio::test]
    async fn unreachable_endpoint_is_refused_and_not_cached() {
        let i = introspector();
        let err = i.introspect("opaque-token").await.unwrap_err();
        assert!(err.description.contains("right now"), "{err:?}");
        assert!(i.cached(&TokenKey::of("opaque-token")).is_none());
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
        assert!(i.discovered.get().is_none() && i.cached(&TokenKey::of("opaque-token")).is_none());
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
