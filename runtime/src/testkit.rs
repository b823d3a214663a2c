//! Test support (compiled for `cargo test` only): a loopback authorization server with a
//! signing key generated on the spot, token minting, and an upstream that echoes requests.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::routing::{any, get};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::catalog::{
    Access, Annotations, Catalog, HttpBinding, Location, Param, Style, ToolMode, ToolSpec,
    UpstreamScheme,
};

pub const KID: &str = "test-key-1";

/// A catalog for unit tests: the given tools and upstream schemes, every default empty.
pub fn catalog(
    tools: &'static [ToolSpec],
    upstream_schemes: &'static [UpstreamScheme],
) -> &'static Catalog {
    Box::leak(Box::new(Catalog {
        server_name: "test-mcp",
        server_title: "Test API",
        api_version: "1",
        default_issuer: "",
        default_upstream: "",
        default_resource: "",
        default_scope_implies: "",
        tools,
        upstream_schemes,
        default_mode: ToolMode::Tools,
        catalog_tools: &[],
        search_index: "",
        default_toolsets: &[],
        list_by_scope: false,
    }))
}

pub const READ: Annotations = Annotations {
    read_only: true,
    destructive: false,
    idempotent: true,
    open_world: true,
};
/// A GET tool of `/items/{id}` with one required integer argument, `id`.
pub const fn tool(name: &'static str, access: Access) -> ToolSpec {
    ToolSpec {
        name,
        title: None,
        description: "test tool",
        input_schema: r#"{"type":"object","properties":{"id":{"type":"integer"}},"required":["id"]}"#,
        output: None,
        group: "test",
        annotations: READ,
        access,
        http: HttpBinding {
            method: "GET",
            path: "/items/{id}",
            params: &[Param {
                arg: "id",
                name: "id",
                location: Location::Path,
                required: true,
                style: Style::Simple,
                explode: false,
                allow_reserved: false,
            }],
            body: None,
            credentials: &[],
            required_headers: &[],
            documents_redirects: false,
        },
    }
}
pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}")
}

pub struct TestIssuer {
    pub url: String,
    key: EncodingKey,
    /// How often the JWKS was fetched.
    pub jwks_hits: Arc<AtomicUsize>,
    /// While set, the JWKS endpoint answers 503 (an outage).
    pub down: Arc<AtomicBool>,
}

fn es256_key() -> (EncodingKey, Value) {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let der = pair.to_pkcs8v1().unwrap();
    // Uncompressed point: 0x04 || x (32 bytes) || y (32 bytes).
    let point = pair.public_key().as_ref().to_vec();
    let jwk = json!({
        "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": KID,
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
        "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
    });
    (EncodingKey::from_ec_der(der.as_ref()), jwk)
}

impl TestIssuer {
    /// An authorization server publishing RFC 8414 metadata and a JWKS with one ES256 key.
    pub async fn start() -> Self {
        let (key, jwk) = es256_key();
        let hits = Arc::new(AtomicUsize::new(0));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let metadata = json!({"issuer": url, "jwks_uri": format!("{url}/jwks")}).to_string();
        let jwks = json!({"keys": [
            // Keys the verifier must skip without losing the real one.
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {"kty": "weird"},
            jwk
        ]})
        .to_string();
        let counter = Arc::clone(&hits);
        let down = Arc::new(AtomicBool::new(false));
        let outage = Arc::clone(&down);
        let router = Router::new()
            .route(
                "/.well-known/oauth-authorization-server",
                get(move || async move { metadata }),
            )
            .route(
                "/jwks",
                get(move || {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let status = if outage.load(Ordering::SeqCst) {
                        StatusCode::SERVICE_UNAVAILABLE
                    } else {
                        StatusCode::OK
                    };
                    async move { (status, jwks) }
                }),
            );
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self {
            url,
            key,
            jwks_hits: hits,
            down,
        }
    }

    /// Standard claims for `audience` with `scope`, valid for five minutes.
    pub fn claims(&self, audience: &str, scope: &str) -> Value {
        json!({
            "iss": self.url, "aud": audience, "sub": "user-1", "scope": scope,
            "iat": now(), "exp": now() + 300,
        })
    }

    pub fn token(&self, claims: &Value) -> String {
        self.token_with_kid(KID, claims)
    }

    pub fn token_with_kid(&self, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid.to_owned());
        encode(&header, claims, &self.key).unwrap()
    }

    /// Signed with the published key, under a header the test shapes (kid preset).
    pub fn token_with_header(&self, shape: impl FnOnce(&mut Header), claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(KID.to_owned());
        shape(&mut header);
        encode(&header, claims, &self.key).unwrap()
    }
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// An upstream that answers every request with a JSON description of it.
pub async fn echo_upstream() -> String {
    async fn echo(request: Request) -> ([(&'static str, &'static str); 1], String) {
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, 1 << 20)
            .await
            .unwrap_or_default();
        // A header sent twice shows both values, joined as HTTP would.
        let mut headers = serde_json::Map::new();
        for (k, v) in &parts.headers {
            let v = v.to_str().unwrap_or_default();
            let joined = match headers.get(k.as_str()).and_then(Value::as_str) {
                Some(before) => format!("{before}, {v}"),
                None => v.to_owned(),
            };
            headers.insert(k.to_string(), json!(joined));
        }
        let out = json!({
            "method": parts.method.as_str(),
            "uri": parts.uri.to_string(),
            "headers": headers,
            "body": String::from_utf8_lossy(&body),
        });
        ([("content-type", "application/json")], out.to_string())
    }
    serve(Router::new().fallback(any(echo))).await
}
