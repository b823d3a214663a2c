//! The schemas/ directory: one NAME.input.json per tool and every NAME.output.json, each read
//! and checked by `schema`. Generated projects repeat schemas a lot, so files with the same
//! content are checked once.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::{parallel, schema};

/// Every problem of the schema files of `tools` in `dir`, tool by tool, then those of output
/// schemas of no tool.
pub fn problems(dir: &Path, tools: &BTreeSet<&str>) -> Vec<String> {
    let files: HashSet<String> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .collect();
    let mut problems = Vec::new();
    let inputs = files.iter().filter(|f| f.ends_with(".input.json")).count();
    if inputs != tools.len() {
        problems.push(format!(
            "{inputs} input schema files for {} tools",
            tools.len()
        ));
    }
    let mut jobs: Vec<Job> = tools
        .iter()
        .map(|&name| Job {
            name: name.to_owned(),
            input: if files.contains(&format!("{name}.input.json")) {
                Input::Present
            } else {
                Input::Missing
            },
            output: files.contains(&format!("{name}.output.json")),
        })
        .collect();
    let mut strays: Vec<&str> = files
        .iter()
        .filter_map(|f| f.strip_suffix(".output.json"))
        .filter(|stem| !tools.contains(stem))
        .collect();
    strays.sort_unstable();
    jobs.extend(strays.into_iter().map(|stem| Job {
        name: stem.to_owned(),
        input: Input::NotATool,
        output: true,
    }));
    let cache = Cache::default();
    let found = parallel::map_in_order(&jobs, |job| job.run(dir, &cache));
    problems.extend(found.into_iter().flatten());
    problems
}

/// The files of one name.
struct Job {
    name: String,
    input: Input,
    output: bool,
}

enum Input {
    Present,
    Missing,
    NotATool,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Input,
    Output,
}

/// What was found in a file's content, each problem without the tool name it starts with
/// (so tools with the same schema share it).
type Found = Arc<Vec<String>>;
type Cache = Mutex<HashMap<(Kind, usize, u64), Found>>;

impl Job {
    fn run(&self, dir: &Path, cache: &Cache) -> Vec<String> {
        let name = &self.name;
        let mut rests = Vec::new();
        match self.input {
            Input::Present => rests.push(check_file(dir, name, Kind::Input, cache)),
            Input::Missing => rests.push(Arc::new(vec![": no input schema file".to_owned()])),
            Input::NotATool => {}
        }
        if self.output {
            rests.push(check_file(dir, name, Kind::Output, cache));
        }
        rests
            .iter()
            .flat_map(|found| found.iter())
            .map(|rest| format!("{name}{rest}"))
            .collect()
    }
}

/// Checks `dir/NAME.input.json` or `dir/NAME.output.json`, once per distinct content.
fn check_file(dir: &Path, name: &str, kind: Kind, cache: &Cache) -> Found {
    let (file, what) = match kind {
        Kind::Input => (format!("{name}.input.json"), "input"),
        Kind::Output => (format!("{name}.output.json"), "output"),
    };
    let bytes = match fs::read(dir.join(&file)) {
        Ok(bytes) => bytes,
        Err(e) => return Arc::new(vec![format!(": {file}: {e}")]),
    };
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    let key = (kind, bytes.len(), hasher.finish());
    if let Some(found) = cache.lock().expect("cache lock").get(&key) {
        return Arc::clone(found);
    }
    let found = Arc::new(match serde_json::from_slice::<Value>(&bytes) {
        Ok(schema) => match kind {
            Kind::Input => schema::input_problems(&schema),
            Kind::Output => schema::output_problems(&schema),
        },
        Err(e) => vec![format!(": {what} schema is not JSON: {e}")],
    });
    cache
        .lock()
        .expect("cache lock")
        .insert(key, Arc::clone(&found));
    found
}
