//! Requests to the authorization server (metadata, signing keys, introspection, token
//! endpoints): one client that never follows redirects (a redirect could carry a user's token
//! or the client secret to another host), a timeout on every request, a size cap on every
//! answer, and the RFC 8414 issuer check on metadata.

use std::net::IpAddr;
use std::time::Duration;

use reqwest::{Url, redirect};
use serde_json::Value;

use crate::outbound::Failure;

/// Longest wait for one request to the authorization server, body included.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// Largest metadata or key set read.
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;
/// Set to `true` to accept an `http://` issuer that is not on a loopback address.
pub const ALLOW_INSECURE_ISSUER: &str = "ALLOW_INSECURE_ISSUER";

/// The verifier's client: no redirects at all, and a timeout on every request.
pub fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .redirect(redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// An issuer (or an endpoint that receives tokens or secrets) must use https, except on a
/// loopback address or when `ALLOW_INSECURE_ISSUER=true` says the operator accepts it.
pub fn check_transport(
    var: &str,
    url: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(), String> {
    let parsed = Url::parse(url).map_err(|e| format!("{var}: {url:?} is not a URL: {e}"))?;
    let host = parsed.host_str().unwrap_or_default();
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    let allowed =
        lookup(ALLOW_INSECURE_ISSUER).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback || allowed => Ok(()),
        "http" => Err(format!(
            "{var}={url} uses plain http outside loopback: tokens and secrets would travel unencrypted; use https, or set {ALLOW_INSECURE_ISSUER}=true to accept it"
        )),
        other => Err(format!("{var}: {url:?} is not an http(s) URL ({other})")),
    }
}

/// The body of `response`, refused once it grows beyond `max` bytes.
pub async fn read_capped(
    mut response: reqwest::Response,
    max: usize,
    what: &str,
) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("{what}: {}", Failure::from(e)))?
    {
        if body.len() + chunk.len() > max {
            return Err(format!("{what}: answer larger than {max} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub async fn fetch_json(http: &reqwest::Client, url: &str) -> Result<Value, String> {
    let response = http
        .get(url)
        .header("Accept", "application/json")
        .timeout(TIMEOUT)
        .send()
        .await
        .map_err(|e| format!("{url}: {}", Failure::from(e)))?;
    if !response.status().is_success() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let body = read_capped(response, MAX_DOCUMENT_BYTES, url).await?;
    serde_json::from_slice(&body).map_err(|e| format!("{url}: not JSON: {e}"))
}

/// The issuer's authorization server metadata, from the first of [`metadata_urls`] that
/// answers with a document about this issuer.
pub async fn fetch_metadata(http: &reqwest::Client, issuer: &str) -> Result<Value, String> {
    let mut failures = Vec::new();
    for url in metadata_urls(issuer)? {
        match fetch_json(http, &url).await {
            Ok(metadata) => {
                let claimed = metadata.get("issuer").and_then(Value::as_str).unwrap_or("");
                // RFC 8414 §3.3: identical to the issuer we asked about, trailing slash included.
                if claimed != issuer {
                    failures.push(format!(
                        "{url}: issuer is {claimed:?}, not {issuer:?} (AUTHORIZATION_SERVER_URL must be the issuer exactly)"
                    ));
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::get;

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
    fn plain_http_only_on_loopback_or_when_allowed() {
        let none = |_: &str| None;
        let allowed = |k: &str| (k == ALLOW_INSECURE_ISSUER).then(|| "true".to_owned());
        for ok in [
            "https://as.example",
            "http://127.0.0.1:9000",
            "http://localhost:9000/t",
            "http://[::1]:9000",
        ] {
            assert!(check_transport("V", ok, none).is_ok(), "{ok}");
        }
        let err =
            check_transport("AUTHORIZATION_SERVER_URL", "http://as.example", none).unwrap_err();
        assert!(
            err.contains("AUTHORIZATION_SERVER_URL") && err.contains(ALLOW_INSECURE_ISSUER),
            "{err}"
        );
        assert!(check_transport("V", "http://as.example", allowed).is_ok());
        assert!(check_transport("V", "ftp://as.example", allowed).is_err());
        assert!(check_transport("V", "as.example", allowed).is_err());
    }

    #[tokio::test]
    async fn metadata_issuer_must_match_exactly_and_redirects_are_not_followed() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let issuer = base.clone();
        let router = Router::new()
            .route(
                "/.well-known/oauth-authorization-server",
                get(move || async move { format!(r#"{{"issuer":"{issuer}/"}}"#) }),
            )
            .route(
                "/.well-known/oauth-authorization-server/moved",
                get(|| async { axum::response::Redirect::temporary("http://127.0.0.1:1/x") }),
            );
        tokio::spawn(async move { axum::serve(listener, router).await });
        let http = http_client().unwrap();
        let err = fetch_metadata(&http, &base).await.unwrap_err();
        assert!(err.contains("issuer is"), "{err}");
        assert!(fetch_metadata(&http, &format!("{base}/")).await.is_ok());
        let err = fetch_json(
            &http,
            &format!("{base}/.well-known/oauth-authorization-server/moved"),
        )
        .await
        .unwrap_err();
        assert!(err.contains("307"), "{err}");
    }
}
