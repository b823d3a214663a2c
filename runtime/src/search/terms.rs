//! The words a text is searched by. The generator indexes operations with this very file
//! (it compiles it by path) and the server splits queries with it, so both always agree.
//! Plain `std` only, for that reason.

/// Lower-case words of `text`: split at anything not a letter or digit and inside
/// `camelCase`, common English words dropped, plurals folded (`repositories` → `repository`).
pub fn terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut previous: Option<char> = None;
    for c in text.chars() {
        let boundary = match previous {
            Some(p) => !c.is_alphanumeric() || (p.is_lowercase() && c.is_uppercase()),
            None => !c.is_alphanumeric(),
        };
        if boundary {
            push(&mut out, &word);
            word.clear();
        }
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        }
        previous = Some(c);
    }
    push(&mut out, &word);
    out
}

const STOP: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it", "its", "of",
    "on", "or", "that", "the", "this", "to", "with", "you", "your",
];

fn push(out: &mut Vec<String>, word: &str) {
    // Single letters (the `s` of `user's`) say nothing; single digits may (`v2` is one word).
    let letter = word.len() == 1 && !word.as_bytes()[0].is_ascii_digit();
    if word.is_empty() || letter || STOP.contains(&word) {
        return;
    }
    out.push(fold(word));
}

/// A light plural fold, the same at both ends, so `pets` finds `pet`.
fn fold(word: &str) -> String {
    let n = word.len();
    if n > 4 && word.ends_with("ies") {
        return format!("{}y", &word[..n - 3]);
    }
    if n > 3
        && word.ends_with('s')
        && !word.ends_with("ss")
        && !word.ends_with("us")
        && !word.ends_with("is")
    {
        return word[..n - 1].to_owned();
    }
    word.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_split_lowered_and_folded() {
        assert_eq!(
            terms("listRepositoriesForUser: Get the pets/{petId} of a user's 2FA-codes"),
            [
                "list",
                "repository",
                "user",
                "get",
                "pet",
                "pet",
                "id",
                "user",
                "2fa",
                "code"
            ]
        );
        assert_eq!(terms("status address"), ["status", "address"]);
        assert!(terms("  ").is_empty());
    }
}
