//! Keeps the server's own upstream credentials out of what callers see. Some APIs echo what
//! they were sent: an API key from the query comes back in a redirect's `Location` (a signed
//! download URL) or in an error message. The caller may use the credential through the tools
//! but never read it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::percent_decode_str;

use crate::reply::Reply;
use crate::upstream::credentials::Placement;
use crate::upstream::encode::enc;

/// Shorter values are not looked for: they would match ordinary text.
const MIN_SECRET: usize = 6;
/// What stands in for a credential in a reply body.
const REDACTED: &str = "[redacted]";

/// The forms a credential the server sent could come back in: each value, the token of
/// `Bearer …`/`Basic …`, and a basic credential decoded (`user:password` and the password).
pub fn secrets(placements: &[Placement]) -> Vec<String> {
    let mut out = Vec::new();
    for placement in placements {
        let (Placement::Header(_, value)
        | Placement::Query(_, value)
        | Placement::Cookie(_, value)) = placement;
        out.push(value.clone());
        if let Some((scheme, token)) = value.split_once(' ') {
            out.push(token.to_owned());
            let decoded = scheme
                .eq_ignore_ascii_case("basic")
                .then(|| STANDARD.decode(token).ok())
                .flatten()
                .and_then(|bytes| String::from_utf8(bytes).ok());
            if let Some(pair) = decoded {
                if let Some((_, password)) = pair.split_once(':') {
                    out.push(password.to_owned());
                }
                out.push(pair);
            }
        }
    }
    out.retain(|s| s.len() >= MIN_SECRET);
    out.sort();
    out.dedup();
    out
}

/// The reply with every credential taken out: a `Location` that shows one is withheld (it
/// cannot be cut out of a URL reliably), and a text body has each occurrence replaced.
pub fn reply(reply: &mut Reply, secrets: &[String]) {
    if secrets.is_empty() {
        return;
    }
    if reply
        .location
        .as_deref()
        .is_some_and(|l| url_shows(l, secrets))
    {
        reply.location = None;
    }
    if let Ok(text) = std::str::from_utf8(&reply.body)
        && let Some(clean) = without(text, secrets)
    {
        reply.body = clean.into_bytes().into();
    }
}

/// Whether a URL shows a secret, however often percent-encoded (`+` read as a space too).
fn url_shows(url: &str, secrets: &[String]) -> bool {
    let mut forms = vec![url.to_owned()];
    for _ in 0..3 {
        let Some(last) = forms.last() else { break };
        let decoded = percent_decode_str(last).decode_utf8_lossy().into_owned();
        if &decoded == last {
            break;
        }
        forms.push(decoded);
    }
    let spaced: Vec<String> = forms.iter().map(|f| f.replace('+', " ")).collect();
    forms.extend(spaced);
    forms
        .iter()
        .any(|form| secrets.iter().any(|s| form.contains(s.as_str())))
}

/// `text` with each secret (as is or percent-encoded) replaced, if it held any.
fn without(text: &str, secrets: &[String]) -> Option<String> {
    let mut out: Option<String> = None;
    for secret in secrets {
        let encoded = enc(secret);
        for form in [
            secret.clone(),
            encoded.clone(),
            encoded.to_ascii_lowercase(),
        ] {
            let current = out.as_deref().unwrap_or(text);
            if current.contains(&form) {
                out = Some(current.replace(&form, REDACTED));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Bytes;
    use reqwest::StatusCode;

    fn reply_with(location: Option<&str>, body: &str) -> Reply {
        Reply {
            status: StatusCode::FOUND,
            content_type: None,
            body: Bytes::from(body.to_owned()),
            violations: None,
            location: location.map(str::to_owned),
        }
    }

    #[test]
    fn the_forms_a_credential_comes_back_in() {
        let basic = format!("Basic {}", STANDARD.encode("ann:p@ss word"));
        let found = secrets(&[
            Placement::Query("api_key".into(), "s3cr3t/key".into()),
            Placement::Header("Authorization".into(), basic.clone()),
            Placement::Cookie("sid".into(), "abc".into()),
        ]);
        assert!(found.contains(&"s3cr3t/key".to_owned()));
        assert!(found.contains(&basic));
        assert!(found.contains(&"ann:p@ss word".to_owned()));
        assert!(found.contains(&"p@ss word".to_owned()));
        // Too short to look for.
        assert!(!found.contains(&"abc".to_owned()));
    }

    #[test]
    fn a_location_showing_a_credential_is_withheld_in_any_encoding() {
        let secrets = vec!["s3cr3t/key=".to_owned(), "p@ss word".to_owned()];
        for location in [
            "https://cdn.example/f?k=s3cr3t/key=",
            "https://cdn.example/f?k=s3cr3t%2Fkey%3D",
            "https://cdn.example/f?k=s3cr3t%2fkey%3d",
            "https://cdn.example/f?k=s3cr3t%252Fkey%253D",
            "https://cdn.example/f?p=p%40ss+word",
            "https://ann:p%40ss%20word@cdn.example/f",
        ] {
            let mut r = reply_with(Some(location), "");
            reply(&mut r, &secrets);
            assert_eq!(r.location, None, "{location}");
        }
        let mut r = reply_with(Some("https://cdn.example/f"), "");
        reply(&mut r, &secrets);
        assert_eq!(r.location.as_deref(), Some("https://cdn.example/f"));
    }

    #[test]
    fn a_body_echoing_a_credential_has_it_replaced() {
        let secrets = vec!["s3cr3t/key".to_owned()];
        let mut r = reply_with(
            None,
            "Found. Redirecting to https://cdn.example/f?k=s3cr3t%2Fkey (invalid key s3cr3t/key)",
        );
        reply(&mut r, &secrets);
        assert_eq!(
            r.body,
            "Found. Redirecting to https://cdn.example/f?k=[redacted] (invalid key [redacted])"
        );
        // Bytes that are not text are left as they are.
        let mut r = reply_with(None, "");
        r.body = Bytes::from_static(b"\xff\xfes3cr3t/key");
        reply(&mut r, &secrets);
        assert_eq!(&r.body[..], b"\xff\xfes3cr3t/key");
    }
}
