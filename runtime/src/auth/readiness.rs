//! Whether the server can check tokens yet: the signing keys were loaded (and are still
//! trusted), or the introspection endpoint answered. Until one of them is so, every token
//! would be refused, so `/readyz` says not ready and [`TokenReadiness::warm`] keeps asking
//! the authorization server (it may start after the server, or be down a while), backing
//! off to [`MAX_RETRY`]. Once ready it keeps the keys fresh every [`KEEP_FRESH`], tokens or
//! not: a replica no traffic reaches (a quiet weekend, or every replica unready after a long
//! outage of the authorization server) would otherwise never refresh its keys, and stay
//! unready for good once they grew older than `JWKS_MAX_STALE_SECS`.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::introspection::Introspector;
use crate::auth::jwks::KeyStore;

const FIRST_RETRY: Duration = Duration::from_secs(1);
const MAX_RETRY: Duration = Duration::from_secs(30);
/// How often a ready server refreshes its keys on its own: one fetch an hour per replica,
/// as a token would have asked for anyway (the key store refreshes keys older than that).
const KEEP_FRESH: Duration = Duration::from_secs(3600);

#[derive(Clone)]
pub struct TokenReadiness {
    keys: Arc<KeyStore>,
    introspector: Option<Arc<Introspector>>,
}

impl TokenReadiness {
    pub fn new(keys: Arc<KeyStore>, introspector: Option<Arc<Introspector>>) -> Self {
        Self { keys, introspector }
    }

    pub fn ready(&self) -> bool {
        self.keys.loaded() || self.introspector.as_ref().is_some_and(|i| i.reached())
    }

    /// Loads the keys (and, when configured, reaches the introspection endpoint) until
    /// tokens can be checked, then keeps them fresh; runs for the server's life.
    pub async fn warm(self) {
        let mut wait = FIRST_RETRY;
        loop {
            // The key store limits its own fetches; a refused attempt costs nothing.
            self.keys.refresh().await;
            if let Some(introspector) = &self.introspector
                && !introspector.reached()
            {
                introspector.probe().await;
            }
            if self.ready() {
                wait = FIRST_RETRY;
                tokio::time::sleep(KEEP_FRESH).await;
                continue;
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(MAX_RETRY);
        }
    }
}
