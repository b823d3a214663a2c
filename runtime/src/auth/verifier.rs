//! Access tokens (ARCHITECTURE.md, The server): taken from the `Authorization` header only,
//! verified as JWTs signed by the configured issuer for this resource, and turned into a
//! [`Principal`] whose scopes decide which tools may be called. Tokens are never logged.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, header::AUTHORIZATION};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
use serde_json::{Map, Value};

use crate::auth::introspection::{IntrospectionConfig, Introspector};
use crate::auth::jwks::KeyStore;
use crate::auth::readiness::TokenReadiness;
pub use crate::auth::rejection::Rejection;
use crate::auth::rejection::{CNF_BOUND, LEEWAY_SECS, TRY_AGAIN, reject};
use crate::auth::scopes::ScopeImplications;
use crate::cache::{Lru, TokenKey};
use crate::catalog::Access;
use crate::metrics::AuthCounters;

/// Longer tokens are refused unread: real access tokens are a few KiB at most.
const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// `typ` values of access tokens (RFC 9068 §2.1); `JWT` because most providers still use it.
const ACCESS_TOKEN_TYPES: &[&str] = &["at+jwt", "application/at+jwt", "jwt"];
/// JWTs remembered as verified (see [`Verified`]); about 200 bytes each.
const MAX_VERIFIED: usize = 10_000;
/// Claims only ID tokens carry (OpenID Connect Core §2, §3.1.3.6): never an access token.
const ID_TOKEN_CLAIMS: &[&str] = &["nonce", "at_hash", "c_hash"];

/// Asymmetric algorithms only: never `none`, never HMAC with a public key.
const ALLOWED: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Who called, as far as a verified token says. Put into request extensions by the gate.
#[derive(Debug, Clone, Default)]
pub struct Principal {
    pub subject: Option<String>,
    pub scopes: BTreeSet<String>,
}

/// The outcome of checking a tool's access rule against the caller.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// The caller may use every credential alternative of the operation: it holds a verified
    /// token with the tool's scopes, or the tool has no OAuth requirement at all.
    Allow,
    /// A tool that also works without credentials (`{}` among the spec's requirements),
    /// called without a token that holds its scopes: it runs, but only with the empty
    /// alternative, so the server's own upstream credential is never spent on this caller.
    AllowAnonymous,
    NoToken,
    /// The scopes the tool needs that the token lacks.
    MissingScopes(Vec<&'static str>),
}

impl Decision {
    /// Whether the call may spend the server's upstream credentials (or act as the caller).
    pub fn entitled(&self) -> bool {
        matches!(self, Decision::Allow)
    }
}

pub fn authorize(access: &Access, principal: Option<&Principal>) -> Decision {
    if access.anonymous && access.oauth2.is_none() {
        return Decision::Allow;
    }
    let required = access.oauth2.unwrap_or(&[]);
    let missing: Option<Vec<&'static str>> = principal.map(|principal| {
        required
            .iter()
            .copied()
            .filter(|s| !principal.scopes.contains(*s))
            .collect()
    });
    match missing {
        Some(missing) if missing.is_empty() => Decision::Allow,
        _ if access.anonymous => Decision::AllowAnonymous,
        Some(missing) => Decision::MissingScopes(missing),
        None => Decision::NoToken,
    }
}

/// What the `Authorization` header holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Bearer<'a> {
    /// No `Authorization` header.
    Absent,
    Token(&'a str),
    /// A header we cannot use (another scheme, empty, repeated, not ASCII, stray spaces,
    /// oversized), with the description the client gets.
    Malformed(&'static str),
}

pub fn bearer(headers: &HeaderMap) -> Bearer<'_> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Bearer::Absent;
    };
    if values.next().is_some() {
        return Bearer::Malformed("Send exactly one Authorization header.");
    }
    if value.len() > MAX_TOKEN_BYTES {
        return Bearer::Malformed("The access token is too large.");
    }
    let Ok(value) = value.to_str() else {
        return Bearer::Malformed("The Authorization header is malformed.");
    };
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    // Another scheme is a credential we do not take: refused rather than silently ignored.
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Bearer::Malformed("Only Bearer access tokens are accepted.");
    }
    let token = rest.trim();
    if token.is_empty() || token.contains(|c: char| !c.is_ascii_graphic()) {
        return Bearer::Malformed("The Authorization header is malformed.");
    }
    Bearer::Token(token)
}

pub struct Verifier {
    keys: Arc<KeyStore>,
    issuers: Vec<String>,
    audiences: Vec<String>,
    implied: ScopeImplications,
    /// For opaque (non-JWT) tokens, when configured.
    introspector: Option<Arc<Introspector>>,
    /// JWTs verified lately: a client sends the same token with every call until it
    /// expires, and checking its signature again was a third of the call's CPU.
    verified: Mutex<Lru<Verified>>,
}

/// A JWT that passed every check, remembered by its SHA-256 (never the token itself).
struct Verified {
    principal: Principal,
    /// Its `exp` plus the leeway, in Unix seconds: what the check itself would allow.
    until: u64,
    /// The key set it was verified against: it counts only while that set is held and
    /// trusted, so a key rotated away or gone stale takes its tokens with it.
    keys: u64,
}

impl Verifier {
    /// `iss` must equal `issuer` and `aud` name `resource` exactly (RFC 8414 §3.3,
    /// RFC 9068 §4): no trailing-slash or case leniency.
    pub fn new(keys: Arc<KeyStore>, issuer: &str, resource: &str) -> Self {
        Self {
            keys,
            issuers: vec![issuer.to_owned()],
            audiences: vec![resource.to_owned()],
            implied: ScopeImplications::default(),
            introspector: None,
            verified: Mutex::new(Lru::new(MAX_VERIFIED)),
        }
    }

    /// Broader scopes that satisfy narrower ones (`SCOPE_IMPLIES`).
    pub fn with_implied_scopes(mut self, implied: ScopeImplications) -> Self {
        self.implied = implied;
        self
    }

    /// Opaque tokens are checked at the AS's RFC 7662 endpoint.
    pub fn with_introspection(
        mut self,
        config: IntrospectionConfig,
        http: reqwest::Client,
    ) -> Self {
        self.introspector = Some(Arc::new(Introspector::new(
            config,
            http,
            self.issuers.clone(),
            self.audiences.clone(),
        )));
        self
    }

    /// Counts key fetches and introspections in `counters` (after `with_introspection`,
    /// before `readiness` shares the introspector).
    pub fn with_counters(mut self, counters: AuthCounters) -> Self {
        self.keys.count_with(counters.clone());
        if let Some(introspector) = self.introspector.as_mut().and_then(Arc::get_mut) {
            introspector.count_with(counters);
        }
        self
    }

    /// What tells whether tokens can be checked yet.
    pub fn readiness(&self) -> TokenReadiness {
        TokenReadiness::new(Arc::clone(&self.keys), self.introspector.clone())
    }

    pub async fn verify(&self, token: &str) -> Result<Principal, Rejection> {
        // Three segments: a JWS, verified here and never introspected, so garbage of that
        // shape costs no round trip to the authorization server.
        if token.split('.').count() == 3 {
            let key = TokenKey::of(token);
            let held = self.keys.trusted_generation();
            if let Some(principal) = held.and_then(|keys| self.recall(&key, keys, unix_now())) {
                return Ok(principal);
            }
            let (claims, keys) = self.verify_jwt(token).await?;
            let principal = self.principal_of(&claims)?;
            if let Some(exp) = claims.get("exp").and_then(Value::as_u64) {
                let until = exp.saturating_add(LEEWAY_SECS);
                let principal = principal.clone();
                self.remember(
                    key,
                    Verified {
                        principal,
                        until,
                        keys,
                    },
                );
            }
            return Ok(principal);
        }
        let claims = if let Some(introspector) = &self.introspector {
            if !is_b64token(token) {
                return Err(reject(
                    "The access token is malformed.",
                    "not RFC 6750 b64token syntax",
                ));
            }
            introspector.introspect(token).await?
        } else {
            return Err(reject(
                "The access token is malformed.",
                "not a JWS compact token and no introspection configured",
            ));
        };
        self.principal_of(&claims)
    }

    fn principal_of(&self, claims: &Map<String, Value>) -> Result<Principal, Rejection> {
        // RFC 9449 / RFC 8705: a sender-constrained token is only valid with its proof of
        // possession, which a bearer-only server cannot check.
        if claims.contains_key("cnf") {
            return Err(reject(CNF_BOUND, "cnf claim present"));
        }
        let mut principal = principal(claims);
        self.implied.expand(&mut principal.scopes);
        Ok(principal)
    }

    /// The caller of a token verified against key set `keys` and not expired at `now`.
    fn recall(&self, key: &TokenKey, keys: u64, now: u64) -> Option<Principal> {
        let mut verified = self.verified.lock().ok()?;
        let found = verified.get(key)?;
        if found.keys == keys && now <= found.until {
            return Some(found.principal.clone());
        }
        verified.remove(key);
        None
    }

    fn remember(&self, key: TokenKey, verified: Verified) {
        if let Ok(mut cache) = self.verified.lock() {
            cache.insert(key, verified);
        }
    }

    /// The claims, and the key set ([`KeyStore::trusted_generation`]) that verified them.
    async fn verify_jwt(&self, token: &str) -> Result<(Map<String, Value>, u64), Rejection> {
        let header = decode_header(token)
            .map_err(|e| reject("The access token is malformed.", format!("bad header: {e}")))?;
        // RFC 7515 §4.1.11: we implement no extensions, so any critical one is unknown to us.
        if header.crit.is_some() {
            return Err(reject(
                "The access token uses a critical header extension this server does not support.",
                "crit header present",
            ));
        }
        // RFC 8725 §3.11: other JWT kinds (logout tokens, DPoP proofs…) are not access tokens.
        if let Some(typ) = header.typ.as_deref()
            && !ACCESS_TOKEN_TYPES
                .iter()
                .any(|t| t.eq_ignore_ascii_case(typ))
        {
            return Err(reject(
                "The token is not an access token.",
                format!("typ {typ:?}"),
            ));
        }
        // `jku`, `x5u`, `jwk` and `x5c` are ignored: keys only ever come from the issuer's JWKS.
        if !ALLOWED.contains(&header.alg) {
            return Err(reject(
                "The access token's signing algorithm is not accepted.",
                format!("algorithm {:?} not allowed", header.alg),
            ));
        }
        let candidates = self
            .keys
            .candidates(header.kid.as_deref(), header.alg)
            .await
            .map_err(|reason| reject(TRY_AGAIN, reason))?;
        if candidates.keys.is_empty() {
            return Err(reject(
                "The access token was signed with an unknown key.",
                format!("no key for kid {:?} and {:?}", header.kid, header.alg),
            ));
        }
        let mut validation = Validation::new(header.alg);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_issuer(&self.issuers);
        validation.set_audience(&self.audiences);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);

        let mut last = reject("The access token signature is invalid.", "no key verified");
        for key in &candidates.keys {
            match decode::<Map<String, Value>>(token, key, &validation) {
                Ok(data) => {
                    if let Some(claim) = ID_TOKEN_CLAIMS
                        .iter()
                        .find(|c| data.claims.contains_key(**c))
                    {
                        return Err(reject(
                            "The token is an ID token, not an access token.",
                            format!("carries the ID token claim {claim:?}"),
                        ));
                    }
                    return Ok((data.claims, candidates.generation));
                }
                Err(e) => {
                    last = rejection(e.kind());
                    // Only a bad signature may succeed with another key of the same kid.
                    if !matches!(e.kind(), ErrorKind::InvalidSignature) {
                        break;
                    }
                }
            }
        }
        Err(last)
    }
}

/// Seconds since the Unix epoch, as `exp` counts them.
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn rejection(kind: &ErrorKind) -> Rejection {
    let description = match kind {
        ErrorKind::ExpiredSignature => "The access token expired.",
        ErrorKind::ImmatureSignature => "The access token is not valid yet.",
        ErrorKind::InvalidAudience => "The access token was not issued for this resource.",
        ErrorKind::InvalidIssuer => "The access token was issued by another authorization server.",
        ErrorKind::InvalidSignature => "The access token signature is invalid.",
        ErrorKind::MissingRequiredClaim(_) => "The access token lacks a required claim.",
        ErrorKind::InvalidAlgorithm => "The access token's signing algorithm is not accepted.",
        _ => "The access token is malformed.",
    };
    reject(description, format!("{kind:?}"))
}

/// RFC 6750 §2.1: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// Scopes from `scope` (space-separated, RFC 8693/9068) or `scp` (array, some providers).
fn principal(claims: &Map<String, Value>) -> Principal {
    let mut scopes = BTreeSet::new();
    for claim in ["scope", "scp"] {
        match claims.get(claim) {
            Some(Value::String(s)) => scopes.extend(s.split_whitespace().map(str::to_owned)),
            Some(Value::Array(items)) => {
                scopes.extend(items.iter().filter_map(Value::as_str).map(str::to_owned));
            }
            _ => {}
        }
    }
    Principal {
        subject: claims.get("sub").and_then(Value::as_str).map(str::to_owned),
        scopes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{TestIssuer, now};
    use axum::http::HeaderValue;
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;
    use std::sync::atomic::Ordering;

    const RESOURCE: &str = "http://127.0.0.1:8000/mcp";

    fn verifier(issuer: &TestIssuer) -> Verifier {
        let keys = KeyStore::new(&issuer.url, reqwest::Client::new());
        Verifier::new(keys, &issuer.url, RESOURCE)
    }

    #[tokio::test]
    async fn accepts_a_good_token_and_reads_scopes() {
        let issuer = TestIssuer::start().await;
        let v = verifier(&issuer);
        let p = v
            .verify(&issuer.token(&issuer.claims(RESOURCE, "read:pets write:pets")))
            .await
            .unwrap();
        assert_eq!(p.subject.as_deref(), Some("user-1"));
        assert!(p.scopes.contains("read:pets") && p.scopes.contains("write:pets"));

        let mut claims = issuer.claims("other", "");
        claims["aud"] = json!(["other", RESOURCE]);
        claims["scp"] = json!(["a", "b"]);
        let p = v.verify(&issuer.token(&claims)).await.unwrap();
        assert!(p.scopes.contains("a") && p.scopes.contains("b"));
    }

    #[tokio::test]
    async fn refuses_bad_claims() {
        let issuer = TestIssuer::start().await;
        let v = verifier(&issuer);
        let cases = [
            ("exp", json!(now() - 120), "expired"),
            ("nbf", json!(now() + 120), "not valid yet"),
            (
                "aud",
                json!("https://elsewhere.example/mcp"),
                "not issued for this resource",
            ),
            (
                "iss",
                json!("https://evil.example"),
                "another authorization server",
            ),
            // Exact comparison: a trailing slash makes another identifier.
            (
                "aud",
                json!(format!("{RESOURCE}/")),
                "not issued for this resource",
            ),
            (
                "iss",
                json!(format!("{}/", issuer.url)),
                "another authorization server",
            ),
            (
                "cnf",
                json!({"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}),
                "bound to a key",
            ),
        ];
        for (claim, value, expected) in cases {
            let mut claims = issuer.claims(RESOURCE, "");
            claims[claim] = value;
            let err = v.verify(&issuer.token(&claims)).await.unwrap_err();
            assert!(err.description.contains(expected), "{claim}: {err:?}");
        }
        let mut no_aud = issuer.claims(RESOURCE, "");
        no_aud.as_object_mut().unwrap().remove("aud");
        assert!(v.verify(&issuer.token(&no_aud)).await.is_err());
        // Within the leeway an expired token still passes.
        let mut recent = issuer.claims(RESOURCE, "");
        recent["exp"] = json!(now() - 5);
        assert!(v.verify(&issuer.token(&recent)).await.is_ok());
    }

    #[tokio::test]
    async fn refuses_symmetric_none_and_tampered_tokens() {
        let issuer = TestIssuer::start().await;
        let v = verifier(&issuer);
        let claims = issuer.claims(RESOURCE, "");
        let mut hs = Header::new(Algorithm::HS256);
        hs.kid = Some("hmac".into());
        let hs_token = encode(&hs, &claims, &EncodingKey::from_secret(b"secret")).unwrap();
        let err = v.verify(&hs_token).await.unwrap_err();
        assert!(err.description.contains("algorithm"), "{err:?}");

        let b64 = |v: &Value| {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let none = format!("{}.{}.", b64(&json!({"alg": "none"})), b64(&claims));
        assert!(v.verify(&none).await.is_err());

        let good = issuer.token(&claims);
        let mut forged = issuer.claims(RESOURCE, "admin");
        forged["sub"] = json!("someone-else");
        let parts: Vec<&str> = good.split('.').collect();
        let tampered = format!("{}.{}.{}", parts[0], b64(&forged), parts[2]);
        let err = v.verify(&tampered).await.unwrap_err();
        assert!(err.description.contains("signature"), "{err:?}");
    }

    #[tokio::test]
    async fn refuses_other_token_kinds_and_critical_extensions() {
        let issuer = TestIssuer::start().await;
        let v = verifier(&issuer);
        let claims = issuer.claims(RESOURCE, "read");
        let crit = issuer.token_with_header(
            |h| {
                h.crit = Some(vec!["exp-ext".into()]);
                h.extras.insert("exp-ext", true);
            },
            &claims,
        );
        let err = v.verify(&crit).await.unwrap_err();
        assert!(err.description.contains("critical"), "{err:?}");
        let logout = issuer.token_with_header(|h| h.typ = Some("logout+jwt".into()), &claims);
        let err = v.verify(&logout).await.unwrap_err();
        assert!(err.description.contains("not an access token"), "{err:?}");
        let mut id_token = claims.clone();
        id_token["nonce"] = json!("n-0S6_WzA2Mj");
        let err = v.verify(&issuer.token(&id_token)).await.unwrap_err();
        assert!(err.description.contains("ID token"), "{err:?}");
        // RFC 9068 typ and a foreign jku (ignored: keys come from the issuer only) pass.
        let at_jwt = issuer.token_with_header(
            |h| {
                h.typ = Some("at+jwt".into());
                h.jku = Some("https://evil.example/jwks".into());
            },
            &claims,
        );
        assert!(v.verify(&at_jwt).await.is_ok());
        let err = v.verify("opaque-token-without-dots").await.unwrap_err();
        assert!(err.description.contains("malformed"), "{err:?}");
    }

    #[tokio::test]
    async fn keys_are_not_trusted_after_a_long_outage() {
        let issuer = TestIssuer::start().await;
        let keys = KeyStore::with_max_stale(
            &issuer.url,
            reqwest::Client::new(),
            std::time::Duration::from_millis(300),
        );
        let v = Verifier::new(keys, &issuer.url, RESOURCE);
        let token = issuer.token(&issuer.claims(RESOURCE, ""));
        assert!(v.verify(&token).await.is_ok());
        issuer.down.store(true, Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        let err = v.verify(&token).await.unwrap_err();
        assert_eq!(err.description, TRY_AGAIN, "{err:?}");
        assert!(err.reason.contains("JWKS_MAX_STALE_SECS"), "{err:?}");
    }

    #[tokio::test]
    async fn a_verified_token_is_remembered_only_while_unexpired_and_its_keys_held() {
        let issuer = TestIssuer::start().await;
        let v = verifier(&issuer);
        let token = issuer.token(&issuer.claims(RESOURCE, "read:pets"));
        let first = v.verify(&token).await.unwrap();
        let keys = v.keys.trusted_generation().unwrap();
        let key = TokenKey::of(&token);
        let exp = issuer.claims(RESOURCE, "")["exp"].as_u64().unwrap();
        let again = v.recall(&key, keys, now()).unwrap();
        assert_eq!((again.subject, again.scopes), (first.subject, first.scopes));
        // Up to `exp` and the leeway the check allows, not a second beyond.
        assert!(v.recall(&key, keys, exp + LEEWAY_SECS).is_some());
        assert!(v.recall(&key, keys, exp + LEEWAY_SECS + 1).is_none());
        // Forgotten once seen expired, and never for another key set.
        assert!(v.recall(&key, keys, now()).is_none());
        assert!(v.verify(&token).await.is_ok());
        assert!(v.recall(&key, keys + 1, now()).is_none());
        assert!(v.recall(&key, keys, now()).is_none());
        // A token that failed is not remembered.
        let other = issuer.token(&issuer.claims("http://elsewhere/mcp", ""));
        assert!(v.verify(&other).await.is_err());
        assert!(v.recall(&TokenKey::of(&other), keys, now()).is_none());
    }

    #[test]
    fn opaque_tokens_outside_b64token_syntax_are_not_introspected() {
        assert!(is_b64token("abc-._~+/DEF=="));
        for bad in ["a,b", "a=b", "==", "a\\b", "a\"b"] {
            assert!(!is_b64token(bad), "{bad}");
        }
    }

    #[tokio::test]
    async fn broader_scopes_imply_narrower_ones() {
        let issuer = TestIssuer::start().await;
        let implied = ScopeImplications::parse(Some("write:pets=read:pets")).unwrap();
        let v = verifier(&issuer).with_implied_scopes(implied);
        let p = v
            .verify(&issuer.token(&issuer.claims(RESOURCE, "write:pets")))
            .await
            .unwrap();
        assert!(p.scopes.contains("read:pets"), "{p:?}");
        let p = v
            .verify(&issuer.token(&issuer.claims(RESOURCE, "read:pets")))
            .await
            .unwrap();
        assert!(!p.scopes.contains("write:pets"), "{p:?}");
    }

    #[tokio::test]
    async fn unknown_kid_refetches_at_most_once_per_interval() {
        let issuer = TestIssuer::start().await;
        let v = verifier(&issuer);
        let claims = issuer.claims(RESOURCE, "");
        assert!(v.verify(&issuer.token(&claims)).await.is_ok());
        assert_eq!(issuer.jwks_hits.load(Ordering::SeqCst), 1);
        for _ in 0..3 {
            let err = v
                .verify(&issuer.token_with_kid("rotated-away", &claims))
                .await
                .unwrap_err();
            assert!(err.description.contains("unknown key"), "{err:?}");
        }
        assert_eq!(issuer.jwks_hits.load(Ordering::SeqCst), 1);
        // Known keys keep working from the cache.
        assert!(v.verify(&issuer.token(&claims)).await.is_ok());
    }

    #[test]
    fn bearer_header_parsing() {
        let with = |values: &[&str]| {
            let mut h = HeaderMap::new();
            for v in values {
                h.append(AUTHORIZATION, HeaderValue::from_str(v).unwrap());
            }
            h
        };
        assert_eq!(bearer(&with(&[])), Bearer::Absent);
        assert_eq!(bearer(&with(&["Bearer abc"])), Bearer::Token("abc"));
        assert_eq!(bearer(&with(&["bEaReR abc"])), Bearer::Token("abc"));
        let malformed = |h: &HeaderMap| matches!(bearer(h), Bearer::Malformed(_));
        assert!(malformed(&with(&["Basic dTpw"])));
        assert!(malformed(&with(&["Bearer"])));
        assert!(malformed(&with(&["Bearer a b"])));
        assert!(malformed(&with(&["Bearer a", "Bearer b"])));
        assert!(malformed(&with(&[&format!(
            "Bearer {}",
            "a".repeat(MAX_TOKEN_BYTES)
        )])));
    }

    #[test]
    fn authorization_decisions() {
        let principal = Principal {
            subject: None,
            scopes: ["read".to_owned()].into_iter().collect(),
        };
        let open = Access {
            anonymous: true,
            oauth2: None,
        };
        let any_token = Access {
            anonymous: false,
            oauth2: Some(&[]),
        };
        let write = Access {
            anonymous: false,
            oauth2: Some(&["read", "write"]),
        };
        assert_eq!(authorize(&open, None), Decision::Allow);
        assert_eq!(authorize(&any_token, None), Decision::NoToken);
        assert_eq!(authorize(&any_token, Some(&principal)), Decision::Allow);
        assert_eq!(
            authorize(&write, Some(&principal)),
            Decision::MissingScopes(vec!["write"])
        );
    }

    #[test]
    fn mixed_tools_spend_credentials_only_on_entitled_callers() {
        let read = Principal {
            subject: None,
            scopes: ["read".to_owned()].into_iter().collect(),
        };
        let mixed = Access {
            anonymous: true,
            oauth2: Some(&["write"]),
        };
        for caller in [None, Some(&read)] {
            let decision = authorize(&mixed, caller);
            assert_eq!(decision, Decision::AllowAnonymous);
            assert!(!decision.entitled());
        }
        let write = Principal {
            subject: None,
            scopes: ["write".to_owned()].into_iter().collect(),
        };
        assert!(authorize(&mixed, Some(&write)).entitled());
        let mixed_any_token = Access {
            anonymous: true,
            oauth2: Some(&[]),
        };
        assert_eq!(authorize(&mixed_any_token, None), Decision::AllowAnonymous);
        assert!(authorize(&mixed_any_token, Some(&read)).entitled());
    }
}
