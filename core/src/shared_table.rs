//! A lock-free, fixed-size table of `(key, value)` pairs of `AtomicU64`, the
//! layout the nginx module puts in a shared memory zone so that every worker
//! sees the same logout cut-offs and login failure counts.
//!
//! No allocator and no lock: a worker that dies mid-update cannot leave a
//! lock held, and a torn update only ever loses one count or one cut-off.
//! Keys are keyed hashes (the key is drawn once per zone and stored in its
//! first word), so a client cannot pick names that collide on purpose.

use std::sync::atomic::{AtomicU64, Ordering};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Entries examined per key before giving up (or evicting).
pub const PROBE: usize = 8;

/// A view over the zone's words: `words[0]` is the hash key, then pairs.
pub struct Table<'a> {
    key: u64,
    pairs: &'a [AtomicU64],
}

impl<'a> Table<'a> {
    /// Words needed for `entries` entries.
    pub fn words_for(entries: usize) -> usize {
        entries.saturating_mul(2).saturating_add(2)
    }

    /// Sets the hash key of a fresh zone (all zero) from `random`.
    pub fn init(words: &[AtomicU64], random: u64) {
        if let Some(k) = words.first() {
            k.store(random | 1, Ordering::Release);
        }
    }

    /// `None` if the zone is too small or was never initialised.
    pub fn new(words: &'a [AtomicU64]) -> Option<Table<'a>> {
        let key = words.first()?.load(Ordering::Acquire);
        let pairs = words.get(2..)?;
        if key == 0 || pairs.len() < 2 {
            return None;
        }
        let even = pairs.len() & !1;
        Some(Table {
            key,
            pairs: pairs.get(..even)?,
        })
    }

    pub fn entries(&self) -> usize {
        self.pairs.len() / 2
    }

    /// A nonzero 64-bit tag for `name` in namespace `kind`.
    pub fn tag(&self, kind: u8, name: &[u8]) -> u64 {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key.to_le_bytes()) else {
            return 1;
        };
        mac.update(&[kind]);
        mac.update(name);
        let out = mac.finalize().into_bytes();
        let mut first = [0u8; 8];
        for (dst, src) in first.iter_mut().zip(out.iter()) {
            *dst = *src;
        }
        u64::from_le_bytes(first) | 1
    }

    fn slot(&self, tag: u64, i: usize) -> Option<(&AtomicU64, &AtomicU64)> {
        let n = self.entries();
        let idx = ((tag as usize) >> 1).wrapping_add(i) % n.max(1);
        Some((self.pairs.get(2 * idx)?, self.pairs.get(2 * idx + 1)?))
    }

    /// The value stored for `tag`, if any.
    pub fn get(&self, tag: u64) -> Option<u64> {
        for i in 0..PROBE.min(self.entries()) {
            let (k, v) = self.slot(tag, i)?;
            match k.load(Ordering::Acquire) {
                0 => return None,
                t if t == tag => return Some(v.load(Ordering::Acquire)),
                _ => {}
            }
        }
        None
    }

    /// The value slot for `tag`, claiming an empty entry, or else evicting
    /// the entry for which `evict_rank` is lowest (`None` = keep).
    pub fn entry(&self, tag: u64, evict_rank: impl Fn(u64) -> Option<u64>) -> Option<&AtomicU64> {
        let mut victim: Option<(u64, &AtomicU64, &AtomicU64)> = None;
        for i in 0..PROBE.min(self.entries()) {
            let (k, v) = self.slot(tag, i)?;
            let cur = k.load(Ordering::Acquire);
            if cur == tag {
                return Some(v);
            }
            if cur == 0 {
                match k.compare_exchange(0, tag, Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => {
                        v.store(0, Ordering::Release);
                        return Some(v);
                    }
                    Err(t) if t == tag => return Some(v),
                    Err(_) => continue,
                }
            }
            if let Some(rank) = evict_rank(v.load(Ordering::Acquire)) {
                if victim.is_none_or(|(r, _, _)| rank < r) {
                    victim = Some((rank, k, v));
                }
            }
        }
        let (_, k, v) = victim?;
        // Value first: a reader that meets the new tag never sees the old
        // owner's value.
        v.store(0, Ordering::Release);
        k.store(tag, Ordering::Release);
        Some(v)
    }
}

/// A fresh hash key for a new zone; a fixed fallback if the system has no
/// randomness (collisions then become predictable, nothing else).
pub fn random_key() -> u64 {
    let mut b = [0u8; 8];
    match getrandom::fill(&mut b) {
        Ok(()) => u64::from_le_bytes(b),
        Err(_) => 0x9e37_79b9_7f4a_7c15,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn zone(entries: usize) -> Vec<AtomicU64> {
        let words: Vec<AtomicU64> = (0..Table::words_for(entries))
            .map(|_| AtomicU64::new(0))
            .collect();
        Table::init(&words, 0x1234_5678_9abc_def0);
        words
    }

    #[test]
    fn uninitialised_or_tiny_zone_is_refused() {
        let words: Vec<AtomicU64> = (0..10).map(|_| AtomicU64::new(0)).collect();
        assert!(Table::new(&words).is_none());
        assert!(Table::new(&zone(0)).is_none());
        assert!(Table::new(&[]).is_none());
    }

    #[test]
    fn stores_and_finds() {
        let words = zone(64);
        let t = Table::new(&words).unwrap();
        let a = t.tag(b'u', b"mike");
        let b = t.tag(b'u', b"mica");
        assert_ne!(a, b);
        assert_ne!(t.tag(b'a', b"mike"), a);
        assert_eq!(t.get(a), None);
        t.entry(a, |_| None).unwrap().store(7, Ordering::Release);
        assert_eq!(t.get(a), Some(7));
        assert_eq!(t.get(b), None);
    }

    #[test]
    fn full_chain_evicts_only_what_may_go() {
        let words = zone(4);
        let t = Table::new(&words).unwrap();
        for i in 0..4u64 {
            let tag = t.tag(b'u', &i.to_le_bytes());
            t.entry(tag, |_| None)
                .unwrap()
                .store(100 + i, Ordering::Release);
        }
        let newcomer = t.tag(b'u', b"new");
        assert!(t.entry(newcomer, |_| None).is_none());
        // The lowest rank (oldest value) is the one replaced.
        let v = t.entry(newcomer, Some).unwrap();
        v.store(1, Ordering::Release);
        assert_eq!(t.get(newcomer), Some(1));
        assert_eq!(t.get(t.tag(b'u', &0u64.to_le_bytes())), None);
        assert_eq!(t.get(t.tag(b'u', &3u64.to_le_bytes())), Some(103));
    }
}
