//! `generate --check`: compares what would be generated with what is on disk, touching
//! nothing, and says what would change: files, tools, and scope changes (security changes,
//! so they are called out on their own).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::manifest::Manifest;
use super::{slash_path, Files, MANIFEST, USER_OWNED};
use crate::model::Tool;

/// What the manifest records per tool: enough to tell added, removed, changed and
/// re-scoped tools apart.
pub fn tool_fingerprint(t: &Tool) -> Value {
    let definition = crate::inspect::tool_json_bytes(t);
    json!({
        "method": t.http.method,
        "path": t.http.path,
        "securitySchemes": t.access.security_schemes(),
        "sha256": crate::digest::sha256_hex(&definition),
    })
}

#[derive(Debug, Default)]
pub struct Report {
    /// `+ path`, `~ path`, `- path`.
    pub files: Vec<String>,
    pub tools: Vec<String>,
    /// One line per tool whose securitySchemes change.
    pub security: Vec<String>,
}

impl Report {
    pub fn is_current(&self) -> bool {
        self.files.is_empty()
    }

    /// The listing printed by `--check`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (title, lines) in [
            (
                "security changes (scopes or anonymous access)",
                &self.security,
            ),
            ("tools", &self.tools),
            ("files", &self.files),
        ] {
            if lines.is_empty() {
                continue;
            }
            out.push_str(title);
            out.push_str(":\n");
            for line in lines {
                out.push_str("  ");
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }
}

pub fn check(files: &Files, out: &Path) -> Report {
    let mut report = Report::default();
    let previous = super::write::previously_generated(out);
    for (relative, bytes) in files {
        let shown = slash_path(relative);
        let target = out.join(relative);
        let user_owned = USER_OWNED.contains(&shown.as_str());
        match fs::read(&target) {
            Err(_) if user_owned => report
                .files
                .push(format!("+ {shown} (yours, created once)")),
            Err(_) => report.files.push(format!("+ {shown}")),
            Ok(_) if user_owned => {}
            Ok(current) if current != *bytes => report.files.push(format!("~ {shown}")),
            Ok(_) => {}
        }
    }
    let stale: BTreeSet<&PathBuf> = previous
        .iter()
        .filter(|p| !files.contains_key(*p) && out.join(p).is_file())
        .collect();
    report
        .files
        .extend(stale.iter().map(|p| format!("- {}", slash_path(p))));

    let old = read_tools(out);
    let new = files
        .get(Path::new(MANIFEST))
        .and_then(|b| Manifest::parse(b).ok())
        .map(|m| m.tools)
        .unwrap_or_default();
    compare_tools(&old, &new, &mut report);
    report
}

fn read_tools(dir: &Path) -> Map<String, Value> {
    Manifest::read(dir)
        .ok()
        .flatten()
        .map(|m| m.tools)
        .unwrap_or_default()
}

fn compare_tools(old: &Map<String, Value>, new: &Map<String, Value>, report: &mut Report) {
    let route = |v: &Value| {
        format!(
            "{} {}",
            v["method"].as_str().unwrap_or("?"),
            v["path"].as_str().unwrap_or("?")
        )
    };
    for (name, now) in new {
        match old.get(name) {
            None => {
                report
                    .tools
                    .push(format!("+ {name} ({}) {}", route(now), security(now)));
            }
            Some(before) => {
                if before["securitySchemes"] != now["securitySchemes"] {
                    report.security.push(format!(
                        "! {name}: {} -> {}",
                        security(before),
                        security(now)
                    ));
                }
                if before != now {
                    report.tools.push(format!("~ {name} ({})", route(now)));
                }
            }
        }
    }
    for (name, before) in old {
        if !new.contains_key(name) {
            report.tools.push(format!("- {name} ({})", route(before)));
        }
    }
}

/// `noauth`, `oauth2[a b]`, `noauth + oauth2[a]`.
fn security(tool: &Value) -> String {
    let schemes = tool["securitySchemes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let parts: Vec<String> = schemes
        .iter()
        .map(|s| match s["type"].as_str() {
            Some("oauth2") => {
                let scopes: Vec<&str> = s["scopes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                format!("oauth2[{}]", scopes.join(" "))
            }
            Some(other) => other.to_string(),
            None => "?".to_string(),
        })
        .collect();
    parts.join(" + ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(scopes: &[&str], sha: &str) -> Value {
        json!({"method": "GET", "path": "/p", "sha256": sha,
               "securitySchemes": [{"type": "oauth2", "scopes": scopes}]})
    }

    #[test]
    fn scope_changes_are_called_out_apart_from_other_changes() {
        let old = Map::from_iter([
            ("a".to_string(), tool(&["read"], "1")),
            ("gone".to_string(), tool(&[], "2")),
        ]);
        let new = Map::from_iter([
            ("a".to_string(), tool(&["read", "write"], "3")),
            ("added".to_string(), tool(&["x"], "4")),
        ]);
        let mut report = Report::default();
        compare_tools(&old, &new, &mut report);
        assert_eq!(report.security, ["! a: oauth2[read] -> oauth2[read write]"]);
        assert_eq!(
            report.tools,
            [
                "~ a (GET /p)",
                "+ added (GET /p) oauth2[x]",
                "- gone (GET /p)"
            ]
        );
    }
}
