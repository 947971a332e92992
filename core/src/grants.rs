//! Policy: may a holder of these grants see that section?

/// The grant that opens every section.
pub const ALL: &str = "_all_";

/// True if `allowed_resources` holds [`ALL`] or `section`.
///
/// Case-insensitive because section names are canonicalised to lower case
/// everywhere else, and a token minted by another tool (or a hand-edited
/// users file) may spell them differently; a mismatch in case must not lock
/// out a user any more than it may let one in.
#[must_use]
pub fn allows(allowed_resources: &[impl AsRef<str>], section: &str) -> bool {
    allowed_resources.iter().any(|grant| {
        let grant = grant.as_ref();
        grant.eq_ignore_ascii_case(ALL) || grant.eq_ignore_ascii_case(section)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_opens_everything() {
        assert!(allows(&["_all_"], "hr"));
        assert!(allows(&["_ALL_"], "finance"));
        assert!(allows(&["marketing", "_all_"], "hr"));
    }

    #[test]
    fn named_section() {
        assert!(allows(&["marketing"], "marketing"));
        assert!(allows(&["Marketing"], "marketing"));
        assert!(allows(&["hr", "marketing"], "hr"));
        assert!(!allows(&["marketing"], "hr"));
        assert!(!allows(&["hrx"], "hr"));
        assert!(!allows(&["h"], "hr"));
    }

    #[test]
    fn nothing_granted() {
        let none: [&str; 0] = [];
        assert!(!allows(&none, "hr"));
        assert!(!allows(&[""], "hr"));
        assert!(!allows(&Vec::<String>::new(), "hr"));
    }
}
