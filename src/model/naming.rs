//! Tool names (ARCHITECTURE.md, Mapping): `[a-z0-9_]`, bounded length, unique, deterministic.

use std::collections::BTreeSet;

use heck::ToSnakeCase;

/// Default bound, within the targeted profiles' budgets (`profile`): short names read well.
pub const DEFAULT_MAX_LEN: usize = 48;

/// The candidate name of an operation before collisions are resolved.
pub fn candidate(operation_id: Option<&str>, method: &str, path: &str) -> String {
    let raw = match operation_id.map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) => id.to_string(),
        None => format!("{method} {path}"),
    };
    sanitize(&raw)
}

/// snake_case, only `[a-z0-9_]`, no doubled or edge underscores; never empty.
pub fn sanitize(raw: &str) -> String {
    // heck splits camelCase and treats every non-alphanumeric as a boundary; braces and
    // slashes of path templates become boundaries too.
    let snake = raw.to_snake_case();
    let mut out = String::with_capacity(snake.len());
    for c in snake.chars() {
        let c = if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '_'
        };
        if c == '_' && (out.is_empty() || out.ends_with('_')) {
            continue;
        }
        out.push(c);
    }
    while out.ends_with('_') {
        out.pop();
    }
    if out.is_empty() {
        out.push_str("operation");
    }
    out
}

/// Cut to `max` characters, keeping names distinct by a short digest of the full name.
pub fn bound(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    let digest = crate::digest::sha256_hex(name.as_bytes());
    let tag = &digest[..6];
    let keep = max.saturating_sub(tag.len() + 1);
    let head = name[..keep].trim_end_matches('_');
    format!("{head}_{tag}")
}

/// Hands out unique names in call order: the first keeps its name, later ones get `_2`, `_3`…
#[derive(Debug)]
pub struct Registry {
    taken: BTreeSet<String>,
    /// The bound of [`Registry::claim_bounded`].
    max: usize,
}

impl Registry {
    /// Names bounded by `max` characters.
    pub fn bounded(max: usize) -> Self {
        Registry {
            taken: BTreeSet::new(),
            max,
        }
    }

    pub fn claim_bounded(&mut self, wanted: &str) -> String {
        self.claim(wanted, self.max)
    }

    pub fn claim(&mut self, wanted: &str, max: usize) -> String {
        let base = bound(wanted, max);
        if self.taken.insert(base.clone()) {
            return base;
        }
        for n in 2.. {
            let suffix = format!("_{n}");
            let head = bound(wanted, max.saturating_sub(suffix.len()));
            let name = format!("{head}{suffix}");
            if self.taken.insert(name.clone()) {
                return name;
            }
        }
        unreachable!("the counter is unbounded")
    }
}

/// An argument name the strictest clients accept (`^[a-zA-Z0-9_.-]{1,64}$`).
pub fn argument(raw: &str) -> String {
    let mut out: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() {
        out.push('_');
    }
    out.truncate(64);
    out
}

pub fn is_valid_argument(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// A crate name from the API title: `Swagger Petstore` → `swagger-petstore-mcp`.
/// The longest crate name derived from a title, before `-mcp`.
const MAX_CRATE_STEM: usize = 24;

pub fn crate_name(title: &str) -> String {
    // Split on anything but ASCII letters and digits; unlike tool names, no camelCase split,
    // so `GitHub` stays one word.
    let words: Vec<String> = title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let base = if words.is_empty() {
        "api".to_string()
    } else {
        words.join("-")
    };
    let base = if base.starts_with(|c: char| c.is_ascii_digit()) {
        format!("api-{base}")
    } else {
        base
    };
    // Short: clients put the server's name before every tool's (Claude Code's
    // `mcp__<server>__<tool>` within 64), so each character here is one less for the tools.
    // Whole words while they fit; a single longer word is cut with a hash.
    let mut short = String::new();
    for word in base.split('-') {
        if !short.is_empty() && short.len() + 1 + word.len() > MAX_CRATE_STEM {
            break;
        }
        if !short.is_empty() {
            short.push('-');
        }
        short.push_str(word);
    }
    let base = bound(&short, MAX_CRATE_STEM).replace('_', "-");
    if base.ends_with("-mcp") {
        base
    } else {
        format!("{base}-mcp")
    }
}

/// An environment variable stem from a scheme name: `petstore_auth` → `PETSTORE_AUTH`.
pub fn env_stem(name: &str) -> String {
    let s = sanitize(name).to_ascii_uppercase();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{s}")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_become_snake_case() {
        assert_eq!(
            candidate(Some("getPetById"), "get", "/pet/{petId}"),
            "get_pet_by_id"
        );
        assert_eq!(
            candidate(Some("createUsersWithArrayInput"), "post", "/x"),
            "create_users_with_array_input"
        );
        assert_eq!(
            candidate(Some("repos/get-content"), "get", "/x"),
            "repos_get_content"
        );
        assert_eq!(
            candidate(Some("  "), "get", "/pet/{petId}"),
            "get_pet_pet_id"
        );
        assert_eq!(
            candidate(None, "delete", "/store/order/{orderId}"),
            "delete_store_order_order_id"
        );
    }

    #[test]
    fn hostile_names_are_reduced_to_the_safe_alphabet() {
        let name = candidate(Some("x\"); std::process::exit(1); //"), "get", "/");
        assert!(
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{name}"
        );
        assert_eq!(candidate(Some("Ünïcode—op"), "get", "/"), "n_code_op");
        assert_eq!(candidate(Some("!!!"), "get", "/"), "operation");
    }

    #[test]
    fn long_names_are_bounded_and_stay_distinct() {
        let a = "a_very_long_operation_name_that_keeps_going_and_going_one";
        let b = "a_very_long_operation_name_that_keeps_going_and_going_two";
        let (x, y) = (bound(a, 48), bound(b, 48));
        assert!(x.len() <= 48 && y.len() <= 48);
        assert_ne!(x, y);
        assert_eq!(bound("short", 48), "short");
    }

    #[test]
    fn collisions_get_numbered_suffixes_in_order() {
        let mut r = Registry::bounded(DEFAULT_MAX_LEN);
        assert_eq!(r.claim("list", 48), "list");
        assert_eq!(r.claim("list", 48), "list_2");
        assert_eq!(r.claim("list", 48), "list_3");
        let long = "x".repeat(60);
        let first = r.claim(&long, 48);
        let second = r.claim(&long, 48);
        assert!(first.len() <= 48 && second.len() <= 48 && first != second);
    }

    #[test]
    fn arguments_fit_the_strict_client_pattern() {
        assert_eq!(argument("petId"), "petId");
        assert_eq!(argument("filter[status]"), "filter_status_");
        assert_eq!(argument("$select"), "_select");
        assert!(is_valid_argument("a.b-c_d"));
        assert!(!is_valid_argument("a b"));
    }

    #[test]
    fn crate_names_and_env_stems() {
        assert_eq!(crate_name("Swagger Petstore"), "swagger-petstore-mcp");
        assert_eq!(crate_name("GitHub v3 REST API"), "github-v3-rest-api-mcp");
        assert_eq!(crate_name("3D API"), "api-3d-api-mcp");
        assert_eq!(
            crate_name("Microsoft Graph v1.0 beta endpoints for everything"),
            "microsoft-graph-v1-0-mcp"
        );
        assert!(crate_name("Supercalifragilisticexpialidocious API").len() <= 28);
        assert_eq!(env_stem("petstore_auth"), "PETSTORE_AUTH");
        assert_eq!(env_stem("api-key"), "API_KEY");
    }
}
