//! Logout without server-side sessions: per user, the time of their last
//! logout. A token issued at or before it is refused, though its signature
//! and `exp` are still good.

use std::sync::atomic::Ordering;

use crate::shared_table::Table;

const KIND: u8 = b'r';

/// The revocation rule: a cut-off of 0 means "never logged out".
pub fn is_revoked(iat: u64, cutoff: u64) -> bool {
    cutoff != 0 && iat <= cutoff
}

/// The `iat` of a token minted at `now`: after the cut-off, so that logging
/// in again within the second of a logout still gives a working cookie.
pub fn login_iat(now: u64, cutoff: u64) -> u64 {
    if cutoff >= now {
        cutoff.saturating_add(1)
    } else {
        now
    }
}

/// The cut-offs in a shared table.
pub struct Revocations<'a>(pub Table<'a>);

impl Revocations<'_> {
    pub fn cutoff(&self, user: &str) -> u64 {
        self.0.get(self.0.tag(KIND, user.as_bytes())).unwrap_or(0)
    }

    /// Records a logout at `now`. `horizon` is the longest a token lives:
    /// a cut-off older than `now - horizon` only covers expired tokens, so
    /// its entry may be reused. `false` if no entry could be had (the zone
    /// is too small); the caller logs it.
    ///
    /// The new cut-off covers every token issued so far, including one
    /// issued after a logout earlier in the same second: that one got
    /// [`login_iat`] `= cut-off + 1`, so a cut-off already at or past
    /// `now` moves one second on rather than staying put.
    pub fn revoke(&self, user: &str, now: u64, horizon: u64) -> bool {
        let tag = self.0.tag(KIND, user.as_bytes());
        let stale = |cutoff: u64| (cutoff.saturating_add(horizon) < now).then_some(cutoff);
        match self.0.entry(tag, stale) {
            Some(v) => {
                let before = v
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |cutoff| {
                        Some(login_iat(now, cutoff))
                    })
                    .unwrap_or_else(|cur| cur);
                let cutoff = login_iat(now, before);
                crate::store::outbox::push(|| crate::store::Event::Revoked {
                    user: user.to_owned(),
                    cutoff,
                });
                true
            }
            None => false,
        }
    }

    /// Takes in a cut-off another instance recorded: the later of the two
    /// holds. Not queued for the store, which it came from. `false` if no
    /// entry could be had.
    pub fn merge(&self, user: &str, cutoff: u64, horizon: u64, now: u64) -> bool {
        if cutoff.saturating_add(horizon) < now {
            return true;
        }
        let tag = self.0.tag(KIND, user.as_bytes());
        let stale = |c: u64| (c.saturating_add(horizon) < now).then_some(c);
        match self.0.entry(tag, stale) {
            Some(v) => {
                v.fetch_max(cutoff, Ordering::AcqRel);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared_table::tests::zone;

    #[test]
    fn rule() {
        assert!(!is_revoked(100, 0));
        assert!(is_revoked(100, 100));
        assert!(is_revoked(99, 100));
        assert!(!is_revoked(101, 100));
        assert_eq!(login_iat(100, 0), 100);
        assert_eq!(login_iat(100, 100), 101);
        assert_eq!(login_iat(100, 99), 100);
        assert!(!is_revoked(login_iat(100, 100), 100));
    }

    #[test]
    fn logout_cuts_off_one_user() {
        let words = zone(16);
        let r = Revocations(Table::new(&words).unwrap());
        assert_eq!(r.cutoff("mike"), 0);
        assert!(r.revoke("mike", 1000, 3600));
        assert_eq!(r.cutoff("mike"), 1000);
        assert_eq!(r.cutoff("mica"), 0);
        // Never moves back: a worker whose clock lags still cuts off
        // whatever may have been issued since.
        assert!(r.revoke("mike", 900, 3600));
        assert_eq!(r.cutoff("mike"), 1001);
        assert!(r.revoke("mike", 2000, 3600));
        assert_eq!(r.cutoff("mike"), 2000);
    }

    #[test]
    fn two_logouts_in_one_second() {
        let words = zone(16);
        let r = Revocations(Table::new(&words).unwrap());
        let before = 1000;
        assert!(r.revoke("mike", 1000, 3600));
        assert!(is_revoked(before, r.cutoff("mike")));
        // Signed in again within that second: a token after the cut-off.
        let again = login_iat(1000, r.cutoff("mike"));
        assert_eq!(again, 1001);
        assert!(!is_revoked(again, r.cutoff("mike")));
        // Signed out again, still within it: that token ends too.
        assert!(r.revoke("mike", 1000, 3600));
        assert!(is_revoked(again, r.cutoff("mike")));
        let third = login_iat(1000, r.cutoff("mike"));
        assert!(!is_revoked(third, r.cutoff("mike")));
        assert!(r.revoke("mike", 1000, 3600));
        assert!(is_revoked(third, r.cutoff("mike")));
        // In the next second the clock catches up.
        assert!(r.revoke("mike", 1005, 3600));
        assert_eq!(r.cutoff("mike"), 1005);
    }

    #[test]
    fn merge_keeps_the_later_cutoff() {
        let words = zone(16);
        let r = Revocations(Table::new(&words).unwrap());
        assert!(r.merge("mike", 1000, 3600, 1001));
        assert_eq!(r.cutoff("mike"), 1000);
        assert!(r.merge("mike", 900, 3600, 1001));
        assert_eq!(r.cutoff("mike"), 1000);
        assert!(r.revoke("mike", 1200, 3600));
        assert!(r.merge("mike", 1100, 3600, 1201));
        assert_eq!(r.cutoff("mike"), 1200);
        // A cut-off that only covers expired tokens takes no entry.
        assert!(r.merge("mica", 10, 100, 1000));
        assert_eq!(r.cutoff("mica"), 0);
        // Logging in again after a remote logout gives a token past it.
        assert!(r.merge("ann", 5000, 3600, 5000));
        assert!(!is_revoked(
            login_iat(5000, r.cutoff("ann")),
            r.cutoff("ann")
        ));
    }

    #[test]
    fn full_zone_reuses_only_stale_entries() {
        let words = zone(2);
        let r = Revocations(Table::new(&words).unwrap());
        assert!(r.revoke("a", 1000, 100));
        assert!(r.revoke("b", 1000, 100));
        assert!(!r.revoke("c", 1050, 100));
        assert_eq!(r.cutoff("a"), 1000);
        assert!(r.revoke("c", 1200, 100));
        assert_eq!(r.cutoff("c"), 1200);
    }
}
