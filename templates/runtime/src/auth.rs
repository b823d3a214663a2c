//! Access tokens (design §5): taken from the `Authorization` header only, verified as JWTs
//! signed by the configured issuer for this resource, and turned into a [`Principal`] whose
//! scopes decide which tools may be called. Tokens are never logged.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::http::{HeaderMap, header::AUTHORIZATION};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
use serde_json::{Map, Value};

use crate::catalog::Access;
use crate::jwks::KeyStore;

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
const LEEWAY_SECS: u64 = 30;

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
    Allow,
    NoToken,
    /// The scopes the tool needs that the token lacks.
    MissingScopes(Vec<&'static str>),
}

pub fn authorize(access: &Access, principal: Option<&Principal>) -> Decision {
    if access.anonymous {
        return Decision::Allow;
    }
    let Some(principal) = principal else {
        return Decision::NoToken;
    };
    let missing: Vec<&'static str> = access
        .oauth2
        .unwrap_or(&[])
        .iter()
        .copied()
        .filter(|s| !principal.scopes.contains(*s))
        .collect();
    if missing.is_empty() {
        Decision::Allow
    } else {
        Decision::MissingScopes(missing)
    }
}

/// What the `Authorization` header holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Bearer<'a> {
    /// No header, or another scheme (not meant for us).
    Absent,
    Token(&'a str),
    /// A Bearer header we cannot use (empty, repeated, not ASCII, stray spaces).
    Malformed,
}

pub fn bearer(headers: &HeaderMap) -> Bearer<'_> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Bearer::Absent;
    };
    if values.next().is_some() {
        return Bearer::Malformed;
    }
    let Ok(value) = value.to_str() else {
        return Bearer::Malformed;
    };
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Bearer::Absent;
    }
    let token = rest.trim();
    if token.is_empty() || token.contains(|c: char| !c.is_ascii_graphic()) {
        return Bearer::Malformed;
    }
    Bearer::Token(token)
}

/// Why a token was refused: `description` goes to the client, `reason` to the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub description: &'static str,
    pub reason: String,
}

fn reject(description: &'static str, reason: impl Into<String>) -> Rejection {
    Rejection {
        description,
        reason: reason.into(),
    }
}

pub struct Verifier {
    keys: Arc<KeyStore>,
    issuers: Vec<String>,
    audiences: Vec<String>,
}

impl Verifier {
    /// `issuer` and `resource` are compared as configured, with or without a trailing slash.
    pub fn new(keys: Arc<KeyStore>, issuer: &str, resource: &str) -> Self {
        Self {
            keys,
            issuers: slash_variants(issuer),
            audiences: slash_variants(resource),
        }
    }

    pub async fn verify(&self, token: &str) -> Result<Principal, Rejection> {
        let header = decode_header(token)
            .map_err(|e| reject("The access token is malformed.", format!("bad header: {e}")))?;
        if !ALLOWED.contains(&header.alg) {
            return Err(reject(
                "The access token's signing algorithm is not accepted.",
                format!("algorithm {:?} not allowed", header.alg),
            ));
        }
        let candidates = self
            .keys
            .candidates(header.kid.as_deref(), header.alg)
            .await;
        if candidates.is_empty() {
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
        for key in &candidates {
            match decode::<Map<String, Value>>(token, key, &validation) {
                Ok(data) => return Ok(principal(&data.claims)),
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

fn slash_variants(s: &str) -> Vec<String> {
    let bare = s.trim_end_matches('/').to_owned();
    vec![format!("{bare}/"), bare]
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
        assert_eq!(bearer(&with(&["Basic dTpw"])), Bearer::Absent);
        assert_eq!(bearer(&with(&["Bearer"])), Bearer::Malformed);
        assert_eq!(bearer(&with(&["Bearer a b"])), Bearer::Malformed);
        assert_eq!(bearer(&with(&["Bearer a", "Bearer b"])), Bearer::Malformed);
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
}
