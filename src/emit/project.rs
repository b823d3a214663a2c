//! The generated project's non-Rust files (Cargo.toml, README, .env.example, Dockerfile,
//! the Kubernetes manifests of deploy/kubernetes), rendered from minijinja templates in
//! `templates/project/`.

use minijinja::{context, AutoEscape, Environment};
use serde::Serialize;

use super::{lockfile, Settings};
use crate::error::{Error, Result};
use crate::model::{Api, SchemeKind};

pub const LOCK_TEMPLATE: &str = include_str!("../../templates/project/Cargo.lock");

const TEMPLATES: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        include_str!("../../templates/project/Cargo.toml.j2"),
    ),
    (
        "README.md",
        include_str!("../../templates/project/README.md.j2"),
    ),
    (
        "src/main.rs",
        include_str!("../../templates/project/main.rs.j2"),
    ),
    (
        ".env.example",
        include_str!("../../templates/project/env.example.j2"),
    ),
    (
        "Dockerfile",
        include_str!("../../templates/project/Dockerfile.j2"),
    ),
    (
        ".gitignore",
        include_str!("../../templates/project/gitignore.j2"),
    ),
    (
        ".dockerignore",
        include_str!("../../templates/project/dockerignore.j2"),
    ),
    (
        "deploy/kubernetes/kustomization.yaml",
        include_str!("../../templates/project/kubernetes/kustomization.yaml.j2"),
    ),
    (
        "deploy/kubernetes/deployment.yaml",
        include_str!("../../templates/project/kubernetes/deployment.yaml.j2"),
    ),
    (
        "deploy/kubernetes/service.yaml",
        include_str!("../../templates/project/kubernetes/service.yaml.j2"),
    ),
    (
        "deploy/kubernetes/horizontalpodautoscaler.yaml",
        include_str!("../../templates/project/kubernetes/horizontalpodautoscaler.yaml.j2"),
    ),
    (
        "deploy/kubernetes/poddisruptionbudget.yaml",
        include_str!("../../templates/project/kubernetes/poddisruptionbudget.yaml.j2"),
    ),
    (
        "deploy/kubernetes/config.env",
        include_str!("../../templates/project/kubernetes/config.env.j2"),
    ),
    (
        CREDENTIALS_EXAMPLE,
        include_str!("../../templates/project/kubernetes/credentials.env.example.j2"),
    ),
];

/// The Kubernetes Secret's variables, listed for the user to fill in; only written when the
/// server reads any.
const CREDENTIALS_EXAMPLE: &str = "deploy/kubernetes/credentials.env.example";

/// The variables of the server's own OAuth client (RFC 7662 introspection): secrets, read
/// only when OAuth is on.
const INTROSPECTION_CLIENT: &[&str] = &[
    "TOKEN_INTROSPECTION_CLIENT_ID",
    "TOKEN_INTROSPECTION_CLIENT_SECRET",
];

#[derive(Serialize)]
struct ToolRow {
    name: String,
    group: String,
    method: String,
    path: String,
    security: String,
    scopes: Vec<String>,
    credentials: String,
    summary: String,
}

#[derive(Serialize)]
struct EnvVar {
    name: String,
    default: String,
    about: String,
    /// A credential (Kubernetes Secret) rather than a setting (ConfigMap).
    secret: bool,
}

pub fn render(api: &Api, settings: &Settings) -> Result<Vec<(String, String)>> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_keep_trailing_newline(true);
    env.add_filter("cell", cell);
    env.add_filter("oneline", oneline);
    for (name, source) in TEMPLATES {
        env.add_template(name, source).map_err(internal)?;
    }
    let oauth = api.tools.iter().any(|t| t.access.oauth2.is_some());
    let credentials = credential_vars(api);
    let mut secrets: Vec<&EnvVar> = credentials.iter().filter(|v| v.secret).collect();
    let introspection: Vec<EnvVar> = INTROSPECTION_CLIENT
        .iter()
        .map(|name| EnvVar {
            name: name.to_string(),
            default: String::new(),
            about: "This server's client at the authorization server, for RFC 7662 introspection of opaque tokens".to_string(),
            secret: true,
        })
        .collect();
    if oauth {
        secrets.extend(&introspection);
    }
    let ctx = context! {
        name => settings.name,
        kube_name => kube_name(&settings.name),
        title => api.title,
        api_version => api.version,
        generator_version => env!("CARGO_PKG_VERSION"),
        issuer => settings.issuer,
        resource_url => if settings.resource_url.is_empty() { super::DEFAULT_RESOURCE_URL } else { &settings.resource_url },
        resource_baked => !settings.resource_url.is_empty(),
        upstream => api.default_upstream,
        oauth => oauth,
        tools => api.tools.iter().map(row).collect::<Vec<_>>(),
        credentials => credentials,
        credential_settings => credentials.iter().filter(|v| !v.secret).collect::<Vec<_>>(),
        secrets => secrets,
        scopes => scopes_supported(api),
        scope_implies => super::tools_rs::scope_implies(api),
        passthrough => api.upstream_schemes.iter().any(|s| s.kind == SchemeKind::Passthrough),
        token_exchange => api.upstream_schemes.iter().any(|s| s.kind == SchemeKind::TokenExchange),
        catalog => settings.mode == crate::listing::ToolMode::Catalog,
        toolsets => settings.toolsets,
        list_by_scope => settings.list_by_scope,
    };
    let mut out = Vec::new();
    for (name, _) in TEMPLATES {
        if *name == CREDENTIALS_EXAMPLE && secrets.is_empty() {
            continue;
        }
        let text = env
            .get_template(name)
            .and_then(|t| t.render(&ctx))
            .map_err(internal)?;
        out.push((name.to_string(), text));
    }
    let lock = lockfile::for_package(LOCK_TEMPLATE, &settings.name)
        .map_err(|e| Error::internal("the Cargo.lock template", e))?;
    out.push(("Cargo.lock".to_string(), lock));
    Ok(out)
}

fn internal(e: minijinja::Error) -> Error {
    Error::internal("a project template", format!("{e:#}"))
}

fn row(t: &crate::model::Tool) -> ToolRow {
    let security = match (t.access.anonymous, &t.access.oauth2) {
        (true, None) => "noauth",
        (false, Some(_)) => "oauth2",
        (true, Some(_)) => "noauth + oauth2",
        (false, None) => "none",
    };
    ToolRow {
        name: t.name.clone(),
        group: t.group.clone(),
        method: t.http.method.clone(),
        path: t.http.path.clone(),
        security: security.to_string(),
        scopes: t.access.oauth2.clone().unwrap_or_default(),
        credentials: t
            .http
            .credentials
            .iter()
            .map(|set| set.join(" + "))
            .collect::<Vec<_>>()
            .join(" or "),
        summary: t.title.clone().unwrap_or_default(),
    }
}

fn credential_vars(api: &Api) -> Vec<EnvVar> {
    let mut vars = Vec::new();
    for scheme in &api.upstream_schemes {
        let about = match &scheme.kind {
            SchemeKind::ApiKey {
                location, param, ..
            } => {
                format!(
                    "API key for scheme `{}`, sent as {} `{param}`",
                    scheme.name,
                    location.as_str()
                )
            }
            SchemeKind::Bearer { .. } => format!("Bearer token for scheme `{}`", scheme.name),
            SchemeKind::Basic { .. } => {
                format!("HTTP Basic credential for scheme `{}`", scheme.name)
            }
            SchemeKind::ClientCredentials { token_url, .. } => format!(
                "OAuth client credentials for scheme `{}`; the token URL defaults to `{token_url}`",
                scheme.name
            ),
            SchemeKind::TokenExchange => {
                "RFC 8693 token exchange at the authorization server (client id, secret; token endpoint and audience default to the issuer's metadata and UPSTREAM_BASE_URL)".to_string()
            }
            SchemeKind::Passthrough => String::new(),
        };
        for env in scheme.kind.env_vars() {
            if vars.iter().any(|v: &EnvVar| v.name == env) {
                continue; // token exchange: one configuration shared by its schemes
            }
            vars.push(EnvVar {
                name: env.to_string(),
                default: String::new(),
                about: about.clone(),
                secret: scheme.kind.is_secret(env),
            });
        }
    }
    vars
}

/// The name of the server's Kubernetes objects and image: the crate name as a DNS label
/// (RFC 1123, at most 63 characters, what a Service name and a label value must be).
fn kube_name(name: &str) -> String {
    let mut label: String = name.replace('_', "-").chars().take(63).collect();
    while label.ends_with('-') {
        label.pop();
    }
    label
}

fn scopes_supported(api: &Api) -> Vec<String> {
    let set: std::collections::BTreeSet<&String> = api
        .tools
        .iter()
        .filter_map(|t| t.access.oauth2.as_ref())
        .flatten()
        .collect();
    set.into_iter().cloned().collect()
}

/// Text from the spec inside a Markdown table cell: one line, no cell breaks.
fn cell(value: String) -> String {
    oneline(value).replace('|', "\\|")
}

/// Text from the spec on one line: control characters (a newline in an env file would
/// start a new variable) become spaces.
fn oneline(value: String) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::kube_name;

    #[test]
    fn kube_names_are_dns_labels() {
        assert_eq!(kube_name("swagger-petstore-mcp"), "swagger-petstore-mcp");
        assert_eq!(kube_name("my_api_mcp"), "my-api-mcp");
        assert_eq!(kube_name("api-"), "api");
        let long = format!("a{}", "-b".repeat(40));
        let label = kube_name(&long);
        assert!(label.len() <= 63 && !label.ends_with('-'), "{label}");
    }
}
