//! The schemas of `src/schemas.rs`: every tool of the manifest has an input schema const, and
//! every const a tool names (input and output) passes the schema rules of `schema`. Generated
//! projects share one const among the tools with the same schema, so each is checked once
//! per kind.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::generated::Generated;
use crate::{parallel, schema};

/// Every problem of the schemas of `tools` (the manifest's), tool by tool, then the consts no
/// tool names.
pub fn problems(generated: &Generated, tools: &BTreeSet<&str>) -> Vec<String> {
    let mut problems = Vec::new();
    let by_name: HashMap<&str, &crate::generated::Tool> = generated
        .tools
        .iter()
        .map(|t| (t.name.as_str(), t))
        .collect();
    let jobs: Vec<Job> = tools
        .iter()
        .map(|&name| Job {
            name: name.to_owned(),
            input: by_name.get(name).and_then(|t| t.input.clone()),
            output: by_name.get(name).and_then(|t| t.output.clone()),
        })
        .collect();
    let cache = Cache::default();
    let found = parallel::map_in_order(&jobs, |job| job.run(generated, &cache));
    problems.extend(found.into_iter().flatten());
    let named: BTreeSet<&str> = generated
        .tools
        .iter()
        .flat_map(|t| [t.input.as_deref(), t.output.as_deref()])
        .flatten()
        .collect();
    let mut unused: Vec<&String> = generated
        .consts
        .keys()
        .filter(|c| !named.contains(c.as_str()))
        .collect();
    unused.sort_unstable();
    problems.extend(
        unused
            .into_iter()
            .map(|c| format!("src/schemas.rs: {c} is no tool's schema")),
    );
    problems
}

/// The schemas of one tool.
struct Job {
    name: String,
    input: Option<String>,
    output: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Input,
    Output,
}

/// What was found in a schema, each problem without the tool name it starts with (so tools
/// with the same schema share it).
type Found = Arc<Vec<String>>;
type Cache = Mutex<HashMap<(Kind, String), Found>>;

impl Job {
    fn run(&self, generated: &Generated, cache: &Cache) -> Vec<String> {
        let name = &self.name;
        let mut rests = Vec::new();
        match &self.input {
            Some(c) => rests.push(check_const(generated, c, Kind::Input, cache)),
            None => rests.push(Arc::new(vec![": no input schema".to_owned()])),
        }
        if let Some(c) = &self.output {
            rests.push(check_const(generated, c, Kind::Output, cache));
        }
        rests
            .iter()
            .flat_map(|found| found.iter())
            .map(|rest| format!("{name}{rest}"))
            .collect()
    }
}

/// Checks the schema of const `name`, once per const and kind.
fn check_const(generated: &Generated, name: &str, kind: Kind, cache: &Cache) -> Found {
    let what = match kind {
        Kind::Input => "input",
        Kind::Output => "output",
    };
    let key = (kind, name.to_owned());
    if let Some(found) = cache.lock().expect("cache lock").get(&key) {
        return Arc::clone(found);
    }
    let found = Arc::new(match generated.schema(name) {
        None => vec![format!(": {what} schema {name} is not in src/schemas.rs")],
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(schema) => match kind {
                Kind::Input => schema::input_problems(&schema),
                Kind::Output => schema::output_problems(&schema),
            },
            Err(e) => vec![format!(": {what} schema is not JSON: {e}")],
        },
    });
    cache
        .lock()
        .expect("cache lock")
        .insert(key, Arc::clone(&found));
    found
}
