//! A cache of recent successful Basic logins, as Apache's `mod_authn_socache`
//! keeps: scripts and curl users send Basic on every request, and bcrypt
//! costs tens of milliseconds by design.
//!
//! - Keyed by HMAC-SHA256 of (user, password) under a random key made when
//!   the cache is created, so the memory holds no password nor anything an
//!   offline guess could be checked against without that key.
//! - Only successes are stored; a wrong password never hits and always pays
//!   the full hash.
//! - Entries live `ttl` seconds; at most `capacity` are kept. When full,
//!   expired entries go first, then the one closest to expiry.
//! - It lives in the worker's memory: a reload starts new workers, so a
//!   changed users file or password is never answered from an old cache.
use std::collections::HashMap;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroize;

type Digest = [u8; 32];

pub struct BasicCache {
    /// The HMAC with the random key already absorbed, cloned per lookup.
    mac: Hmac<Sha256>,
    ttl: u64,
    capacity: usize,
    entries: HashMap<Digest, u64>,
}

impl std::fmt::Debug for BasicCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicCache")
            .field("ttl", &self.ttl)
            .field("capacity", &self.capacity)
            .field("entries", &self.entries.len())
            .finish_non_exhaustive()
    }
}

impl BasicCache {
    /// `None` if no random key can be had (then no cache: fail safe).
    pub fn new(ttl: u64, capacity: usize) -> Option<BasicCache> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).ok()?;
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).ok()?;
        key.zeroize();
        Some(BasicCache {
            mac,
            ttl,
            capacity: capacity.max(1),
            entries: HashMap::new(),
        })
    }

    fn digest(&self, user: &str, password: &[u8]) -> Option<Digest> {
        let mut mac = self.mac.clone();
        // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
        mac.update(&(user.len() as u64).to_be_bytes());
        mac.update(user.as_bytes());
        mac.update(password);
        Some(mac.finalize().into_bytes().into())
    }

    /// Whether this user logged in with exactly this password within `ttl`.
    pub fn hit(&self, user: &str, password: &[u8], now: u64) -> bool {
        self.digest(user, password)
            .and_then(|d| self.entries.get(&d))
            .is_some_and(|&expires| now < expires)
    }

    /// Records a verified login.
    pub fn store(&mut self, user: &str, password: &[u8], now: u64) {
        let Some(d) = self.digest(user, password) else {
            return;
        };
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&d) {
            self.entries.retain(|_, &mut expires| now < expires);
            if self.entries.len() >= self.capacity {
                if let Some(oldest) = self.entries.iter().min_by_key(|(_, &e)| e).map(|(k, _)| *k) {
                    self.entries.remove(&oldest);
                }
            }
        }
        self.entries.insert(d, now.saturating_add(self.ttl));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_only_the_exact_pair_within_ttl() {
        let mut c = BasicCache::new(60, 8).unwrap();
        assert!(!c.hit("mike", b"123456", 100));
        c.store("mike", b"123456", 100);
        assert!(c.hit("mike", b"123456", 159));
        assert!(!c.hit("mike", b"123456", 160));
        assert!(!c.hit("mike", b"1234567", 100));
        assert!(!c.hit("mik", b"e123456", 100));
        assert!(!c.hit("mica", b"123456", 100));
    }

    #[test]
    fn bounded_and_evicts_expired_then_oldest() {
        let mut c = BasicCache::new(10, 2).unwrap();
        c.store("a", b"1", 0);
        c.store("b", b"1", 5);
        c.store("c", b"1", 6); // full: "a" (oldest) goes
        assert_eq!(c.len(), 2);
        assert!(!c.hit("a", b"1", 6) && c.hit("b", b"1", 6) && c.hit("c", b"1", 6));
        c.store("d", b"1", 30); // both expired: cleared first
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn two_caches_do_not_share_keys() {
        let a = BasicCache::new(60, 8).unwrap();
        let b = BasicCache::new(60, 8).unwrap();
        assert_ne!(a.digest("u", b"p"), b.digest("u", b"p"));
    }
}
