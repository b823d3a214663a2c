//! Bounded caches: the least recently used entry makes room when the cache is full, so a
//! flood of new keys cannot flush the entries in use. Those about tokens are keyed by a
//! SHA-256 digest of the token: the token itself is never kept in memory beyond the request
//! that carried it.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

use aws_lc_rs::digest::{SHA256, digest};

/// SHA-256 of a token.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenKey([u8; 32]);

impl TokenKey {
    pub fn of(token: &str) -> Self {
        let mut key = [0; 32];
        key.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
        Self(key)
    }
}

/// At most `capacity` entries; inserting into a full cache evicts the least recently used.
/// Keyed by token digests unless said otherwise.
pub struct Lru<V, K = TokenKey> {
    capacity: usize,
    tick: u64,
    entries: HashMap<K, (V, u64)>,
    /// Last use → key, oldest first.
    order: BTreeMap<u64, K>,
}

impl<V, K: Copy + Eq + Hash> Lru<V, K> {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            tick: 0,
            entries: HashMap::new(),
            order: BTreeMap::new(),
        }
    }

    /// The entry, marked as just used.
    pub fn get(&mut self, key: &K) -> Option<&V> {
        self.tick += 1;
        let tick = self.tick;
        let (value, used) = self.entries.get_mut(key)?;
        self.order.remove(used);
        *used = tick;
        self.order.insert(tick, *key);
        Some(value)
    }

    pub fn insert(&mut self, key: K, value: V) {
        self.tick += 1;
        if let Some((_, used)) = self.entries.remove(&key) {
            self.order.remove(&used);
        }
        while self.entries.len() >= self.capacity {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.entries.remove(&oldest);
        }
        self.entries.insert(key, (value, self.tick));
        self.order.insert(self.tick, key);
    }

    pub fn remove(&mut self, key: &K) {
        if let Some((_, used)) = self.entries.remove(key) {
            self.order.remove(&used);
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_least_recently_used() {
        let mut lru = Lru::new(2);
        let (a, b, c) = (TokenKey::of("a"), TokenKey::of("b"), TokenKey::of("c"));
        lru.insert(a, 1);
        lru.insert(b, 2);
        assert_eq!(lru.get(&a), Some(&1));
        lru.insert(c, 3);
        assert_eq!(lru.get(&a), Some(&1));
        assert_eq!(lru.get(&b), None);
        assert_eq!(lru.get(&c), Some(&3));
        lru.insert(c, 4);
        assert_eq!(lru.len(), 2);
        lru.remove(&a);
        assert_eq!(lru.get(&a), None);
        assert_eq!(lru.get(&c), Some(&4));
        assert_eq!(lru.len(), 1);
    }

    #[test]
    fn keys_are_digests() {
        assert!(TokenKey::of("t") == TokenKey::of("t") && TokenKey::of("t") != TokenKey::of("u"));
    }
}
