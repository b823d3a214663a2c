//! Client profiles: what the MCP clients a server is meant for accept of its `tools/list`
//! (README, Client profiles, has the sources). Each sets a tool-name budget (counting the
//! prefix the client puts before a tool's name), a tool-count budget, and the schema rules
//! its model API applies to a tool's input schema. The generator sizes names and the list
//! by the profiles targeted and makes input schemas conform (`schema_rules`); corpus-check
//! verifies generated projects against every profile with the same data.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub mod schema_rules;

/// Shortest tool-name budget the generator works with (as `max_name_len`).
pub const MIN_NAME_LEN: usize = 8;

/// A client a generated server is meant for.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    Openai,
    Claude,
    Cursor,
    Gemini,
    Vscode,
}

/// A schema keyword a client refuses, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forbidden {
    pub keyword: &'static str,
    /// Refused only at the root of the input schema (else anywhere in it).
    pub root_only: bool,
}

const fn anywhere(keyword: &'static str) -> Forbidden {
    Forbidden {
        keyword,
        root_only: false,
    }
}

const fn at_root(keyword: &'static str) -> Forbidden {
    Forbidden {
        keyword,
        root_only: true,
    }
}

/// OpenAI refuses these at the root of function parameters ("schema must have type
/// 'object' and not have 'oneOf'/'anyOf'/'allOf'/'enum'/'not' at the top level"), and
/// `allOf` anywhere in strict mode's subset (structured outputs, supported schemas).
const OPENAI_FORBIDS: &[Forbidden] = &[
    at_root("oneOf"),
    at_root("anyOf"),
    at_root("enum"),
    at_root("not"),
    anywhere("allOf"),
];

/// Gemini's function declarations take a subset of OpenAPI 3.0 schemas: no references
/// (google-gemini/gemini-cli#13326) and no conditionals (zendev-sh/goai#39).
const GEMINI_FORBIDS: &[Forbidden] = &[
    anywhere("$ref"),
    anywhere("$defs"),
    anywhere("definitions"),
    anywhere("if"),
    anywhere("then"),
    anywhere("else"),
];

impl Profile {
    pub const ALL: [Profile; 5] = [
        Profile::Openai,
        Profile::Claude,
        Profile::Cursor,
        Profile::Gemini,
        Profile::Vscode,
    ];

    /// As `mcp-gen.toml` and `--profile` spell it.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Openai => "openai",
            Profile::Claude => "claude",
            Profile::Cursor => "cursor",
            Profile::Gemini => "gemini",
            Profile::Vscode => "vscode",
        }
    }

    /// The longest tool name the client takes from a server registered as `server`, or
    /// `None` when the server name alone leaves no room.
    pub fn name_budget(self, server: &str) -> Option<usize> {
        match self {
            // Claude Code calls a tool `mcp__<server>__<tool>`, and the Anthropic API caps
            // tool names at 64.
            Profile::Claude => 64usize.checked_sub("mcp____".len() + server.len()),
            // Cursor refuses a server and tool name of 60 characters together or more
            // ("Combined server and tool name length (60) exceeds 60 characters").
            Profile::Cursor => 59usize.checked_sub(server.len()),
            // OpenAI and Gemini cap function names at 64; VS Code shortens its own
            // `mcp_<server>_` prefix to keep within the 64 of the models behind it.
            Profile::Openai | Profile::Gemini | Profile::Vscode => Some(64),
        }
    }

    /// How the budget is counted, for messages and `inspect`.
    pub fn name_rule(self) -> &'static str {
        match self {
            Profile::Claude => "64 - len(\"mcp____\") - len(server)",
            Profile::Cursor => "59 - len(server)",
            Profile::Openai | Profile::Gemini | Profile::Vscode => "64",
        }
    }

    /// Whether the client accepts `name` as a tool name (its pattern, not its length).
    pub fn name_pattern_ok(self, name: &str) -> bool {
        let alphabet = name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        let start = match self {
            // Gemini: "Must start with a letter or an underscore."
            Profile::Gemini => name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'),
            _ => true,
        };
        !name.is_empty() && alphabet && start
    }

    /// Most tools the client takes from a server, or `None` when it sets no limit.
    pub fn max_tools(self) -> Option<usize> {
        match self {
            // Chat Completions: "A max of 128 functions are supported".
            Profile::Openai => Some(128),
            // Claude Code defers MCP tools behind its tool search; the Anthropic API names
            // no tool count. The list's tokens (`max_list_tokens`) bound it instead.
            Profile::Claude => None,
            // Cursor uses at most 40 tools of all its MCP servers together.
            Profile::Cursor => Some(40),
            // Vertex AI: "Maximum 64 function declarations can be provided."
            Profile::Gemini => Some(64),
            // VS Code sends at most 128 tools with a chat request.
            Profile::Vscode => Some(128),
        }
    }

    /// The schema keywords the client refuses in an input schema.
    pub fn forbids(self) -> &'static [Forbidden] {
        match self {
            Profile::Openai => OPENAI_FORBIDS,
            Profile::Gemini => GEMINI_FORBIDS,
            Profile::Claude | Profile::Cursor | Profile::Vscode => &[],
        }
    }

    /// Whether the client needs an input schema's root to be `type: object` (all of them:
    /// MCP requires it, and OpenAI and Anthropic refuse anything else).
    pub fn needs_object_root(self) -> bool {
        true
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The profiles a server is meant for, sorted and without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Targets(Vec<Profile>);

impl Default for Targets {
    /// Every profile: a generated server works in every major client unless told otherwise.
    fn default() -> Self {
        Targets(Profile::ALL.to_vec())
    }
}

impl Targets {
    pub fn new(profiles: &[Profile]) -> Self {
        let mut list = profiles.to_vec();
        list.sort();
        list.dedup();
        Targets(list)
    }

    pub fn none() -> Self {
        Targets(Vec::new())
    }

    pub fn profiles(&self) -> &[Profile] {
        &self.0
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|p| p.name()).collect()
    }

    /// The tool-name budget for a server named `server`: `asked` (`max_name_len`) when
    /// given, else the smaller of `default` and the targeted profiles' budgets. An asked
    /// length over a profile's budget, or a server name that leaves a profile fewer than
    /// [`MIN_NAME_LEN`] characters, is a usage error naming the profile.
    pub fn name_budget(&self, server: &str, asked: Option<usize>, default: usize) -> Result<usize> {
        let mut budget = asked.unwrap_or(default);
        for &p in &self.0 {
            let limit = p.name_budget(server).unwrap_or(0);
            if limit < MIN_NAME_LEN {
                return Err(Error::Usage(format!(
                    "profile {p}: the server name `{server}` ({} characters) leaves tool names {limit} characters ({}), fewer than {MIN_NAME_LEN}; shorten --name (name), or leave {p} out of --profile (profiles)",
                    server.len(),
                    p.name_rule()
                )));
            }
            match asked {
                Some(n) if n > limit => {
                    return Err(Error::Usage(format!(
                        "--max-name-len (max_name_len): {n} is over profile {p}'s budget of {limit} ({}, server `{server}`); lower it, shorten --name (name), or leave {p} out of --profile (profiles)",
                        p.name_rule()
                    )))
                }
                _ => budget = budget.min(limit),
            }
        }
        Ok(budget)
    }

    /// The tool-count budget: `asked` (`max_tools`) when given, else the smallest limit of
    /// the targeted profiles, else `default`. An asked count over a profile's limit is a
    /// usage error naming the profile.
    pub fn max_tools(&self, asked: Option<usize>, default: usize) -> Result<usize> {
        let limits = self.0.iter().filter_map(|&p| Some((p, p.max_tools()?)));
        if let Some(n) = asked {
            if let Some((p, limit)) = limits.clone().find(|&(_, limit)| n > limit) {
                return Err(Error::Usage(format!(
                    "--max-tools (max_tools): {n} is over profile {p}'s limit of {limit} tools; lower it, or leave {p} out of --profile (profiles)"
                )));
            }
            return Ok(n);
        }
        Ok(limits.map(|(_, limit)| limit).min().unwrap_or(default))
    }

    /// Every keyword some targeted profile refuses, with the first profile refusing it.
    pub fn forbidden(&self) -> Vec<(Profile, Forbidden)> {
        let mut out: Vec<(Profile, Forbidden)> = Vec::new();
        for &p in &self.0 {
            for f in p.forbids() {
                if !out.iter().any(|(_, g)| g == f) {
                    out.push((p, *f));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_budgets_count_each_clients_prefix() {
        let server = "swagger-petstore-mcp"; // 20 characters
        assert_eq!(Profile::Claude.name_budget(server), Some(37));
        assert_eq!(Profile::Cursor.name_budget(server), Some(39));
        for p in [Profile::Openai, Profile::Gemini, Profile::Vscode] {
            assert_eq!(p.name_budget(server), Some(64));
        }
        assert_eq!(Profile::Cursor.name_budget(&"x".repeat(60)), None);
        assert_eq!(Profile::Claude.name_budget(&"x".repeat(57)), Some(0));
    }

    #[test]
    fn name_patterns() {
        assert!(Profile::Openai.name_pattern_ok("list-pets_2"));
        assert!(!Profile::Openai.name_pattern_ok("list.pets"));
        assert!(!Profile::Claude.name_pattern_ok(""));
        assert!(Profile::Claude.name_pattern_ok("2fa_enable"));
        assert!(!Profile::Gemini.name_pattern_ok("2fa_enable"));
        assert!(Profile::Gemini.name_pattern_ok("_2fa_enable"));
    }

    #[test]
    fn tool_limits() {
        assert_eq!(Profile::Openai.max_tools(), Some(128));
        assert_eq!(Profile::Claude.max_tools(), None);
        assert_eq!(Profile::Cursor.max_tools(), Some(40));
        assert_eq!(Profile::Gemini.max_tools(), Some(64));
        assert_eq!(Profile::Vscode.max_tools(), Some(128));
    }

    #[test]
    fn the_effective_name_budget_is_the_smallest_and_asked_lengths_are_checked() {
        let all = Targets::default();
        assert_eq!(
            all.name_budget("swagger-petstore-mcp", None, 48).unwrap(),
            37
        );
        assert_eq!(all.name_budget("x", None, 48).unwrap(), 48);
        assert_eq!(all.name_budget("x", Some(56), 48).unwrap(), 56);
        let e = all
            .name_budget("swagger-petstore-mcp", Some(40), 48)
            .unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string().contains("over profile claude's budget of 37"),
            "{e}"
        );
        let e = all.name_budget(&"a".repeat(52), None, 48).unwrap_err();
        assert!(e.to_string().contains("shorten --name"), "{e}");
        assert_eq!(
            Targets::none()
                .name_budget(&"a".repeat(64), None, 48)
                .unwrap(),
            48
        );
        let openai = Targets::new(&[Profile::Openai]);
        assert_eq!(
            openai.name_budget(&"a".repeat(64), Some(64), 48).unwrap(),
            64
        );
    }

    #[test]
    fn the_effective_tool_budget_is_the_smallest_limit() {
        assert_eq!(Targets::default().max_tools(None, 40).unwrap(), 40);
        let wide = Targets::new(&[Profile::Openai, Profile::Vscode]);
        assert_eq!(wide.max_tools(None, 40).unwrap(), 128);
        assert_eq!(
            Targets::new(&[Profile::Claude])
                .max_tools(None, 40)
                .unwrap(),
            40
        );
        assert_eq!(
            Targets::new(&[Profile::Gemini, Profile::Openai])
                .max_tools(None, 40)
                .unwrap(),
            64
        );
        let e = Targets::default().max_tools(Some(128), 40).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string().contains("over profile cursor's limit of 40"),
            "{e}"
        );
        assert_eq!(wide.max_tools(Some(100), 40).unwrap(), 100);
    }

    #[test]
    fn targets_are_sorted_and_forbidden_keywords_unique() {
        let t = Targets::new(&[Profile::Gemini, Profile::Openai, Profile::Gemini]);
        assert_eq!(t.names(), ["openai", "gemini"]);
        let keywords: Vec<&str> = t.forbidden().iter().map(|(_, f)| f.keyword).collect();
        assert!(keywords.contains(&"allOf") && keywords.contains(&"$ref"));
        assert!(Targets::new(&[Profile::Claude]).forbidden().is_empty());
    }
}
