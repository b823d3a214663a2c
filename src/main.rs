//! The `mcp-gen` command line; everything it does lives in the library (`mcp_gen::cli`).

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    mcp_gen::cli::main()
}
