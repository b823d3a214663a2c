//! Token counts, as a model would read a tools/list: OpenAI's o200k_base encoding (GPT-4o and
//! later), through tiktoken-rs, whose ranks are embedded in the binary.
//!
//! Loading the encoding takes longer than generating a small server, so it happens once, on
//! the first count, and callers that can decide by bytes never count: a text's tokens lie
//! within [`bounds`] of its bytes.

use std::ops::RangeInclusive;
use std::sync::OnceLock;

use tiktoken_rs::CoreBPE;

use crate::error::{Error, Result};

/// The encoding, loaded on first use (a failure is kept: it is the crate's own data).
fn encoding() -> Result<&'static CoreBPE> {
    static O200K: OnceLock<std::result::Result<CoreBPE, String>> = OnceLock::new();
    O200K
        .get_or_init(|| tiktoken_rs::o200k_base().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| Error::internal("the o200k_base encoding does not load", e.clone()))
}

/// The o200k_base tokens of `text`, special-token text counted as plain text (a tool's
/// description may well say `<|endoftext|>`).
pub fn count(text: &str) -> Result<usize> {
    Ok(encoding()?.encode_ordinary(text).len())
}

/// The longest o200k_base token, in bytes (128 spaces).
const LONGEST_TOKEN: usize = 128;

/// The fewest and the most tokens a text of `bytes` bytes can have, without loading the
/// encoding. BPE starts from single bytes and only merges them, so each token covers one
/// byte or more, and at most the longest token's.
pub fn bounds(bytes: usize) -> RangeInclusive<usize> {
    bytes.div_ceil(LONGEST_TOKEN)..=bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_counts() {
        assert_eq!(count("hello world").unwrap(), 2);
        assert_eq!(count("").unwrap(), 0);
        // Special tokens are not special here.
        assert!(count("<|endoftext|>").unwrap() > 1);
    }

    #[test]
    fn counts_lie_within_the_bounds_of_the_bytes() {
        for text in [
            "{\"name\":\"get_pet_by_id\",\"inputSchema\":{\"type\":\"object\"}}",
            "ünïcödé ✓ 漢字 🦀🦀🦀",
            "\u{0}\u{1}\u{7f}",
            "x",
            &" ".repeat(1_000),
        ] {
            assert!(bounds(text.len()).contains(&count(text).unwrap()), "{text}");
        }
    }

    #[test]
    fn no_token_is_longer_than_the_bound_assumes() {
        let bpe = encoding().unwrap();
        let longest = (0..200_000)
            .filter_map(|rank| bpe.decode_bytes(&[rank]).ok())
            .map(|bytes| bytes.len())
            .max();
        assert_eq!(longest, Some(LONGEST_TOKEN));
    }
}
