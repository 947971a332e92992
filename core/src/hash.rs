//! Password hashes: bcrypt (`htpasswd -B`) and SHA-crypt (`$5$`, `$6$`).
//!
//! A hash is fully validated when the users file is loaded, so a corrupt
//! entry is a configuration error instead of a user who silently can never
//! log in.

use std::fmt;
use std::str::FromStr;

use base64ct::{Base64ShaCrypt, Encoding};
use sha_crypt::{Algorithm, Params, PasswordHasher, PasswordVerifier, ShaCrypt};

/// Passwords longer than this never verify. It bounds the work one request
/// can cause: SHA-crypt is quadratic in the password length.
pub const MAX_PASSWORD_LEN: usize = 1024;

/// bcrypt uses only the first 72 bytes of a password (as every bcrypt does).
pub const BCRYPT_MAX_PASSWORD_LEN: usize = 72;

/// A supported hash scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    Bcrypt,
    ShaCrypt256,
    ShaCrypt512,
}

impl Scheme {
    /// bcrypt cost 10 is `htpasswd -B`'s default; 5000 rounds is SHA-crypt's.
    pub fn default_cost(self) -> u32 {
        match self {
            Scheme::Bcrypt => 10,
            Scheme::ShaCrypt256 | Scheme::ShaCrypt512 => Params::RECOMMENDED_ROUNDS,
        }
    }

    /// Valid cost (bcrypt) or rounds (SHA-crypt) values, inclusive.
    pub fn cost_range(self) -> (u32, u32) {
        match self {
            Scheme::Bcrypt => (4, 31),
            Scheme::ShaCrypt256 | Scheme::ShaCrypt512 => (Params::ROUNDS_MIN, Params::ROUNDS_MAX),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Scheme::Bcrypt => "bcrypt",
            Scheme::ShaCrypt256 => "SHA-256 crypt",
            Scheme::ShaCrypt512 => "SHA-512 crypt",
        }
    }

    fn cost_word(self) -> &'static str {
        match self {
            Scheme::Bcrypt => "cost",
            Scheme::ShaCrypt256 | Scheme::ShaCrypt512 => "rounds",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a hash string was refused (or could not be made). Messages never
/// contain the hash, only at most its scheme prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashError {
    Empty,
    PlainText,
    /// A recognisable but unsupported scheme, e.g. `$apr1$` or `{SHA}`.
    UnknownScheme(String),
    Malformed(Scheme),
    CostOutOfRange {
        scheme: Scheme,
        cost: u64,
    },
    PasswordTooLong,
    /// The operating system's random generator failed.
    Random,
}

impl fmt::Display for HashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HashError::Empty => f.write_str("empty password hash"),
            HashError::PlainText => f.write_str("plain-text passwords are not accepted"),
            HashError::UnknownScheme(prefix) => {
                write!(f, "unknown password hash scheme \"{prefix}\"")
            }
            HashError::Malformed(scheme) => write!(f, "malformed {scheme} hash"),
            HashError::CostOutOfRange { scheme, cost } => {
                let (lo, hi) = scheme.cost_range();
                write!(
                    f,
                    "{scheme} {} {cost} is out of range ({lo} to {hi})",
                    scheme.cost_word()
                )
            }
            HashError::PasswordTooLong => {
                write!(f, "password is longer than {MAX_PASSWORD_LEN} bytes")
            }
            HashError::Random => f.write_str("cannot get random bytes from the system"),
        }
    }
}

impl std::error::Error for HashError {}

/// A validated password hash. Opaque so that only [`PasswordHash::parse`]
/// can make one; `Debug` shows the scheme and cost, never the hash, which is
/// crackable offline.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash {
    scheme: Scheme,
    cost: u32,
    text: String,
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHash")
            .field("scheme", &self.scheme)
            .field("cost", &self.cost)
            .finish_non_exhaustive()
    }
}

fn is_crypt64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'.' || b == b'/'
}

/// The scheme prefix worth quoting in an error, or `None` if `s` does not
/// look like a hash at all (so it may be a plain-text password, which must
/// not be printed even in part).
fn scheme_prefix(s: &str) -> Option<&str> {
    let (open, close, max) = match s.as_bytes().first()? {
        b'$' => (1, b'$', 8),
        b'{' => (1, b'}', 16),
        _ => return None,
    };
    let rest = s.as_bytes().get(open..)?;
    let len = rest.iter().position(|&b| b == close)?;
    let id = rest.get(..len)?;
    let shaped = (1..=max).contains(&len)
        && id
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if shaped {
        s.get(..open + len + 1)
    } else {
        None
    }
}

fn parse_bcrypt(s: &str) -> Result<u32, HashError> {
    let malformed = HashError::Malformed(Scheme::Bcrypt);
    let [b'$', b'2', b'a' | b'b' | b'y', b'$', c1, c2, b'$', rest @ ..] = s.as_bytes() else {
        return Err(malformed);
    };
    if !c1.is_ascii_digit() || !c2.is_ascii_digit() {
        return Err(malformed);
    }
    let cost = u32::from(c1 - b'0') * 10 + u32::from(c2 - b'0');
    let (lo, hi) = Scheme::Bcrypt.cost_range();
    if !(lo..=hi).contains(&cost) {
        return Err(HashError::CostOutOfRange {
            scheme: Scheme::Bcrypt,
            cost: cost.into(),
        });
    }
    // 22 characters of salt and 31 of digest.
    if rest.len() != 53 || !rest.iter().all(|&b| is_crypt64(b)) {
        return Err(malformed);
    }
    // The crate's own parser also rejects non-canonical base64 tails, which
    // would otherwise make a hash that no password can ever match.
    bcrypt::HashParts::from_str(s).map_err(|_| malformed)?;
    Ok(cost)
}

fn parse_sha_crypt(s: &str, scheme: Scheme) -> Result<u32, HashError> {
    let malformed = HashError::Malformed(scheme);
    let digest_len = match scheme {
        Scheme::ShaCrypt512 => 86,
        _ => 43,
    };
    let mut rest = s.get(3..).ok_or(malformed.clone())?;
    let mut rounds = Params::RECOMMENDED_ROUNDS;
    if let Some(r) = rest.strip_prefix("rounds=") {
        let (num, after) = r.split_once('$').ok_or(malformed.clone())?;
        // crypt(3) always writes the number it used, without leading zeros.
        let digits_ok = !num.is_empty()
            && num.len() <= 10
            && num.bytes().all(|b| b.is_ascii_digit())
            && !num.starts_with('0');
        if !digits_ok {
            return Err(malformed);
        }
        let n: u64 = num.parse().map_err(|_| malformed.clone())?;
        let (lo, hi) = scheme.cost_range();
        if n < lo.into() || n > hi.into() {
            return Err(HashError::CostOutOfRange { scheme, cost: n });
        }
        rounds = u32::try_from(n).map_err(|_| malformed.clone())?;
        rest = after;
    }
    let (salt, digest) = rest.split_once('$').ok_or(malformed.clone())?;
    if salt.is_empty() || salt.len() > 16 || !salt.bytes().all(is_crypt64) {
        return Err(malformed);
    }
    if digest.len() != digest_len || !digest.bytes().all(is_crypt64) {
        return Err(malformed);
    }
    let mut buf = [0u8; 64];
    match Base64ShaCrypt::decode(digest, &mut buf) {
        Ok(out) if out.len() == digest_len * 3 / 4 => {}
        _ => return Err(malformed),
    }
    sha_crypt::PasswordHashRef::new(s).map_err(|_| malformed)?;
    Ok(rounds)
}

impl PasswordHash {
    /// Parses and validates a hash as `htpasswd -B`, `openssl passwd -5/-6`
    /// or `mkpasswd` write it. Anything else is refused.
    pub fn parse(s: &str) -> Result<PasswordHash, HashError> {
        let scheme = if s.is_empty() {
            return Err(HashError::Empty);
        } else if s.starts_with("$2y$") || s.starts_with("$2b$") || s.starts_with("$2a$") {
            Scheme::Bcrypt
        } else if s.starts_with("$6$") {
            Scheme::ShaCrypt512
        } else if s.starts_with("$5$") {
            Scheme::ShaCrypt256
        } else {
            return Err(match scheme_prefix(s) {
                Some(prefix) => HashError::UnknownScheme(prefix.to_owned()),
                None => HashError::PlainText,
            });
        };
        let cost = match scheme {
            Scheme::Bcrypt => parse_bcrypt(s)?,
            _ => parse_sha_crypt(s, scheme)?,
        };
        Ok(PasswordHash {
            scheme,
            cost,
            text: s.to_owned(),
        })
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// bcrypt cost or SHA-crypt rounds.
    pub fn cost(&self) -> u32 {
        self.cost
    }

    /// The hash text, e.g. to write it out again.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True if `password` matches. The digests are compared in constant
    /// time by the `bcrypt` and `sha-crypt` crates (both use `subtle`-style
    /// comparisons), so only the hash cost shows in the timing.
    #[must_use]
    pub fn verify(&self, password: &[u8]) -> bool {
        if password.len() > MAX_PASSWORD_LEN {
            return false;
        }
        match self.scheme {
            Scheme::Bcrypt => bcrypt::verify(password, &self.text).unwrap_or(false),
            Scheme::ShaCrypt256 | Scheme::ShaCrypt512 => PasswordVerifier::<str>::verify_password(
                &ShaCrypt::default(),
                password,
                self.text.as_str(),
            )
            .is_ok(),
        }
    }

    /// A hash of a random password with the same scheme and cost: verifying
    /// against it costs what verifying a real user costs, which is what an
    /// unknown user name must cost too. Its result is never trusted, so it
    /// needs no secret; if anything fails it falls back to a copy of `self`,
    /// which costs the same.
    pub fn dummy_like(&self) -> PasswordHash {
        let mut password = [0u8; 16];
        let mut salt = [0u8; 16];
        if getrandom::fill(&mut password).is_err() || getrandom::fill(&mut salt).is_err() {
            password = *b"dash-auth-dummy!";
            salt = *b"dash-auth-salt!!";
        }
        hash_with_salt(self.scheme, &password, self.cost, salt)
            .and_then(|text| PasswordHash::parse(&text))
            .unwrap_or_else(|_| self.clone())
    }
}

impl FromStr for PasswordHash {
    type Err = HashError;

    fn from_str(s: &str) -> Result<PasswordHash, HashError> {
        PasswordHash::parse(s)
    }
}

fn check_cost(scheme: Scheme, cost: u32) -> Result<(), HashError> {
    let (lo, hi) = scheme.cost_range();
    if (lo..=hi).contains(&cost) {
        Ok(())
    } else {
        Err(HashError::CostOutOfRange {
            scheme,
            cost: cost.into(),
        })
    }
}

fn hash_with_salt(
    scheme: Scheme,
    password: &[u8],
    cost: u32,
    salt: [u8; 16],
) -> Result<String, HashError> {
    check_cost(scheme, cost)?;
    if password.len() > MAX_PASSWORD_LEN {
        return Err(HashError::PasswordTooLong);
    }
    match scheme {
        Scheme::Bcrypt => bcrypt::hash_with_salt(password, cost, salt)
            .map(|parts| parts.format_for_version(bcrypt::Version::TwoY))
            .map_err(|_| HashError::Malformed(scheme)),
        Scheme::ShaCrypt256 | Scheme::ShaCrypt512 => {
            let algorithm = match scheme {
                Scheme::ShaCrypt256 => Algorithm::Sha256Crypt,
                _ => Algorithm::Sha512Crypt,
            };
            let params = Params::new(cost).map_err(|_| HashError::CostOutOfRange {
                scheme,
                cost: cost.into(),
            })?;
            // 12 bytes encode to the 16-character maximum salt of crypt(3).
            let salt = salt.get(..12).unwrap_or_default();
            let hash: sha_crypt::PasswordHash = ShaCrypt::new(algorithm, params)
                .hash_password_with_salt(password, salt)
                .map_err(|_| HashError::Malformed(scheme))?;
            Ok(AsRef::<str>::as_ref(&hash).to_owned())
        }
    }
}

/// Hashes `password` with a random salt. `cost` is the bcrypt cost (4..=31,
/// [`Scheme::default_cost`] is 10) or the SHA-crypt rounds (1000..=999999999,
/// default 5000). bcrypt hashes use the `$2y$` prefix, like `htpasswd -B`.
pub fn generate(scheme: Scheme, password: &[u8], cost: u32) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| HashError::Random)?;
    hash_with_salt(scheme, password, cost, salt)
}

#[cfg(test)]
mod tests {
    use super::*;

    // From libxcrypt's crypt(3) (perl -e 'print crypt(...)') and
    // `openssl passwd -5/-6 -salt saltsalt`.
    const BCRYPT_2B_1234: &str = "$2b$04$abcdefghijklmnopqrstuuLmbu5vDTuG9XSinpEFXpa/UakZY.oz6";
    const BCRYPT_2A_1234: &str = "$2a$04$abcdefghijklmnopqrstuuLmbu5vDTuG9XSinpEFXpa/UakZY.oz6";
    const BCRYPT_2Y_1234: &str = "$2y$05$abcdefghijklmnopqrstuuV2lmZSlg12FQgc5cJlKcm9nBvnWgizO";
    const BCRYPT_2Y_123456: &str = "$2y$05$ABCDEFGHIJKLMNOPQRSTUuwcd06C815mNRw/uyRoGzSoVq0/8dC0C";
    const SHA512_1234: &str = "$6$saltsalt$/alWecYH7Ry7BmdtYwV3ObFkYwJ96i4zoGSMR09J7xkAoFGB7iwoQytRgpR6rkCCVBVNkvTdkdDjhKYVJ8L2T.";
    const SHA512_123456: &str = "$6$saltsalt$1exCt/dOPxcYhFKNrpFEJZM3XdbauNE1U6SSfdUbaG/VkuiiZ9y002RSRJzuNQ03V0IN9WSP0CpiOXuoSRVIU0";
    const SHA512_ROUNDS_1234: &str = "$6$rounds=10000$saltsalt$CQ0UsfsotLyWWqRF2khIexRdNw5ulFDG/iiBkLtpxkopexlkEWqOFrIEI1f91eaEBe8kqAqB/OF/tiStIYIhd/";
    const SHA256_1234: &str = "$5$saltsalt$wiWFCEWqey3YrlUTpFtWYuKI1sYlYqRc.E2MX.s1tbC";
    const SHA256_ROUNDS_1234: &str =
        "$5$rounds=10000$saltsalt$1PKrhl7GYvQZPXTszfn00dwsyhf3wQ6zkhATju5KHwD";

    fn h(s: &str) -> PasswordHash {
        PasswordHash::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn known_vectors() {
        let cases = [
            (BCRYPT_2B_1234, "1234", Scheme::Bcrypt, 4),
            (BCRYPT_2A_1234, "1234", Scheme::Bcrypt, 4),
            (BCRYPT_2Y_1234, "1234", Scheme::Bcrypt, 5),
            (BCRYPT_2Y_123456, "123456", Scheme::Bcrypt, 5),
            (SHA512_1234, "1234", Scheme::ShaCrypt512, 5000),
            (SHA512_123456, "123456", Scheme::ShaCrypt512, 5000),
            (SHA512_ROUNDS_1234, "1234", Scheme::ShaCrypt512, 10000),
            (SHA256_1234, "1234", Scheme::ShaCrypt256, 5000),
            (SHA256_ROUNDS_1234, "1234", Scheme::ShaCrypt256, 10000),
        ];
        for (text, password, scheme, cost) in cases {
            let hash = h(text);
            assert_eq!((hash.scheme(), hash.cost()), (scheme, cost), "{text}");
            assert_eq!(hash.as_str(), text);
            assert!(hash.verify(password.as_bytes()), "{text}");
            for wrong in ["", "123", "12345", "1234 ", "4321", "123456x"] {
                assert!(!hash.verify(wrong.as_bytes()), "{text} {wrong:?}");
            }
        }
    }

    #[test]
    fn generate_roundtrip() {
        for (scheme, cost) in [
            (Scheme::Bcrypt, 4),
            (Scheme::ShaCrypt256, 1000),
            (Scheme::ShaCrypt512, 1000),
            (Scheme::ShaCrypt512, 5000),
        ] {
            let text = generate(scheme, b"s3cr\xc3\xa9t:pw", cost).unwrap();
            let hash = h(&text);
            assert_eq!((hash.scheme(), hash.cost()), (scheme, cost));
            assert!(hash.verify(b"s3cr\xc3\xa9t:pw"));
            assert!(!hash.verify(b"s3cr\xc3\xa9t:pW"));
            // Two hashes of one password differ (random salt).
            assert_ne!(
                generate(scheme, b"x", cost).unwrap(),
                generate(scheme, b"x", cost).unwrap()
            );
        }
        assert!(generate(Scheme::Bcrypt, b"x", 4)
            .unwrap()
            .starts_with("$2y$04$"));
        assert!(generate(Scheme::ShaCrypt512, b"x", 1000)
            .unwrap()
            .starts_with("$6$rounds=1000$"));
        assert!(generate(Scheme::ShaCrypt256, b"x", 1000)
            .unwrap()
            .starts_with("$5$rounds=1000$"));
    }

    #[test]
    fn generate_errors() {
        assert_eq!(
            generate(Scheme::Bcrypt, b"x", 3),
            Err(HashError::CostOutOfRange {
                scheme: Scheme::Bcrypt,
                cost: 3
            })
        );
        assert!(generate(Scheme::Bcrypt, b"x", 32).is_err());
        assert!(generate(Scheme::ShaCrypt512, b"x", 999).is_err());
        assert!(generate(Scheme::ShaCrypt256, b"x", 1_000_000_000).is_err());
        assert_eq!(
            generate(Scheme::Bcrypt, &[b'a'; MAX_PASSWORD_LEN + 1], 4),
            Err(HashError::PasswordTooLong)
        );
    }

    #[test]
    fn long_passwords() {
        let hash = h(&generate(Scheme::Bcrypt, &[b'a'; 72], 4).unwrap());
        // bcrypt ignores everything after byte 72, like every bcrypt.
        assert!(hash.verify(&[b'a'; 73]));
        let long = [b'b'; MAX_PASSWORD_LEN];
        let hash = h(&generate(Scheme::ShaCrypt512, &long, 1000).unwrap());
        assert!(hash.verify(&long));
        let mut longer = long.to_vec();
        longer.push(b'b');
        assert!(!hash.verify(&longer));
    }

    #[test]
    fn dummy_like_matches_scheme_and_cost() {
        for text in [BCRYPT_2Y_1234, SHA512_ROUNDS_1234, SHA256_1234] {
            let hash = h(text);
            let dummy = hash.dummy_like();
            assert_eq!((dummy.scheme(), dummy.cost()), (hash.scheme(), hash.cost()));
            assert_ne!(dummy.as_str(), hash.as_str());
            assert!(!dummy.verify(b"1234"));
        }
    }

    #[test]
    fn rejected_schemes() {
        let cases: &[(&str, HashError)] = &[
            ("", HashError::Empty),
            ("1234", HashError::PlainText),
            ("hunter2", HashError::PlainText),
            ("rqXexS6ZhobKA", HashError::PlainText),
            ("$ecret", HashError::PlainText),
            ("$ecret with spaces$x", HashError::PlainText),
            ("$$", HashError::PlainText),
            ("{}", HashError::PlainText),
            ("{not a scheme}x", HashError::PlainText),
            ("$toolongid$x", HashError::PlainText),
            (
                "$apr1$abc$defghijklmnopqrstuvwx",
                HashError::UnknownScheme("$apr1$".into()),
            ),
            (
                "{SHA}cRDtpNCeBiql5KOQsKVyrA0sAiA=",
                HashError::UnknownScheme("{SHA}".into()),
            ),
            ("{SSHA}xyz", HashError::UnknownScheme("{SSHA}".into())),
            ("$1$saltsalt$abc", HashError::UnknownScheme("$1$".into())),
            ("$y$j9T$abc$def", HashError::UnknownScheme("$y$".into())),
            (
                "$argon2id$v=19$m=65536",
                HashError::UnknownScheme("$argon2id$".into()),
            ),
            (
                "$2x$04$abcdefghijklmnopqrstuuLmbu5vDTuG9XSinpEFXpa/UakZY.oz6",
                HashError::UnknownScheme("$2x$".into()),
            ),
            (
                "$2$04$abcdefghijklmnopqrstuuLmbu5vDTuG9XSinpEFXpa/UakZY.oz6",
                HashError::UnknownScheme("$2$".into()),
            ),
            ("$7$abc", HashError::UnknownScheme("$7$".into())),
        ];
        for (text, want) in cases {
            assert_eq!(PasswordHash::parse(text).as_ref(), Err(want), "{text:?}");
        }
    }

    #[test]
    fn malformed_bcrypt() {
        let good = BCRYPT_2Y_1234;
        let cases = [
            good[..59].to_string(),
            format!("{good}x"),
            format!("{good}\n"),
            good.replacen("$05$", "$5$", 1),
            good.replacen("$05$", "$x5$", 1),
            good.replacen("$05$", "$+5$", 1),
            good.replacen("$05$", "$05x", 1),
            good.replacen("V2lm", "V2l!", 1),
            good.replacen("V2lm", "V2l+", 1),
            good.replacen("V2lm", "V2l m", 1)[..60].to_string(),
            format!("{}é", &good[..58]),
            // Non-canonical last salt / digest characters.
            good.replacen("uuV", "uvV", 1),
            format!("{}P", &good[..59]),
        ];
        for text in &cases {
            assert_eq!(
                PasswordHash::parse(text),
                Err(HashError::Malformed(Scheme::Bcrypt)),
                "{text:?}"
            );
        }
        for (cost, n) in [("00", 0), ("03", 3), ("32", 32), ("99", 99)] {
            let text = good.replacen("$05$", &format!("${cost}$"), 1);
            assert_eq!(
                PasswordHash::parse(&text),
                Err(HashError::CostOutOfRange {
                    scheme: Scheme::Bcrypt,
                    cost: n
                })
            );
        }
    }

    #[test]
    fn malformed_sha_crypt() {
        let m512 = HashError::Malformed(Scheme::ShaCrypt512);
        let m256 = HashError::Malformed(Scheme::ShaCrypt256);
        let digest512 = &SHA512_1234[12..];
        let cases: Vec<(String, HashError)> = vec![
            ("$6$".into(), m512.clone()),
            ("$6$saltsalt".into(), m512.clone()),
            ("$6$saltsalt$".into(), m512.clone()),
            (format!("$6$${digest512}"), m512.clone()),
            (format!("$6$salt:salt${digest512}"), m512.clone()),
            (format!("$6$salt salt${digest512}"), m512.clone()),
            (format!("$6$salt+${digest512}"), m512.clone()),
            (format!("$6$0123456789abcdefg${digest512}"), m512.clone()),
            (format!("$6$saltsalt${}", &digest512[1..]), m512.clone()),
            (format!("$6$saltsalt${digest512}x"), m512.clone()),
            (format!("$6$saltsalt${digest512}$"), m512.clone()),
            (format!("$6$saltsalt${digest512}\n"), m512.clone()),
            (format!("$6$saltsalt${}", &SHA256_1234[12..]), m512.clone()),
            (format!("$6$rounds=$saltsalt${digest512}"), m512.clone()),
            (
                format!("$6$rounds=05000$saltsalt${digest512}"),
                m512.clone(),
            ),
            (
                format!("$6$rounds=+5000$saltsalt${digest512}"),
                m512.clone(),
            ),
            (
                format!("$6$rounds=5000x$saltsalt${digest512}"),
                m512.clone(),
            ),
            (format!("$6$rounds=5000${digest512}"), m512.clone()),
            (
                format!("$6$rounds=99999999999$saltsalt${digest512}"),
                m512.clone(),
            ),
            (
                format!("$6$rounds=999$saltsalt${digest512}"),
                HashError::CostOutOfRange {
                    scheme: Scheme::ShaCrypt512,
                    cost: 999,
                },
            ),
            (
                format!("$6$rounds=1000000000$saltsalt${digest512}"),
                HashError::CostOutOfRange {
                    scheme: Scheme::ShaCrypt512,
                    cost: 1_000_000_000,
                },
            ),
            ("$5$saltsalt$".into(), m256.clone()),
            (format!("$5$saltsalt${digest512}"), m256.clone()),
            (format!("{}x", SHA256_1234), m256.clone()),
        ];
        for (text, want) in cases {
            assert_eq!(PasswordHash::parse(&text), Err(want), "{text:?}");
        }
        // 86 characters carry 516 bits for 512: non-zero spare bits are
        // refused rather than accepted as a hash nothing can match.
        let last = SHA512_1234.as_bytes()[SHA512_1234.len() - 1];
        let mut tweaked = SHA512_1234.to_string();
        tweaked.pop();
        tweaked.push(if last == b'z' { 'y' } else { 'z' });
        assert_eq!(PasswordHash::parse(&tweaked), Err(m512));
    }

    #[test]
    fn messages_never_show_the_hash() {
        let e = PasswordHash::parse("$apr1$secretsalt$secretdigest").unwrap_err();
        assert_eq!(e.to_string(), "unknown password hash scheme \"$apr1$\"");
        let e = PasswordHash::parse("hunter2").unwrap_err();
        assert_eq!(e.to_string(), "plain-text passwords are not accepted");
        let e = PasswordHash::parse(&format!("{}x", SHA512_1234)).unwrap_err();
        assert_eq!(e.to_string(), "malformed SHA-512 crypt hash");
        let e = PasswordHash::parse(&BCRYPT_2Y_1234.replacen("$05$", "$03$", 1)).unwrap_err();
        assert_eq!(e.to_string(), "bcrypt cost 3 is out of range (4 to 31)");
        let dbg = format!("{:?}", h(SHA512_1234));
        assert!(!dbg.contains("saltsalt"), "{dbg}");
        assert!(dbg.contains("ShaCrypt512"), "{dbg}");
    }
}
