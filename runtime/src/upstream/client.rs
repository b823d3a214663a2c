//! Sends one tool call to the upstream API and reads the reply, with a timeout and a size
//! cap. The MCP client's own `Authorization` header is never forwarded: requests are built
//! from the tool arguments and the server's upstream credentials only (the caller's token
//! goes upstream only through a scheme that acts as the caller, see `credentials.rs`).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, RequestBuilder, StatusCode, Url, redirect};
use serde_json::{Map, Value};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::catalog::ToolSpec;
#[cfg(test)]
use crate::config::DEFAULT_UPSTREAM_TIMEOUT;
use crate::config::{
    DEFAULT_UPSTREAM_MAX_BYTES, DEFAULT_UPSTREAM_MAX_CONCURRENT, DEFAULT_UPSTREAM_QUEUE_TIMEOUT,
};
use crate::hooks_api::{self, Hooks, NoHooks};
use crate::outbound::Failure;
pub use crate::reply::Reply;
use crate::telemetry::{ClientSpan, Tracing};
use crate::upstream::body::{self, Part, Payload};
use crate::upstream::credentials::{Credentials, Grant, Placement, Prepared};
use crate::upstream::encode::{self, enc};
pub use crate::upstream::error::UpstreamError;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub struct Upstream {
    http: reqwest::Client,
    base: String,
    /// `base` parsed once, for the origin every request must stay on; `None` when it does
    /// not parse.
    base_url: Option<Url>,
    credentials: Credentials,
    max_bytes: usize,
    hooks: Arc<dyn Hooks>,
    /// One permit per upstream request in flight (`UPSTREAM_MAX_CONCURRENT`), all callers
    /// together: what this replica may ask of the API at once.
    slots: Arc<Semaphore>,
    max_concurrent: usize,
    /// How long a request waits for a permit (`UPSTREAM_QUEUE_TIMEOUT_SECS`).
    queue_timeout: Duration,
    /// A span per request, and the trace context written onto it.
    tracing: Tracing,
}

/// The HTTP client for upstream calls. `timeout` bounds the whole exchange, reading the body
/// included, so a slow-drip reply ends too. Redirects are followed only within one origin,
/// so credential headers never travel to a host they were not meant for.
pub fn http_client(timeout: Duration, user_agent: &str) -> Result<reqwest::Client, String> {
    let policy = redirect::Policy::custom(|attempt| {
        let same_origin = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if attempt.previous().len() > 5 || !same_origin {
            attempt.stop()
        } else {
            attempt.follow()
        }
    });
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .redirect(policy)
        .user_agent(user_agent)
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

impl Upstream {
    pub fn new(http: reqwest::Client, base: &str, credentials: Credentials) -> Self {
        let base = base.trim_end_matches('/').to_owned();
        Self {
            http,
            base_url: Url::parse(&base).ok(),
            base,
            credentials,
            max_bytes: DEFAULT_UPSTREAM_MAX_BYTES,
            hooks: Arc::new(NoHooks),
            tracing: Tracing::default(),
            slots: Arc::new(Semaphore::new(DEFAULT_UPSTREAM_MAX_CONCURRENT)),
            max_concurrent: DEFAULT_UPSTREAM_MAX_CONCURRENT,
            queue_timeout: DEFAULT_UPSTREAM_QUEUE_TIMEOUT,
        }
    }

    /// At most `max` requests in flight to the API; a request waits up to `queue_timeout`
    /// for its turn, then the call answers that the upstream is busy.
    pub fn with_max_concurrent(mut self, max: usize, queue_timeout: Duration) -> Self {
        self.slots = Arc::new(Semaphore::new(max));
        self.max_concurrent = max;
        self.queue_timeout = queue_timeout;
        self
    }

    /// A turn to send a request upstream, held until its reply is read.
    async fn slot(&self) -> Result<OwnedSemaphorePermit, UpstreamError> {
        let busy = || UpstreamError::Busy {
            max: self.max_concurrent,
        };
        if let Ok(permit) = Arc::clone(&self.slots).try_acquire_owned() {
            return Ok(permit);
        }
        match tokio::time::timeout(self.queue_timeout, Arc::clone(&self.slots).acquire_owned())
            .await
        {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(busy()),
        }
    }

    /// The user's hooks, run around every upstream request (none by default).
    pub fn with_hooks(mut self, hooks: Arc<dyn Hooks>) -> Self {
        self.hooks = hooks;
        self
    }

    /// Spans for upstream requests, and the trace context they carry (default: the caller's,
    /// passed through).
    pub fn with_tracing(mut self, tracing: Tracing) -> Self {
        self.tracing = tracing;
        self
    }

    pub fn with_max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// Builds the request from validated arguments and sends it with the credentials `grant`
    /// allows.
    pub async fn send(
        &self,
        tool: &ToolSpec,
        args: &Map<String, Value>,
        grant: Grant<'_>,
    ) -> Result<Reply, UpstreamError> {
        let alternatives = tool.http.credentials;
        let prepared = self.credentials.prepare(alternatives, grant).await?;
        let reply = self.send_once(tool, args, &prepared).await?;
        if reply.status != StatusCode::UNAUTHORIZED || prepared.renewable.is_empty() {
            return Ok(reply);
        }
        // A fetched token may have been revoked or expired early: renew it, try once more.
        self.credentials
            .forget(&prepared.renewable, grant.caller())
            .await;
        let prepared = self.credentials.prepare(alternatives, grant).await?;
        self.send_once(tool, args, &prepared).await
    }

    async fn send_once(
        &self,
        tool: &ToolSpec,
        args: &Map<String, Value>,
        prepared: &Prepared,
    ) -> Result<Reply, UpstreamError> {
        let binding = &tool.http;
        let mut parts = encode::request_parts(binding, args).map_err(UpstreamError::Arguments)?;
        let payload = match &binding.body {
            Some(b) => body::payload(b, args).map_err(UpstreamError::Arguments)?,
            None => None,
        };
        let (mut credential_query, mut credential_cookies) = (Vec::new(), Vec::new());
        let mut credential_headers = Vec::new();
        for placement in &prepared.placements {
            match placement {
                Placement::Query(n, v) => credential_query.push(format!("{}={}", enc(n), enc(v))),
                Placement::Cookie(n, v) => {
                    credential_cookies.push(format!("{}={}", enc(n), enc(v)));
                }
                Placement::Header(n, v) => credential_headers.push((n.clone(), v.clone())),
            }
        }
        encode::credential_first(&mut parts.query, credential_query, "query parameter")
            .map_err(UpstreamError::Arguments)?;
        encode::credential_first(&mut parts.cookies, credential_cookies, "cookie")
            .map_err(UpstreamError::Arguments)?;
        let headers = headers(
            &parts,
            credential_headers,
            binding.required_headers,
            payload.is_some(),
        )
        .map_err(UpstreamError::Arguments)?;

        let url = self.url(&parts).map_err(UpstreamError::Arguments)?;
        let method = Method::from_bytes(binding.method.as_bytes()).map_err(|_| {
            UpstreamError::Arguments(format!("unsupported HTTP method {}", binding.method))
        })?;
        let mut request = self.http.request(method, url).headers(headers);
        if let (Some(payload), Some(body)) = (payload, &binding.body) {
            request = with_payload(request, payload, body.media_type);
        }
        // `Failure` drops the URL: it may carry an API key in its query.
        let mut request = request.build().map_err(|e| {
            UpstreamError::Arguments(format!(
                "cannot build the upstream request: {}",
                Failure::from(e)
            ))
        })?;
        // Before the hooks, which may still change or drop what it writes.
        let method = request.method().clone();
        let span = ClientSpan::start(
            &self.tracing,
            &method,
            binding.path,
            self.base_url.as_ref(),
            request.headers_mut(),
        );
        if let Err(refused) = hooks_api::before(self.hooks.as_ref(), tool, args, &mut request) {
            let refused = UpstreamError::Hook(refused);
            span.end(Err(refused.outcome()));
            return Err(refused);
        }
        let slot = match self.slot().await {
            Ok(slot) => slot,
            Err(busy) => {
                span.end(Err(busy.outcome()));
                return Err(busy);
            }
        };
        let exchanged = match self.http.execute(request).await {
            Ok(response) => read_reply(response, self.max_bytes).await,
            Err(e) => Err(UpstreamError::Send(e.into())),
        };
        drop(slot);
        span.end(match &exchanged {
            Ok(reply) => Ok(reply.status.as_u16()),
            Err(e) => Err(e.outcome()),
        });
        let mut reply = exchanged?;
        crate::upstream::redact::reply(
            &mut reply,
            &crate::upstream::redact::secrets(&prepared.placements),
        );
        hooks_api::after(self.hooks.as_ref(), tool, args, reply).map_err(UpstreamError::Hook)
    }

    /// The base URL plus the encoded path and query. Every argument was percent-encoded, so
    /// the result must still be on the base URL's origin; anything else is refused.
    fn url(&self, parts: &encode::RequestParts) -> Result<Url, String> {
        // The usual case sets the path and query on a copy of the parsed base: parsing the
        // whole URL again (its host above all) was 2% of a call's instructions. A path that
        // holds `?` or `#` (some specs put a query in their path keys) takes the long way,
        // where those start the query as in any URL.
        if let Some(base) = &self.base_url
            && parts.path.starts_with('/')
            && !parts.path.contains(['?', '#'])
        {
            let mut url = base.clone();
            let prefix = base.path().trim_end_matches('/');
            url.set_path(&format!("{prefix}{}", parts.path));
            if !parts.query.is_empty() {
                url.set_query(Some(&parts.query.join("&")));
            }
            return Ok(url);
        }
        let mut url = format!("{}{}", self.base, parts.path);
        if !parts.query.is_empty() {
            url.push('?');
            url.push_str(&parts.query.join("&"));
        }
        let url =
            Url::parse(&url).map_err(|_| "the arguments do not form a valid URL".to_owned())?;
        let base = self
            .base_url
            .as_ref()
            .ok_or_else(|| "invalid UPSTREAM_BASE_URL".to_owned())?;
        if url.origin() != base.origin() {
            return Err("the arguments would change the upstream host; refused".to_owned());
        }
        Ok(url)
    }
}

/// Argument headers, then credentials (which win over an argument naming the same header),
/// cookies, `Accept`, and a `Content-Type` the spec requires when no body sets one.
fn headers(
    parts: &encode::RequestParts,
    credential_headers: Vec<(String, String)>,
    required: &[(&str, &str)],
    with_body: bool,
) -> Result<HeaderMap, String> {
    let mut headers = HeaderMap::new();
    for (name, value) in &parts.headers {
        headers.append(header_name(name)?, header_value(name, value)?);
    }
    for (name, value) in credential_headers {
        encode::check_header_value(&name, &value)
            .map_err(|_| format!("the upstream credential for header {name} contains CR or LF"))?;
        headers.insert(header_name(&name)?, header_value(&name, &value)?);
    }
    if !parts.cookies.is_empty() {
        headers.insert(
            reqwest::header::COOKIE,
            header_value("Cookie", &parts.cookies.join("; "))?,
        );
    }
    headers.insert(
        reqwest::header::ACCEPT,
        HeaderValue::from_static("application/json, */*;q=0.5"),
    );
    for (name, value) in required {
        let name = header_name(name)?;
        if name == reqwest::header::CONTENT_TYPE && with_body {
            continue;
        }
        let value = header_value(name.as_str(), value)?;
        headers.insert(name, value);
    }
    Ok(headers)
}

fn with_payload(request: RequestBuilder, payload: Payload, media_type: &str) -> RequestBuilder {
    match payload {
        Payload::Json(bytes) | Payload::Raw(bytes) => request
            .header(reqwest::header::CONTENT_TYPE, media_type)
            .body(bytes),
        Payload::Form(text) => request
            .header(reqwest::header::CONTENT_TYPE, media_type)
            .body(text),
        // reqwest writes the multipart Content-Type with its boundary.
        Payload::Multipart(parts) => request.multipart(parts.into_iter().fold(
            reqwest::multipart::Form::new(),
            |form, part| match part {
                Part::Text { name, value } => form.text(name, value),
                Part::File {
                    name,
                    bytes,
                    content_type,
                } => form.part(name.clone(), file_part(name, bytes, content_type)),
            },
        )),
    }
}

/// A file part named after its field. The content type was checked by the generator; one
/// that is still no valid header value is left off rather than failing the call.
fn file_part(name: String, bytes: Vec<u8>, content_type: &str) -> reqwest::multipart::Part {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name);
    match HeaderValue::from_str(content_type) {
        Ok(value) => part.headers(HeaderMap::from_iter([(
            reqwest::header::CONTENT_TYPE,
            value,
        )])),
        Err(_) => part,
    }
}

/// Reads status, the headers we report, and the body up to `max_bytes`.
async fn read_reply(
    mut response: reqwest::Response,
    max_bytes: usize,
) -> Result<Reply, UpstreamError> {
    let status = response.status();
    let text_header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = text_header("content-type");
    let violations = text_header("sl-violations");
    let location = text_header("location");
    // A declared length over the cap is refused before reading anything.
    if response
        .content_length()
        .is_some_and(|n| n > max_bytes as u64)
    {
        return Err(too_large(status, max_bytes));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| UpstreamError::Read(e.into()))?
    {
        if body.len() + chunk.len() > max_bytes {
            return Err(too_large(status, max_bytes));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Reply {
        status,
        content_type,
        body: Bytes::from(body),
        violations,
        location,
    })
}

fn too_large(status: StatusCode, max_bytes: usize) -> UpstreamError {
    UpstreamError::TooLarge { status, max_bytes }
}

fn header_name(name: &str) -> Result<HeaderName, String> {
    HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("invalid header name {name}"))
}

fn header_value(name: &str, value: &str) -> Result<HeaderValue, String> {
    HeaderValue::from_str(value).map_err(|_| format!("invalid value for header {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::*;
    use crate::testkit::{echo_upstream, serve};
    use axum::Router;
    use axum::routing::any;
    use serde_json::json;

    const ENTITLED: Grant<'static> = Grant::Entitled { caller: None };

    static PARAMS: &[Param] = &[
        Param {
            arg: "petId",
            name: "petId",
            location: Location::Path,
            required: true,
            style: Style::Simple,
            explode: false,
            allow_reserved: false,
        },
        Param {
            arg: "q",
            name: "q",
            location: Location::Query,
            required: false,
            style: Style::Form,
            explode: true,
            allow_reserved: false,
        },
    ];
    static SCHEMES: &[UpstreamScheme] = &[UpstreamScheme {
        name: "api_key",
        kind: SchemeKind::ApiKey {
            location: Location::Header,
            param: "api_key",
            env: "UPSTREAM_API_KEY",
        },
    }];
    static TOOL: ToolSpec = update_pet(&[]);
    /// A spec that requires `Content-Type` and `Accept` (Swagger 2.0 header parameters with
    /// defaults) on an operation whose body is optional.
    static REQUIRED_HEADERS: ToolSpec = update_pet(&[
        ("Accept", "application/vnd.shop.v2+json"),
        ("Content-Type", "application/vnd.shop+json"),
    ]);

    /// `PUT /pet/{petId}` with an optional body and an API key.
    const fn update_pet(headers: &'static [(&'static str, &'static str)]) -> ToolSpec {
        ToolSpec {
            name: "update",
            title: None,
            description: "",
            input_schema: "{}",
            output: None,
            group: "test",
            annotations: Annotations {
                read_only: false,
                destructive: false,
                idempotent: true,
                open_world: true,
            },
            access: Access {
                anonymous: true,
                oauth2: None,
            },
            http: HttpBinding {
                method: "PUT",
                path: "/pet/{petId}",
                params: PARAMS,
                body: Some(Body {
                    media_type: "application/json",
                    required: false,
                    shape: BodyShape::Flattened { fields: &["name"] },
                    encoding: &[],
                    binary: &[],
                }),
                credentials: &[&["api_key"]],
                required_headers: headers,
                documents_redirects: false,
            },
        }
    }

    #[test]
    fn urls_set_on_the_parsed_base_are_those_parsed_whole() {
        let paths = [
            "/pet/1",
            "/pet/a%20b/..%2F",
            "/a/../b/./c",
            "/x//y",
            "/pet/%E2%82%AC\\z",
            "/search?type=pet",
            "/p#frag",
            "/w@evil.example/x",
        ];
        let queries = [vec![], vec!["a=1".to_owned(), "b=%20&c".to_owned()]];
        for base in [
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/",
            "https://api.example.com/v1/",
            "https://api.example.com/a b/../c",
            "http://[::1]:9/base/x",
        ] {
            let upstream = upstream(base, None);
            for path in paths {
                for query in &queries {
                    let parts = encode::RequestParts {
                        path: path.to_owned(),
                        query: query.clone(),
                        headers: Vec::new(),
                        cookies: Vec::new(),
                    };
                    let mut whole = format!("{}{path}", base.trim_end_matches('/'));
                    if !query.is_empty() {
                        whole.push('?');
                        whole.push_str(&query.join("&"));
                    }
                    let expected = Url::parse(&whole).unwrap();
                    assert_eq!(
                        upstream.url(&parts).map(String::from),
                        Ok(expected.to_string()),
                        "{base} {path} {query:?}"
                    );
                }
            }
        }
    }

    fn upstream(base: &str, key: Option<&str>) -> Upstream {
        let catalog = crate::testkit::catalog(&[], SCHEMES);
        let key = key.map(str::to_owned);
        let http = http_client(DEFAULT_UPSTREAM_TIMEOUT, "test").unwrap();
        let creds = Credentials::from_lookup(catalog, http.clone(), move |_| key.clone());
        Upstream::new(http, base, creds)
    }

    #[tokio::test]
    async fn sends_encoded_request_with_credential() {
        let base = echo_upstream().await;
        let up = upstream(&format!("{base}/v2/"), Some("k-123"));
        let args = json!({"petId": "a b?c", "q": "x y", "name": "Rex"});
        let reply = up
            .send(&TOOL, args.as_object().unwrap(), ENTITLED)
            .await
            .unwrap();
        assert_eq!(reply.status, StatusCode::OK);
        let seen: Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(seen["method"], "PUT");
        assert_eq!(seen["uri"], "/v2/pet/a%20b%3Fc?q=x%20y");
        assert_eq!(seen["headers"]["api_key"], "k-123");
        assert_eq!(seen["headers"]["authorization"], Value::Null);
        assert_eq!(seen["headers"]["content-type"], "application/json");
        assert_eq!(seen["body"], r#"{"name":"Rex"}"#);
    }

    static QUERY_KEY: &[UpstreamScheme] = &[UpstreamScheme {
        name: "api_key",
        kind: SchemeKind::ApiKey {
            location: Location::Query,
            param: "api_key",
            env: "UPSTREAM_API_KEY",
        },
    }];
    static SEARCH: ToolSpec = ToolSpec {
        name: "search",
        http: HttpBinding {
            method: "GET",
            path: "/search",
            params: &[Param {
                arg: "filter",
                name: "filter",
                location: Location::Query,
                required: false,
                style: Style::Form,
                explode: true,
                allow_reserved: false,
            }],
            body: None,
            credentials: &[&["api_key"]],
            required_headers: &[],
            documents_redirects: false,
        },
        title: None,
        description: "",
        input_schema: "{}",
        output: None,
        group: "test",
        annotations: Annotations {
            read_only: true,
            destructive: false,
            idempotent: true,
            open_world: true,
        },
        access: Access {
            anonymous: true,
            oauth2: None,
        },
    };

    #[tokio::test]
    async fn query_credential_comes_first_and_cannot_be_shadowed() {
        let base = echo_upstream().await;
        let catalog = crate::testkit::catalog(&[], QUERY_KEY);
        let http = http_client(DEFAULT_UPSTREAM_TIMEOUT, "test").unwrap();
        let creds = Credentials::from_lookup(catalog, http.clone(), |_| Some("k-1".to_owned()));
        let up = Upstream::new(http, &base, creds);
        let args = json!({"filter": {"status": "sold"}});
        let reply = up
            .send(&SEARCH, args.as_object().unwrap(), ENTITLED)
            .await
            .unwrap();
        let seen: Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(seen["uri"], "/search?api_key=k-1&status=sold");

        let args = json!({"filter": {"status": "sold", "api_key": "mine"}});
        let err = up
            .send(&SEARCH, args.as_object().unwrap(), ENTITLED)
            .await
            .unwrap_err();
        assert!(matches!(err, UpstreamError::Arguments(_)), "{err:?}");
        let err = err.to_string();
        assert!(err.contains("`api_key`") && !err.contains("k-1"), "{err}");
    }

    #[tokio::test]
    async fn required_headers_are_sent_with_or_without_a_body() {
        let base = echo_upstream().await;
        let up = upstream(&base, Some("k-123"));
        let reply = up
            .send(
                &REQUIRED_HEADERS,
                json!({"petId": 1}).as_object().unwrap(),
                ENTITLED,
            )
            .await
            .unwrap();
        let seen: Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(seen["body"], "");
        assert_eq!(seen["headers"]["content-type"], "application/vnd.shop+json");
        assert_eq!(seen["headers"]["accept"], "application/vnd.shop.v2+json");
        // With a body, the body's own Content-Type.
        let args = json!({"petId": 1, "name": "Rex"});
        let reply = up
            .send(&REQUIRED_HEADERS, args.as_object().unwrap(), ENTITLED)
            .await
            .unwrap();
        let seen: Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(seen["headers"]["content-type"], "application/json");
        assert_eq!(seen["body"], r#"{"name":"Rex"}"#);
        // Without the requirement: no Content-Type when no body is sent.
        let reply = up
            .send(&TOOL, json!({"petId": 1}).as_object().unwrap(), ENTITLED)
            .await
            .unwrap();
        let seen: Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(seen["headers"]["content-type"], Value::Null);
    }

    #[tokio::test]
    async fn missing_credential_is_a_clear_error_without_a_call() {
        let up = upstream("http://127.0.0.1:9", None);
        let args = json!({"petId": 1});
        let err = up
            .send(&TOOL, args.as_object().unwrap(), ENTITLED)
            .await
            .unwrap_err();
        assert_eq!(err.outcome(), "no_upstream_credential");
        assert!(err.to_string().contains("UPSTREAM_API_KEY"), "{err}");
    }

    #[tokio::test]
    async fn oversized_responses_are_refused() {
        let big =
            Router::new().fallback(any(|| async { vec![b'x'; DEFAULT_UPSTREAM_MAX_BYTES + 1] }));
        let base = serve(big).await;
        let up = upstream(&base, Some("k"));
        let args = json!({"petId": 1});
        let err = up
            .send(&TOOL, args.as_object().unwrap(), ENTITLED)
            .await
            .unwrap_err();
        assert_eq!(err.outcome(), "upstream_too_large");
        assert!(err.to_string().contains("larger than"), "{err}");
    }

    /// Each way an upstream can fail is told apart by type, not by its text: a port nobody
    /// listens on, a peer that never answers, a peer that speaks no TLS to an https URL.
    #[tokio::test]
    async fn transport_failures_are_classified() {
        let send = |base: String, timeout: Duration| async move {
            let catalog = crate::testkit::catalog(&[], SCHEMES);
            let http = http_client(timeout, "test").unwrap();
            let creds = Credentials::from_lookup(catalog, http.clone(), |_| Some("k".into()));
            let up = Upstream::new(http, &base, creds);
            up.send(&TOOL, json!({"petId": 1}).as_object().unwrap(), ENTITLED)
                .await
                .unwrap_err()
        };
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let refused = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        let err = send(refused, Duration::from_secs(5)).await;
        assert_eq!(err.outcome(), "upstream_unreachable", "{err}");
        assert!(err.to_string().contains("cannot connect"), "{err}");

        // Accepts, reads, never answers.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = silent.local_addr().unwrap();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = silent.accept().await {
                held.push(stream);
            }
        });
        let err = send(format!("http://{addr}"), Duration::from_millis(300)).await;
        assert_eq!(err.outcome(), "upstream_timeout", "{err}");
        assert!(err.to_string().contains("timed out"), "{err}");

        // Plain HTTP where TLS is expected: the handshake fails.
        let plain = echo_upstream().await.replace("http://", "https://");
        let err = send(plain, Duration::from_secs(5)).await;
        assert_eq!(err.outcome(), "upstream_tls", "{err}");
        assert!(err.to_string().contains("TLS error"), "{err}");
    }
}
