//! Lists the files of the runtime crate (`runtime/`: its `Cargo.toml` and every `.rs` under
//! `src/`) so the generator embeds and vendors every one of them (sorted, so the embedded
//! table is deterministic) without a hand-kept list.

use std::fs;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn main() {
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let runtime = root.join("runtime");
    println!("cargo:rerun-if-changed={}", runtime.display());
    let mut files = vec![runtime.join("Cargo.toml")];
    collect(&runtime.join("src"), &mut files);
    files.sort();
    let mut table = String::from("&[\n");
    for file in &files {
        let relative = file
            .strip_prefix(&runtime)
            .expect("collected below the runtime dir");
        println!("cargo:rerun-if-changed={}", file.display());
        table.push_str(&format!(
            "    ({:?}, include_str!({:?})),\n",
            relative.to_string_lossy(),
            file.display().to_string()
        ));
    }
    table.push(']');
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("runtime_files.rs");
    fs::write(out, table).expect("OUT_DIR is writable");
}
