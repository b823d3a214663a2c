//! The regeneration loop a CI user lives in (issue 6): spec v1 → generate → commit; spec v2
//! adds an operation and changes a scope → `--check` exits 3 naming both and changes nothing
//! → regenerate (inside the project, no flags) → the user's hook edit is still there → the
//! project builds and the new tool answers, through the hook, against a loopback upstream.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

fn spec(with_hello: bool, list_scopes: &[&str]) -> String {
    let mut paths = json!({
        "/items": {"get": {
            "operationId": "listItems",
            "summary": "List items",
            "security": [{"oauth": list_scopes}],
            "responses": {"200": {"description": "ok"}}
        }}
    });
    if with_hello {
        paths["/hello/{who}"] = json!({"get": {
            "operationId": "sayHello",
            "summary": "Say hello",
            "parameters": [{"name": "who", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "ok"}}
        }});
    }
    let doc = json!({
        "openapi": "3.0.3",
        "info": {"title": "Loop", "version": "1"},
        "servers": [{"url": "http://127.0.0.1:9"}],
        "paths": paths,
        "components": {"securitySchemes": {"oauth": {"type": "oauth2", "flows": {
            "authorizationCode": {
                "authorizationUrl": "http://127.0.0.1:9/authorize",
                "tokenUrl": "http://127.0.0.1:9/token",
                "scopes": {"items:read": "read", "items:admin": "admin"}
            }
        }}}}
    });
    serde_json::to_string_pretty(&doc).unwrap()
}

fn mcp_gen(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mcp-gen"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("mcp-gen runs")
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const HOOK_EDIT: &str = r#"//! Our hooks (edited by the user).

use crate::hooks_api::{Call, Hooks};

pub struct Custom;

impl Hooks for Custom {
    fn before_upstream(&self, _call: &Call, request: &mut reqwest::Request) -> Result<(), String> {
        let value = reqwest::header::HeaderValue::from_static("yes");
        request.headers_mut().insert("x-hooked", value);
        Ok(())
    }
}
"#;

/// Shared with scripts/test.sh so the generated projects' dependencies build once.
fn generated_target_dir() -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    // Never the generator's own target dir: the outer cargo may hold its lock.
    if base.ends_with("generated") {
        base
    } else {
        base.join("generated")
    }
}

/// Answers every request with its request line and `x-hooked` header, as JSON.
fn loopback_upstream() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            let mut hooked = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("x-hooked:") {
                    hooked = v.trim().to_string();
                }
            }
            let body = json!({"line": request_line.trim(), "hooked": hooked}).to_string();
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}")
}

/// One `tools/call` over stdio (no OAuth on stdio, ARCHITECTURE.md, The server).
fn call_over_stdio(binary: &Path, upstream: &str, tool: &str, arguments: Value) -> Value {
    let mut child = Command::new(binary)
        .arg("--stdio")
        .env("UPSTREAM_BASE_URL", upstream)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the generated server starts");
    let mut stdin = child.stdin.take().unwrap();
    let messages = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "regenerate-test", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
               "params": {"name": tool, "arguments": arguments}}),
    ];
    for m in &messages {
        writeln!(stdin, "{m}").unwrap();
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                if v["id"] == 2 {
                    let _ = tx.send(v);
                    return;
                }
            }
        }
    });
    let reply = rx.recv_timeout(Duration::from_secs(30));
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
    reply.expect("a tools/call reply within 30 s")
}

#[test]
fn spec_change_check_regenerate_build_and_call() {
    let tmp = tempfile::tempdir().unwrap();
    let api = tmp.path().join("api");
    std::fs::create_dir(&api).unwrap();
    std::fs::write(api.join("openapi.json"), spec(false, &["items:read"])).unwrap();

    // v1, generated from the repository root with flags; the manifest remembers them.
    let v1 = mcp_gen(
        tmp.path(),
        &[
            "generate",
            "--url",
            "api/openapi.json",
            "--oauth-server",
            "http://127.0.0.1:9",
            "--name",
            "loop-mcp",
            "--out",
            "server",
        ],
    );
    assert!(v1.status.success(), "{v1:?}");
    let project = tmp.path().join("server");
    std::fs::write(project.join("src/hooks.rs"), HOOK_EDIT).unwrap();
    git(&project, &["init", "-q"]);
    git(&project, &["add", "-A"]);
    git(&project, &["commit", "-q", "-m", "v1"]);

    // v2: a new anonymous operation, and listItems needs one more scope.
    std::fs::write(
        api.join("openapi.json"),
        spec(true, &["items:read", "items:admin"]),
    )
    .unwrap();
    let check = mcp_gen(&project, &["generate", "--check"]);
    let listing = String::from_utf8_lossy(&check.stdout).into_owned();
    eprintln!(
        "--check said:\n{listing}{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert_eq!(check.status.code(), Some(3), "{check:?}");
    assert!(
        listing.contains("! list_items: oauth2[items:read] -> oauth2[items:read items:admin]"),
        "{listing}"
    );
    assert!(
        listing.contains("+ say_hello (GET /hello/{who}) noauth"),
        "{listing}"
    );
    assert!(listing.contains("~ src/tools.rs"), "{listing}");
    assert!(listing.contains("~ src/schemas.rs"), "{listing}");
    assert_eq!(
        git(&project, &["status", "--porcelain"]),
        "",
        "--check changed nothing"
    );

    // Regenerate inside the project, no flags: the manifest says how.
    let regen = mcp_gen(&project, &["generate"]);
    assert!(regen.status.success(), "{regen:?}");
    assert_eq!(
        std::fs::read_to_string(project.join("src/hooks.rs")).unwrap(),
        HOOK_EDIT
    );
    let changed = git(&project, &["status", "--porcelain"]);
    assert!(!changed.contains("hooks.rs"), "{changed}");
    assert!(changed.contains("src/tools.rs"), "{changed}");
    let again = mcp_gen(&project, &["generate", "--check"]);
    assert_eq!(again.status.code(), Some(0), "{again:?}");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(project.join("mcp-gen.json")).unwrap()).unwrap();
    assert_eq!(manifest["spec"]["source"], "../api/openapi.json");
    assert_eq!(manifest["options"]["oauth_server"], "http://127.0.0.1:9");

    // It builds, and the new tool answers (through the user's hook).
    let target = generated_target_dir();
    let build = Command::new(env!("CARGO"))
        .current_dir(&project)
        .args(["build", "--locked", "--quiet"])
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .expect("cargo runs");
    assert!(build.success(), "the regenerated project builds");
    let reply = call_over_stdio(
        &target.join("debug/loop-mcp"),
        &loopback_upstream(),
        "say_hello",
        json!({"who": "ada"}),
    );
    let result = &reply["result"];
    assert_ne!(result["isError"], json!(true), "{reply}");
    let text = result["content"][0]["text"].as_str().unwrap_or_default();
    let seen: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    assert_eq!(seen["line"], "GET /hello/ada HTTP/1.1", "{reply}");
    assert_eq!(seen["hooked"], "yes", "the user's hook ran: {reply}");
}

#[test]
fn a_config_file_drives_filters_scopes_and_names_and_rejects_unknown_keys() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("api.json"), spec(true, &[])).unwrap();
    let config = r#"
spec = "api.json"
[filters]
exclude_paths = ["/items"]
[[scope_rules]]
operation = "sayHello"
scopes = ["hello:read"]
[tools.sayHello]
name = "greet"
"#;
    std::fs::write(tmp.path().join("mcp-gen.toml"), config).unwrap();
    let o = mcp_gen(tmp.path(), &["inspect", "--format", "json"]);
    assert!(o.status.success(), "{o:?}");
    let api: Value = serde_json::from_slice(&o.stdout).unwrap();
    let tools = api["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 1, "{api}");
    assert_eq!(tools[0]["name"], "greet");
    // sayHello has no security in the spec, so it stays anonymous: rules only fill in scopes
    // for operations that need a token.
    assert_eq!(tools[0]["securitySchemes"], json!([{"type": "noauth"}]));
    assert_eq!(api["summary"]["filtered"], 1);
    // A flag replaces the file's list: now /hello is left out and /items is back.
    let o = mcp_gen(
        tmp.path(),
        &["inspect", "--format", "json", "--exclude-path", "/hello/**"],
    );
    let api: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(api["tools"][0]["name"], "list_items", "{api}");

    std::fs::write(
        tmp.path().join("mcp-gen.toml"),
        "spec = \"api.json\"\nspecs = 1\n",
    )
    .unwrap();
    let o = mcp_gen(tmp.path(), &["inspect"]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("specs"),
        "{o:?}"
    );
}
