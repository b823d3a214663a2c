//! Whether the server can check tokens yet: the signing keys were loaded (and are still
//! trusted), or the introspection endpoint answered. Until one of them is so, every token
//! would be refused, so `/readyz` says not ready and [`TokenReadiness::warm`] keeps asking
//! the authorization server (it may start after the server, or be down a while), backing
//! off to [`MAX_RETRY`]. Once ready it stops: later refreshes are the key store's own.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::introspection::Introspector;
use crate::auth::jwks::KeyStore;

const FIRST_RETRY: Duration = Duration::from_secs(1);
const MAX_RETRY: Duration = Duration::from_secs(30);

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
    /// tokens can be checked.
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
                return;
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(MAX_RETRY);
        }
    }
}
