//! CORS for `/mcp`: which browser origins may call it and read its challenge headers.

use std::time::Duration;

use axum::http::header::WWW_AUTHENTICATE;
use axum::http::{HeaderName, HeaderValue, Method, request::Parts};
use reqwest::Url;
use tower_http::cors::{AllowHeaders, AllowOrigin, Any, CorsLayer};

use crate::config::Config;

/// Browsers may call `/mcp` from the origins the Origin check lets through (every one only
/// with `ALLOWED_ORIGINS=*`) and read the challenge and session headers.
pub fn mcp_cors(config: &Config) -> CorsLayer {
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers([
            WWW_AUTHENTICATE,
            HeaderName::from_static("mcp-session-id"),
            HeaderName::from_static("mcp-protocol-version"),
        ])
        .max_age(Duration::from_secs(600));
    if config.any_origin {
        return layer.allow_origin(Any);
    }
    let origins = config.allowed_origins.clone();
    layer.allow_origin(AllowOrigin::predicate(
        move |origin: &HeaderValue, _: &Parts| {
            origin
                .to_str()
                .is_ok_and(|o| origins.iter().any(|allowed| origin_matches(allowed, o)))
        },
    ))
}

/// `origin` (an `Origin` header) against one entry of the configured list, which is always
/// `scheme://host:port`, `scheme://host:*` or `null`: compared as rmcp's Origin check does,
/// with an absent port meaning the scheme's default.
fn origin_matches(allowed: &str, origin: &str) -> bool {
    if origin.eq_ignore_ascii_case("null") {
        return allowed == "null";
    }
    let Ok(url) = Url::parse(origin) else {
        return false;
    };
    let exact = crate::config::origin_of(&url);
    match allowed.strip_suffix(":*") {
        Some(prefix) => exact
            .rsplit_once(':')
            .is_some_and(|(scheme_host, _)| scheme_host == prefix),
        None => exact == allowed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_patterns() {
        assert!(origin_matches("https://a.example:443", "https://a.example"));
        assert!(origin_matches(
            "https://a.example:443",
            "https://A.example:443"
        ));
        assert!(!origin_matches(
            "https://a.example:443",
            "https://a.example:8443"
        ));
        assert!(!origin_matches(
            "https://a.example:443",
            "https://a.example.evil"
        ));
        assert!(origin_matches(
            "http://localhost:*",
            "http://localhost:6274"
        ));
        assert!(origin_matches("http://localhost:*", "http://localhost"));
        assert!(!origin_matches(
            "http://localhost:*",
            "http://localhost.evil:1"
        ));
        assert!(!origin_matches("http://localhost:*", "https://localhost:1"));
        assert!(origin_matches("https://[::1]:*", "https://[::1]:8443"));
        assert!(origin_matches("null", "null"));
        assert!(!origin_matches("http://localhost:*", "null"));
        assert!(!origin_matches("null", "garbage"));
    }
}
