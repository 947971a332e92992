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

/// The grants of a live session: what its token was given at login, cut
/// down to what the users file gives the user now.
///
/// The users file is the source of truth, but only to take away: a grant
/// the file adds after the login waits for the next login, because the
/// token is what the user was granted when they typed their password. So
/// the result never holds more than either side:
///
/// | token         | file            | in effect       |
/// |---------------|-----------------|-----------------|
/// | `_all_`       | `_all_`         | `_all_`         |
/// | `_all_`       | `marketing`     | `marketing`     |
/// | `marketing`   | `_all_`         | `marketing`     |
/// | `hr,marketing`| `marketing`     | `marketing`     |
/// | `marketing`   | `hr`            | nothing         |
/// | anything      | nothing         | nothing         |
///
/// Names compare as [`allows`] does, ignoring ASCII case. The token's list
/// is reused (its order and spelling kept) unless it holds [`ALL`] and the
/// file does not, where the file's list is the answer; so the common case,
/// an unchanged user, costs one comparison of the two lists and no
/// allocation.
#[must_use]
pub fn effective(mut token: Vec<String>, file: &[String]) -> Vec<String> {
    // The user's line is unchanged since the login: nearly every request.
    if token.as_slice() == file || allows_all(file) {
        return token;
    }
    if allows_all(&token) {
        return file.to_vec();
    }
    token.retain(|grant| allows(file, grant));
    token
}

/// True if the grants hold [`ALL`].
#[must_use]
pub fn allows_all(grants: &[impl AsRef<str>]) -> bool {
    grants.iter().any(|g| g.as_ref().eq_ignore_ascii_case(ALL))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effective_table() {
        let list = |s: &str| -> Vec<String> {
            s.split(',')
                .filter(|e| !e.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let cases: &[(&str, &str, &str)] = &[
            // token, file, in effect
            ("_all_", "_all_", "_all_"),
            ("_all_", "marketing", "marketing"),
            ("_all_", "hr,marketing", "hr,marketing"),
            ("_ALL_", "marketing", "marketing"),
            ("marketing", "_all_", "marketing"),
            ("hr,marketing", "_all_", "hr,marketing"),
            ("marketing", "_ALL_", "marketing"),
            ("hr,marketing", "marketing", "marketing"),
            ("hr,marketing", "marketing,hr", "hr,marketing"),
            ("marketing", "hr,marketing", "marketing"),
            ("Marketing", "marketing", "Marketing"),
            ("marketing", "hr", ""),
            ("hr,marketing", "finance", ""),
            ("_all_", "", ""),
            ("marketing", "", ""),
            ("", "_all_", ""),
            ("", "marketing", ""),
            ("", "", ""),
            // A token naming `_all_` among sections is a token of `_all_`.
            ("marketing,_all_", "hr", "hr"),
            ("finance,hr", "hr,_all_", "finance,hr"),
        ];
        for (token, file, want) in cases {
            let got = effective(list(token), &list(file));
            assert_eq!(got, list(want), "token {token:?}, file {file:?}");
            // Never more than either side grants.
            for section in ["hr", "marketing", "finance", "other"] {
                if allows(&got, section) {
                    assert!(allows(&list(token), section), "{token} {file} {section}");
                    assert!(allows(&list(file), section), "{token} {file} {section}");
                }
            }
        }
    }

    #[test]
    fn all_is_any_spelling() {
        assert!(allows_all(&["_all_"]));
        assert!(allows_all(&["hr", "_All_"]));
        assert!(!allows_all(&["hr", "all"]));
        assert!(!allows_all(&Vec::<String>::new()));
    }

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
