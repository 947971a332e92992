//! Login failures per user, per client address and per (user, address):
//! after `max_failures` failures within `window` seconds, the key is
//! blocked for `cooldown` seconds (`429`). The same table remembers, per
//! (user, address), a successful Basic login, which lets that user's
//! logins from that address past the per-user count (see
//! [`crate::device`]).
//!
//! One word per key: the start of the current window (or of the block) in
//! the high 40 bits, the failure count in the low 24.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::shared_table::Table;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max_failures: u32,
    pub window: u64,
    pub cooldown: u64,
}

pub const DEFAULT: Limit = Limit {
    max_failures: 10,
    window: 300,
    cooldown: 300,
};

const COUNT_BITS: u32 = 24;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;

fn unpack(state: u64) -> (u64, u64) {
    (state >> COUNT_BITS, state & COUNT_MASK)
}

fn pack(start: u64, count: u64) -> u64 {
    (start << COUNT_BITS) | count.min(COUNT_MASK)
}

impl Limit {
    /// Refused now?
    pub fn blocked(&self, state: u64, now: u64) -> bool {
        let (start, count) = unpack(state);
        count >= u64::from(self.max_failures) && now < start.saturating_add(self.cooldown)
    }

    /// Refused now, were `pending` checks still running to fail too? A
    /// count whose window has passed counts as none.
    pub fn blocked_with(&self, state: u64, now: u64, pending: u64) -> bool {
        if self.blocked(state, now) {
            return true;
        }
        let (start, count) = unpack(state);
        let max = u64::from(self.max_failures);
        // A block whose cool-down is over starts the count afresh.
        let count = if state == 0 || count >= max || now >= start.saturating_add(self.window) {
            0
        } else {
            count
        };
        pending > 0 && count.saturating_add(pending) >= max
    }

    /// The state after one more failure, and whether it starts a block.
    pub fn after_failure(&self, state: u64, now: u64) -> (u64, bool) {
        let (start, count) = unpack(state);
        let max = u64::from(self.max_failures);
        if count >= max {
            if now < start.saturating_add(self.cooldown) {
                return (state, false);
            }
            return self.first_failure(now);
        }
        if state == 0 || now >= start.saturating_add(self.window) {
            return self.first_failure(now);
        }
        if count + 1 >= max {
            // The cool-down runs from the failure that reached the limit.
            return (pack(now, max), true);
        }
        (pack(start, count + 1), false)
    }

    fn first_failure(&self, now: u64) -> (u64, bool) {
        if self.max_failures <= 1 {
            (pack(now, 1), true)
        } else {
            (pack(now, 1), false)
        }
    }

    /// An entry that no longer says anything may be reused; older first.
    fn stale_rank(&self, state: u64, now: u64) -> Option<u64> {
        let (start, _) = unpack(state);
        let horizon = self.window.max(self.cooldown);
        (start.saturating_add(horizon) <= now).then_some(start)
    }
}

/// Whose failures are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject<'a> {
    User(&'a str),
    Address(&'a [u8]),
    UserAt(&'a str, &'a [u8]),
}

/// Which count reached the limit, for the log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    User,
    ClientAddress,
    UserAtAddress,
}

impl std::fmt::Display for Counter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Counter::User => "user",
            Counter::ClientAddress => "client address",
            Counter::UserAtAddress => "user at this client address",
        })
    }
}

impl Subject<'_> {
    fn tag(&self, t: &Table<'_>) -> u64 {
        match self {
            Subject::User(u) => t.tag(b'u', u.as_bytes()),
            Subject::Address(a) => t.tag(b'a', a),
            Subject::UserAt(u, a) => t.tag(b'p', &user_at(u, a)),
        }
    }
}

/// Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
fn user_at(user: &str, addr: &[u8]) -> Vec<u8> {
    let mut out = (user.len() as u64).to_be_bytes().to_vec();
    out.extend_from_slice(user.as_bytes());
    out.extend_from_slice(addr);
    out
}

/// The namespace of remembered addresses.
const KNOWN: u8 = b'k';

/// A remembered address's value: its expiry with the top bit set. A
/// failure count's start never reaches that bit, so counting failures
/// sees the entry as the newest of all and evicts it last: flooding the
/// zone with failures does not make the table forget a script's address.
const KNOWN_MARK: u64 = 1 << 63;

/// Failure counts in a shared table.
pub struct Attempts<'a> {
    pub table: Table<'a>,
    pub limit: Limit,
}

impl Attempts<'_> {
    pub fn blocked(&self, who: Subject<'_>, now: u64) -> bool {
        self.table
            .get(who.tag(&self.table))
            .is_some_and(|s| self.limit.blocked(s, now))
    }

    /// [`blocked`](Attempts::blocked), counting `pending` password checks
    /// of `who` still running as failures.
    pub fn blocked_with(&self, who: Subject<'_>, now: u64, pending: usize) -> bool {
        let state = self.table.get(who.tag(&self.table)).unwrap_or(0);
        self.limit.blocked_with(state, now, pending as u64)
    }

    /// Counts a failure; `true` if it starts a block (to be logged).
    pub fn fail(&self, who: Subject<'_>, now: u64) -> bool {
        let tag = who.tag(&self.table);
        let limit = self.limit;
        crate::store::outbox::push(|| crate::store::Event::Failed {
            who: who.into(),
            limit,
            at: now,
        });
        let slot = self
            .table
            .entry(tag, |s| limit.stale_rank(s, now))
            .or_else(|| {
                // Every entry is live: reuse the oldest rather than stop
                // counting, so flooding the table does not switch the limit off.
                self.table.entry(tag, |s| Some(unpack(s).0))
            });
        let Some(slot) = slot else {
            return false;
        };
        update(slot, |s| limit.after_failure(s, now))
    }

    /// Whether `user` logged in successfully from `addr` with Basic within
    /// the last `device::LIFETIME`.
    pub fn known_address(&self, user: &str, addr: &[u8], now: u64) -> bool {
        self.table
            .get(self.table.tag(KNOWN, &user_at(user, addr)))
            .is_some_and(|v| v & KNOWN_MARK != 0 && now < v & !KNOWN_MARK)
    }

    /// Remembers a successful Basic login of `user` from `addr` until
    /// `until`. Only a remembered address past its time makes room: when
    /// the chain is full it is not remembered, and the script keeps the
    /// per-user limit (never the other way round).
    pub fn remember_address(&self, user: &str, addr: &[u8], now: u64, until: u64) {
        let tag = self.table.tag(KNOWN, &user_at(user, addr));
        let expired = |v: u64| {
            let exp = v & !KNOWN_MARK;
            (v & KNOWN_MARK != 0 && exp <= now).then_some(exp)
        };
        if let Some(v) = self.table.entry(tag, expired) {
            let _ = v.fetch_update(Ordering::AcqRel, Ordering::Acquire, |cur| {
                Some(KNOWN_MARK | until.max(cur & !KNOWN_MARK))
            });
        }
    }

    /// A successful login clears the user's count and that of the user at
    /// this address (not the address's), unless a block is running.
    pub fn succeed(&self, user: &str, addr: &[u8], now: u64) {
        for who in [Subject::User(user), Subject::UserAt(user, addr)] {
            let tag = who.tag(&self.table);
            let state = self.table.get(tag);
            if !state.is_some_and(|s| self.limit.blocked(s, now)) {
                crate::store::outbox::push(|| crate::store::Event::Cleared { who: who.into() });
            }
            if let Some(s) = state {
                if s != 0 && !self.limit.blocked(s, now) {
                    if let Some(v) = self.table.entry(tag, |_| None) {
                        v.store(0, Ordering::Release);
                    }
                }
            }
        }
    }
}

impl Attempts<'_> {
    /// Takes in `count`, the failures of `who` over every instance (this
    /// one's included) right after one of them. `true` if it starts a block.
    pub fn absorb(&self, who: Subject<'_>, count: u64, now: u64) -> bool {
        let tag = who.tag(&self.table);
        let limit = self.limit;
        let max = u64::from(limit.max_failures);
        let slot = self
            .table
            .entry(tag, |s| limit.stale_rank(s, now))
            .or_else(|| self.table.entry(tag, |s| Some(unpack(s).0)));
        let Some(slot) = slot else {
            return false;
        };
        update(slot, |s| {
            if limit.blocked(s, now) {
                return (s, false);
            }
            let (start, local) = unpack(s);
            if count >= max {
                // The failure that reached the limit was a moment ago.
                return (pack(now, max), true);
            }
            if s != 0 && local < max && now < start.saturating_add(limit.window) {
                (pack(start, local.max(count)), false)
            } else {
                (pack(now, count), false)
            }
        })
    }
}

fn update(slot: &AtomicU64, f: impl Fn(u64) -> (u64, bool)) -> bool {
    let mut cur = slot.load(Ordering::Acquire);
    loop {
        let (next, blocked) = f(cur);
        match slot.compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return blocked,
            Err(actual) => cur = actual,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared_table::tests::zone;

    const L: Limit = Limit {
        max_failures: 3,
        window: 60,
        cooldown: 120,
    };

    #[test]
    fn blocks_after_n_failures_in_window() {
        let (s, b) = L.after_failure(0, 1000);
        assert!(!b && !L.blocked(s, 1000));
        let (s, b) = L.after_failure(s, 1010);
        assert!(!b && !L.blocked(s, 1010));
        let (s, b) = L.after_failure(s, 1020);
        assert!(b && L.blocked(s, 1020));
        // The cool-down runs from the third failure; more failures during it
        // do not extend it.
        let (s2, b) = L.after_failure(s, 1100);
        assert!(!b && s2 == s);
        assert!(L.blocked(s, 1139));
        assert!(!L.blocked(s, 1140));
        // After it, counting starts over.
        let (s, b) = L.after_failure(s, 1140);
        assert!(!b && !L.blocked(s, 1140));
    }

    #[test]
    fn running_checks_count_as_failures_until_they_end() {
        assert!(!L.blocked_with(0, 1000, 0));
        assert!(!L.blocked_with(0, 1000, 2));
        assert!(L.blocked_with(0, 1000, 3));
        let (s, _) = L.after_failure(0, 1000);
        assert!(!L.blocked_with(s, 1010, 1));
        assert!(L.blocked_with(s, 1010, 2));
        // The window passed: the old failure no longer counts.
        assert!(!L.blocked_with(s, 1060, 2));
        let (s, _) = L.after_failure(s, 1010);
        let (s, _) = L.after_failure(s, 1020);
        assert!(L.blocked_with(s, 1020, 0));
        // The block is over: counting starts afresh.
        assert!(!L.blocked_with(s, 1140, 1));
        assert!(L.blocked_with(s, 1140, 3));
    }

    #[test]
    fn window_expiry_resets() {
        let (s, _) = L.after_failure(0, 1000);
        let (s, _) = L.after_failure(s, 1010);
        let (s, b) = L.after_failure(s, 1060);
        assert!(!b && !L.blocked(s, 1060));
        assert_eq!(unpack(s), (1060, 1));
    }

    #[test]
    fn limit_of_one() {
        let one = Limit {
            max_failures: 1,
            ..L
        };
        let (s, b) = one.after_failure(0, 5);
        assert!(b && one.blocked(s, 5));
    }

    #[test]
    fn shared_counts_per_subject() {
        let words = zone(32);
        let a = Attempts {
            table: Table::new(&words).unwrap(),
            limit: L,
        };
        let mike = Subject::User("mike");
        let addr = Subject::Address(b"10.0.0.1");
        assert!(!a.fail(mike, 100));
        assert!(!a.fail(mike, 101));
        assert!(!a.blocked(mike, 101));
        assert!(a.fail(mike, 102));
        assert!(a.blocked(mike, 102));
        assert!(!a.blocked(Subject::User("mica"), 102));
        assert!(!a.blocked(addr, 102));
        // A success does not lift a running block, but clears a partial count.
        a.succeed("mike", b"10.0.0.1", 103);
        assert!(a.blocked(mike, 103));
        assert!(!a.fail(Subject::User("ann"), 100));
        a.succeed("ann", b"10.0.0.1", 100);
        assert!(!a.fail(Subject::User("ann"), 101));
        assert!(!a.fail(Subject::User("ann"), 102));
        assert!(!a.blocked(Subject::User("ann"), 102));
    }

    #[test]
    fn counts_from_other_instances_join_the_local_one() {
        let words = zone(32);
        let a = Attempts {
            table: Table::new(&words).unwrap(),
            limit: L,
        };
        let mike = Subject::User("mike");
        assert!(!a.fail(mike, 100));
        // Redis says two so far (this one and another instance's): no double count.
        assert!(!a.absorb(mike, 2, 100));
        assert!(!a.blocked(mike, 100));
        assert!(a.fail(mike, 101));
        assert!(a.blocked(mike, 101));
        // Reaching the limit elsewhere blocks here, from now, once.
        let ann = Subject::User("ann");
        assert!(!a.absorb(ann, 1, 200));
        assert!(a.absorb(ann, 3, 210));
        assert!(a.blocked(ann, 210));
        assert!(!a.absorb(ann, 4, 211));
        assert!(a.blocked(ann, 329));
        assert!(!a.blocked(ann, 330));
        // Never lowers a local count.
        let bob = Subject::User("bob");
        a.fail(bob, 100);
        a.fail(bob, 100);
        assert!(!a.absorb(bob, 1, 100));
        assert!(a.fail(bob, 101));
        // A stale local window starts over from the remote count.
        let eve = Subject::Address(b"10.0.0.9");
        a.fail(eve, 100);
        a.fail(eve, 100);
        assert!(!a.absorb(eve, 1, 500));
        assert!(!a.fail(eve, 500));
        assert!(a.fail(eve, 501));
    }

    #[test]
    fn user_at_address_is_its_own_count() {
        let words = zone(64);
        let a = Attempts {
            table: Table::new(&words).unwrap(),
            limit: L,
        };
        let here = Subject::UserAt("mica", b"127.0.0.1");
        for t in 0..3 {
            a.fail(here, 100 + t);
        }
        assert!(a.blocked(here, 103));
        assert!(!a.blocked(Subject::UserAt("mica", b"127.0.0.2"), 103));
        assert!(!a.blocked(Subject::UserAt("mike", b"127.0.0.1"), 103));
        assert!(!a.blocked(Subject::User("mica"), 103));
        // Length-prefixed: the name cannot run into the address.
        assert!(!a.blocked(Subject::UserAt("mica1", b"27.0.0.1"), 103));
    }

    #[test]
    fn remembered_addresses_expire_and_are_per_user() {
        let words = zone(64);
        let a = Attempts {
            table: Table::new(&words).unwrap(),
            limit: L,
        };
        assert!(!a.known_address("mica", b"127.0.0.2", 100));
        a.remember_address("mica", b"127.0.0.2", 100, 200);
        assert!(a.known_address("mica", b"127.0.0.2", 199));
        assert!(!a.known_address("mica", b"127.0.0.2", 200));
        assert!(!a.known_address("mica", b"127.0.0.3", 150));
        assert!(!a.known_address("mike", b"127.0.0.2", 150));
        // A failure count of the same pair is a different entry.
        a.fail(Subject::UserAt("mica", b"127.0.0.2"), 150);
        assert!(a.known_address("mica", b"127.0.0.2", 150));
        // Never shortened by a late or slow worker.
        a.remember_address("mica", b"127.0.0.2", 100, 150);
        assert!(a.known_address("mica", b"127.0.0.2", 199));
    }

    #[test]
    fn failures_do_not_evict_remembered_addresses() {
        let words = zone(4);
        let a = Attempts {
            table: Table::new(&words).unwrap(),
            limit: L,
        };
        a.remember_address("mica", b"127.0.0.2", 100, 10_000);
        for i in 0..50u32 {
            a.fail(Subject::Address(&i.to_be_bytes()), 100 + u64::from(i));
        }
        assert!(a.known_address("mica", b"127.0.0.2", 200));
        // A full table of live counts: not remembered, nothing lifted.
        let words = zone(2);
        let b = Attempts {
            table: Table::new(&words).unwrap(),
            limit: L,
        };
        b.remember_address("a", b"x", 100, 10_000);
        b.remember_address("b", b"x", 100, 10_000);
        b.remember_address("c", b"x", 100, 10_000);
        assert!(!b.known_address("c", b"x", 200));
        b.remember_address("c", b"x", 10_000, 20_000);
        assert!(b.known_address("c", b"x", 10_001));
    }
}
