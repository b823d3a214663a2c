//! The project against every client profile (mcp-gen's `profile`): what it lists in the mode
//! it lists in (src/tools.rs `default_mode`) — each tool name within each profile's budget
//! for the server's name and its pattern, the tool count within each profile's limit, and
//! each listed input schema within each profile's schema rules.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use mcp_gen::listing::CatalogTool;
use mcp_gen::profile::{schema_rules, Profile};
use serde_json::Value;

use crate::generated::Generated;

/// One tool as a client sees it in tools/list.
pub struct Listed {
    pub name: String,
    pub input_schema: Value,
}

/// Every profile's problems with the project in `out`, whose manifest names `names`.
pub fn problems(out: &Path, names: &[String], generated: &Generated) -> Vec<String> {
    let server = match server_name(&out.join("mcp-gen.json")) {
        Ok(name) => name,
        Err(e) => return vec![format!("mcp-gen.json: {e}")],
    };
    let catalog = match fs::read_to_string(out.join("src").join("tools.rs")) {
        Ok(text) => text.contains("default_mode: ToolMode::Catalog"),
        Err(e) => return vec![format!("src/tools.rs: {e}")],
    };
    let listed = if catalog {
        CatalogTool::ALL
            .iter()
            .map(|c| Listed {
                name: c.name().to_owned(),
                input_schema: c.input_schema(),
            })
            .collect()
    } else {
        let inputs: HashMap<&str, &str> = generated
            .tools
            .iter()
            .filter_map(|t| Some((t.name.as_str(), generated.schema(t.input.as_deref()?)?)))
            .collect();
        let mut listed = Vec::new();
        for name in names {
            // schema_files reports a missing or broken schema.
            let Some(Ok(input_schema)) = inputs
                .get(name.as_str())
                .map(|text| serde_json::from_str::<Value>(text))
            else {
                continue;
            };
            listed.push(Listed {
                name: name.clone(),
                input_schema,
            });
        }
        listed
    };
    check(&server, &listed)
}

/// The server name the manifest records (`options.name`).
fn server_name(path: &Path) -> Result<String, String> {
    let bytes = fs::read(path).map_err(|e| e.to_string())?;
    let manifest: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    manifest["options"]["name"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "no `options.name`".to_owned())
}

/// What each profile refuses of `listed`, for a server registered as `server`.
pub fn check(server: &str, listed: &[Listed]) -> Vec<String> {
    let mut problems = Vec::new();
    for profile in Profile::ALL {
        let budget = profile.name_budget(server).unwrap_or(0);
        for tool in listed {
            if tool.name.len() > budget || !profile.name_pattern_ok(&tool.name) {
                problems.push(format!(
                    "{profile}: tool name `{}` ({} characters) is not a name it takes from server `{server}` (at most {budget}: {})",
                    tool.name,
                    tool.name.len(),
                    profile.name_rule()
                ));
            }
            problems.extend(
                schema_rules::problems(&tool.input_schema, profile)
                    .into_iter()
                    .map(|p| format!("tool `{}`: {p}", tool.name)),
            );
        }
        if let Some(limit) = profile.max_tools().filter(|&l| listed.len() > l) {
            problems.push(format!(
                "{profile}: {} tools listed, over its limit of {limit}",
                listed.len()
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_found::{assert_has_all, has};
    use serde_json::json;

    fn tool(name: &str, input_schema: Value) -> Listed {
        Listed {
            name: name.to_owned(),
            input_schema,
        }
    }

    fn object() -> Value {
        json!({"type": "object", "properties": {}})
    }

    #[test]
    fn names_within_every_budget_pass() {
        assert!(check("corpus-x", &[tool("list_pets", object())]).is_empty());
    }

    #[test]
    fn a_name_over_claudes_budget_for_the_server_is_found() {
        // corpus-0123456789: Claude leaves 64 - 7 - 17 = 40, Cursor 59 - 17 = 42.
        let name = "a".repeat(41);
        let found = check("corpus-0123456789", &[tool(&name, object())]);
        assert!(has(&found, "claude: tool name"), "{found:?}");
        assert!(!has(&found, "cursor:"), "{found:?}");
    }

    #[test]
    fn patterns_counts_and_schema_rules_are_found() {
        let many: Vec<Listed> = (0..41).map(|i| tool(&format!("t{i}"), object())).collect();
        let found = check("s", &many);
        assert_has_all(&found, &["cursor: 41 tools listed, over its limit of 40"]);
        assert!(!has(&found, "openai:"), "{found:?}");

        let found = check(
            "s",
            &[
                tool("9lives", object()),
                tool(
                    "x",
                    json!({"type": "object", "properties": {"a": {"allOf": [{}]}, "b": {"$ref": "#/x"}}}),
                ),
            ],
        );
        assert_has_all(
            &found,
            &[
                "gemini: tool name `9lives`",
                "tool `x`: openai: `allOf` at `/properties/a`",
                "tool `x`: gemini: `$ref` at `/properties/b`",
            ],
        );
    }

    #[test]
    fn the_catalog_tools_pass_every_profile() {
        let listed: Vec<Listed> = CatalogTool::ALL
            .iter()
            .map(|c| tool(c.name(), c.input_schema()))
            .collect();
        assert!(check("corpus-github-rest-api", &listed).is_empty());
    }
}
