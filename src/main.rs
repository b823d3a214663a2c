//! The `mcp-gen` command line; everything it does lives in the library (`mcp_gen::cli`).

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's `mi_option_e` (the same in its v2 and v3).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> std::process::ExitCode {
    // A generation is short and its memory is reused: returning freed pages to the OS only
    // to fault them in again, zeroed, took half the wall time on GitHub and MS Graph
    // (`clear_page` in the kernel). -1: never purge.
    // SAFETY: sets a plain option value, before any other thread exists.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    mcp_gen::cli::main()
}
