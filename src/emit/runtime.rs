//! The runtime crate (`runtime/` in this repository, `mcp-gen-runtime`), vendored into every
//! generated project as `mcp-gen-runtime/`: its files verbatim, listed by `build.rs`. It is
//! built, linted and tested as a member of this workspace.

/// Where the copy lives in a generated project.
pub const DIR: &str = "mcp-gen-runtime";

pub const FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/runtime_files.rs"));
