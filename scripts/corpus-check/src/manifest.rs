//! The generated project's list of tools: the names in its manifest (mcp-gen.json), the
//! `ToolSpec` table of src/tools.rs that must match it, and the rule tool names follow.

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::fs;
use std::path::Path;

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

const MAX_NAME_LEN: usize = 48;
/// Enough duplicates to see the pattern.
const MAX_DUPLICATES: usize = 10;

/// The tool names of the manifest, in file order and duplicates kept: `tools` is an object
/// keyed by name (or a list of names).
pub fn read_tool_names(path: &Path) -> Result<Vec<String>, String> {
    #[derive(Deserialize)]
    struct Manifest {
        tools: ToolNames,
    }
    let bytes = fs::read(path).map_err(|e| e.to_string())?;
    let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    Ok(manifest.tools.0)
}

/// A `serde_json::Map` would drop repeated keys, so the names are read one by one.
struct ToolNames(Vec<String>);

impl<'de> Deserialize<'de> for ToolNames {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Names;
        impl<'de> Visitor<'de> for Names {
            type Value = ToolNames;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object keyed by tool name, or a list of tool names")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ToolNames, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = map.next_key::<String>()? {
                    map.next_value::<IgnoredAny>()?;
                    names.push(name);
                }
                Ok(ToolNames(names))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ToolNames, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = seq.next_element::<String>()? {
                    names.push(name);
                }
                Ok(ToolNames(names))
            }
        }
        deserializer.deserialize_any(Names)
    }
}

/// src/tools.rs against the manifest's `tools` names. The manifest keys tools by name and
/// src/tools.rs has one entry per tool, so two tools with one name also show up as a
/// difference in count.
pub fn table_problem(out: &Path, tools: usize) -> Option<String> {
    match fs::read_to_string(out.join("src").join("tools.rs")) {
        Ok(text) => {
            let entries = text.matches("ToolSpec {").count();
            (entries != tools)
                .then(|| format!("src/tools.rs has {entries} tools, the manifest {tools}"))
        }
        Err(e) => Some(format!("src/tools.rs: {e}")),
    }
}

/// Names used twice, then names that break `^[a-z0-9_]{1,48}$`.
pub fn name_problems(names: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    let dupes: BTreeSet<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| !seen.insert(*n))
        .collect();
    if !dupes.is_empty() {
        let dupes: Vec<&str> = dupes.into_iter().take(MAX_DUPLICATES).collect();
        problems.push(format!("duplicate tool names: {dupes:?}"));
    }
    problems.extend(
        names
            .iter()
            .filter(|n| !valid_name(n))
            .map(|n| format!("bad tool name `{n}`")),
    );
    problems
}

/// `^[a-z0-9_]{1,48}$`
fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("list_pets_2"));
        assert!(valid_name(&"a".repeat(48)));
        assert!(!valid_name(&"a".repeat(49)));
        for bad in ["", "listPets", "list-pets", "list pets", "é", "a\n"] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }
}
