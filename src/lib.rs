//! mcp-gen: an OpenAPI document in, an authenticated Rust MCP server out.
//!
//! The pipeline runs one way: [`load`] → [`normalize`] → [`model`] → [`budget`] → [`emit`].

pub mod budget;
pub mod cli;
pub mod config;
mod digest;
pub mod emit;
pub mod error;
pub mod inspect;
mod json;
pub mod listing;
pub mod load;
pub mod model;
pub mod normalize;
mod openapi;
mod parallel;
mod pointer;
pub mod profile;
mod tokens;
pub mod warning;

pub use error::{Error, Result};
pub use warning::Warning;

/// Load, normalize and map a document: everything but writing.
pub fn read_api(source: &str, options: &model::Options) -> Result<(load::Loaded, model::Api)> {
    let mut loaded = load::load(source)?;
    let source = normalize::Source {
        origin: &loaded.origin,
        allow_remote_refs: options.allow_remote_refs,
    };
    let (mut doc, pending) =
        normalize::normalize_deferred(std::mem::take(&mut loaded.value), &source)?;
    let api = match pending {
        None => model::build(&doc, options)?,
        Some(pending) => {
            // The structure check runs beside the model stage. It almost never finds a broken
            // operation; when it does, the model is built again without it, so names and
            // warnings are what a check run first would have given.
            let (broken, api) = std::thread::scope(|scope| {
                let check = scope.spawn(|| pending.check(&doc.root));
                let api = model::build(&doc, options);
                let broken = check.join().unwrap_or_else(|_| {
                    Err(Error::spec("/", "the document could not be validated"))
                });
                (broken, api)
            });
            let broken = broken?;
            if broken.is_empty() {
                api?
            } else {
                pending.apply(&mut doc, broken)?;
                model::build(&doc, options)?
            }
        }
    };
    drop_apart(doc);
    if options.strict {
        refuse_defects(
            &api,
            "--strict makes these errors; without it they are warnings, and the operations they are in are degraded or left out",
        )?;
    }
    let nothing_left = api.tools.is_empty()
        && api
            .warnings
            .iter()
            .any(|w| w.class == warning::Class::OperationDropped);
    if nothing_left {
        refuse_defects(
            &api,
            "no operation could be mapped: there is no server to generate",
        )?;
    }
    Ok((loaded, api))
}

/// Drops `value` on a thread of its own. Freeing the document tree (GitHub's is about
/// 100 MB of small maps) took 10 ms on the way to rendering, which need not wait for it.
fn drop_apart<T: Send + 'static>(value: T) {
    // When no thread can be started, the closure, and the value with it, is dropped here.
    let _ = std::thread::Builder::new().spawn(move || drop(value));
}

/// The document's defects as one error at the first of them, listing the rest, and `why`.
fn refuse_defects(api: &model::Api, why: &str) -> Result<()> {
    const LISTED: usize = 50;
    let defects: Vec<&Warning> = api.defects().collect();
    let Some(first) = defects.first() else {
        return Ok(());
    };
    let mut message = format!("{} [{}]", first.message, first.class);
    if defects.len() > 1 {
        message.push_str(&format!("\n  and {} more defect(s):", defects.len() - 1));
        for w in defects.iter().skip(1).take(LISTED) {
            message.push_str(&format!("\n    {w}"));
        }
        if defects.len() > LISTED + 1 {
            message.push_str("\n    …");
        }
    }
    message.push_str("\n  ");
    message.push_str(why);
    Err(Error::spec(first.at.clone(), message))
}

/// The untrusted-input stages on raw bytes, for the fuzz targets and their regression
/// tests: load → normalize → model. Errors are expected; a panic or hang is a bug. The
/// document is treated as stdin, so relative `$ref`s resolve against the working directory.
#[doc(hidden)]
pub fn check_untrusted(bytes: &[u8]) {
    let Ok(value) = load::parse("fuzz", bytes) else {
        return;
    };
    let Ok(doc) = normalize::normalize(value) else {
        return;
    };
    let _ = model::build(&doc, &model::Options::default());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The structure check runs beside the model stage; a broken operation it finds is still
    /// left out before names are given, so the result is what checking first gives.
    #[test]
    fn a_broken_operation_is_left_out_as_if_the_check_ran_first() {
        let doc = serde_json::json!({
            "openapi": "3.0.3",
            "info": {"title": "Things", "version": "1"},
            "paths": {
                "/broken": {"get": {"operationId": "getThing", "parameters": [{"name": "x"}],
                                    "responses": {"200": {"description": "ok"}}}},
                "/thing": {"get": {"operationId": "getThing",
                                   "responses": {"200": {"description": "ok"}}}}
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spec.json");
        std::fs::write(&path, doc.to_string()).unwrap();
        let options = model::Options::default();
        let (_, api) = read_api(path.to_str().unwrap(), &options).unwrap();
        let checked_first = model::build(&normalize::normalize(doc).unwrap(), &options).unwrap();
        assert_eq!(api, checked_first);
        let names: Vec<&str> = api.tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["get_thing"]);
        assert!(api
            .warnings
            .iter()
            .any(|w| w.class == warning::Class::OperationDropped));
    }
}
