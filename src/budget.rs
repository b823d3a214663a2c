//! The tool list's budget: how many tools, and how many tokens, a server may list before
//! clients refuse it or choke on it. It decides `tool_mode = "auto"` (one tool per operation
//! while the list fits, else the three catalog tools) and refuses an explicit `tools` mode
//! that does not fit, for `generate` and `generate --check` alike.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::listing::{self, ToolMode};
use crate::model::{Api, Tool};
use crate::profile::Targets;
use crate::tokens;

/// Cursor uses at most 40 tools from all its MCP servers together; OpenAI's API refuses more
/// than 128 (and VS Code sends at most 128): 40 keeps a server whole in all three (README,
/// Fitting a client's context, has the sources).
pub const DEFAULT_MAX_TOOLS: usize = 40;
/// Claude Code warns of a "large MCP tools context" above 25,000 tokens.
pub const DEFAULT_MAX_LIST_TOKENS: usize = 25_000;

/// The limits a server's `tools/list` must keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub max_tools: usize,
    /// o200k_base tokens of the list's compact JSON.
    pub max_list_tokens: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            max_tools: DEFAULT_MAX_TOOLS,
            max_list_tokens: DEFAULT_MAX_LIST_TOKENS,
        }
    }
}

/// How the server is asked to list its operations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    /// As configured: `Auto` is resolved here.
    pub mode: ToolMode,
    pub budget: Budget,
    /// The groups listed by default (empty: all); only they count against the budget.
    pub toolsets: Vec<String>,
    /// The clients the list is meant for (they set `budget.max_tools` unless it was asked).
    pub profiles: Targets,
}

/// Whether tokens are counted when the bytes already decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// Always (`inspect` reports them).
    Always,
    /// Only when neither the tool count nor the bytes decide whether the list fits
    /// (`generate`: loading the encoding costs more than generating a small server, and
    /// counting MS Graph's 70 MB list takes seconds).
    WhenNeeded,
}

/// One `tools/list` as a client receives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    pub count: usize,
    /// Of the compact JSON array of the entries.
    pub bytes: usize,
    /// o200k_base tokens of the same text; `None` when the bytes decided without them.
    pub tokens: Option<usize>,
}

impl Size {
    /// The tokens, or the fewest and the most there can be.
    fn token_range(&self) -> RangeInclusive<usize> {
        self.tokens
            .map_or_else(|| tokens::bounds(self.bytes), |t| t..=t)
    }

    pub fn fits(&self, budget: &Budget) -> bool {
        self.count <= budget.max_tools && *self.token_range().end() <= budget.max_list_tokens
    }
}

/// One tool's entry in the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntrySize {
    pub bytes: usize,
    pub tokens: usize,
}

/// What the budget decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    /// What the server lists: `Tools` or `Catalog`.
    pub mode: ToolMode,
    /// The list in tools mode (the default toolsets only).
    pub tools: Size,
    /// The list in catalog mode.
    pub catalog: Size,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Fits,
    /// `auto` chose the catalog: why, as a warning.
    Catalog(String),
    /// The mode asked for does not fit: why and what to do, as the error `generate` gives.
    Over(String),
}

/// Measures both lists and resolves the mode. Toolsets naming no group are a usage error.
pub fn resolve(api: &Api, asked: &Listing, counting: Counting) -> Result<Resolution> {
    check_toolsets(api, &asked.toolsets)?;
    let budget = &asked.budget;
    let listed: Vec<&Tool> = listed(api, &asked.toolsets).collect();
    let tools_list = || listed.iter().map(|t| listing::tool_entry_json(t)).collect();
    let catalog_list = || {
        listing::entries(api, ToolMode::Catalog)
            .iter()
            .map(compact)
            .collect()
    };
    let mut tools = measure(tools_list(), budget, counting)?;
    let mut catalog = measure(catalog_list(), budget, counting)?;
    if asked.mode == ToolMode::Tools && !tools.fits(budget) {
        // The refusal names every tool's tokens, so the encoding loads anyway: count it all.
        tools = measure(tools_list(), budget, Counting::Always)?;
        catalog = measure(catalog_list(), budget, Counting::Always)?;
    }
    let (mode, outcome) = match asked.mode {
        ToolMode::Tools if tools.fits(budget) => (ToolMode::Tools, Outcome::Fits),
        ToolMode::Tools => (
            ToolMode::Tools,
            Outcome::Over(over_in_tools_mode(api, &listed, &tools, &catalog, asked)?),
        ),
        ToolMode::Auto if tools.fits(budget) => (ToolMode::Tools, Outcome::Fits),
        ToolMode::Catalog | ToolMode::Auto if !catalog.fits(budget) => (
            ToolMode::Catalog,
            Outcome::Over(format!(
                "the catalog mode's own tools/list is over budget: {}; raise max_tools or max_list_tokens",
                overage(&catalog, budget)
            )),
        ),
        ToolMode::Catalog => (ToolMode::Catalog, Outcome::Fits),
        ToolMode::Auto => (
            ToolMode::Catalog,
            Outcome::Catalog(format!(
                "{}; the server lists the catalog tools instead ({}{}); set tool_mode = \"catalog\" to say so, or narrow the list with toolsets or filters",
                overage(&tools, budget),
                listing::CatalogTool::ALL.map(|c| c.name()).join(", "),
                catalog.tokens.map_or_else(String::new, |t| format!(": {} tokens", grouped(t))),
            )),
        ),
    };
    Ok(Resolution {
        mode,
        tools,
        catalog,
        outcome,
    })
}

/// Everything `inspect` shows of the budget: what was asked, what it resolved to, and each
/// tool's entry (in the order of `api.tools`), all counted.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub asked: Listing,
    pub resolution: Resolution,
    pub entries: Vec<EntrySize>,
}

pub fn report(api: &Api, asked: &Listing) -> Result<Report> {
    Ok(Report {
        asked: asked.clone(),
        resolution: resolve(api, asked, Counting::Always)?,
        entries: api
            .tools
            .iter()
            .map(|t| entry_size(&listing::tool_entry_json(t)))
            .collect::<Result<_>>()?,
    })
}

fn entry_size(text: &str) -> Result<EntrySize> {
    Ok(EntrySize {
        bytes: text.len(),
        tokens: tokens::count(text)?,
    })
}

/// The tools listed by default: those of the default toolsets.
fn listed<'a>(api: &'a Api, toolsets: &'a [String]) -> impl Iterator<Item = &'a Tool> {
    api.tools
        .iter()
        .filter(move |t| toolsets.is_empty() || toolsets.contains(&t.group))
}

/// The groups, in the document's order.
fn groups(api: &Api) -> Vec<&str> {
    let mut seen = BTreeSet::new();
    api.tools
        .iter()
        .map(|t| t.group.as_str())
        .filter(|g| seen.insert(*g))
        .collect()
}

fn check_toolsets(api: &Api, toolsets: &[String]) -> Result<()> {
    let known = groups(api);
    let unknown: Vec<&str> = toolsets
        .iter()
        .map(String::as_str)
        .filter(|t| !known.contains(t))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    const SHOWN: usize = 60;
    let mut list = known
        .iter()
        .take(SHOWN)
        .map(|g| format!("`{g}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if known.len() > SHOWN {
        list.push_str(&format!(
            ", … ({} more; `mcp-gen inspect --format json` gives each tool's group)",
            known.len() - SHOWN
        ));
    }
    let unknown: Vec<String> = unknown
        .iter()
        .map(|u| match known.iter().find(|k| k.eq_ignore_ascii_case(u)) {
            // Groups are matched exactly, as the server's TOOLSETS matches them.
            Some(k) => format!("`{u}` (did you mean `{k}`?)"),
            None => format!("`{u}`"),
        })
        .collect();
    Err(Error::Usage(format!(
        "--toolsets (toolsets): this API has no group {}; its groups (an operation's first tag, else its path's first segment) are {list}",
        unknown.join(", ")
    )))
}

/// A list of entries, each as compact JSON.
fn measure(texts: Vec<String>, budget: &Budget, counting: Counting) -> Result<Size> {
    // `[`, the entries with a comma between each two, `]`.
    let bytes = texts.iter().map(String::len).sum::<usize>() + texts.len().saturating_sub(1) + 2;
    let range = tokens::bounds(bytes);
    let decided = texts.len() > budget.max_tools
        || *range.end() <= budget.max_list_tokens
        || *range.start() > budget.max_list_tokens;
    let tokens = match counting {
        Counting::WhenNeeded if decided => None,
        _ => Some(tokens::count(&format!("[{}]", texts.join(",")))?),
    };
    Ok(Size {
        count: texts.len(),
        bytes,
        tokens,
    })
}

/// The JSON a client receives, without whitespace.
fn compact(entry: &Value) -> String {
    // Serializing a Value cannot fail: its keys are strings.
    serde_json::to_string(entry).unwrap_or_default()
}

/// `1,223 tools, 916,249 tokens: over max_tools 40 (by 1,183) and max_list_tokens 25,000
/// (by 891,249)`. Tokens not counted are bounded by the bytes: `…, 4,030,587 bytes (at least
/// 31,490 tokens): over … and max_list_tokens 25,000`.
fn overage(size: &Size, budget: &Budget) -> String {
    let range = size.token_range();
    let mut over = Vec::new();
    if size.count > budget.max_tools {
        over.push(format!(
            "max_tools {} (by {})",
            grouped(budget.max_tools),
            grouped(size.count - budget.max_tools)
        ));
    }
    let mut tokens = String::new();
    if *range.start() > budget.max_list_tokens {
        let by = match size.tokens {
            Some(t) => format!(" (by {})", grouped(t - budget.max_list_tokens)),
            None => String::new(),
        };
        over.push(format!(
            "max_list_tokens {}{by}",
            grouped(budget.max_list_tokens)
        ));
        tokens = match size.tokens {
            Some(t) => format!(", {} tokens", grouped(t)),
            None => format!(
                ", {} bytes (at least {} tokens)",
                grouped(size.bytes),
                grouped(*range.start())
            ),
        };
    } else if let Some(t) = size.tokens {
        tokens = format!(", {} tokens", grouped(t));
    }
    format!(
        "{}{tokens}: over {}",
        tool_count(size.count),
        over.join(" and ")
    )
}

/// The error of an explicit tools mode over budget: by how much, the largest tools and
/// groups, and the ways out.
fn over_in_tools_mode(
    api: &Api,
    listed: &[&Tool],
    tools: &Size,
    catalog: &Size,
    asked: &Listing,
) -> Result<String> {
    const LARGEST: usize = 5;
    let mut sized = listed
        .iter()
        .map(|t| Ok((*t, entry_size(&listing::tool_entry_json(t))?)))
        .collect::<Result<Vec<_>>>()?;
    let mut message = format!(
        "the tools/list is over budget in tools mode (tool_mode = \"tools\"): {}",
        overage(tools, &asked.budget)
    );
    message.push_str("\n  largest tools:");
    sized.sort_by(|a, b| b.1.tokens.cmp(&a.1.tokens).then(a.0.name.cmp(&b.0.name)));
    for (tool, size) in sized.iter().take(LARGEST) {
        message.push_str(&format!(
            "\n    {} ({}): {} tokens, {} bytes",
            tool.name,
            tool.group,
            grouped(size.tokens),
            grouped(size.bytes)
        ));
    }
    message.push_str("\n  largest groups (toolsets):");
    for (group, count, tokens) in group_sizes(&sized).iter().take(LARGEST) {
        message.push_str(&format!(
            "\n    {group}: {}, {} tokens",
            tool_count(*count),
            grouped(*tokens)
        ));
    }
    let catalog_tokens = catalog.tokens.map_or_else(
        || format!("at most {} tokens", grouped(catalog.bytes)),
        |t| format!("{} tokens", grouped(t)),
    );
    message.push_str(&format!(
        "\n  tool_mode = \"catalog\" (--tool-mode catalog) lists {} tools of {catalog_tokens} instead, whatever the size of the API; \
         or list fewer: toolsets = [...] (--toolsets, of the {} groups), or the filters (--include-tag, --exclude-path, …); \
         or raise max_tools / max_list_tokens (--max-tools, --max-list-tokens) for clients that take more",
        catalog.count,
        groups(api).len()
    ));
    Ok(message)
}

/// Per group: tools and tokens, most tokens first.
fn group_sizes(sized: &[(&Tool, EntrySize)]) -> Vec<(String, usize, usize)> {
    let mut by_group: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (tool, size) in sized {
        let g = by_group.entry(tool.group.as_str()).or_default();
        g.0 += 1;
        g.1 += size.tokens;
    }
    let mut groups: Vec<(String, usize, usize)> = by_group
        .into_iter()
        .map(|(name, (count, tokens))| (name.to_owned(), count, tokens))
        .collect();
    // Stable: equal token counts keep the names' order.
    groups.sort_by_key(|g| std::cmp::Reverse(g.2));
    groups
}

/// `1 tool`, `1,223 tools`.
fn tool_count(n: usize) -> String {
    match n {
        1 => "1 tool".to_owned(),
        n => format!("{} tools", grouped(n)),
    }
}

/// `1912345` → `1,912,345`.
pub fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn petstore() -> Api {
        let spec = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/petstore/petstore-3.0.json"
        );
        crate::read_api(spec, &crate::model::Options::default())
            .unwrap()
            .1
    }

    fn asked(mode: ToolMode, max_tools: usize, max_list_tokens: usize) -> Listing {
        Listing {
            mode,
            budget: Budget {
                max_tools,
                max_list_tokens,
            },
            toolsets: Vec::new(),
            profiles: Targets::default(),
        }
    }

    /// As `generate` resolves it, and the message of its outcome.
    fn resolved(api: &Api, asked: &Listing) -> (Resolution, String) {
        let r = resolve(api, asked, Counting::WhenNeeded).unwrap();
        let why = match &r.outcome {
            Outcome::Fits => String::new(),
            Outcome::Catalog(why) | Outcome::Over(why) => why.clone(),
        };
        (r, why)
    }

    #[test]
    fn a_list_with_fewer_bytes_than_the_token_budget_is_never_counted() {
        let api = petstore();
        let (r, _) = resolved(&api, &Listing::default());
        assert_eq!((r.mode, &r.outcome), (ToolMode::Tools, &Outcome::Fits));
        assert!(r.tools.bytes <= DEFAULT_MAX_LIST_TOKENS);
        assert_eq!((r.tools.tokens, r.catalog.tokens), (None, None));
        // Counted, the tokens are fewer than the bytes that stood in for them.
        let counted = resolve(&api, &Listing::default(), Counting::Always).unwrap();
        assert!(counted.tools.tokens.unwrap() <= counted.tools.bytes);
        assert_eq!((counted.tools.count, counted.catalog.count), (20, 3));
    }

    #[test]
    fn a_list_too_long_for_any_tokenization_is_never_counted_either() {
        let budget = Budget {
            max_tools: 40,
            max_list_tokens: 50,
        };
        // 10,004 bytes: at least 79 tokens of at most 128 bytes each.
        let long = || vec![format!("{:?}", "a".repeat(10_000))];
        let size = measure(long(), &budget, Counting::WhenNeeded).unwrap();
        assert_eq!((size.bytes, size.tokens), (10_004, None));
        assert!(!size.fits(&budget));
        assert_eq!(
            overage(&size, &budget),
            "1 tool, 10,004 bytes (at least 79 tokens): over max_list_tokens 50"
        );
        let counted = measure(long(), &budget, Counting::Always).unwrap();
        assert!(counted.tokens.unwrap() >= 79 && !counted.fits(&budget));
    }

    #[test]
    fn auto_lists_the_catalog_when_either_limit_is_passed() {
        let api = petstore();
        let (by_count, why) = resolved(&api, &asked(ToolMode::Auto, 19, 100_000));
        assert_eq!(by_count.mode, ToolMode::Catalog);
        assert!(matches!(by_count.outcome, Outcome::Catalog(_)));
        assert!(
            why.starts_with(
                "20 tools: over max_tools 19 (by 1); the server lists the catalog tools instead"
            ),
            "{why}"
        );

        let (by_tokens, why) = resolved(&api, &asked(ToolMode::Auto, 40, 1_000));
        assert_eq!(by_tokens.mode, ToolMode::Catalog);
        let tokens = by_tokens.tools.tokens.unwrap();
        assert!(matches!(by_tokens.outcome, Outcome::Catalog(_)));
        let expected = format!(
            "20 tools, {} tokens: over max_list_tokens 1,000 (by {})",
            grouped(tokens),
            grouped(tokens - 1_000)
        );
        assert!(why.starts_with(&expected), "{why}");
    }

    #[test]
    fn an_explicit_tools_mode_over_budget_is_refused_with_the_largest_tools() {
        let api = petstore();
        let (r, why) = resolved(&api, &asked(ToolMode::Tools, 10, 100_000));
        assert_eq!(r.mode, ToolMode::Tools);
        assert!(matches!(r.outcome, Outcome::Over(_)));
        // Refusing counts everything, even where the bytes alone decided.
        assert!(r.tools.tokens.is_some() && r.catalog.tokens.is_some());
        assert!(why.contains("20 tools, "), "{why}");
        assert!(why.contains("over max_tools 10 (by 10)"), "{why}");
        assert_eq!(
            why.matches("\n    ").count(),
            5 + 3,
            "five tools, three groups: {why}"
        );
        assert!(why.contains("\n    find_pets_by_status (pet): "), "{why}");
        assert!(why.contains("\n    pet: 8 tools, "), "{why}");
        assert!(why.contains("tool_mode = \"catalog\""), "{why}");

        // Narrowed to one toolset, it fits.
        let mut pets = asked(ToolMode::Tools, 10, 100_000);
        pets.toolsets = vec!["pet".into()];
        let (r, _) = resolved(&api, &pets);
        assert_eq!((r.tools.count, &r.outcome), (8, &Outcome::Fits));
    }

    #[test]
    fn the_catalog_must_fit_too() {
        let api = petstore();
        for mode in [ToolMode::Catalog, ToolMode::Auto] {
            let (r, why) = resolved(&api, &asked(mode, 2, 100_000));
            assert!(matches!(r.outcome, Outcome::Over(_)));
            assert!(why.starts_with("the catalog mode's own tools/list is over budget: 3 tools: over max_tools 2 (by 1)"), "{why}");
        }
    }

    #[test]
    fn unknown_toolsets_are_a_usage_error_naming_the_groups() {
        let api = petstore();
        let a = Listing {
            toolsets: vec!["pet".into(), "Store".into(), "orders".into()],
            ..Listing::default()
        };
        let e = resolve(&api, &a, Counting::WhenNeeded).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert_eq!(
            e.to_string(),
            "--toolsets (toolsets): this API has no group `Store` (did you mean `store`?), `orders`; its groups (an operation's first tag, else its path's first segment) are `pet`, `store`, `user`"
        );
    }

    #[test]
    fn the_report_counts_each_entry() {
        let api = petstore();
        let report = report(&api, &Listing::default()).unwrap();
        assert_eq!(report.entries.len(), api.tools.len());
        let bytes: usize = report.entries.iter().map(|e| e.bytes).sum();
        // `[`, `]` and a comma between entries.
        assert_eq!(report.resolution.tools.bytes, bytes + api.tools.len() + 1);
        assert!(report
            .entries
            .iter()
            .all(|e| 0 < e.tokens && e.tokens <= e.bytes));
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000), "1,000");
        assert_eq!(grouped(1_912_345), "1,912,345");
    }
}
