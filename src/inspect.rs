//! `mcp-gen inspect`: the mapping preview, one row per tool, as a table or JSON.

use serde::Serialize;
use serde_json::{json, Value};

use crate::budget::{self, EntrySize, Report, Size};
use crate::listing::Hints;
use crate::model::{Api, SchemaJson, SchemeKind, Tool};

/// The preview for machines. Beyond [`tool_json`], each tool has its `group` and the size of
/// its tools/list entry (`listing: {bytes, tokens}`), and `summary.listing` what a client
/// sees in each mode and the mode the budget picks (README, Fitting a client's context).
pub fn to_json(api: &Api, report: &Report) -> Value {
    let tools: Vec<Value> = api
        .tools
        .iter()
        .zip(&report.entries)
        .map(|(t, size)| {
            let mut tool = tool_json(t);
            // Beside tool_json, not in it: the manifest fingerprints tool_json.
            if let Value::Object(map) = &mut tool {
                map.insert("group".into(), t.group.clone().into());
                map.insert("listing".into(), entry_json(size));
            }
            tool
        })
        .collect();
    let mut summary = summary_json(api);
    if let Value::Object(map) = &mut summary {
        map.insert("listing".into(), listing_json(report));
        map.insert("search".into(), search_json(api));
        map.insert("profiles".into(), profiles_json(api, report));
    }
    json!({
        "api": {"title": api.title, "version": api.version, "upstream": api.default_upstream},
        "summary": summary,
        "tools": tools,
        "upstreamSchemes": api.upstream_schemes.iter().map(|s| {
            let kind = match &s.kind {
                SchemeKind::ApiKey { location, param, .. } => json!({"type": "apiKey", "in": location.as_str(), "name": param}),
                SchemeKind::Bearer { .. } => json!({"type": "http", "scheme": "bearer"}),
                SchemeKind::Basic { .. } => json!({"type": "http", "scheme": "basic"}),
                SchemeKind::ClientCredentials { token_url, scopes, .. } => json!({"type": "oauth2", "flow": "clientCredentials", "tokenUrl": token_url, "scopes": scopes}),
                SchemeKind::TokenExchange => json!({"type": "oauth2", "flow": "tokenExchange"}),
                SchemeKind::Passthrough => json!({"type": "oauth2", "flow": "passthrough"}),
            };
            json!({"name": s.name, "scheme": kind, "env": s.kind.env_vars()})
        }).collect::<Vec<_>>(),
        "warnings": api.warnings.iter().map(|w| json!({
            "class": w.class.name(),
            "at": w.at,
            "message": w.message,
        })).collect::<Vec<_>>(),
    })
}

fn summary_json(api: &Api) -> Value {
    json!({
        "operations": api.operations_read,
        "tools": api.tools.len(),
        "filtered": api.filtered,
        "dropped": dropped(api),
        "degraded": api.degraded,
        "warnings": api.warnings.len(),
        "defects": api.defects().count(),
    })
}

fn entry_json(size: &EntrySize) -> Value {
    json!({"bytes": size.bytes, "tokens": size.tokens})
}

fn listing_json(report: &Report) -> Value {
    let r = &report.resolution;
    let budget = &report.asked.budget;
    let size = |s: &Size| json!({"count": s.count, "bytes": s.bytes, "tokens": s.tokens, "fits": s.fits(budget)});
    json!({
        "mode": r.mode.name(),
        "toolMode": report.asked.mode.name(),
        "maxTools": budget.max_tools,
        "maxListTokens": budget.max_list_tokens,
        "toolsets": report.asked.toolsets,
        "tools": size(&r.tools),
        "catalog": size(&r.catalog),
    })
}

/// The clients targeted and the budgets they set for this server's name: the effective
/// ones, and each profile's own.
fn profiles_json(api: &Api, report: &Report) -> Value {
    let server = &api.server_name;
    let each: Vec<Value> = report
        .asked
        .profiles
        .profiles()
        .iter()
        .map(|p| {
            json!({
                "name": p.name(),
                "maxNameLen": p.name_budget(server),
                "maxTools": p.max_tools(),
                "forbids": p.forbids().iter().map(|f| f.keyword).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "targeted": report.asked.profiles.names(),
        "serverName": server,
        "maxNameLen": api.max_name_len,
        "maxTools": report.asked.budget.max_tools,
        "each": each,
    })
}

/// How well catalog mode's search finds operations: each operation's own summary (or its
/// description's first sentence) as the query, found among the first five or not.
fn search_json(api: &Api) -> Value {
    let (found, asked) = crate::emit::search_index::hit_rate(api, SEARCH_TOP);
    json!({"queries": asked, "foundInTop5": found, "rate": rate(found, asked)})
}

const SEARCH_TOP: usize = 5;

fn rate(found: usize, asked: usize) -> f64 {
    if asked == 0 {
        return 1.0;
    }
    // Three decimals: the rate is a figure for people, and the JSON stays byte-stable.
    (found as f64 * 1000.0 / asked as f64).round() / 1000.0
}

/// Operations left out for a reason other than the filters (each has a warning).
fn dropped(api: &Api) -> usize {
    api.operations_read
        .saturating_sub(api.tools.len())
        .saturating_sub(api.filtered)
}

/// The one-line summary printed after `inspect` and `generate`.
pub fn summary_line(api: &Api, elapsed: std::time::Duration) -> String {
    format!(
        "{} operations read, {} tools emitted, {} filtered, {} dropped, {} degraded; {} warnings ({} defects), in {:.2}s",
        api.operations_read,
        api.tools.len(),
        api.filtered,
        dropped(api),
        api.degraded,
        api.warnings.len(),
        api.defects().count(),
        elapsed.as_secs_f64()
    )
}

/// A tool as `inspect --format json` shows it (also what the manifest fingerprints).
pub fn tool_json(t: &Tool) -> Value {
    // Serializing cannot fail: every key is a string.
    serde_json::to_value(ToolJson::of(t)).unwrap_or_default()
}

/// [`tool_json`] as compact JSON, written straight from the tool: its schemas are copied as
/// the text they are, not parsed into a tree first.
pub fn tool_json_bytes(t: &Tool) -> Vec<u8> {
    serde_json::to_vec(&ToolJson::of(t)).unwrap_or_default()
}

/// The members of [`tool_json`], in their order. Optional ones are left out when absent, so
/// manifests of tools without them keep their fingerprints.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolJson<'a> {
    name: &'a str,
    title: Option<&'a str>,
    description: &'a str,
    method: &'a str,
    path: &'a str,
    security_schemes: Value,
    upstream_credentials: &'a [Vec<String>],
    annotations: Hints,
    input_schema: &'a SchemaJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    required_headers: Option<serde_json::Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    documents_redirects: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_schema: Option<&'a SchemaJson>,
    /// Replies travel as `{"result": …}`: they are not JSON objects.
    #[serde(skip_serializing_if = "Option::is_none")]
    output_wrapped: Option<bool>,
}

impl<'a> ToolJson<'a> {
    fn of(t: &'a Tool) -> Self {
        let headers = &t.http.required_headers;
        ToolJson {
            name: &t.name,
            title: t.title.as_deref(),
            description: &t.description,
            method: &t.http.method,
            path: &t.http.path,
            security_schemes: t.access.security_schemes(),
            upstream_credentials: &t.http.credentials,
            annotations: Hints::from(&t.annotations),
            input_schema: &t.input_schema,
            required_headers: (!headers.is_empty()).then(|| {
                headers
                    .iter()
                    .map(|(n, v)| (n.clone(), Value::String(v.clone())))
                    .collect()
            }),
            documents_redirects: t.http.documents_redirects.then_some(true),
            output_schema: t.output.as_ref().map(|o| &o.schema),
            output_wrapped: t.output.as_ref().and_then(|o| o.wrapped.then_some(true)),
        }
    }
}

/// A fixed-width table for people, then what a client sees in each mode.
pub fn to_table(api: &Api, report: &Report) -> String {
    const HEADER: [&str; 7] = [
        "TOOL",
        "METHOD",
        "PATH",
        "SECURITY",
        "UPSTREAM CREDENTIAL",
        "BYTES",
        "TOKENS",
    ];
    // The sizes, right-aligned so they compare at a glance.
    const NUMERIC: usize = 5;
    let rows: Vec<[String; 7]> = api
        .tools
        .iter()
        .zip(&report.entries)
        .map(|(t, size)| {
            let mut security = Vec::new();
            if t.access.anonymous {
                security.push("noauth".to_string());
            }
            if let Some(scopes) = &t.access.oauth2 {
                security.push(if scopes.is_empty() {
                    "oauth2".to_string()
                } else {
                    format!("oauth2({})", scopes.join(" "))
                });
            }
            let credentials = t
                .http
                .credentials
                .iter()
                .map(|s| s.join("+"))
                .collect::<Vec<_>>()
                .join(" | ");
            [
                t.name.clone(),
                t.http.method.clone(),
                t.http.path.clone(),
                security.join(", "),
                if credentials.is_empty() {
                    "-".into()
                } else {
                    credentials
                },
                budget::grouped(size.bytes),
                budget::grouped(size.tokens),
            ]
        })
        .collect();
    let mut widths = HEADER.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (c, w))| {
                if i >= NUMERIC {
                    format!("{c:>w$}")
                } else {
                    format!("{c:<w$}")
                }
            })
            .collect();
        out.push_str(padded.join("  ").trim_end());
        out.push('\n');
    };
    line(&HEADER.map(String::from));
    for row in &rows {
        line(row);
    }
    out.push('\n');
    out.push_str(&listing_lines(api, report));
    let (found, asked) = crate::emit::search_index::hit_rate(api, SEARCH_TOP);
    out.push_str(&format!(
        "search (catalog mode): an operation's own summary finds it in the top {SEARCH_TOP} for {} of {} ({:.1}%)\n",
        budget::grouped(found),
        budget::grouped(asked),
        rate(found, asked) * 100.0
    ));
    out
}

/// `profiles: …` with the budgets they set, `tools/list in tools mode: …`, `… in catalog mode: …`, and the mode the budget picks.
fn listing_lines(api: &Api, report: &Report) -> String {
    let r = &report.resolution;
    let budget = &report.asked.budget;
    let size = |s: &Size| {
        format!(
            "{} tools, {} bytes, {} tokens{}",
            budget::grouped(s.count),
            budget::grouped(s.bytes),
            s.tokens.map_or_else(|| "?".to_owned(), budget::grouped),
            if s.fits(budget) { "" } else { " (over budget)" }
        )
    };
    let toolsets = if report.asked.toolsets.is_empty() {
        String::new()
    } else {
        format!(" (toolsets {})", report.asked.toolsets.join(", "))
    };
    let targeted = report.asked.profiles.names();
    let profiles = if targeted.is_empty() {
        "none".to_owned()
    } else {
        targeted.join(", ")
    };
    format!(
        "profiles: {profiles} (server `{}`): tool names up to {} characters, up to {} tools\ntools/list in tools mode{toolsets}: {}\ntools/list in catalog mode: {}\nbudget: max_tools {}, max_list_tokens {}; tool_mode = \"{}\" lists in {} mode\n",
        api.server_name,
        api.max_name_len,
        budget::grouped(budget.max_tools),
        size(&r.tools),
        size(&r.catalog),
        budget::grouped(budget.max_tools),
        budget::grouped(budget.max_list_tokens),
        report.asked.mode.name(),
        r.mode.name(),
    )
}
