//! `mcp-gen.toml`: the generation options in a file, so CI runs one short command. The same
//! structure (made effective and with paths relative to the project) is recorded in the
//! generated `mcp-gen.json`, which is how `mcp-gen generate` inside a project regenerates it.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::budget::{self, Budget, Listing};
use crate::error::{Error, Result};
use crate::listing::ToolMode;
use crate::model::select::{Filters, Override, ScopeRule, Selection};
use crate::model::{self, AuthMode, OutputSchemas, UpstreamAuth};
use crate::profile::{Profile, Targets};

/// The config file's conventional name, looked up in the working directory.
pub const FILE: &str = "mcp-gen.toml";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Path (relative to this file), http(s) URL, or `-`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
    /// Output directory (relative to this file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_name_len: Option<u16>,
    /// The clients the server is meant for (default: all); `[]`: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profiles: Option<Vec<Profile>>,
    /// What goes upstream for operations secured by the spec's oauth2 schemes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_auth: Option<UpstreamAuth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_remote_refs: Option<bool>,
    /// `describe` (default), `strict` or `none`: what tools declare as `outputSchema`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schemas: Option<OutputSchemas>,
    /// `auto` (default), `tools` or `catalog`: one tool per operation, or the three catalog
    /// tools that search, describe and call them; `auto` lists tools while they fit the budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_mode: Option<ToolMode>,
    /// Most tools the server lists (default: [`budget::DEFAULT_MAX_TOOLS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tools: Option<u32>,
    /// Most o200k_base tokens its tools/list may take (default:
    /// [`budget::DEFAULT_MAX_LIST_TOKENS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_list_tokens: Option<u32>,
    /// The groups (an operation's first tag, else its path's first segment) listed by
    /// default; the others wait for the server's `TOOLSETS`. Empty: all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toolsets: Option<Vec<String>>,
    /// A caller with a token sees in tools/list only the tools its scopes allow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_by_scope: Option<bool>,
    /// Defects of the document are errors, not warnings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    #[serde(default, skip_serializing_if = "Filters::is_empty")]
    pub filters: Filters,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scope_rules: Vec<ScopeRule>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub scope_implications: BTreeMap<String, Vec<String>>,
    /// Per operation (operationId, or `METHOD /path`): name, title, description, scopes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tools: BTreeMap<String, Override>,
    /// Per upstream security scheme: where the server reads its credential.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub credentials: BTreeMap<String, Credential>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    /// Environment variable (apiKey, bearer) or prefix (basic: `_USERNAME`, `_PASSWORD`).
    pub env: String,
}

/// Everything one generation needs, defaults filled in and checked.
#[derive(Debug, Clone)]
pub struct Effective {
    pub spec: String,
    pub out: Option<PathBuf>,
    pub name: Option<String>,
    pub options: model::Options,
    pub issuer: String,
    pub resource_url: String,
    /// How the server lists its operations, and the budget that decides `auto`.
    pub listing: Listing,
    pub list_by_scope: bool,
}

impl Config {
    /// Reads a config file; its relative paths are made relative to the working directory.
    pub fn read(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Usage(format!("cannot read {}: {e}", path.display())))?;
        let config: Config = toml::from_str(&text)
            .map_err(|e| Error::Usage(format!("{}: {}", path.display(), e.to_string().trim())))?;
        let base = path.parent().unwrap_or(Path::new(""));
        Ok(config.rebased(base))
    }

    /// The options recorded in a manifest, relative to the project directory `dir`.
    pub fn from_manifest(options: &serde_json::Value, dir: &Path) -> Result<Config> {
        let config: Config = serde_json::from_value(options.clone()).map_err(|e| {
            Error::Usage(format!(
                "{}: `options` is not understood by this mcp-gen: {e}",
                dir.join(crate::emit::MANIFEST).display()
            ))
        })?;
        Ok(config.rebased(dir))
    }

    fn rebased(mut self, base: &Path) -> Config {
        self.spec = self.spec.map(|s| rebase(&s, base));
        self.out = self.out.map(|o| rebase(&o, base));
        self
    }

    /// `self` with every setting `over` makes replaced (flags over a file).
    pub fn overridden_by(mut self, over: Config) -> Config {
        macro_rules! take {
            ($($field:ident),*) => { $( if over.$field.is_some() { self.$field = over.$field; } )* };
        }
        take!(
            spec,
            out,
            name,
            auth,
            oauth_server,
            resource_url,
            default_scopes,
            max_name_len,
            profiles,
            upstream_auth,
            allow_remote_refs,
            output_schemas,
            tool_mode,
            max_tools,
            max_list_tokens,
            toolsets,
            list_by_scope,
            strict
        );
        let f = over.filters;
        macro_rules! list {
            ($($field:ident),*) => { $( if !f.$field.is_empty() { self.filters.$field = f.$field; } )* };
        }
        list!(
            include_tags,
            exclude_tags,
            include_operations,
            exclude_operations,
            include_paths,
            exclude_paths,
            include_methods,
            exclude_methods
        );
        if !over.scope_rules.is_empty() {
            self.scope_rules = over.scope_rules;
        }
        self.scope_implications.extend(over.scope_implications);
        self.tools.extend(over.tools);
        self.credentials.extend(over.credentials);
        self
    }

    /// Defaults filled in and every value checked (usage errors, exit 2).
    pub fn effective(&self) -> Result<Effective> {
        let spec = self.spec.clone().ok_or_else(|| {
            Error::Usage(format!(
                "no spec: pass --url, or `spec = …` in {FILE}, or run inside a generated project (with its {})",
                crate::emit::MANIFEST
            ))
        })?;
        let issuer = self.oauth_server.clone().unwrap_or_default();
        check_url("--oauth-server (oauth_server)", &issuer, true)?;
        // Empty: the server names itself from HOST/PORT (http://127.0.0.1:8000/mcp by default).
        let resource_url = self.resource_url.clone().unwrap_or_default();
        check_url("--resource-url (resource_url)", &resource_url, true)?;
        for (broad, narrow) in &self.scope_implications {
            for scope in std::iter::once(broad).chain(narrow) {
                check_scope("scope_implications", scope)?;
            }
        }
        if let Some(name) = &self.name {
            check_crate_name(name)?;
        }
        if let Some(n) = self.max_name_len.filter(|n| !(8..=64).contains(n)) {
            return Err(Error::Usage(format!(
                "--max-name-len (max_name_len): {n} is not in 8..=64"
            )));
        }
        let profiles = self.targets();
        for (i, rule) in self.scope_rules.iter().enumerate() {
            if !rule.has_matcher() {
                return Err(Error::Usage(format!(
                    "scope_rules[{i}]: give at least one of tag, method, operation, path"
                )));
            }
        }
        let options = model::Options {
            auth: self.auth.unwrap_or_default(),
            default_scopes: clean(self.default_scopes.as_deref().unwrap_or_default()),
            max_name_len: self.max_name_len.map(usize::from),
            profiles: profiles.clone(),
            server_name: self.name.clone(),
            upstream_auth: self.upstream_auth.unwrap_or_default(),
            allow_remote_refs: self.allow_remote_refs.unwrap_or(false),
            output_schemas: self.output_schemas.unwrap_or_default(),
            strict: self.strict.unwrap_or(false),
            select: Selection {
                filters: self.filters.clone(),
                scope_rules: self.scope_rules.clone(),
                scope_implications: self.scope_implications.clone(),
                overrides: self.tools.clone(),
                credential_env: self
                    .credentials
                    .iter()
                    .map(|(k, v)| (k.clone(), v.env.clone()))
                    .collect(),
            },
        };
        Ok(Effective {
            spec,
            out: self.out.as_ref().map(PathBuf::from),
            name: self.name.clone(),
            options,
            issuer,
            resource_url,
            listing: Listing {
                mode: self.tool_mode.unwrap_or_default(),
                budget: self.budget(&profiles)?,
                toolsets: clean(self.toolsets.as_deref().unwrap_or_default()),
                profiles,
            },
            list_by_scope: self.list_by_scope.unwrap_or(false),
        })
    }

    /// The profiles targeted: all unless the config says which.
    fn targets(&self) -> Targets {
        self.profiles
            .as_deref()
            .map_or_else(Targets::default, Targets::new)
    }

    /// The limits, defaults filled in; zero is a usage error (nothing would fit), and so is
    /// a `max_tools` over a targeted profile's limit.
    fn budget(&self, profiles: &Targets) -> Result<Budget> {
        let limit = |key: &str, value: Option<u32>, default: usize| -> Result<usize> {
            match value {
                None => Ok(default),
                Some(0) => Err(Error::Usage(format!(
                    "--{} ({key}): 0 leaves no room for any tool",
                    key.replace('_', "-")
                ))),
                Some(n) => Ok(n as usize),
            }
        };
        Ok(Budget {
            max_tools: profiles.max_tools(
                self.max_tools
                    .map(|n| limit("max_tools", Some(n), 0))
                    .transpose()?,
                budget::DEFAULT_MAX_TOOLS,
            )?,
            max_list_tokens: limit(
                "max_list_tokens",
                self.max_list_tokens,
                budget::DEFAULT_MAX_LIST_TOKENS,
            )?,
        })
    }

    /// What the manifest records: every effective value, so a later mcp-gen with other
    /// defaults regenerates the same project. `max_name_len` and `max_tools` are the values
    /// the profiles decided for the server `name`.
    pub fn recorded(&self, name: &str, max_name_len: usize, max_tools: usize) -> Config {
        let mut r = self.clone();
        // The manifest records the spec on its own (with its digest).
        r.spec = None;
        r.out = None;
        r.name = Some(name.to_string());
        r.auth = Some(self.auth.unwrap_or_default());
        r.oauth_server = Some(self.oauth_server.clone().unwrap_or_default());
        r.resource_url = Some(self.resource_url.clone().unwrap_or_default());
        r.default_scopes = Some(self.default_scopes.clone().unwrap_or_default());
        r.max_name_len = Some(u16::try_from(max_name_len).unwrap_or(u16::MAX));
        r.profiles = Some(self.targets().profiles().to_vec());
        r.upstream_auth = Some(self.upstream_auth.unwrap_or_default());
        r.allow_remote_refs = Some(self.allow_remote_refs.unwrap_or(false));
        r.output_schemas = Some(self.output_schemas.unwrap_or_default());
        let budget = Budget::default();
        r.tool_mode = Some(self.tool_mode.unwrap_or_default());
        r.max_tools = Some(u32::try_from(max_tools).unwrap_or(u32::MAX));
        r.max_list_tokens = Some(
            self.max_list_tokens
                .unwrap_or(budget.max_list_tokens as u32),
        );
        r.toolsets = Some(clean(self.toolsets.as_deref().unwrap_or_default()));
        r.list_by_scope = Some(self.list_by_scope.unwrap_or(false));
        // Not recorded: it changes no output, only whether there is one, so it belongs to the
        // run (a flag or the config file), not to the project.
        r.strict = None;
        r
    }
}

/// A list as given, entries trimmed and empty ones dropped.
fn clean(list: &[String]) -> Vec<String> {
    list.iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// A path from a file whose directory is `base`, as seen from the working directory.
fn rebase(value: &str, base: &Path) -> String {
    if value == "-" || crate::load::is_url(value) || Path::new(value).is_absolute() {
        return value.to_string();
    }
    base.join(value).to_string_lossy().into_owned()
}

/// A spec path as seen from `dir` (so the project can move with its spec); URLs and `-` as given.
pub fn relative_source(source: &str, dir: &Path) -> String {
    if source == "-" || crate::load::is_url(source) {
        return source.to_string();
    }
    relative_path(Path::new(source), dir)
}

/// `path` relative to `dir`, lexically, with `/` separators (the manifest must not depend on
/// the machine). Falls back to the absolute path when they share no root.
pub fn relative_path(path: &Path, dir: &Path) -> String {
    let abs = |p: &Path| normalize(&std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()));
    let (path, dir) = (abs(path), abs(dir));
    let p: Vec<_> = path.components().collect();
    let d: Vec<_> = dir.components().collect();
    if p.first() != d.first() {
        return path.to_string_lossy().into_owned();
    }
    let common = p.iter().zip(&d).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); d.len() - common];
    parts.extend(
        p[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// Drops `.` and folds `..` without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// A scope as RFC 6749 allows it, minus the separators of the `SCOPE_IMPLIES` syntax.
fn check_scope(key: &str, scope: &str) -> Result<()> {
    let ok = !scope.is_empty()
        && scope
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\\' | ',' | ';' | '='));
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "{key}: `{scope}` is not a usable scope name"
        )))
    }
}

pub fn check_url(what: &str, value: &str, may_be_empty: bool) -> Result<()> {
    if value.is_empty() && may_be_empty {
        return Ok(());
    }
    let ok =
        crate::load::is_url(value) && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "{what}: `{value}` is not an http(s) URL"
        )))
    }
}

pub fn check_crate_name(name: &str) -> Result<()> {
    let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && name.len() <= 64;
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "--name (name): `{name}` is not a valid crate name (lowercase letters, digits, `-`, `_`)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
spec = "openapi.yaml"
out = "server"
name = "pets-mcp"
auth = "oauth2"
oauth_server = "https://auth.example.com"
resource_url = "https://mcp.example.com/mcp"
default_scopes = ["api"]
max_name_len = 40
profiles = ["openai", "vscode"]
tool_mode = "tools"
max_tools = 128
max_list_tokens = 60000
toolsets = ["pet", " "]
list_by_scope = true

[filters]
include_tags = ["pet"]
exclude_operations = ["deletePet"]
include_paths = ["/pet/**"]
exclude_methods = ["HEAD"]

[[scope_rules]]
tag = "pet"
method = "GET"
scopes = ["pets:read"]

[scope_implications]
"pets:write" = ["pets:read"]

[tools.getPetById]
name = "get_pet"
description = "One pet."

[credentials.api_key]
env = "PETSTORE_KEY"
"#;

    #[test]
    fn the_documented_example_parses_and_paths_follow_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        std::fs::write(&path, FULL).unwrap();
        let c = Config::read(&path).unwrap();
        assert_eq!(
            c.spec.as_deref(),
            Some(dir.path().join("openapi.yaml").to_str().unwrap())
        );
        let e = c.effective().unwrap();
        assert_eq!(e.options.max_name_len, Some(40));
        assert_eq!(e.options.select.scope_rules[0].scopes, ["pets:read"]);
        assert_eq!(e.options.select.credential_env["api_key"], "PETSTORE_KEY");
        assert_eq!(
            e.listing,
            Listing {
                mode: ToolMode::Tools,
                budget: Budget {
                    max_tools: 128,
                    max_list_tokens: 60_000
                },
                toolsets: vec!["pet".to_string()],
                profiles: Targets::new(&[Profile::Openai, Profile::Vscode]),
            }
        );
        assert!(e.list_by_scope);
    }

    #[test]
    fn the_listing_defaults_are_recorded_and_zero_limits_refused() {
        let c = Config {
            spec: Some("x".into()),
            ..Config::default()
        };
        let e = c.effective().unwrap();
        assert_eq!(e.listing, Listing::default());
        assert!(!e.list_by_scope);
        let r = c.recorded("x", 48, budget::DEFAULT_MAX_TOOLS);
        assert_eq!(r.max_name_len, Some(48));
        assert_eq!(r.profiles, Some(Profile::ALL.to_vec()));
        assert_eq!(r.tool_mode, Some(ToolMode::Auto));
        assert_eq!(r.max_tools, Some(budget::DEFAULT_MAX_TOOLS as u32));
        assert_eq!(
            r.max_list_tokens,
            Some(budget::DEFAULT_MAX_LIST_TOKENS as u32)
        );
        assert_eq!(r.toolsets, Some(vec![]));
        assert_eq!(r.list_by_scope, Some(false));
        for zero in [
            Config {
                max_tools: Some(0),
                ..c.clone()
            },
            Config {
                max_list_tokens: Some(0),
                ..c.clone()
            },
        ] {
            let err = zero.effective().unwrap_err();
            assert_eq!(err.exit_code(), 2);
            assert!(err.to_string().contains("0 leaves no room"), "{err}");
        }
    }

    #[test]
    fn an_unknown_key_is_a_usage_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        std::fs::write(
            &path,
            "spec = \"a.json\"\n[filters]\ninclude_tag = [\"x\"]\n",
        )
        .unwrap();
        let err = Config::read(&path).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("include_tag"), "{err}");
    }

    #[test]
    fn flags_override_the_file() {
        let file = Config {
            name: Some("a".into()),
            default_scopes: Some(vec!["x".into()]),
            ..Config::default()
        };
        let flags = Config {
            name: Some("b".into()),
            ..Config::default()
        };
        let merged = file.overridden_by(flags);
        assert_eq!(merged.name.as_deref(), Some("b"));
        assert_eq!(merged.default_scopes, Some(vec!["x".to_string()]));
    }

    #[test]
    fn a_scope_rule_needs_a_matcher() {
        let c = Config {
            spec: Some("x".into()),
            scope_rules: vec![ScopeRule {
                scopes: vec!["a".into()],
                ..ScopeRule::default()
            }],
            ..Config::default()
        };
        assert_eq!(c.effective().unwrap_err().exit_code(), 2);
    }

    #[test]
    fn relative_paths_are_lexical_and_portable() {
        assert_eq!(
            relative_path(Path::new("/a/specs/api.json"), Path::new("/a/out/server")),
            "../../specs/api.json"
        );
        assert_eq!(relative_path(Path::new("/a/b"), Path::new("/a/./b")), ".");
        assert_eq!(
            relative_source("https://x/api.json", Path::new("/a")),
            "https://x/api.json"
        );
    }
}
