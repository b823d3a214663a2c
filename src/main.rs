//! The `mcp-gen` command line: parses flags and hands over to the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use mcp_gen::emit::{self, Settings};
use mcp_gen::model::{self, AuthMode};
use mcp_gen::{inspect, Error};

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
    /// Generate the server project.
    Generate(GenerateArgs),
    /// Preview the mapping: one row per tool.
    Inspect(InspectArgs),
}

#[derive(Args)]
struct Mapping {
    /// The OpenAPI document: a path, an http(s) URL, or `-` for stdin (JSON or YAML).
    #[arg(long, value_name = "URL|PATH|-")]
    url: String,
    /// How MCP clients authenticate.
    #[arg(long, value_enum, default_value_t = Auth::Oauth2)]
    auth: Auth,
    /// Scopes for tools that need a token but whose operation names none (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "SCOPES")]
    default_scopes: Vec<String>,
    /// Longest tool name.
    #[arg(long, default_value_t = 48, value_parser = clap::value_parser!(u16).range(8..=64))]
    max_name_len: u16,
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
    /// Print no warnings.
    #[arg(long)]
    quiet: bool,
}

#[derive(Args)]
struct InspectArgs {
    #[command(flatten)]
    mapping: Mapping,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Clone, Copy, ValueEnum)]
enum Auth {
    Oauth2,
    None,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate(args) => generate(args),
        Command::Inspect(args) => run_inspect(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}

fn options(m: &Mapping) -> model::Options {
    model::Options {
        auth: match m.auth {
            Auth::Oauth2 => AuthMode::OAuth2,
            Auth::None => AuthMode::None,
        },
        default_scopes: m
            .default_scopes
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        max_name_len: usize::from(m.max_name_len),
    }
}

fn generate(args: GenerateArgs) -> Result<(), Error> {
    let options = options(&args.mapping);
    let issuer = args.oauth_server.unwrap_or_default();
    check_url("--oauth-server", &issuer, true)?;
    let resource_url = args
        .resource_url
        .unwrap_or_else(|| emit::DEFAULT_RESOURCE_URL.to_string());
    check_url("--resource-url", &resource_url, false)?;
    if let Some(name) = &args.name {
        check_crate_name(name)?;
    }
    let (loaded, api) = mcp_gen::read_api(&args.mapping.url, &options)?;
    let name = args.name.unwrap_or_else(|| model::crate_name(&api.title));
    let out = args.out.unwrap_or_else(|| PathBuf::from(&name));
    if options.auth == AuthMode::OAuth2
        && issuer.is_empty()
        && api.tools.iter().any(|t| t.access.oauth2.is_some())
    {
        eprintln!("warning: no --oauth-server given; the server needs AUTHORIZATION_SERVER_URL at run time");
    }
    let settings = Settings {
        name,
        auth: options.auth,
        issuer,
        resource_url,
        default_scopes: options.default_scopes.clone(),
        max_name_len: options.max_name_len,
        spec_source: loaded.origin,
        spec_digest: loaded.digest,
    };
    let files = emit::render(&api, &settings)?;
    emit::write(&files, &out)?;
    if !args.quiet {
        for warning in &api.warnings {
            eprintln!("warning: {warning}");
        }
    }
    eprintln!(
        "generated {} ({} tools from {} operations) in {}",
        settings.name,
        api.tools.len(),
        api.operations_read,
        out.display()
    );
    Ok(())
}

fn run_inspect(args: InspectArgs) -> Result<(), Error> {
    let options = options(&args.mapping);
    let (_, api) = mcp_gen::read_api(&args.mapping.url, &options)?;
    match args.format {
        Format::Json => {
            let json = serde_json::to_string_pretty(&inspect::to_json(&api))
                .map_err(|e| Error::Io(e.to_string()))?;
            println!("{json}");
        }
        Format::Table => print!("{}", inspect::to_table(&api)),
    }
    Ok(())
}

fn check_url(flag: &str, value: &str, may_be_empty: bool) -> Result<(), Error> {
    if value.is_empty() && may_be_empty {
        return Ok(());
    }
    let ok = (value.starts_with("https://") || value.starts_with("http://"))
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "{flag}: `{value}` is not an http(s) URL"
        )))
    }
}

fn check_crate_name(name: &str) -> Result<(), Error> {
    let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && name.len() <= 64;
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "--name: `{name}` is not a valid crate name (lowercase letters, digits, `-`, `_`)"
        )))
    }
}
