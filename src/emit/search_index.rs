//! Catalog mode's search index (`search/index.txt` of the project): per operation, the
//! words of its title, name, group, description and path, weighted by where they appear;
//! the server ranks them with BM25 (`mcp-gen-runtime/src/search/mod.rs`, which documents the
//! format).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::model::{Api, Tool};

/// The runtime's search (its word splitter and ranking), compiled here too: the index is
/// built with the very splitter queries go through, and `inspect` measures the ranking the
/// server will do.
/// Formatted with the runtime (edition 2024), not here.
#[rustfmt::skip]
#[path = "../../runtime/src/search/mod.rs"]
#[allow(dead_code)]
mod search;

use search::{terms, Index, HEADER};

/// How much a word counts by where it appears: a summary says what an operation does, a
/// description also says much else.
const TITLE: u32 = 3;
const NAME: u32 = 2;
const GROUP: u32 = 2;
const DESCRIPTION: u32 = 1;
const PATH: u32 = 1;

pub fn render(api: &Api) -> String {
    let mut postings: BTreeMap<String, Vec<(usize, u32)>> = BTreeMap::new();
    let mut lengths = Vec::with_capacity(api.tools.len());
    for (doc, tool) in api.tools.iter().enumerate() {
        let counts = words(tool);
        lengths.push(counts.values().sum::<u32>());
        for (word, count) in counts {
            postings.entry(word).or_default().push((doc, count));
        }
    }
    let mut out = format!("{HEADER}\nlengths");
    for length in lengths {
        let _ = write!(out, " {length}");
    }
    out.push('\n');
    for (word, list) in postings {
        out.push_str(&word);
        for (doc, count) in list {
            let _ = write!(out, " {doc}:{count}");
        }
        out.push('\n');
    }
    out
}

fn words(tool: &Tool) -> BTreeMap<String, u32> {
    let mut counts = BTreeMap::new();
    let mut add = |text: &str, weight: u32| {
        for word in terms::terms(text) {
            *counts.entry(word).or_insert(0) += weight;
        }
    };
    if let Some(title) = &tool.title {
        add(title, TITLE);
    }
    add(&tool.name, NAME);
    add(&tool.group, GROUP);
    add(&tool.description, DESCRIPTION);
    // Path parameters name things too (`{owner}`); braces are split away like any symbol.
    add(&tool.http.path, PATH);
    counts
}

/// How often an operation's own summary, as a query, finds it among the first `top`
/// results: `(found, asked)`. Where the spec gives no summary (Stripe's), the first sentence
/// of the description stands in, as a caller would paraphrase it.
pub fn hit_rate(api: &Api, top: usize) -> (usize, usize) {
    let Ok(index) = Index::parse(&render(api), api.tools.len()) else {
        return (0, 0);
    };
    let mut asked = 0;
    let mut found = 0;
    for (doc, tool) in api.tools.iter().enumerate() {
        let query = match &tool.title {
            Some(title) => title.as_str(),
            None => first_sentence(&tool.description),
        };
        if query.trim().is_empty() {
            continue;
        }
        asked += 1;
        if index.search(query, |_| true, top).contains(&doc) {
            found += 1;
        }
    }
    (found, asked)
}

fn first_sentence(text: &str) -> &str {
    let end = text.find(['.', '\n']).unwrap_or(text.len());
    &text[..end]
}
