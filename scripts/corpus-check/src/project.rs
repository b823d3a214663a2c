//! Every check of one generated project against its spec:
//!
//! - the tool count equals the operations kept, counted from the spec itself (`spec`);
//! - src/tools.rs has one `ToolSpec {` entry per tool of the manifest (mcp-gen.json); tool names
//!   are unique and match `^[a-z0-9_]{1,48}$` (`manifest`);
//! - one schemas/NAME.input.json per tool and every schemas/*.output.json pass the schema
//!   rules (`schema_files`, `schema`);
//! - what the project lists passes every client profile: name budgets for its server name,
//!   tool limits, schema rules (`profiles`).

use std::collections::BTreeSet;
use std::path::Path;

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
    problems.extend(schema_files::problems(&out.join("schemas"), &tools));
    problems.extend(profiles::problems(out, &names));

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

    /// A generated project on disk, removed when dropped.
    struct Project(PathBuf);

    impl Project {
        fn new(tag: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("corpus-check-{}-{tag}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(dir.join("src")).unwrap();
            fs::create_dir_all(dir.join("schemas")).unwrap();
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
            project.write("out/src/tools.rs", &"ToolSpec { .. },\n".repeat(3));
            for name in ["list_pets", "get_pet", "delete_pet"] {
                project.write(
                    &format!("out/schemas/{name}.input.json"),
                    r#"{"type": "object", "properties": {"id": {"type": "string"}}}"#,
                );
            }
            project.write("out/schemas/list_pets.output.json", r#"{"type": "object"}"#);
            project
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
        project.write("out/schemas/get_pet.input.json", r#"{"type": 5}"#);
        project.write(
            "out/schemas/delete_pet.input.json",
            r##"{"type": "object", "properties": {"id": {"$ref": "#/x"}}}"##,
        );
        project.write("out/schemas/list_pets.output.json", r#"{"type": "arrays"}"#);
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
        project.write("out/schemas/orphan.output.json", r#"{"type": 1}"#);
        let problems = project.check().unwrap_err();
        assert_has_all(
            &problems,
            &[
                "src/tools.rs has 3 tools, the manifest 4",
                "4 tools for 3 operations",
                "duplicate tool names: [\"delete_pet\"]",
                "bad tool name `Get-Pet`",
                "Get-Pet: no input schema file",
                "orphan: invalid output schema at /type: ",
            ],
        );
        // A renamed tool is not where the manifest says it is.
        let project = Project::new("moved");
        fs::rename(
            project.0.join("out/schemas/get_pet.input.json"),
            project.0.join("out/schemas/get_pets.input.json"),
        )
        .unwrap();
        assert_eq!(
            project.check(),
            Err(vec!["get_pet: no input schema file".to_owned()])
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
        project.write(
            "out/src/tools.rs",
            &format!(
                "{}default_mode: ToolMode::Catalog,\n",
                "ToolSpec { .. },\n".repeat(3)
            ),
        );
        project.write("out/schemas/list_pets.input.json", r#"{"allOf": [{}]}"#);
        let problems = project.check().unwrap_err();
        assert!(!has(&problems, "openai:"), "{problems:?}");
    }

    #[test]
    fn unreadable_files_are_problems() {
        let project = Project::new("unreadable");
        project.write("out/schemas/get_pet.input.json", "{");
        let problems = project.check().unwrap_err();
        assert!(
            has(&problems, "get_pet: input schema is not JSON: "),
            "{problems:?}"
        );
        fs::remove_file(project.0.join("out/mcp-gen.json")).unwrap();
        let problems = project.check().unwrap_err();
        assert!(has(&problems, "mcp-gen.json: "), "{problems:?}");
    }
}
