//! The command line: flags, where the options come from (flags over `mcp-gen.toml` over a
//! project's `mcp-gen.json`), and the two commands. `main.rs` only calls [`main`].

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::budget::{self, Counting, Outcome};
use crate::config::{self, Config};
use crate::emit::{self, check, manifest::Manifest, Settings};
use crate::listing::ToolMode;
use crate::model::{select::Filters, AuthMode, OutputSchemas, UpstreamAuth};
use crate::profile::Profile;
use crate::warning::{Class, Warning};
use crate::{inspect, Error, Result};

#[derive(Parser)]
#[command(
    name = "mcp-gen",
    version,
    about = "Turn an OpenAPI document into an authenticated Rust MCP server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate the server project (or regenerate it: inside a generated project, or with a
    /// mcp-gen.toml, no flags are needed).
    Generate(GenerateArgs),
    /// Preview the mapping: one row per tool.
    Inspect(InspectArgs),
}

#[derive(Args)]
struct Mapping {
    /// The OpenAPI document: a path, an http(s) URL, or `-` for stdin (JSON or YAML).
    #[arg(long, value_name = "URL|PATH|-")]
    url: Option<String>,
    /// Options file (default: ./mcp-gen.toml when present). Flags override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// How MCP clients authenticate [default: oauth2].
    #[arg(long, value_enum)]
    auth: Option<AuthMode>,
    /// Scopes for tools that need a token but whose operation names none (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "SCOPES")]
    default_scopes: Vec<String>,
    /// Longest tool name [default: 48, or less where a --profile needs it].
    #[arg(long, value_parser = clap::value_parser!(u16).range(8..=64))]
    max_name_len: Option<u16>,
    /// The clients the server is meant for (comma-separated): openai, claude, cursor,
    /// gemini, vscode; they bound tool names, the tool count and input schemas; `none` for
    /// none [default: all].
    #[arg(long, value_delimiter = ',', value_name = "CLIENTS", value_parser = parse_profile)]
    profile: Vec<Option<Profile>>,
    /// What goes upstream for operations secured by the spec's oauth2 schemes [default: env].
    #[arg(long, value_enum)]
    upstream_auth: Option<UpstreamAuth>,
    /// Fetch `$ref`s that point to other hosts (off by default: the spec decides no fetches).
    #[arg(long)]
    allow_remote_refs: bool,
    /// What tools declare as outputSchema: `describe` (types and structure, tolerant of
    /// upstream drift), `strict` (the spec's schema as is) or `none` [default: describe].
    #[arg(long, value_enum)]
    output_schemas: Option<OutputSchemas>,
    /// Only operations with one of these tags (comma-separated, repeatable).
    #[arg(long, value_delimiter = ',', value_name = "TAGS")]
    include_tag: Vec<String>,
    /// Leave out operations with any of these tags.
    #[arg(long, value_delimiter = ',', value_name = "TAGS")]
    exclude_tag: Vec<String>,
    /// Only these operationIds.
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    include_operation: Vec<String>,
    /// Leave out these operationIds.
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    exclude_operation: Vec<String>,
    /// Only paths matching these globs (`*` within a segment, `**` across).
    #[arg(long, value_delimiter = ',', value_name = "GLOBS")]
    include_path: Vec<String>,
    /// Leave out paths matching these globs.
    #[arg(long, value_delimiter = ',', value_name = "GLOBS")]
    exclude_path: Vec<String>,
    /// Only these HTTP methods.
    #[arg(long, value_delimiter = ',', value_name = "METHODS")]
    include_method: Vec<String>,
    /// Leave out these HTTP methods.
    #[arg(long, value_delimiter = ',', value_name = "METHODS")]
    exclude_method: Vec<String>,
    /// How the server lists the operations: one tool each (`tools`), three tools that
    /// search, describe and call them (`catalog`), or tools while they fit --max-tools and
    /// --max-list-tokens, else the catalog (`auto`) [default: auto].
    #[arg(long, value_enum)]
    tool_mode: Option<ToolMode>,
    /// Most tools the server may list [default: 40, what Cursor takes].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_tools: Option<u32>,
    /// Most tokens (o200k_base) its tools/list may take [default: 25000, where Claude Code
    /// warns].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_list_tokens: Option<u32>,
    /// The groups listed by default (comma-separated): an operation's first tag, else its
    /// path's first segment; the server's TOOLSETS can list others [default: all].
    #[arg(long, value_delimiter = ',', value_name = "GROUPS")]
    toolsets: Vec<String>,
    /// Fail (exit 1) on defects of the document instead of degrading or leaving out the
    /// operations they are in.
    #[arg(long)]
    strict: bool,
    /// Print no warnings and no summary.
    #[arg(long)]
    quiet: bool,
}

#[derive(Args)]
struct GenerateArgs {
    #[command(flatten)]
    mapping: Mapping,
    /// The authorization server (issuer URL) whose tokens the server accepts.
    #[arg(long, value_name = "ISSUER")]
    oauth_server: Option<String>,
    /// The server's public `/mcp` URL (default audience of accepted tokens).
    #[arg(long, value_name = "URL")]
    resource_url: Option<String>,
    /// Output directory (default: the crate name).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Crate and binary name (default: from the API title).
    #[arg(long)]
    name: Option<String>,
    /// A caller with a token sees in tools/list only the tools its scopes allow.
    #[arg(long)]
    list_by_scope: bool,
    /// Change nothing; exit 3 and list what would change when DIR is not current.
    #[arg(long)]
    check: bool,
}

#[derive(Args)]
struct InspectArgs {
    #[command(flatten)]
    mapping: Mapping,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate(args) => generate(args),
        Command::Inspect(args) => run_inspect(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{} {e}", paint("error:", RED));
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}

/// The options the flags set (nothing else), as a config to lay over the file's.
fn flags(m: &Mapping) -> Config {
    let list = |v: &[String]| -> Vec<String> {
        v.iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    Config {
        spec: m.url.clone(),
        auth: m.auth,
        default_scopes: (!m.default_scopes.is_empty()).then(|| list(&m.default_scopes)),
        max_name_len: m.max_name_len,
        profiles: (!m.profile.is_empty()).then(|| m.profile.iter().flatten().copied().collect()),
        upstream_auth: m.upstream_auth,
        allow_remote_refs: m.allow_remote_refs.then_some(true),
        output_schemas: m.output_schemas,
        tool_mode: m.tool_mode,
        max_tools: m.max_tools,
        max_list_tokens: m.max_list_tokens,
        toolsets: (!m.toolsets.is_empty()).then(|| list(&m.toolsets)),
        strict: m.strict.then_some(true),
        filters: Filters {
            include_tags: list(&m.include_tag),
            exclude_tags: list(&m.exclude_tag),
            include_operations: list(&m.include_operation),
            exclude_operations: list(&m.exclude_operation),
            include_paths: list(&m.include_path),
            exclude_paths: list(&m.exclude_path),
            include_methods: list(&m.include_method),
            exclude_methods: list(&m.exclude_method),
        },
        ..Config::default()
    }
}

/// A `--profile` value: a profile, or `none` (`None`) for none.
fn parse_profile(value: &str) -> std::result::Result<Option<Profile>, String> {
    let value = value.trim();
    if value == "none" {
        return Ok(None);
    }
    <Profile as ValueEnum>::from_str(value, false)
        .map(Some)
        .map_err(|_| {
            let known: Vec<&str> = Profile::ALL.iter().map(|p| p.name()).collect();
            format!(
                "`{value}` is not a profile; use {} or none",
                known.join(", ")
            )
        })
}

/// Where the options come from.
struct Sourced {
    config: Config,
    /// The config file used, if any.
    file: Option<PathBuf>,
    /// Set when regenerating a project from its manifest: the output is that project.
    project: Option<PathBuf>,
}

/// `--config`, else `./mcp-gen.toml`, else (without `--url`) the manifest of the project in
/// `--out` or the working directory. Flags override whichever it is.
fn source(m: &Mapping, flags: Config, out: Option<&Path>) -> Result<Sourced> {
    let explicit = m.config.clone();
    let discovered = Path::new(config::FILE);
    if let Some(file) = explicit.or_else(|| discovered.is_file().then(|| discovered.into())) {
        let config = Config::read(&file)?.overridden_by(flags);
        return Ok(Sourced {
            config,
            file: Some(file),
            project: None,
        });
    }
    if m.url.is_some() {
        return Ok(Sourced {
            config: flags,
            file: None,
            project: None,
        });
    }
    let dir = out.unwrap_or(Path::new("."));
    let Some(manifest) = Manifest::read(dir).map_err(Error::Usage)? else {
        // effective() explains what is missing.
        return Ok(Sourced {
            config: flags,
            file: None,
            project: None,
        });
    };
    let recorded_file = manifest
        .config
        .as_deref()
        .map(|c| dir.join(c))
        .filter(|c| c.is_file());
    // A project made from a config file follows that file's current content.
    let (base, file) = match recorded_file {
        Some(file) => (Config::read(&file)?, Some(file)),
        None => {
            let mut c = Config::from_manifest(&manifest.options, dir)?;
            let s = manifest.spec.source.as_str();
            c.spec = (!s.is_empty()).then(|| {
                if s == "-" || crate::load::is_url(s) {
                    s.to_string()
                } else {
                    dir.join(s).to_string_lossy().into_owned()
                }
            });
            (c, None)
        }
    };
    Ok(Sourced {
        config: base.overridden_by(flags),
        file,
        project: Some(dir.to_path_buf()),
    })
}

fn generate(args: GenerateArgs) -> Result<()> {
    let started = Instant::now();
    let quiet = args.mapping.quiet;
    let mut over = flags(&args.mapping);
    over.oauth_server = args.oauth_server.clone();
    over.resource_url = args.resource_url.clone();
    over.name = args.name.clone();
    over.out = args.out.as_ref().map(|o| o.to_string_lossy().into_owned());
    over.list_by_scope = args.list_by_scope.then_some(true);
    let sourced = source(&args.mapping, over, args.out.as_deref())?;
    let effective = sourced.config.effective()?;
    let (loaded, api) = crate::read_api(&effective.spec, &effective.options)?;
    let name = api.server_name.clone();
    let out = sourced
        .project
        .or(effective.out.clone())
        .unwrap_or_else(|| PathBuf::from(&name));
    if !quiet
        && effective.options.auth == AuthMode::OAuth2
        && effective.issuer.is_empty()
        && api.tools.iter().any(|t| t.access.oauth2.is_some())
    {
        warn("no --oauth-server given; the server needs AUTHORIZATION_SERVER_URL at run time");
    }
    // Printed even with --quiet: a security opt-in the MCP spec forbids by default.
    if effective.options.upstream_auth == UpstreamAuth::Passthrough {
        warn("--upstream-auth passthrough: the server will send callers' MCP access tokens unchanged to the upstream API, which the MCP specification forbids (\"MUST NOT pass through the token it received\"); prefer --upstream-auth token-exchange. The generated README says so too.");
    }
    let resolution = budget::resolve(&api, &effective.listing, Counting::WhenNeeded)?;
    if !quiet {
        print_warnings(&api.warnings);
    }
    match resolution.outcome {
        Outcome::Fits => {}
        Outcome::Catalog(why) => {
            if !quiet {
                warn(&why);
            }
        }
        Outcome::Over(why) => return Err(Error::Budget(why)),
    }
    let recorded = serde_json::to_value(sourced.config.recorded(
        &name,
        api.max_name_len,
        effective.listing.budget.max_tools,
    ))
    .map_err(|e| Error::internal("the recorded configuration", e))?;
    let settings = Settings {
        name: name.clone(),
        auth: effective.options.auth,
        issuer: effective.issuer.clone(),
        resource_url: effective.resource_url.clone(),
        default_scopes: effective.options.default_scopes.clone(),
        max_name_len: api.max_name_len,
        spec_source: config::relative_source(&loaded.origin, &out),
        spec_digest: loaded.digest,
        recorded,
        config_file: sourced
            .file
            .as_deref()
            .map(|f| config::relative_path(f, &out)),
        mode: resolution.mode,
        toolsets: effective.listing.toolsets.clone(),
        list_by_scope: effective.list_by_scope,
    };
    let files = emit::render(&api, &settings)?;
    if args.check {
        let report = check::check(&files, &out);
        if report.is_current() {
            if !quiet {
                eprintln!("{} is current", out.display());
            }
            return Ok(());
        }
        print!("{}", report.render());
        return Err(Error::Drift(format!(
            "{} is stale: {} file(s) would change{}; run without --check to regenerate",
            out.display(),
            report.files.len(),
            if report.security.is_empty() {
                String::new()
            } else {
                format!(", {} tool(s) change security", report.security.len())
            }
        )));
    }
    emit::write(&files, &out)?;
    if !quiet {
        eprintln!(
            "generated {name} in {}: {}",
            out.display(),
            inspect::summary_line(&api, started.elapsed())
        );
    }
    Ok(())
}

fn run_inspect(args: InspectArgs) -> Result<()> {
    let started = Instant::now();
    let sourced = source(&args.mapping, flags(&args.mapping), None)?;
    let effective = sourced.config.effective()?;
    let (_, api) = crate::read_api(&effective.spec, &effective.options)?;
    let report = budget::report(&api, &effective.listing)?;
    match args.format {
        Format::Json => {
            let json = serde_json::to_string_pretty(&inspect::to_json(&api, &report))
                .map_err(|e| Error::internal("the inspect report", e))?;
            println!("{json}");
        }
        Format::Table => print!("{}", inspect::to_table(&api, &report)),
    }
    if !args.mapping.quiet {
        print_warnings(&api.warnings);
        match &report.resolution.outcome {
            Outcome::Fits => {}
            Outcome::Catalog(why) => warn(why),
            // A preview: it shows what generate would refuse, and still succeeds.
            Outcome::Over(why) => warn(&format!("generate would fail: {why}")),
        }
        eprintln!("{}", inspect::summary_line(&api, started.elapsed()));
    }
    Ok(())
}

/// Warnings with the same class and message, shown at most this many times each: a spec
/// that repeats one construct in every operation would otherwise print thousands of lines.
const SAME_WARNING_SHOWN: usize = 3;

fn print_warnings(warnings: &[Warning]) {
    let mut seen: BTreeMap<(Class, &str), usize> = BTreeMap::new();
    for w in warnings {
        let count = seen.entry((w.class, w.message.as_str())).or_default();
        *count += 1;
        if *count <= SAME_WARNING_SHOWN {
            warn(&w.to_string());
        }
    }
    for ((class, message), count) in seen {
        if count > SAME_WARNING_SHOWN {
            warn(&format!(
                "{} more place(s) with \"{message}\" [{class}]; `mcp-gen inspect --format json` lists every warning",
                count - SAME_WARNING_SHOWN
            ));
        }
    }
}

const RED: &str = "31";
const YELLOW: &str = "33";

fn warn(message: &str) {
    eprintln!("{} {message}", paint("warning:", YELLOW));
}

/// Colour only on a terminal, and never with NO_COLOR set (no-color.org).
fn paint(text: &str, colour: &str) -> String {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    if std::io::stderr().is_terminal() && !no_color {
        format!("\x1b[1;{colour}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}
