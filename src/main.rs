//! The `mcp-gen` command line; everything it does lives in the library (`mcp_gen::cli`).

fn main() -> std::process::ExitCode {
    mcp_gen::cli::main()
}
