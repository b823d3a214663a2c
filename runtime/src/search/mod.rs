//! Finding operations by what a caller wants to do (catalog mode's `search_operations`):
//! BM25 over an index of the operations' titles, names, groups, descriptions and paths that
//! the generator built and embedded (`search/index.txt` of the project).
//!
//! The index is text: a header line, the documents' lengths, then one line per term with
//! its postings, `term doc:count doc:count …`, documents numbered as the tool table.

pub mod terms;

use std::collections::HashMap;

/// BM25's usual constants: how fast repeated words saturate, and how much a long document
/// is discounted.
const K1: f32 = 1.2;
const B: f32 = 0.75;
pub const HEADER: &str = "mcp-gen-search 1";

#[derive(Debug)]
pub struct Index {
    lengths: Vec<u32>,
    average: f32,
    postings: HashMap<String, Vec<(u32, u32)>>,
}

impl Index {
    /// Reads an index; `documents` is the number of tools it must describe.
    pub fn parse(text: &str, documents: usize) -> Result<Index, String> {
        let mut lines = text.lines();
        if lines.next() != Some(HEADER) {
            return Err(format!("the search index does not start with `{HEADER}`"));
        }
        let lengths: Vec<u32> = lines
            .next()
            .and_then(|l| l.strip_prefix("lengths"))
            .ok_or("the search index has no `lengths` line")?
            .split_whitespace()
            .map(|n| {
                n.parse::<u32>()
                    .map_err(|e| format!("search index lengths: {e}"))
            })
            .collect::<Result<_, _>>()?;
        if lengths.len() != documents {
            return Err(format!(
                "the search index describes {} operations, the tool table has {documents}",
                lengths.len()
            ));
        }
        let mut postings = HashMap::new();
        for (n, line) in lines.enumerate() {
            let bad = || format!("search index line {}: `{line}`", n + 3);
            let mut fields = line.split(' ');
            let term = fields.next().filter(|t| !t.is_empty()).ok_or_else(bad)?;
            let mut list = Vec::new();
            for posting in fields {
                let (doc, count) = posting.split_once(':').ok_or_else(bad)?;
                let doc: u32 = doc.parse().map_err(|_| bad())?;
                let count: u32 = count.parse().map_err(|_| bad())?;
                if doc as usize >= documents || count == 0 {
                    return Err(bad());
                }
                list.push((doc, count));
            }
            postings.insert(term.to_owned(), list);
        }
        let total: u64 = lengths.iter().map(|&l| u64::from(l)).sum();
        let average = (total as f32 / lengths.len().max(1) as f32).max(1.0);
        Ok(Index {
            lengths,
            average,
            postings,
        })
    }

    /// The documents that match `query` best, at most `limit`, among those `allowed`; ties
    /// go to the earlier document, so answers are stable.
    pub fn search(&self, query: &str, allowed: impl Fn(usize) -> bool, limit: usize) -> Vec<usize> {
        let n = self.lengths.len() as f32;
        let mut words = terms::terms(query);
        words.sort();
        words.dedup();
        // One slot per document beats a map: a common word touches thousands of them.
        let mut scores = vec![0f32; self.lengths.len()];
        let mut touched = Vec::new();
        for word in &words {
            let Some(list) = self.postings.get(word) else {
                continue;
            };
            let df = list.len() as f32;
            let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
            for &(doc, count) in list {
                let d = doc as usize;
                if !allowed(d) {
                    continue;
                }
                let tf = count as f32;
                let length = self.lengths[d] as f32 / self.average;
                if scores[d] == 0.0 {
                    touched.push(doc);
                }
                scores[d] += idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * length));
            }
        }
        let by_score = |a: &u32, b: &u32| {
            scores[*b as usize]
                .total_cmp(&scores[*a as usize])
                .then(a.cmp(b))
        };
        if touched.len() > limit {
            touched.select_nth_unstable_by(limit, by_score);
            touched.truncate(limit);
        }
        touched.sort_by(by_score);
        touched.into_iter().map(|doc| doc as usize).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> Index {
        // 0: "find pets by status", 1: "add a new pet", 2: "place an order".
        let text = "mcp-gen-search 1\nlengths 4 3 2\nfind 0:1\npet 0:1 1:1\nstatus 0:1\nadd 1:1\nnew 1:1\nplace 2:1\norder 2:1\n";
        Index::parse(text, 3).unwrap()
    }

    #[test]
    fn best_match_first_and_filters_apply() {
        let index = index();
        assert_eq!(index.search("pets by status", |_| true, 5), [0, 1]);
        assert_eq!(index.search("add a pet", |_| true, 5), [1, 0]);
        assert_eq!(index.search("add a pet", |d| d != 1, 5), [0]);
        assert_eq!(index.search("orders", |_| true, 1), [2]);
        assert!(index.search("unrelated words", |_| true, 5).is_empty());
    }

    #[test]
    fn a_broken_index_is_refused_with_the_line() {
        assert!(
            Index::parse("mcp-gen-search 1\nlengths 1\nx 3:1\n", 1)
                .unwrap_err()
                .contains("line 3")
        );
        assert!(
            Index::parse("mcp-gen-search 1\nlengths 1 2\n", 1)
                .unwrap_err()
                .contains("2 operations")
        );
        assert!(Index::parse("other\n", 1).is_err());
    }
}
