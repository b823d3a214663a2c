//! Every check of one generated project against its spec:
//!
//! - the tool count equals the operations kept, counted from the spec itself (`spec`);
//! - src/tools.rs has one `ToolSpec {` entry per tool of the manifest (mcp-gen.json); tool names
//!   are unique and match `^[a-z0-9_]{1,48}$` (`manifest`);
//! - every tool's input schema and every output schema in src/schemas.rs pass the schema
//!   rules (`generated`, `schema_files`, `schema`);
//! - what the project lists passes every client profile: name budgets for its server name,
//!   tool limits, schema rules (`profiles`).

use std::collections::BTreeSet;
use std::path::Path;

use crate::generated::Generated;
use crate::{manifest, profiles, schema_files, spec};

/// `(operations, tools)`, or every problem found.
pub fn check(spec_path: &Path, out: &Path) -> Result<(usize, usize), Vec<String>> {
    let spec = spec::read(spec_path).map_err(|e| vec![format!("the spec: {e}")])?;
    let names = manifest::read_tool_names(&out.join("mcp-gen.json"))
        .map_err(|e| vec![format!("mcp-gen.json: {e}")])?;
    let mut problems = Vec::new();
    problems.extend(manifest::table_problem(out, names.len()));
    let expected = match spec::operations_kept(&spec) {
        Ok(count) => {
            if names.len() != count {
                problems.push(format!("{} tools for {count} operations", names.len()));
            }
            count
        }
        Err(e) => {
            problems.push(e);
            0
        }
    };
    problems.extend(manifest::name_problems(&names));
    let tools: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    match Generated::read(out) {
        Ok(generated) => {
            problems.extend(schema_files::problems(&generated, &tools));
            problems.extend(profiles::problems(out, &names, &generated));
        }
        Err(e) => problems.push(e),
    }

    if problems.is_empty() {
        Ok((expected, names.len()))
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_found::{assert_has_all, has};
    use serde_json::json;
    use std::fs;
    use std::path::PathBuf;

    const OBJECT: &str = r#"{"type": "object", "properties": {"id": {"type": "string"}}}"#;

    /// A generated project on disk, removed when dropped.
    struct Project(PathBuf);

    /// A tool of the table: name, input schema, output schema (each its own const).
    type Row<'a> = (&'a str, Option<&'a str>, Option<&'a str>);

    impl Project {
        fn new(tag: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("corpus-check-{}-{tag}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(dir.join("out/src")).unwrap();
            let project = Project(dir);
            project.write(
                "spec.json",
                &json!({
                    "openapi": "3.1.0",
                    "paths": {
                        "/pets": {"get": {}, "post": {"x-mcp": false}},
                        "/pets/{id}": {"$ref": "#/components/pathItems/pet"}
                    },
                    "components": {"pathItems": {"pet": {"get": {}, "delete": {}}}}
                })
                .to_string(),
            );
            project.write(
                "out/mcp-gen.json",
                r#"{"options": {"name": "corpus-pets"}, "tools": {"list_pets": {}, "get_pet": {}, "delete_pet": {}}}"#,
            );
            project.table(
                &[
                    ("list_pets", Some(OBJECT), Some(r#"{"type": "object"}"#)),
                    ("get_pet", Some(OBJECT), None),
                    ("delete_pet", Some(OBJECT), None),
                ],
                "",
            );
            project
        }

        /// Writes src/tools.rs and src/schemas.rs in mcp-gen's layout; `extra` goes into the
        /// catalog's fields.
        fn table(&self, rows: &[Row], extra: &str) {
            let mut tools = format!("pub static CATALOG: Catalog = Catalog {{\n{extra}}};\n\nstatic TOOLS: &[ToolSpec] = &[\n");
            let mut schemas = String::from("//! schemas\n\n");
            for (name, input, output) in rows {
                let upper = name.to_ascii_uppercase();
                tools.push_str(&format!("    ToolSpec {{\n        name: \"{name}\",\n"));
                if let Some(text) = input {
                    tools.push_str(&format!("        input_schema: schemas::{upper}_INPUT,\n"));
                    schemas.push_str(&format!("pub const {upper}_INPUT: &str = r#\"{text}\"#;\n"));
                }
                if let Some(text) = output {
                    tools.push_str(&format!(
                        "        output: Some(Output {{ schema: schemas::{upper}_OUTPUT, wrapped: false }}),\n"
                    ));
                    schemas.push_str(&format!(
                        "pub const {upper}_OUTPUT: &str = r#\"{text}\"#;\n"
                    ));
                }
                tools.push_str("    },\n");
            }
            tools.push_str("];\n");
            self.write("out/src/tools.rs", &tools);
            self.write("out/src/schemas.rs", &schemas);
        }

        fn write(&self, rel: &str, text: &str) {
            let path = self.0.join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }

        fn check(&self) -> Result<(usize, usize), Vec<String>> {
            check(&self.0.join("spec.json"), &self.0.join("out"))
        }
    }

    impl Drop for Project {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn a_sound_project_passes() {
        assert_eq!(Project::new("sound").check(), Ok((3, 3)));
    }

    #[test]
    fn a_corrupted_project_fails_with_every_problem() {
        let project = Project::new("corrupted");
        project.table(
            &[
                ("list_pets", Some(OBJECT), Some(r#"{"type": "arrays"}"#)),
                ("get_pet", Some(r#"{"type": 5}"#), None),
                (
                    "delete_pet",
                    Some(r##"{"type": "object", "properties": {"id": {"$ref": "#/x"}}}"##),
                    None,
                ),
            ],
            "",
        );
        let problems = project.check().unwrap_err();
        assert_has_all(
            &problems,
            &[
                "get_pet: invalid 2020-12 schema at /type: ",
                "get_pet: root is not {\"type\": \"object\"}",
                "delete_pet/properties/id: `$ref` left in the schema",
                "list_pets: invalid output schema at /type: ",
            ],
        );
    }

    #[test]
    fn tool_names_and_counts_are_checked() {
        let project = Project::new("renamed");
        project.write(
            "out/mcp-gen.json",
            r#"{"tools": {"list_pets": {}, "Get-Pet": {}, "delete_pet": {}, "delete_pet": {}}}"#,
        );
        let mut schemas = fs::read_to_string(project.0.join("out/src/schemas.rs")).unwrap();
        schemas.push_str("pub const ORPHAN_OUTPUT: &str = r#\"{\"type\": 1}\"#;\n");
        project.write("out/src/schemas.rs", &schemas);
        let problems = project.check().unwrap_err();
        assert_has_all(
            &problems,
            &[
                "src/tools.rs has 3 tools, the manifest 4",
                "4 tools for 3 operations",
                "duplicate tool names: [\"delete_pet\"]",
                "bad tool name `Get-Pet`",
                "Get-Pet: no input schema",
                "src/schemas.rs: ORPHAN_OUTPUT is no tool's schema",
            ],
        );
        // A renamed tool is not where the manifest says it is.
        let project = Project::new("moved");
        project.table(
            &[
                ("list_pets", Some(OBJECT), Some(r#"{"type": "object"}"#)),
                ("get_pets", Some(OBJECT), None),
                ("delete_pet", Some(OBJECT), None),
            ],
            "",
        );
        assert_eq!(
            project.check(),
            Err(vec!["get_pet: no input schema".to_owned()])
        );
    }

    #[test]
    fn every_profile_is_checked_in_the_mode_listed() {
        // A 50-character server name leaves Claude 7 characters: `list_pets` is 9.
        let project = Project::new("profiles");
        let long = format!(
            r#"{{"options": {{"name": "{}"}}, "tools": {{"list_pets": {{}}, "get_pet": {{}}, "delete_pet": {{}}}}}}"#,
            "s".repeat(50)
        );
        project.write("out/mcp-gen.json", &long);
        let problems = project.check().unwrap_err();
        assert_has_all(
            &problems,
            &[
                "claude: tool name `list_pets` (9 characters)",
                "cursor: tool name `delete_pet` (10 characters)",
            ],
        );
        // In catalog mode the three catalog tools are what is listed, and they fit.
        let project = Project::new("catalog");
        project.table(
            &[
                ("list_pets", Some(r#"{"allOf": [{}]}"#), None),
                ("get_pet", Some(OBJECT), None),
                ("delete_pet", Some(OBJECT), None),
            ],
            "    default_mode: ToolMode::Catalog,\n",
        );
        let problems = project.check().unwrap_err();
        assert!(!has(&problems, "openai:"), "{problems:?}");
    }

    #[test]
    fn unreadable_files_are_problems() {
        let project = Project::new("unreadable");
        project.table(
            &[
                ("list_pets", Some(OBJECT), None),
                ("get_pet", Some("{"), None),
                ("delete_pet", Some(OBJECT), None),
            ],
            "",
        );
        let problems = project.check().unwrap_err();
        assert!(
            has(&problems, "get_pet: input schema is not JSON: "),
            "{problems:?}"
        );
        fs::remove_file(project.0.join("out/src/schemas.rs")).unwrap();
        let problems = project.check().unwrap_err();
        assert!(has(&problems, "src/schemas.rs: "), "{problems:?}");
        fs::remove_file(project.0.join("out/mcp-gen.json")).unwrap();
        let problems = project.check().unwrap_err();
        assert!(has(&problems, "mcp-gen.json: "), "{problems:?}");
    }
}
