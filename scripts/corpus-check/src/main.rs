//! Checks one generated corpus project against its spec (issue 4, ARCHITECTURE.md, Mapping);
//! scripts/corpus.sh runs it for every spec of fixtures/corpus/specs.tsv.
//!
//! ```text
//! corpus-check SPEC.json OUT_DIR          # prints `operations tools`; exit 1 with every problem
//! corpus-check spec-version SPEC.json     # prints the spec's `openapi` (or `swagger`) version
//! ```
//!
//! What is checked is listed in `project`; this file only reads the arguments and reports.

mod generated;
mod manifest;
mod parallel;
mod profiles;
mod project;
mod schema;
mod schema_files;
mod spec;
#[cfg(test)]
mod test_found;

use std::path::Path;
use std::process::ExitCode;

/// A broken project can have thousands of problems; the first ones tell what went wrong.
const MAX_LISTED: usize = 50;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [command, spec] if command == "spec-version" => match spec::read(Path::new(spec)) {
            Ok(spec) => {
                println!("{}", spec::version(&spec));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("corpus-check: {spec}: {e}");
                ExitCode::FAILURE
            }
        },
        [spec, out] if !spec.starts_with('-') => {
            match project::check(Path::new(spec), Path::new(out)) {
                Ok((operations, tools)) => {
                    println!("{operations} {tools}");
                    ExitCode::SUCCESS
                }
                Err(problems) => {
                    for problem in problems.iter().take(MAX_LISTED) {
                        eprintln!("corpus-check: {spec}: {problem}");
                    }
                    if problems.len() > MAX_LISTED {
                        eprintln!("corpus-check: … and {} more", problems.len() - MAX_LISTED);
                    }
                    ExitCode::FAILURE
                }
            }
        }
        _ => {
            eprintln!(
                "usage: corpus-check SPEC.json OUT_DIR\n       corpus-check spec-version SPEC.json"
            );
            ExitCode::from(2)
        }
    }
}
