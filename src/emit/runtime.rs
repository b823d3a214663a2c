//! The generated project's runtime: real Rust files under `templates/runtime/`, copied
//! verbatim (they are compiled and unit-tested in every generated project). `build.rs`
//! lists them.

pub const FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/runtime_files.rs"));
