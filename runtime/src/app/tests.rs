//! The HTTP app end to end, in process: metadata, listing, refusals in both challenge modes,
//! upstream credentials by caller, Origin and Host checks.

use super::*;
use crate::catalog::*;
use crate::telemetry::Tracing;
use crate::testkit::{READ, TestIssuer, echo_upstream, tool};
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use tower::ServiceExt;

const RESOURCE: &str = "http://127.0.0.1:8000/mcp";
static MIXED_TOOLS: &[ToolSpec] = &[
    tool(
        "open",
        Access {
            anonymous: true,
            oauth2: None,
        },
    ),
    tool(
        "guarded",
        Access {
            anonymous: false,
            oauth2: Some(&["write"]),
        },
    ),
];
static PROTECTED_TOOLS: &[ToolSpec] = &[tool(
    "guarded",
    Access {
        anonymous: false,
        oauth2: Some(&["write", "read"]),
    },
)];

fn catalog(tools: &'static [ToolSpec]) -> &'static Catalog {
    crate::testkit::catalog(tools, &[])
}

async fn app(tools: &'static [ToolSpec], mode: &str, issuer: &TestIssuer) -> Router {
    app_with(catalog(tools), mode, issuer, &[]).await
}

/// [`app`] over any catalog, with more settings, which may replace the defaults.
async fn app_with(
    catalog: &'static Catalog,
    mode: &str,
    issuer: &TestIssuer,
    settings: &[(&'static str, &str)],
) -> Router {
    app_traced(catalog, mode, issuer, settings, Tracing::default()).await
}

/// [`app_with`], making spans (or not) as `tracing` says.
async fn app_traced(
    catalog: &'static Catalog,
    mode: &str,
    issuer: &TestIssuer,
    settings: &[(&'static str, &str)],
    tracing: Tracing,
) -> Router {
    let upstream_base = echo_upstream().await;
    let mut vars: HashMap<&str, String> = HashMap::from([
        ("AUTHORIZATION_SERVER_URL", issuer.url.clone()),
        ("RESOURCE_SERVER_URL", RESOURCE.to_owned()),
        ("UPSTREAM_BASE_URL", upstream_base),
        ("AUTH_CHALLENGE", mode.to_owned()),
    ]);
    vars.extend(settings.iter().map(|(k, v)| (*k, v.to_string())));
    let mut config = Config::from_lookup(catalog, |k| vars.get(k).cloned()).unwrap();
    config.tracing = tracing.clone();
    let resource = Url::parse(&config.resource).unwrap();
    let challenger = Challenger::new(metadata::metadata_url(&resource));
    let keys = KeyStore::new(&issuer.url, reqwest::Client::new());
    let verifier = Verifier::new(keys, &issuer.url, &config.resource);
    let credentials =
        Credentials::from_lookup(catalog, reqwest::Client::new(), |k| vars.get(k).cloned());
    let upstream = Upstream::new(reqwest::Client::new(), &config.upstream_base, credentials)
        .with_max_concurrent(
            config.upstream_max_concurrent,
            config.upstream_queue_timeout,
        )
        .with_tracing(tracing);
    let server = McpServer::new(
        catalog,
        upstream,
        Some(challenger.clone()),
        config.bounds.arguments,
        cache_hints(catalog, &config, true),
        crate::mcp::server::Exposure {
            served: config.served.clone(),
            by_scope: config.list_by_scope,
            mode: config.mode,
        },
    )
    .unwrap();
    router(
        catalog,
        &config,
        server,
        Some(verifier),
        challenger,
        CancellationToken::new(),
    )
}

struct Answer {
    status: StatusCode,
    challenge: Option<String>,
    body: Value,
}

/// A request as a client on 2025-06-18 sends it.
async fn post(app: &Router, token: Option<&str>, message: Value) -> Answer {
    send(
        app,
        token,
        message,
        &[("mcp-protocol-version", "2025-06-18".to_owned())],
    )
    .await
}

/// A request as a 2026-07-28 client sends it: no session, version and capabilities in
/// `_meta`, the method and the tool name repeated in headers.
fn current(method: &str, mut params: Value) -> (Value, Vec<(&'static str, String)>) {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
    });
    let mut headers = vec![
        ("mcp-protocol-version", "2026-07-28".to_owned()),
        ("mcp-method", method.to_owned()),
    ];
    if let Some(name) = params["name"].as_str() {
        headers.push(("mcp-name", name.to_owned()));
    }
    let message = json!({"jsonrpc": "2.0", "id": 5, "method": method, "params": params});
    (message, headers)
}

async fn post_current(app: &Router, token: Option<&str>, method: &str, params: Value) -> Answer {
    let (message, headers) = current(method, params);
    send(app, token, message, &headers).await
}

async fn send(
    app: &Router,
    token: Option<&str>,
    message: Value,
    headers: &[(&'static str, String)],
) -> Answer {
    let accept = "application/json, text/event-stream";
    let (status, response_headers, bytes) =
        exchange(app, token, &message.to_string(), accept, headers).await;
    let challenge = response_headers
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        status,
        challenge,
        body,
    }
}

/// A POST to `/mcp` with `accept` and `headers`: status, headers and body bytes.
async fn exchange(
    app: &Router,
    token: Option<&str>,
    message: &str,
    accept: &str,
    headers: &[(&'static str, String)],
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut request = Request::post("/mcp")
        .header("host", "127.0.0.1:8000")
        .header("content-type", "application/json")
        .header("accept", accept);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(message.to_owned())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, headers, bytes.to_vec())
}

fn call(name: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
           "params": {"name": name, "arguments": {"id": 3}}})
}

async fn get(app: &Router, path: &str) -> (StatusCode, Value) {
    let request = Request::get(path)
        .header("host", "127.0.0.1:8000")
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn metadata_is_served_at_both_paths() {
    let issuer = TestIssuer::start().await;
    let app = app(MIXED_TOOLS, "tool", &issuer).await;
    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        let (status, doc) = get(&app, path).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(doc["resource"], RESOURCE);
        assert_eq!(doc["authorization_servers"], json!([issuer.url]));
        assert_eq!(doc["scopes_supported"], json!(["write"]));
        assert_eq!(doc["bearer_methods_supported"], json!(["header"]));
        assert_eq!(doc["resource_name"], "Test API");
    }
}

#[tokio::test]
async fn anonymous_listing_has_top_level_security_schemes() {
    let issuer = TestIssuer::start().await;
    let app = app(MIXED_TOOLS, "tool", &issuer).await;
    let list = post(
        &app,
        None,
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
    )
    .await;
    assert_eq!(list.status, StatusCode::OK);
    let tools = &list.body["result"]["tools"];
    assert_eq!(tools[0]["securitySchemes"], json!([{"type": "noauth"}]));
    assert_eq!(
        tools[1]["securitySchemes"],
        json!([{"type": "oauth2", "scopes": ["write"]}])
    );
    assert_eq!(
        tools[1]["_meta"]["securitySchemes"],
        tools[1]["securitySchemes"]
    );
}

#[tokio::test]
async fn current_clients_may_cache_what_never_changes() {
    let issuer = TestIssuer::start().await;
    let ttl = crate::config::DEFAULT_LIST_TTL.as_millis() as u64;
    let open = app(MIXED_TOOLS, "tool", &issuer).await;
    for method in ["tools/list", "server/discover"] {
        let answer = post_current(&open, None, method, json!({})).await;
        assert_eq!(answer.status, StatusCode::OK, "{method}: {}", answer.body);
        let result = &answer.body["result"];
        assert_eq!(result["ttlMs"], ttl, "{method}: {result}");
        assert_eq!(result["cacheScope"], "public", "{method}");
    }
    // Older clients get the result they know, without the hints.
    let legacy = post(
        &open,
        None,
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
    )
    .await;
    let result = legacy.body["result"].as_object().unwrap();
    assert!(!result.contains_key("ttlMs") && !result.contains_key("cacheScope"));

    // Where listing needs a token, no shared cache may hand the list to anyone else.
    let closed = app(PROTECTED_TOOLS, "tool", &issuer).await;
    let token = issuer.token(&issuer.claims(RESOURCE, "read write"));
    for method in ["tools/list", "server/discover"] {
        let answer = post_current(&closed, Some(&token), method, json!({})).await;
        assert_eq!(answer.body["result"]["cacheScope"], "private", "{method}");
    }
}

#[tokio::test]
async fn current_clients_get_typed_results_and_checked_headers() {
    let issuer = TestIssuer::start().await;
    let app = app(MIXED_TOOLS, "http", &issuer).await;
    let called = post_current(
        &app,
        None,
        "tools/call",
        json!({"name": "open", "arguments": {"id": 3}}),
    )
    .await;
    assert_eq!(called.body["result"]["resultType"], "complete");
    assert_eq!(called.body["result"]["isError"], false);

    // Arguments over a limit are answered by the gate, in the same shape.
    let items = vec![0; crate::validate::Limits::DEFAULT.items + 1];
    let big = json!({"name": "open", "arguments": {"id": items}});
    let answer = post_current(&app, None, "tools/call", big.clone()).await;
    assert_eq!(answer.body["result"]["resultType"], "complete");
    assert_eq!(answer.body["result"]["isError"], true);
    let legacy = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": big});
    let answer = post(&app, None, legacy).await;
    assert_eq!(answer.body["result"]["isError"], true);
    assert!(answer.body["result"].get("resultType").is_none());

    // A tool name in the header that is not the one in the body is refused.
    let (message, mut headers) = current(
        "tools/call",
        json!({"name": "open", "arguments": {"id": 3}}),
    );
    headers.retain(|(name, _)| *name != "mcp-name");
    headers.push(("mcp-name", "guarded".to_owned()));
    let answer = send(&app, None, message, &headers).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.body["error"]["code"], -32020, "{}", answer.body);
    assert_eq!(answer.body["id"], 5);
}

#[tokio::test]
async fn current_clients_learn_which_methods_are_gone() {
    let issuer = TestIssuer::start().await;
    let app = app(MIXED_TOOLS, "tool", &issuer).await;
    // `ping` and `initialize` do not exist in 2026-07-28; nor do prompts here.
    for method in ["ping", "initialize", "prompts/list"] {
        let answer = post_current(&app, None, method, json!({})).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{method}");
        assert_eq!(answer.body["error"]["code"], -32601, "{method}");
        assert_eq!(answer.body["id"], 5, "{method}");
    }
}

#[tokio::test]
async fn tool_mode_refuses_inside_the_result() {
    let issuer = TestIssuer::start().await;
    let app = app(MIXED_TOOLS, "tool", &issuer).await;

    let open = post(&app, None, call("open")).await;
    assert_eq!(open.body["result"]["isError"], false, "{}", open.body);

    let refused = post(&app, None, call("guarded")).await;
    assert_eq!(refused.status, StatusCode::OK);
    let result = &refused.body["result"];
    assert_eq!(result["isError"], true);
    let challenges = result["_meta"]["mcp/www_authenticate"].as_array().unwrap();
    assert!(
        challenges[0]
            .as_str()
            .unwrap()
            .contains("error=\"invalid_request\"")
    );

    let weak = issuer.token(&issuer.claims(RESOURCE, "read"));
    let refused = post(&app, Some(&weak), call("guarded")).await;
    let challenge = refused.body["result"]["_meta"]["mcp/www_authenticate"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains("insufficient_scope") && challenge.contains("scope=\"write\""),
        "{challenge}"
    );
}

#[tokio::test]
async fn arguments_over_a_limit_are_a_tool_error() {
    let issuer = TestIssuer::start().await;
    let app = app(MIXED_TOOLS, "tool", &issuer).await;
    let items = vec![0; crate::validate::Limits::DEFAULT.items + 1];
    let answer = post(
        &app,
        None,
        json!({"jsonrpc": "2.0", "id": "big", "method": "tools/call",
               "params": {"name": "open", "arguments": {"id": items}}}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["id"], "big");
    let result = &answer.body["result"];
    assert_eq!(result["isError"], true);
    let text = result["content"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("`open`") && text.contains("/id: array of more than 10000 items"),
        "{text}"
    );
    // Outside the arguments, the same bounds refuse the request itself.
    let answer = post(
        &app,
        None,
        json!({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"x": vec![0; 200_000]}}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn http_mode_refuses_with_status_codes() {
    let issuer = TestIssuer::start().await;
    let app = app(MIXED_TOOLS, "http", &issuer).await;
    let no_token = post(&app, None, call("guarded")).await;
    assert_eq!(no_token.status, StatusCode::UNAUTHORIZED);
    assert!(no_token.challenge.unwrap().contains(
        "resource_metadata=\"http://127.0.0.1:8000/.well-known/oauth-protected-resource/mcp\""
    ));

    let weak = issuer.token(&issuer.claims(RESOURCE, "read"));
    let weak = post(&app, Some(&weak), call("guarded")).await;
    assert_eq!(weak.status, StatusCode::FORBIDDEN);
    assert!(
        weak.challenge
            .unwrap()
            .contains("error=\"insufficient_scope\"")
    );

    // Listing and anonymous tools still work without a token.
    assert_eq!(post(&app, None, call("open")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn invalid_tokens_always_get_401() {
    let issuer = TestIssuer::start().await;
    let app = app(MIXED_TOOLS, "tool", &issuer).await;
    let mut expired = issuer.claims(RESOURCE, "write");
    expired["exp"] = json!(crate::testkit::now() - 3600);
    for token in ["garbage", &issuer.token(&expired)] {
        let answer = post(
            &app,
            Some(token),
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
        )
        .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert!(
            answer
                .challenge
                .unwrap()
                .starts_with("Bearer error=\"invalid_token\"")
        );
    }
}

#[tokio::test]
async fn authorized_call_reaches_upstream_without_the_client_token() {
    let issuer = TestIssuer::start().await;
    let app = app(MIXED_TOOLS, "http", &issuer).await;
    let token = issuer.token(&issuer.claims(RESOURCE, "write"));
    let answer = post(&app, Some(&token), call("guarded")).await;
    assert_eq!(answer.status, StatusCode::OK);
    let result = &answer.body["result"];
    assert_eq!(result["isError"], false, "{result}");
    let echoed: Value =
        serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(echoed["uri"], "/items/3");
    assert!(echoed["headers"].get("authorization").is_none());
}

#[tokio::test]
async fn mixed_tools_send_the_server_key_only_for_entitled_callers() {
    const MIXED: Access = Access {
        anonymous: true,
        oauth2: Some(&["write"]),
    };
    static KEYED: &[ToolSpec] = &[ToolSpec {
        http: HttpBinding {
            credentials: &[&["key"]],
            required_headers: &[],
            documents_redirects: false,
            ..tool("mixed", MIXED).http
        },
        ..tool("mixed", MIXED)
    }];
    static SCHEMES: &[UpstreamScheme] = &[UpstreamScheme {
        name: "key",
        kind: SchemeKind::ApiKey {
            location: Location::Query,
            param: "api_key",
            env: "KEY_API_KEY",
        },
    }];
    let issuer = TestIssuer::start().await;
    let catalog = crate::testkit::catalog(KEYED, SCHEMES);
    for mode in ["tool", "http"] {
        let app = app_with(catalog, mode, &issuer, &[("KEY_API_KEY", "s3cret")]).await;
        let weak = issuer.token(&issuer.claims(RESOURCE, "read"));
        let good = issuer.token(&issuer.claims(RESOURCE, "write"));
        for (token, expected) in [
            (None, "/items/3"),
            (Some(weak.as_str()), "/items/3"),
            // Sent upstream, and not shown to the caller when the upstream echoes it.
            (Some(good.as_str()), "/items/3?api_key=[redacted]"),
        ] {
            let answer = post(&app, token, call("mixed")).await;
            let result = &answer.body["result"];
            assert_eq!(result["isError"], false, "{mode}: {result}");
            let echoed: Value =
                serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
            assert_eq!(
                echoed["uri"],
                expected,
                "{mode}, token: {}",
                token.is_some()
            );
        }
    }
}

#[tokio::test]
async fn fully_protected_server_challenges_every_request() {
    let issuer = TestIssuer::start().await;
    let app = app(PROTECTED_TOOLS, "tool", &issuer).await;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"}}});
    let answer = post(&app, None, init.clone()).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.challenge.as_deref(),
        Some(
            "Bearer resource_metadata=\"http://127.0.0.1:8000/.well-known/oauth-protected-resource/mcp\", scope=\"read write\""
        )
    );
    let token = issuer.token(&issuer.claims(RESOURCE, "read write"));
    let answer = post(&app, Some(&token), init).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["result"]["serverInfo"]["name"], "test-mcp");
}

#[tokio::test]
async fn bad_arguments_never_reach_upstream() {
    let issuer = TestIssuer::start().await;
    let app = app(MIXED_TOOLS, "tool", &issuer).await;
    let message = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                         "params": {"name": "open", "arguments": {"id": "../etc"}}});
    let answer = post(&app, None, message).await;
    assert_eq!(answer.body["result"]["isError"], true);
    let text = answer.body["result"]["content"][0]["text"]
        .as_str()
        .unwrap();
    assert!(text.starts_with("Invalid arguments"), "{text}");
}

#[tokio::test]
async fn foreign_origins_and_hosts_are_refused() {
    let issuer = TestIssuer::start().await;
    let app = app(MIXED_TOOLS, "tool", &issuer).await;
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string();
    for (host, origin, expected) in [
        (
            "127.0.0.1:8000",
            Some("http://localhost:6274"),
            StatusCode::OK,
        ),
        (
            "127.0.0.1:8000",
            Some("https://evil.example"),
            StatusCode::FORBIDDEN,
        ),
        ("evil.example", None, StatusCode::FORBIDDEN),
    ] {
        let mut request = Request::post("/mcp")
            .header("host", host)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream");
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let response = app
            .clone()
            .oneshot(request.body(Body::from(list.clone())).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "{host} {origin:?}");
    }
}

/// Status and `Access-Control-Allow-Origin` of a `tools/list` from `origin`.
async fn from_origin(app: &Router, host: &str, origin: &str) -> (StatusCode, Option<String>) {
    let request = Request::post("/mcp")
        .header("host", host)
        .header("origin", origin)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(Body::from(
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string(),
        ))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let allowed = response
        .headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_owned());
    (response.status(), allowed)
}

#[tokio::test]
async fn any_host_still_checks_origins_and_cors_follows() {
    let issuer = TestIssuer::start().await;
    let public = [("RESOURCE_SERVER_URL", "https://mcp.example.com/mcp")];
    let app = app_with(
        catalog(MIXED_TOOLS),
        "tool",
        &issuer,
        &[public[0], ("ALLOWED_HOSTS", "*")],
    )
    .await;
    let host = "anything.example";
    let (status, cors) = from_origin(&app, host, "https://evil.example").await;
    assert_eq!((status, cors), (StatusCode::FORBIDDEN, None));
    for good in [
        "https://mcp.example.com",
        "https://mcp.example.com:443",
        "http://localhost:6274",
    ] {
        let (status, cors) = from_origin(&app, host, good).await;
        assert_eq!(
            (status, cors.as_deref()),
            (StatusCode::OK, Some(good)),
            "{good}"
        );
    }
    // Another port or scheme of the public host is another origin.
    for other in ["https://mcp.example.com:8443", "http://mcp.example.com"] {
        assert_eq!(
            from_origin(&app, host, other).await.0,
            StatusCode::FORBIDDEN
        );
    }

    let open = app_with(
        catalog(MIXED_TOOLS),
        "tool",
        &issuer,
        &[public[0], ("ALLOWED_HOSTS", "*"), ("ALLOWED_ORIGINS", "*")],
    )
    .await;
    let (status, cors) = from_origin(&open, host, "https://evil.example").await;
    assert_eq!((status, cors.as_deref()), (StatusCode::OK, Some("*")));
}

#[tokio::test]
async fn a_resource_without_a_path_serves_its_metadata() {
    let issuer = TestIssuer::start().await;
    let app = app_with(
        catalog(MIXED_TOOLS),
        "tool",
        &issuer,
        &[("RESOURCE_SERVER_URL", "https://mcp.example.com")],
    )
    .await;
    let (status, doc) = get(&app, "/.well-known/oauth-protected-resource").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["resource"], "https://mcp.example.com");
}

/// MIXED_TOOLS in catalog mode: "open" (group `test`) and "guarded" (group `admin`).
fn catalog_mode() -> &'static Catalog {
    static TOOLS: &[ToolSpec] = &[
        tool(
            "open",
            Access {
                anonymous: true,
                oauth2: None,
            },
        ),
        ToolSpec {
            group: "admin",
            ..tool(
                "guarded",
                Access {
                    anonymous: false,
                    oauth2: Some(&["write"]),
                },
            )
        },
    ];
    const fn entry(role: CatalogRole, name: &'static str, oauth2: bool) -> CatalogEntry {
        CatalogEntry {
            role,
            name,
            description: name,
            input_schema: r#"{"type":"object"}"#,
            annotations: READ,
            access: Access {
                anonymous: true,
                oauth2: if oauth2 { Some(&[]) } else { None },
            },
        }
    }
    static ENTRIES: &[CatalogEntry] = &[
        entry(CatalogRole::Search, "search_operations", false),
        entry(CatalogRole::Describe, "describe_operation", false),
        entry(CatalogRole::Call, "call_operation", true),
    ];
    // Document 0 "open test items", 1 "guarded admin items".
    const INDEX: &str =
        "mcp-gen-search 1\nlengths 3 3\nopen 0:1\ntest 0:1\nguarded 1:1\nadmin 1:1\nitem 0:1 1:1\n";
    Box::leak(Box::new(Catalog {
        default_mode: ToolMode::Catalog,
        catalog_tools: ENTRIES,
        search_index: INDEX,
        ..*crate::testkit::catalog(TOOLS, &[])
    }))
}

fn call_operation(operation: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 8, "method": "tools/call",
           "params": {"name": "call_operation", "arguments": {"operation": operation, "arguments": arguments}}})
}

fn tool_call(name: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
           "params": {"name": name, "arguments": arguments}})
}

fn names(list: &Answer) -> Vec<String> {
    list.body["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn catalog_mode_lists_three_tools_and_finds_operations() {
    let issuer = TestIssuer::start().await;
    let app = app_with(catalog_mode(), "tool", &issuer, &[]).await;
    let list = post(
        &app,
        None,
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
    )
    .await;
    assert_eq!(
        names(&list),
        ["search_operations", "describe_operation", "call_operation"]
    );
    assert_eq!(
        list.body["result"]["tools"][2]["securitySchemes"],
        json!([{"type": "noauth"}, {"type": "oauth2", "scopes": []}])
    );

    let found = post(
        &app,
        None,
        tool_call("search_operations", json!({"query": "guarded items"})),
    )
    .await;
    let found = &found.body["result"]["structuredContent"]["operations"];
    assert_eq!(found[0]["operation"], "guarded");
    assert_eq!(found[0]["group"], "admin");
    assert_eq!(found[1]["operation"], "open");
    let only = post(
        &app,
        None,
        tool_call(
            "search_operations",
            json!({"query": "items", "group": "test"}),
        ),
    )
    .await;
    assert_eq!(
        only.body["result"]["structuredContent"]["operations"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let groups = post(
        &app,
        None,
        tool_call("search_operations", json!({"query": ""})),
    )
    .await;
    assert_eq!(
        groups.body["result"]["structuredContent"]["groups"],
        json!([{"group": "test", "operations": 1}, {"group": "admin", "operations": 1}])
    );

    let described = post(
        &app,
        None,
        tool_call("describe_operation", json!({"operation": "guarded"})),
    )
    .await;
    let described = &described.body["result"]["structuredContent"];
    assert_eq!(described["inputSchema"]["required"], json!(["id"]));
    assert_eq!(
        described["securitySchemes"],
        json!([{"type": "oauth2", "scopes": ["write"]}])
    );
    let unknown = post(
        &app,
        None,
        tool_call("describe_operation", json!({"operation": "nope"})),
    )
    .await;
    assert_eq!(unknown.body["result"]["isError"], true);

    // The operations themselves are no tools of their own in catalog mode.
    let direct = post(&app, None, call("open")).await;
    assert!(direct.body["error"].is_object(), "{}", direct.body);

    // TOOL_MODE switches a build back to one tool per operation.
    let app = app_with(catalog_mode(), "tool", &issuer, &[("TOOL_MODE", "tools")]).await;
    let list = post(
        &app,
        None,
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
    )
    .await;
    assert_eq!(names(&list), ["open", "guarded"]);
    let direct = post(&app, None, call("open")).await;
    assert_eq!(direct.body["result"]["isError"], false, "{}", direct.body);
}

#[tokio::test]
async fn call_operation_checks_as_the_operation_would() {
    let issuer = TestIssuer::start().await;
    let app = app_with(catalog_mode(), "tool", &issuer, &[]).await;
    // Anonymous operation: runs, reaches the upstream.
    let open = post(&app, None, call_operation("open", json!({"id": 3}))).await;
    assert_eq!(open.body["result"]["isError"], false, "{}", open.body);
    // Its own schema: `id` must be an integer.
    let bad = post(&app, None, call_operation("open", json!({"id": "x"}))).await;
    assert_eq!(bad.body["result"]["isError"], true);
    assert!(
        bad.body
            .to_string()
            .contains("Invalid arguments for `open`"),
        "{}",
        bad.body
    );
    // Its own scopes, refused inside the result with the operation's challenge...
    let weak = issuer.token(&issuer.claims(RESOURCE, "read"));
    let refused = post(
        &app,
        Some(&weak),
        call_operation("guarded", json!({"id": 3})),
    )
    .await;
    assert_eq!(refused.body["result"]["isError"], true);
    let challenge = refused.body["result"]["_meta"]["mcp/www_authenticate"][0]
        .as_str()
        .unwrap();
    assert!(
        challenge.contains("insufficient_scope") && challenge.contains("scope=\"write\""),
        "{challenge}"
    );
    // ...and with the scope (step-up), it runs.
    let strong = issuer.token(&issuer.claims(RESOURCE, "write"));
    let ok = post(
        &app,
        Some(&strong),
        call_operation("guarded", json!({"id": 3})),
    )
    .await;
    assert_eq!(ok.body["result"]["isError"], false, "{}", ok.body);

    // Arguments beside `operation` are refused rather than dropped unseen.
    let stray = tool_call("call_operation", json!({"operation": "open", "id": 3}));
    let stray = post(&app, None, stray).await;
    assert_eq!(stray.body["result"]["isError"], true);
    assert!(
        stray.body.to_string().contains("inside `arguments`"),
        "{}",
        stray.body
    );
    // Nesting as deep as the operation's own tool allows is fine through call_operation too;
    // one level deeper is refused, naming the operation and the place in its arguments.
    let nested = |levels: usize| {
        let mut value = json!(1);
        for _ in 0..levels {
            value = json!([value]);
        }
        value
    };
    let deep = post(
        &app,
        None,
        call_operation("open", json!({"id": nested(31)})),
    )
    .await;
    assert!(!deep.body.to_string().contains("limit"), "{}", deep.body);
    let deeper = post(
        &app,
        None,
        call_operation("open", json!({"id": nested(32)})),
    )
    .await;
    let text = deeper.body.to_string();
    assert!(text.contains("`open`") && text.contains("/id"), "{text}");

    // HTTP challenge mode: 403 from the gate, before the handler.
    let app = app_with(catalog_mode(), "http", &issuer, &[]).await;
    let refused = post(
        &app,
        Some(&weak),
        call_operation("guarded", json!({"id": 3})),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.challenge.unwrap().contains("scope=\"write\""));
    let none = post(&app, None, call_operation("guarded", json!({"id": 3}))).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn toolsets_narrow_what_is_listed_and_callable() {
    let issuer = TestIssuer::start().await;
    let catalog = crate::testkit::catalog(
        Box::leak(Box::new([
            tool(
                "open",
                Access {
                    anonymous: true,
                    oauth2: None,
                },
            ),
            ToolSpec {
                group: "admin",
                ..tool(
                    "other",
                    Access {
                        anonymous: true,
                        oauth2: None,
                    },
                )
            },
        ])),
        &[],
    );
    let app = app_with(catalog, "tool", &issuer, &[("TOOLSETS", "admin")]).await;
    let list = post(
        &app,
        None,
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
    )
    .await;
    assert_eq!(names(&list), ["other"]);
    let hidden = post(&app, None, call("open")).await;
    assert!(hidden.body["error"].is_object(), "{}", hidden.body);
    // Catalog mode: neither found nor callable.
    let app = app_with(catalog_mode(), "tool", &issuer, &[("TOOLSETS", "test")]).await;
    let found = post(
        &app,
        None,
        tool_call("search_operations", json!({"query": "guarded items"})),
    )
    .await;
    assert_eq!(
        found.body["result"]["structuredContent"]["operations"],
        json!([{"operation": "open", "group": "test", "method": "GET", "path": "/items/{id}"}])
    );
    let strong = issuer.token(&issuer.claims(RESOURCE, "write"));
    let hidden = post(
        &app,
        Some(&strong),
        call_operation("guarded", json!({"id": 3})),
    )
    .await;
    assert_eq!(hidden.body["result"]["isError"], true);
    // An unknown group stops the server at startup, naming the known ones.
    let err = Config::from_lookup(catalog, |k| match k {
        "TOOLSETS" => Some("nope".to_owned()),
        "AUTHORIZATION_SERVER_URL" => Some(issuer.url.clone()),
        "RESOURCE_SERVER_URL" => Some(RESOURCE.to_owned()),
        "UPSTREAM_BASE_URL" => Some("http://127.0.0.1:9".to_owned()),
        _ => None,
    })
    .unwrap_err();
    assert!(err.to_string().contains("admin, test"), "{err}");
    // A build without catalog tools cannot be switched to catalog mode.
    let err = Config::from_lookup(catalog, |k| match k {
        "TOOL_MODE" => Some("catalog".to_owned()),
        "UPSTREAM_BASE_URL" => Some("http://127.0.0.1:9".to_owned()),
        _ => None,
    })
    .unwrap_err();
    assert!(err.to_string().contains("TOOL_MODE"), "{err}");
}

#[tokio::test]
async fn listing_by_scope_shows_callers_what_they_may_call() {
    let issuer = TestIssuer::start().await;
    let app = app_with(
        catalog(MIXED_TOOLS),
        "tool",
        &issuer,
        &[("LIST_BY_SCOPE", "true")],
    )
    .await;
    let list = |token: Option<String>| {
        let app = app.clone();
        async move {
            let answer = post_current(&app, token.as_deref(), "tools/list", json!({})).await;
            assert_eq!(
                answer.body["result"]["cacheScope"], "private",
                "{}",
                answer.body
            );
            names(&answer)
        }
    };
    // Anonymous callers see everything: they learn what to sign in for.
    assert_eq!(list(None).await, ["open", "guarded"]);
    let weak = issuer.token(&issuer.claims(RESOURCE, "read"));
    assert_eq!(list(Some(weak)).await, ["open"]);
    let strong = issuer.token(&issuer.claims(RESOURCE, "write"));
    assert_eq!(list(Some(strong)).await, ["open", "guarded"]);
    // Off (the default): the same list for everyone.
    let shared = app_with(catalog(MIXED_TOOLS), "tool", &issuer, &[]).await;
    let weak = issuer.token(&issuer.claims(RESOURCE, "read"));
    let answer = post_current(&shared, Some(&weak), "tools/list", json!({})).await;
    assert_eq!(names(&answer), ["open", "guarded"]);
}

/// `--healthcheck` against the real router: `/healthz` is outside the `/mcp` gate, so the
/// check passes whatever `ALLOWED_HOSTS` says (the check's Host is the loopback address).
#[tokio::test]
async fn the_healthcheck_passes_against_the_served_app() {
    let issuer = TestIssuer::start().await;
    let app = app_with(
        catalog(PROTECTED_TOOLS),
        "http",
        &issuer,
        &[("ALLOWED_HOSTS", "mcp.example.com")],
    )
    .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let checked = tokio::task::spawn_blocking(move || {
        healthcheck::check("0.0.0.0", port, healthcheck::DEADLINE)
    })
    .await
    .unwrap();
    assert_eq!(checked, Ok(()));
}

#[tokio::test]
async fn a_caller_over_its_rate_limit_gets_429_while_others_are_served() {
    let issuer = TestIssuer::start().await;
    let settings = [("RATE_LIMIT_PER_MINUTE", "60"), ("RATE_LIMIT_BURST", "3")];
    let app = app_with(catalog(MIXED_TOOLS), "tool", &issuer, &settings).await;
    let token_for = |subject: &str| {
        let mut claims = issuer.claims(RESOURCE, "write");
        claims["sub"] = json!(subject);
        issuer.token(&claims)
    };
    let (alice, bob) = (token_for("alice"), token_for("bob"));
    for _ in 0..3 {
        let answer = post(&app, Some(&alice), call("guarded")).await;
        assert_eq!(answer.body["result"]["isError"], false, "{}", answer.body);
    }
    // Listing costs the upstream nothing and is not counted.
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    assert_eq!(post(&app, Some(&alice), list).await.status, StatusCode::OK);
    let refused = send_raw(&app, Some(&alice), call("guarded")).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers()["retry-after"], "1");
    let body: Value =
        serde_json::from_slice(&to_bytes(refused.into_body(), 1 << 16).await.unwrap()).unwrap();
    assert_eq!(body["id"], 7);
    assert_eq!(body["error"]["code"], -32029);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("retry after 1 s")
    );
    // Another subject has a bucket of its own; so do anonymous callers (by address).
    let answer = post(&app, Some(&bob), call("guarded")).await;
    assert_eq!(answer.body["result"]["isError"], false, "{}", answer.body);
    let answer = post(&app, None, call("open")).await;
    assert_eq!(answer.body["result"]["isError"], false, "{}", answer.body);
}

/// The raw response of a request as a 2025-06-18 client sends it.
async fn send_raw(app: &Router, token: Option<&str>, message: Value) -> axum::response::Response {
    let mut request = Request::post("/mcp")
        .header("host", "127.0.0.1:8000")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    app.clone()
        .oneshot(request.body(Body::from(message.to_string())).unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn calls_beyond_the_upstream_cap_wait_then_answer_busy() {
    let issuer = TestIssuer::start().await;
    // An upstream that takes 300 ms per request.
    let slow = crate::testkit::serve(Router::new().fallback(|| async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        ([("content-type", "application/json")], "{}")
    }))
    .await;
    let settings = [
        ("UPSTREAM_BASE_URL", slow.as_str()),
        ("UPSTREAM_MAX_CONCURRENT", "1"),
        ("UPSTREAM_QUEUE_TIMEOUT_SECS", "0.1"),
    ];
    let app = app_with(catalog(MIXED_TOOLS), "tool", &issuer, &settings).await;
    let started = std::time::Instant::now();
    let (first, second) = tokio::join!(post(&app, None, call("open")), async {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        post(&app, None, call("open")).await
    });
    assert_eq!(first.body["result"]["isError"], false, "{}", first.body);
    let result = &second.body["result"];
    assert_eq!(result["isError"], true, "{result}");
    let text = result["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("UPSTREAM_MAX_CONCURRENT"), "{text}");
    // The second waited its queue time, not the first call's whole exchange.
    let waited = started.elapsed();
    assert!(
        waited < std::time::Duration::from_millis(1_000),
        "{waited:?}"
    );
    // With a longer queue time it waits its turn and is served.
    let settings = [
        ("UPSTREAM_BASE_URL", slow.as_str()),
        ("UPSTREAM_MAX_CONCURRENT", "1"),
        ("UPSTREAM_QUEUE_TIMEOUT_SECS", "2"),
    ];
    let app = app_with(catalog(MIXED_TOOLS), "tool", &issuer, &settings).await;
    let (first, second) = tokio::join!(
        post(&app, None, call("open")),
        post(&app, None, call("open"))
    );
    assert_eq!(first.body["result"]["isError"], false, "{}", first.body);
    assert_eq!(second.body["result"]["isError"], false, "{}", second.body);
}

/// The value of one series in a text exposition.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

#[tokio::test]
async fn metrics_count_calls_by_tool_and_outcome_without_secrets() {
    let issuer = TestIssuer::start().await;
    let catalog = catalog(MIXED_TOOLS);
    let metrics = Arc::new(crate::metrics::Metrics::new(catalog, "9.9.9").unwrap());
    let app = app_with(catalog, "http", &issuer, &[])
        .await
        .layer(Extension(Arc::clone(&metrics)));
    let mut strong_claims = issuer.claims(RESOURCE, "write");
    strong_claims["sub"] = json!("subject-that-must-not-show");
    let strong = issuer.token(&strong_claims);
    let weak = issuer.token(&issuer.claims(RESOURCE, "read"));
    let secret_argument = json!({"jsonrpc": "2.0", "id": 8, "method": "tools/call",
        "params": {"name": "open", "arguments": {"id": 424242}}});

    assert_eq!(
        post(&app, Some(&strong), call("guarded")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        post(&app, None, secret_argument).await.status,
        StatusCode::OK
    );
    assert_eq!(post(&app, None, call("open")).await.status, StatusCode::OK);
    let refused = post(&app, Some(&weak), call("guarded")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        post(&app, None, call("guarded")).await.status,
        StatusCode::UNAUTHORIZED
    );
    let forged = format!("{strong}x");
    assert_eq!(
        post(&app, Some(&forged), call("guarded")).await.status,
        StatusCode::UNAUTHORIZED
    );
    // A name outside the catalog makes no series.
    post(&app, None, call("no-such-tool")).await;

    let text = metrics.render().unwrap();
    for (series, value) in [
        (r#"mcp_tool_calls_total{outcome="ok",tool="guarded"}"#, 1.0),
        (r#"mcp_tool_calls_total{outcome="ok",tool="open"}"#, 2.0),
        (
            r#"mcp_tool_calls_total{outcome="refused_insufficient_scope",tool="guarded"}"#,
            1.0,
        ),
        (
            r#"mcp_tool_calls_total{outcome="refused_no_token",tool="guarded"}"#,
            1.0,
        ),
        (
            r#"mcp_tool_call_duration_seconds_count{outcome="ok",tool="open"}"#,
            2.0,
        ),
        (
            r#"mcp_upstream_request_duration_seconds_count{status_class="2xx",tool="open"}"#,
            2.0,
        ),
        (
            r#"mcp_auth_refusals_total{reason="insufficient_scope"}"#,
            1.0,
        ),
        (r#"mcp_auth_refusals_total{reason="no_token"}"#, 1.0),
        (r#"mcp_auth_refusals_total{reason="invalid_token"}"#, 1.0),
        (r#"mcp_jwks_fetches_total{result="ok"}"#, 0.0),
        ("mcp_requests_in_flight", 0.0),
    ] {
        assert_eq!(sample(&text, series), value, "{series}");
    }
    for secret in [
        &strong,
        &weak,
        "subject-that-must-not-show",
        "user-1",
        "424242",
        "no-such-tool",
    ] {
        assert!(!text.contains(secret), "{secret} in the metrics");
    }
    // Every label is one the documentation names.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let labels = line.split_once('{').map_or("", |(_, rest)| rest);
        for pair in labels.split(',').filter(|p| p.contains('=')) {
            let name = pair.split('=').next().unwrap().trim_start_matches('}');
            assert!(
                [
                    "tool",
                    "outcome",
                    "status_class",
                    "reason",
                    "result",
                    "server",
                    "version",
                    "le"
                ]
                .contains(&name),
                "label {name} in {line}"
            );
        }
    }
}

/// Log lines written to memory.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn json_logs_are_one_object_a_line_without_the_token() {
    use crate::logging::{Format, subscriber};
    // The process's logger, as the server sets it: a scoped one would miss events whose
    // interest other tests' threads settled first.
    static CAPTURED: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    let captured = CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        tracing::subscriber::set_global_default(subscriber(
            tracing_subscriber::EnvFilter::new("debug"),
            Format::Json,
            move || writer.clone(),
        ))
        .unwrap();
        captured
    });
    let issuer = TestIssuer::start().await;
    let app = app(MIXED_TOOLS, "http", &issuer).await;
    let mut claims = issuer.claims(RESOURCE, "write");
    claims["sub"] = json!("json-log-subject");
    let token = issuer.token(&claims);
    assert_eq!(
        post(&app, Some(&token), call("guarded")).await.status,
        StatusCode::OK
    );
    let forged = format!("{token}x");
    post(&app, Some(&forged), call("guarded")).await;

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let request = lines
        .iter()
        .find(|l| l["message"] == "mcp request" && l["caller"] == "json-log-subject")
        .unwrap_or_else(|| panic!("no request line in\n{text}"));
    assert_eq!(request["level"], "INFO");
    assert_eq!(request["tool"], "guarded");
    assert_eq!(request["status"], 200);
    assert_eq!(request["outcome"], "200");
    assert!(request["timestamp"].is_string());
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "rejected access token"),
        "{text}"
    );
    assert!(
        !text.contains(&token[token.len() - 20..]),
        "a token in the log"
    );
}

#[tokio::test]
async fn catalog_mode_counts_operations_and_its_own_tools() {
    let issuer = TestIssuer::start().await;
    let catalog = catalog_mode();
    let metrics = Arc::new(crate::metrics::Metrics::new(catalog, "1").unwrap());
    let app = app_with(catalog, "tool", &issuer, &[])
        .await
        .layer(Extension(Arc::clone(&metrics)));
    let search = tool_call("search_operations", json!({"query": "items"}));
    assert_eq!(post(&app, None, search).await.status, StatusCode::OK);
    let open = call_operation("open", json!({"id": 1}));
    assert_eq!(post(&app, None, open).await.status, StatusCode::OK);
    let guarded = call_operation("guarded", json!({"id": 1}));
    assert_eq!(post(&app, None, guarded).await.status, StatusCode::OK);
    let describe = tool_call("describe_operation", json!({}));
    assert_eq!(post(&app, None, describe).await.status, StatusCode::OK);

    let text = metrics.render().unwrap();
    for (series, value) in [
        (
            r#"mcp_tool_calls_total{outcome="ok",tool="search_operations"}"#,
            1.0,
        ),
        (r#"mcp_tool_calls_total{outcome="ok",tool="open"}"#, 1.0),
        (
            r#"mcp_tool_calls_total{outcome="refused_no_token",tool="guarded"}"#,
            1.0,
        ),
        (
            r#"mcp_tool_calls_total{outcome="tool_error",tool="describe_operation"}"#,
            1.0,
        ),
        (r#"mcp_auth_refusals_total{reason="no_token"}"#, 1.0),
    ] {
        assert_eq!(sample(&text, series), value, "{series}");
    }
    assert!(!text.contains(r#"tool="call_operation""#), "{text}");
}

mod traces;

/// Status, `Content-Type` and body of `message` sent by a 2025-06-18 client with `accept`.
async fn raw(
    app: &Router,
    token: Option<&str>,
    message: &str,
    accept: &str,
) -> (StatusCode, String, Vec<u8>) {
    let version = [("mcp-protocol-version", "2025-06-18".to_owned())];
    let (status, headers, body) = exchange(app, token, message, accept, &version).await;
    let content_type = headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, body)
}

#[tokio::test]
async fn plain_tool_calls_answered_directly_are_answered_as_rmcp_answers_them() {
    let taken = || direct_call::TAKEN.with(std::cell::Cell::get);
    let issuer = TestIssuer::start().await;
    let app = app(MIXED_TOOLS, "tool", &issuer).await;
    let token = issuer.token(&issuer.claims(RESOURCE, "write"));
    let calls = [
        (
            None,
            r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"open","arguments":{"id":3}}}"#,
        ),
        (
            None,
            r#"{"jsonrpc":"2.0","id":"a-1","method":"tools/call","params":{"name":"open"}}"#,
        ),
        (
            None,
            r#"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"arguments":{"id":"x"},"name":"open"}}"#,
        ),
        (
            None,
            r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"guarded","arguments":{"id":3}}}"#,
        ),
        (
            Some(token.as_str()),
            r#"{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"guarded","arguments":{"id":3}}}"#,
        ),
        (
            None,
            r#"{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"nope","arguments":{}}}"#,
        ),
    ];
    for (token, message) in calls {
        let before = taken();
        let direct = raw(&app, token, message, "application/json, text/event-stream").await;
        assert_eq!(taken(), before + 1, "not taken: {message}");
        // A weight makes rmcp read it (and is no different to it).
        let through_rmcp = raw(
            &app,
            token,
            message,
            "application/json;q=1, text/event-stream",
        )
        .await;
        assert_eq!(taken(), before + 1, "taken: {message}");
        assert_eq!(
            (direct.0, &direct.1, String::from_utf8_lossy(&direct.2)),
            (
                through_rmcp.0,
                &through_rmcp.1,
                String::from_utf8_lossy(&through_rmcp.2)
            ),
            "{message}"
        );
        assert_eq!(direct.0, StatusCode::OK, "{message}");
    }
}
