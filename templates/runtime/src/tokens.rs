//! Tokens the server obtains for the upstream API at an OAuth token endpoint: client
//! credentials (RFC 6749 §4.4) and token exchange (RFC 8693). Both are cached until shortly
//! before they expire. Tokens and secrets never reach a log line or an error message.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::encode::enc;

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
/// Exchanged tokens kept at most; the cache starts over when full (bounded memory).
const MAX_EXCHANGED: usize = 1024;

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<u64>,
}

/// The client's id and secret at the token endpoint (`client_secret_basic`).
pub struct Client {
    pub id: String,
    pub secret: String,
}

/// POSTs `form` to `url` and returns the token with the moment to stop using it.
async fn request_token(
    http: &reqwest::Client,
    url: &str,
    client: &Client,
    form: &[(&str, &str)],
    what: &str,
) -> Result<(String, Instant), String> {
    let body = form
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    // client_secret_basic (RFC 6749 §2.3.1): both parts form-encoded before base64.
    let basic = STANDARD.encode(format!("{}:{}", enc(&client.id), enc(&client.secret)));
    let response = http
        .post(url)
        .header("Authorization", format!("Basic {basic}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| {
            format!(
                "{what} failed: {}",
                crate::upstream::describe(&e.without_url())
            )
        })?;
    let status = response.status();
    let bytes = response.bytes().await.unwrap_or_default();
    if !status.is_success() {
        // The OAuth error code says why (RFC 6749 §5.2); it carries no secret.
        let code = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        return Err(format!(
            "{what} refused: the token endpoint answered HTTP {status}{code}"
        ));
    }
    let parsed: TokenResponse = serde_json::from_slice(&bytes)
        .map_err(|_| format!("{what}: the token endpoint sent no usable access_token"))?;
    // Renew a little early so a token never expires in flight.
    let lifetime = parsed.expires_in.unwrap_or(300).saturating_sub(30).max(5);
    Ok((
        parsed.access_token,
        Instant::now() + Duration::from_secs(lifetime),
    ))
}

/// Client-credentials tokens, fetched on first use and reused until shortly before they
/// expire. The mutex also keeps concurrent calls from fetching at once.
pub struct ClientCredentials {
    pub http: reqwest::Client,
    pub token_url: String,
    pub client: Client,
    pub scopes: &'static [&'static str],
    cached: Mutex<Option<(String, Instant)>>,
}

impl ClientCredentials {
    pub fn new(
        http: reqwest::Client,
        token_url: String,
        client: Client,
        scopes: &'static [&'static str],
    ) -> Self {
        Self {
            http,
            token_url,
            client,
            scopes,
            cached: Mutex::new(None),
        }
    }

    pub async fn token(&self) -> Result<String, String> {
        let mut cached = self.cached.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let scope = self.scopes.join(" ");
        let mut form = vec![("grant_type", "client_credentials")];
        if !scope.is_empty() {
            form.push(("scope", &scope));
        }
        let (token, until) = request_token(
            &self.http,
            &self.token_url,
            &self.client,
            &form,
            "upstream token request",
        )
        .await?;
        *cached = Some((token.clone(), until));
        Ok(token)
    }

    /// Drops the cached token (the upstream refused it), so the next call fetches anew.
    pub async fn forget(&self) {
        *self.cached.lock().await = None;
    }
}

/// Where the token endpoint of the exchange is: given, or from the issuer's metadata.
pub enum Endpoint {
    Fixed(String),
    Discover(String),
}

/// RFC 8693 token exchange: the caller's MCP token (the subject) for one whose audience is
/// the upstream API, so the upstream sees the user without ever seeing the MCP token.
pub struct Exchanger {
    http: reqwest::Client,
    endpoint: Endpoint,
    found: Mutex<Option<String>>,
    client: Client,
    audience: String,
    cache: Mutex<HashMap<String, (String, Instant)>>,
}

impl Exchanger {
    pub fn new(
        http: reqwest::Client,
        endpoint: Endpoint,
        client: Client,
        audience: String,
    ) -> Self {
        Self {
            http,
            endpoint,
            found: Mutex::new(None),
            client,
            audience,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub async fn exchange(&self, subject: &str) -> Result<String, String> {
        if let Some((token, until)) = self.cache.lock().await.get(subject)
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let url = self.token_endpoint().await?;
        let form = [
            ("grant_type", TOKEN_EXCHANGE),
            ("subject_token", subject),
            ("subject_token_type", ACCESS_TOKEN_TYPE),
            ("requested_token_type", ACCESS_TOKEN_TYPE),
            ("audience", self.audience.as_str()),
        ];
        let (token, until) =
            request_token(&self.http, &url, &self.client, &form, "token exchange").await?;
        let mut cache = self.cache.lock().await;
        if cache.len() >= MAX_EXCHANGED {
            cache.clear();
        }
        cache.insert(subject.to_owned(), (token.clone(), until));
        Ok(token)
    }

    pub async fn forget(&self) {
        self.cache.lock().await.clear();
    }

    async fn token_endpoint(&self) -> Result<String, String> {
        let issuer = match &self.endpoint {
            Endpoint::Fixed(url) => return Ok(url.clone()),
            Endpoint::Discover(issuer) => issuer,
        };
        let mut found = self.found.lock().await;
        if let Some(url) = found.as_ref() {
            return Ok(url.clone());
        }
        for url in metadata_urls(issuer) {
            let Ok(response) = self.http.get(&url).send().await else {
                continue;
            };
            if !response.status().is_success() {
                continue;
            }
            let endpoint = response
                .bytes()
                .await
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .and_then(|m| m.get("token_endpoint")?.as_str().map(str::to_owned));
            if let Some(endpoint) = endpoint {
                *found = Some(endpoint.clone());
                return Ok(endpoint);
            }
        }
        Err(format!(
            "token exchange: no token_endpoint in the metadata of {issuer} (set TOKEN_EXCHANGE_URL)"
        ))
    }
}

/// RFC 8414 §3.1 (well-known segment before the issuer's path), then OpenID discovery.
fn metadata_urls(issuer: &str) -> Vec<String> {
    let issuer = issuer.trim_end_matches('/');
    let mut urls = Vec::new();
    if let Ok(url) = reqwest::Url::parse(issuer) {
        let origin = url.origin().ascii_serialization();
        let path = url.path().trim_end_matches('/');
        urls.push(format!(
            "{origin}/.well-known/oauth-authorization-server{path}"
        ));
    }
    urls.push(format!("{issuer}/.well-known/openid-configuration"));
    urls
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_urls_follow_rfc_8414() {
        assert_eq!(
            metadata_urls("https://as.example/tenant/"),
            [
                "https://as.example/.well-known/oauth-authorization-server/tenant",
                "https://as.example/tenant/.well-known/openid-configuration"
            ]
        );
    }
}
