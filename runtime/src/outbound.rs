//! What every outbound HTTP call shares (the upstream API, the authorization server's
//! metadata, keys, token and introspection endpoints): how a failure is told.

/// The error and its causes on one line (reqwest's top-level message alone is vague),
/// led by what kind of failure it is.
pub fn describe(e: &reqwest::Error) -> String {
    let mut causes = vec![e.to_string()];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        causes.push(s.to_string());
        source = s.source();
    }
    let all = causes.join(": ").to_ascii_lowercase();
    let kind = if e.is_timeout() || all.contains("timed out") {
        "timed out (UPSTREAM_TIMEOUT_SECS)"
    } else if all.contains("certificate") || all.contains("tls") || all.contains("handshake") {
        "TLS error"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "error"
    };
    format!("{kind}: {}", causes.join(": "))
}
