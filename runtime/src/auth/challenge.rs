//! `WWW-Authenticate: Bearer …` challenges (RFC 6750 §3, RFC 9728 §5.1), and the refusal a
//! protected tool gives. Values are quoted strings, so anything a caller could influence is
//! escaped and kept to one line.

use axum::http::StatusCode;

use crate::auth::Decision;
use crate::catalog::Access;

/// How a tool call is refused: the same facts whether they travel as a tool result
/// (`AUTH_CHALLENGE=tool`) or as an HTTP status (`AUTH_CHALLENGE=http`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    /// `invalid_request` or `insufficient_scope`.
    pub error: &'static str,
    /// For people and models reading the tool result.
    pub message: String,
    pub challenge: String,
}

/// Builds challenges that all point at this server's protected-resource metadata.
#[derive(Debug, Clone)]
pub struct Challenger {
    metadata_url: String,
}

impl Challenger {
    pub fn new(metadata_url: String) -> Self {
        Self { metadata_url }
    }

    /// A request without a token to a server whose every tool needs one.
    pub fn missing_token(&self, scopes: &[&str]) -> String {
        let mut params = vec![("resource_metadata", self.metadata_url.clone())];
        if !scopes.is_empty() {
            params.push(("scope", scopes.join(" ")));
        }
        render(&params)
    }

    /// A token was sent but is not acceptable (bad signature, expired, wrong audience, …).
    pub fn invalid_token(&self, description: &str) -> String {
        render(&[
            ("error", "invalid_token".to_owned()),
            ("error_description", description.to_owned()),
            ("resource_metadata", self.metadata_url.clone()),
        ])
    }

    /// The request carries a token the wrong way (e.g. in the query string).
    pub fn invalid_request(&self, description: &str) -> String {
        render(&[
            ("error", "invalid_request".to_owned()),
            ("error_description", description.to_owned()),
            ("resource_metadata", self.metadata_url.clone()),
        ])
    }

    /// A protected tool was called without a token.
    pub fn token_required(&self, description: &str, scopes: &[&str]) -> String {
        self.with_error("invalid_request", description, scopes)
    }

    /// The token is valid but lacks scopes the tool needs (step-up).
    pub fn insufficient_scope(&self, description: &str, scopes: &[&str]) -> String {
        self.with_error("insufficient_scope", description, scopes)
    }

    /// `None` when the decision allows the call.
    pub fn refusal(&self, tool: &str, access: &Access, decision: &Decision) -> Option<Refusal> {
        let scopes = access.oauth2.unwrap_or(&[]);
        match decision {
            Decision::Allow | Decision::AllowAnonymous => None,
            Decision::NoToken => Some(Refusal {
                status: StatusCode::UNAUTHORIZED,
                error: "invalid_request",
                message: format!(
                    "The tool `{tool}` requires authorization. Connect an account (OAuth) and try again."
                ),
                challenge: self
                    .token_required("An access token is required for this tool.", scopes),
            }),
            Decision::MissingScopes(missing) => Some(Refusal {
                status: StatusCode::FORBIDDEN,
                error: "insufficient_scope",
                message: format!(
                    "The tool `{tool}` needs the scope(s) {}, which the current authorization does not grant. Re-authorize with them and try again.",
                    missing.join(", ")
                ),
                challenge: self.insufficient_scope(
                    "The access token lacks scopes this tool requires.",
                    scopes,
                ),
            }),
        }
    }

    fn with_error(&self, error: &str, description: &str, scopes: &[&str]) -> String {
        let mut params = vec![
            ("error", error.to_owned()),
            ("error_description", description.to_owned()),
        ];
        if !scopes.is_empty() {
            params.push(("scope", scopes.join(" ")));
        }
        params.push(("resource_metadata", self.metadata_url.clone()));
        render(&params)
    }
}

fn render(params: &[(&str, String)]) -> String {
    let body: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", quote(v)))
        .collect();
    format!("Bearer {}", body.join(", "))
}

/// Escapes a quoted-string value; control characters become spaces so the header stays valid.
fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() || !c.is_ascii() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenger() -> Challenger {
        Challenger::new("http://h/.well-known/oauth-protected-resource/mcp".into())
    }

    #[test]
    fn shapes() {
        let c = challenger();
        assert_eq!(
            c.missing_token(&["a", "b"]),
            "Bearer resource_metadata=\"http://h/.well-known/oauth-protected-resource/mcp\", scope=\"a b\""
        );
        assert_eq!(
            c.insufficient_scope("need more", &["write:pets", "read:pets"]),
            "Bearer error=\"insufficient_scope\", error_description=\"need more\", scope=\"write:pets read:pets\", resource_metadata=\"http://h/.well-known/oauth-protected-resource/mcp\""
        );
        assert!(
            c.invalid_token("expired")
                .starts_with("Bearer error=\"invalid_token\"")
        );
        assert!(!c.token_required("x", &[]).contains("scope="));
    }

    #[test]
    fn refusals() {
        let c = challenger();
        let access = Access {
            anonymous: false,
            oauth2: Some(&["write:pets", "read:pets"]),
        };
        assert_eq!(c.refusal("t", &access, &Decision::Allow), None);
        let no_token = c.refusal("t", &access, &Decision::NoToken).unwrap();
        assert_eq!(no_token.status, StatusCode::UNAUTHORIZED);
        assert!(
            no_token
                .challenge
                .starts_with("Bearer error=\"invalid_request\"")
        );
        let scope = c
            .refusal("t", &access, &Decision::MissingScopes(vec!["write:pets"]))
            .unwrap();
        assert_eq!(scope.status, StatusCode::FORBIDDEN);
        assert!(scope.challenge.contains("scope=\"write:pets read:pets\""));
        assert!(scope.message.contains("write:pets"));
    }

    #[test]
    fn values_are_escaped() {
        let c = challenger().invalid_token("a \"quoted\"\r\nvalue\\");
        assert!(c.contains(r#"error_description="a \"quoted\"  value\\""#));
        assert!(axum::http::HeaderValue::from_str(&c).is_ok());
    }
}
