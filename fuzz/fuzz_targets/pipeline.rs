//! Any bytes through load → normalize → model: errors are fine, panics and hangs are not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mcp_gen::check_untrusted(data);
});
