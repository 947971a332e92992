//! Sliding sessions: an active user gets a fresh token before theirs runs
//! out, up to an absolute maximum age counted from the password login.

/// True when less than half of the token's lifetime is left.
pub fn refresh_due(iat: u64, exp: u64, now: u64) -> bool {
    let lifetime = exp.saturating_sub(iat);
    let left = exp.saturating_sub(now);
    left.saturating_mul(2) < lifetime
}

/// True once the session has reached `max_age` (0: no maximum).
pub fn past_max_age(auth_time: u64, now: u64, max_age: u64) -> bool {
    max_age != 0 && now >= auth_time.saturating_add(max_age)
}

/// `exp` of a token minted at `now` for a session that began at
/// `auth_time`: never past the maximum age.
pub fn capped_exp(now: u64, ttl: u64, auth_time: u64, max_age: u64) -> u64 {
    let exp = now.saturating_add(ttl);
    if max_age == 0 {
        exp
    } else {
        exp.min(auth_time.saturating_add(max_age))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_in_second_half() {
        assert!(!refresh_due(1000, 1100, 1000));
        assert!(!refresh_due(1000, 1100, 1050));
        assert!(refresh_due(1000, 1100, 1051));
        assert!(refresh_due(1000, 1100, 1099));
        assert!(refresh_due(1000, 1100, 2000));
        assert!(!refresh_due(1000, 1000, 1000));
    }

    #[test]
    fn max_age() {
        assert!(!past_max_age(1000, 1_000_000, 0));
        assert!(!past_max_age(1000, 1099, 100));
        assert!(past_max_age(1000, 1100, 100));
        assert_eq!(capped_exp(1050, 100, 1000, 0), 1150);
        assert_eq!(capped_exp(1050, 100, 1000, 120), 1120);
        assert_eq!(capped_exp(1000, 100, 1000, 500), 1100);
    }
}
