//! Why an access token was refused, shared by the two ways tokens are checked: JWT
//! verification (`verifier.rs`) and introspection (`introspection.rs`).

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub(crate) const LEEWAY_SECS: u64 = 30;
/// Told to a client whose token could not be checked for now (authorization server
/// unreachable or busy, signing keys too old): the same token may pass later.
pub(crate) const TRY_AGAIN: &str = "The access token could not be verified right now; try again.";
pub(crate) const CNF_BOUND: &str = "The access token is bound to a key (DPoP or mutual TLS); this server accepts only plain Bearer tokens.";

/// Why a token was refused: `description` goes to the client, `reason` to the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub description: &'static str,
    pub reason: String,
}

pub(crate) fn reject(description: &'static str, reason: impl Into<String>) -> Rejection {
    Rejection {
        description,
        reason: reason.into(),
    }
}
