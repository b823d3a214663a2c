//! The tool table and schemas of a generated project, read back from `src/tools.rs` and
//! `src/schemas.rs` in the fixed layout mcp-gen writes them: each `ToolSpec` of `TOOLS` with
//! its `name`, `input_schema: schemas::CONST` and `output: Some(Output { schema:
//! schemas::CONST, … })` lines, and one `pub const NAME: &str = r#"…"#;` line per schema.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

/// One tool and the consts of its schemas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tool {
    pub name: String,
    pub input: Option<String>,
    pub output: Option<String>,
}

#[derive(Debug, Default)]
pub struct Generated {
    pub tools: Vec<Tool>,
    /// Const name → schema text.
    pub consts: HashMap<String, String>,
}

impl Generated {
    pub fn read(out: &Path) -> Result<Self, String> {
        let read =
            |file: &str| fs::read_to_string(out.join(file)).map_err(|e| format!("{file}: {e}"));
        Ok(Generated {
            tools: tools(&read("src/tools.rs")?),
            consts: consts(&read("src/schemas.rs")?)?,
        })
    }

    pub fn schema(&self, name: &str) -> Option<&str> {
        self.consts.get(name).map(String::as_str)
    }
}

/// The tools of `static TOOLS`, in order.
fn tools(text: &str) -> Vec<Tool> {
    let mut tools: Vec<Tool> = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("static TOOLS: &[ToolSpec]") {
            inside = true;
            continue;
        }
        if !inside {
            continue;
        }
        if line == "];" {
            break;
        }
        let line = line.trim();
        if let Some(name) = line.strip_prefix("name: ") {
            tools.push(Tool {
                name: name.trim_end_matches(',').trim_matches('"').to_owned(),
                input: None,
                output: None,
            });
        } else if let Some(rest) = line.strip_prefix("input_schema: schemas::") {
            if let Some(tool) = tools.last_mut() {
                tool.input = Some(rest.trim_end_matches(',').to_owned());
            }
        } else if let Some(rest) = line.strip_prefix("output: Some(Output { schema: schemas::") {
            if let Some(tool) = tools.last_mut() {
                tool.output = rest.split(',').next().map(str::to_owned);
            }
        }
    }
    tools
}

/// Every `pub const NAME: &str = r#"…"#;` line.
fn consts(text: &str) -> Result<HashMap<String, String>, String> {
    let mut consts = HashMap::new();
    for (number, line) in text.lines().enumerate() {
        let Some(rest) = line.strip_prefix("pub const ") else {
            continue;
        };
        let bad = || format!("src/schemas.rs:{}: not a schema const", number + 1);
        let (name, literal) = rest.split_once(": &str = r").ok_or_else(bad)?;
        let hashes = literal.len() - literal.trim_start_matches('#').len();
        let fence = "#".repeat(hashes);
        let body = literal
            .strip_prefix(&format!("{fence}\""))
            .and_then(|b| b.strip_suffix(&format!("\"{fence};")))
            .ok_or_else(bad)?;
        consts.insert(name.to_owned(), body.to_owned());
    }
    Ok(consts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_mcp_gen_writes_is_read_back() {
        let tools_rs = r##"
static CATALOG_TOOLS: &[CatalogEntry] = &[
    CatalogEntry {
        name: "search_operations",
        input_schema: r#"{}"#,
    },
];

static TOOLS: &[ToolSpec] = &[
    ToolSpec {
        name: "get_pet",
        input_schema: schemas::GET_PET_INPUT,
        output: Some(Output { schema: schemas::GET_PET_OUTPUT, wrapped: false }),
    },
    ToolSpec {
        name: "put_pet",
        input_schema: schemas::GET_PET_INPUT,
        output: None,
    },
];
"##;
        assert_eq!(
            tools(tools_rs),
            vec![
                Tool {
                    name: "get_pet".into(),
                    input: Some("GET_PET_INPUT".into()),
                    output: Some("GET_PET_OUTPUT".into()),
                },
                Tool {
                    name: "put_pet".into(),
                    input: Some("GET_PET_INPUT".into()),
                    output: None,
                },
            ]
        );
        let schemas_rs = "//! doc\n\npub const A_INPUT: &str = r#\"{\"a\":1}\"#;\npub const B_OUTPUT: &str = r##\"{\"c\":\"#x\"}\"##;\n";
        let consts = consts(schemas_rs).unwrap();
        assert_eq!(consts["A_INPUT"], r#"{"a":1}"#);
        assert_eq!(consts["B_OUTPUT"], r##"{"c":"#x"}"##);
        assert!(super::consts("pub const X: &str = \"x\";\n").is_err());
    }
}
