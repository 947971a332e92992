//! The users file: `name:hash[:sections]`, one user per line.
//!
//! It is htpasswd-compatible (a file made by `htpasswd -B` works, every user
//! then sees no section) with an optional third field listing the sections a
//! user may see, or `_all_`.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::grants::ALL;
use crate::hash::{HashError, PasswordHash};
use crate::password_check::HashJob;
use crate::section::{valid_section_name, Sections};

/// Longest user name accepted, in bytes.
pub const MAX_USER_LEN: usize = 256;

/// One user of the file.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    /// Canonical (lower-case) section names, or [`ALL`]; becomes the
    /// token's `allowed_resources`.
    pub sections: Vec<String>,
    hash: PasswordHash,
    /// 1-based line in the users file.
    line: usize,
}

impl User {
    pub fn hash(&self) -> &PasswordHash {
        &self.hash
    }

    #[must_use]
    pub fn verify(&self, password: &[u8]) -> bool {
        self.hash.verify(password)
    }

    /// Where the user is defined in the users file (1-based).
    pub fn line(&self) -> usize {
        self.line
    }
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .field("sections", &self.sections)
            .field("hash", &self.hash)
            .field("line", &self.line)
            .finish()
    }
}

/// What is wrong with a line (or the whole file, for [`UsersErrorKind::NoUsers`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsersErrorKind {
    NotUtf8,
    NoColon,
    EmptyName,
    /// Whitespace or control characters in the name, or too long.
    BadName,
    TooManyFields,
    Hash(HashError),
    /// An empty entry in the section list (`a,,b`, a trailing `,`, or `name:hash:`).
    EmptySection,
    BadSection(String),
    DuplicateUser {
        name: String,
        first_line: usize,
    },
    NoUsers,
}

impl fmt::Display for UsersErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsersErrorKind::NotUtf8 => f.write_str("line is not valid UTF-8"),
            UsersErrorKind::NoColon => f.write_str("no \":\" after the user name"),
            UsersErrorKind::EmptyName => f.write_str("empty user name"),
            UsersErrorKind::BadName => write!(
                f,
                "user name contains whitespace or control characters, or is longer than {MAX_USER_LEN} bytes"
            ),
            UsersErrorKind::TooManyFields => {
                f.write_str("too many fields, expected \"name:hash\" or \"name:hash:sections\"")
            }
            UsersErrorKind::Hash(e) => e.fmt(f),
            UsersErrorKind::EmptySection => f.write_str("empty section name"),
            UsersErrorKind::BadSection(s) => write!(
                f,
                "invalid section name \"{}\": use \"{ALL}\" or 1 to 64 ASCII letters, digits or \"_\"",
                s.escape_debug()
            ),
            UsersErrorKind::DuplicateUser { name, first_line } => {
                write!(f, "duplicate user \"{name}\", first defined on line {first_line}")
            }
            UsersErrorKind::NoUsers => f.write_str("no users in file"),
        }
    }
}

/// A parse error and its 1-based line number (0 for a whole-file error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsersFileError {
    pub line: usize,
    pub kind: UsersErrorKind,
}

impl fmt::Display for UsersFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            self.kind.fmt(f)
        } else {
            write!(f, "line {}: {}", self.line, self.kind)
        }
    }
}

impl std::error::Error for UsersFileError {}

/// [`UsersFile::load`] failed.
#[derive(Debug)]
pub enum LoadError {
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    Parse {
        path: PathBuf,
        error: UsersFileError,
    },
}

/// `No such file or directory`, without std's ` (os error 2)` suffix, which
/// reads oddly in an nginx log line.
pub(crate) fn io_message(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) if s.ends_with(')') => s.get(..i).unwrap_or(&s).to_owned(),
        _ => s,
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io { path, source } => {
                write!(
                    f,
                    "cannot read \"{}\": {}",
                    path.display(),
                    io_message(source)
                )
            }
            LoadError::Parse { path, error } if error.line == 0 => {
                write!(f, "\"{}\": {}", path.display(), error.kind)
            }
            LoadError::Parse { path, error } => {
                write!(
                    f,
                    "\"{}\", line {}: {}",
                    path.display(),
                    error.line,
                    error.kind
                )
            }
        }
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoadError::Io { source, .. } => Some(source),
            LoadError::Parse { error, .. } => Some(error),
        }
    }
}

/// Why [`UsersFile::authenticate`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    UnknownUser,
    WrongPassword,
}

impl fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthFailure::UnknownUser => "user not found",
            AuthFailure::WrongPassword => "password mismatch",
        })
    }
}

impl std::error::Error for AuthFailure {}

/// A user name as the file and the Basic header allow it: non-empty, at most
/// [`MAX_USER_LEN`] bytes, no `:`, no whitespace, no control characters (it
/// is logged and may be forwarded in a header).
pub fn valid_user_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_USER_LEN
        && !name
            .chars()
            .any(|c| c == ':' || c.is_whitespace() || c.is_control())
}

/// Parses the third field: comma-separated section names or `_all_`,
/// whitespace around entries ignored, returned canonical (lower-case) and
/// without repeats.
pub fn parse_sections(field: &str) -> Result<Vec<String>, UsersErrorKind> {
    let mut out: Vec<String> = Vec::new();
    // A set for the repeats: `out.contains` made a long list quadratic.
    let mut seen: HashSet<String> = HashSet::new();
    for entry in field.split(',') {
        let entry = entry.trim_matches([' ', '\t']);
        let canonical = if entry.is_empty() {
            return Err(UsersErrorKind::EmptySection);
        } else if entry.eq_ignore_ascii_case(ALL) {
            ALL.to_owned()
        } else if valid_section_name(entry) {
            entry.to_ascii_lowercase()
        } else {
            return Err(UsersErrorKind::BadSection(
                entry.chars().take(80).collect::<String>(),
            ));
        };
        if seen.insert(canonical.clone()) {
            out.push(canonical);
        }
    }
    Ok(out)
}

fn parse_line(line: &str, number: usize) -> Result<User, UsersErrorKind> {
    let mut fields = line.split(':');
    let name = fields.next().unwrap_or_default();
    let hash = fields.next().ok_or(UsersErrorKind::NoColon)?;
    let sections = fields.next();
    if fields.next().is_some() {
        return Err(UsersErrorKind::TooManyFields);
    }
    if name.is_empty() {
        return Err(UsersErrorKind::EmptyName);
    }
    if !valid_user_name(name) {
        return Err(UsersErrorKind::BadName);
    }
    let hash = PasswordHash::parse(hash).map_err(UsersErrorKind::Hash)?;
    let sections = match sections {
        Some(field) => parse_sections(field)?,
        None => Vec::new(),
    };
    Ok(User {
        name: name.to_owned(),
        sections,
        hash,
        line: number,
    })
}

/// All users, by name.
pub struct UsersFile {
    users: HashMap<String, User>,
    /// Verified against when the user is unknown, so that an unknown name
    /// costs as much as a wrong password and timing does not reveal which
    /// names exist.
    dummy: PasswordHash,
}

impl fmt::Debug for UsersFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UsersFile")
            .field("users", &self.users.len())
            .finish_non_exhaustive()
    }
}

impl UsersFile {
    /// Parses the whole file. Only syntax is checked (hashes included): no
    /// hash is computed except one, the dummy for unknown users.
    pub fn parse(text: &[u8]) -> Result<UsersFile, UsersFileError> {
        let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
        let mut users: HashMap<String, User> = HashMap::new();
        let mut first_hash: Option<PasswordHash> = None;
        for (index, raw) in text.split(|&b| b == b'\n').enumerate() {
            let number = index + 1;
            let err = |kind| UsersFileError { line: number, kind };
            let line = std::str::from_utf8(raw).map_err(|_| err(UsersErrorKind::NotUtf8))?;
            let line = line.strip_suffix('\r').unwrap_or(line);
            let line = line.trim_end_matches([' ', '\t']);
            let content = line.trim_start_matches([' ', '\t']);
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            let user = parse_line(line, number).map_err(err)?;
            if let Some(first) = users.get(&user.name) {
                return Err(err(UsersErrorKind::DuplicateUser {
                    name: user.name,
                    first_line: first.line,
                }));
            }
            if first_hash.is_none() {
                first_hash = Some(user.hash.clone());
            }
            users.insert(user.name.clone(), user);
        }
        let dummy = match first_hash {
            Some(hash) => hash.dummy_like(),
            None => {
                return Err(UsersFileError {
                    line: 0,
                    kind: UsersErrorKind::NoUsers,
                })
            }
        };
        users.shrink_to_fit();
        Ok(UsersFile { users, dummy })
    }

    /// Reads and parses `path`; errors name the file.
    pub fn load(path: impl AsRef<Path>) -> Result<UsersFile, LoadError> {
        let path = path.as_ref();
        let text = std::fs::read(path).map_err(|source| LoadError::Io {
            path: path.to_owned(),
            source,
        })?;
        UsersFile::parse(&text).map_err(|error| LoadError::Parse {
            path: path.to_owned(),
            error,
        })
    }

    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Never true for a parsed file (an empty one is an error); here for
    /// symmetry with `len`.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    pub fn get(&self, name: &str) -> Option<&User> {
        self.users.get(name)
    }

    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.users.values()
    }

    /// Sections granted to some user that are not configured: harmless, but
    /// usually a typo worth a warning at startup.
    pub fn unknown_sections(&self, sections: &Sections) -> BTreeSet<String> {
        self.users
            .values()
            .flat_map(|u| u.sections.iter())
            .filter(|s| s.as_str() != ALL && sections.canonical(s.as_bytes()).is_none())
            .cloned()
            .collect()
    }

    /// Checks a user name and password. An unknown user still costs one full
    /// hash verification (against a dummy of the same scheme and cost as the
    /// file's first user), so the two failures take the same time.
    pub fn authenticate(&self, user: &str, password: &[u8]) -> Result<&User, AuthFailure> {
        match self.users.get(user) {
            Some(u) if u.hash.verify(password) => Ok(u),
            Some(_) => Err(AuthFailure::WrongPassword),
            None => {
                // black_box: the result is unused, and the work must not be
                // optimised away.
                std::hint::black_box(self.dummy.verify(std::hint::black_box(password)));
                Err(AuthFailure::UnknownUser)
            }
        }
    }

    /// The check [`authenticate`](UsersFile::authenticate) makes, as a job
    /// to run on another thread: against the user's hash, or the dummy.
    pub fn job(&self, user: &str, password: &[u8]) -> HashJob {
        match self.users.get(user) {
            Some(u) => HashJob::new(user, password, u.hash.clone(), true),
            None => HashJob::new(user, password, self.dummy.clone(), false),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    // libxcrypt vectors: mica / 1234 and mike / 123456, bcrypt cost 5.
    pub(crate) const MICA: &str = "$2y$05$abcdefghijklmnopqrstuuV2lmZSlg12FQgc5cJlKcm9nBvnWgizO";
    pub(crate) const MIKE: &str = "$2y$05$ABCDEFGHIJKLMNOPQRSTUuwcd06C815mNRw/uyRoGzSoVq0/8dC0C";
    const SHA512_1234: &str = "$6$saltsalt$/alWecYH7Ry7BmdtYwV3ObFkYwJ96i4zoGSMR09J7xkAoFGB7iwoQytRgpR6rkCCVBVNkvTdkdDjhKYVJ8L2T.";

    pub(crate) fn demo_file() -> String {
        format!(
            "# demo users\n\
             mica:{MICA}:_all_\n\
             \n\
             mike:{MIKE}:marketing\n"
        )
    }

    fn parse(text: &str) -> Result<UsersFile, UsersFileError> {
        UsersFile::parse(text.as_bytes())
    }

    #[test]
    fn demo_users() {
        let users = parse(&demo_file()).unwrap();
        assert_eq!(users.len(), 2);
        assert!(!users.is_empty());
        let mica = users.authenticate("mica", b"1234").unwrap();
        assert_eq!(mica.name, "mica");
        assert_eq!(mica.sections, ["_all_"]);
        let mike = users.authenticate("mike", b"123456").unwrap();
        assert_eq!(mike.sections, ["marketing"]);
        assert_eq!(
            users.authenticate("mike", b"1234").unwrap_err(),
            AuthFailure::WrongPassword
        );
        assert_eq!(
            users.authenticate("mica", b"").unwrap_err(),
            AuthFailure::WrongPassword
        );
        assert_eq!(
            users.authenticate("Mica", b"1234").unwrap_err(),
            AuthFailure::UnknownUser
        );
        assert_eq!(
            users.authenticate("nobody", b"1234").unwrap_err(),
            AuthFailure::UnknownUser
        );
        assert_eq!(
            users.authenticate("", b"").unwrap_err(),
            AuthFailure::UnknownUser
        );
        assert_eq!(AuthFailure::UnknownUser.to_string(), "user not found");
        assert_eq!(AuthFailure::WrongPassword.to_string(), "password mismatch");
    }

    #[test]
    fn dummy_has_the_first_users_cost() {
        let users = parse(&demo_file()).unwrap();
        assert_eq!(users.dummy.scheme(), crate::hash::Scheme::Bcrypt);
        assert_eq!(users.dummy.cost(), 5);
    }

    #[test]
    fn accepted_syntax() {
        let text = format!(
            "\u{feff}# comment\r\n\
             \t  # indented comment\n\
             \r\n\
             \t \n\
             a:{MICA}\r\n\
             b:{MIKE}:hr\t \r\n\
             c:{SHA512_1234}: hr , Marketing,HR,_ALL_ \n\
             jürgen@example.com:{MICA}:x_1\n\
             last:{MICA}"
        );
        let users = parse(&text).unwrap();
        assert_eq!(users.len(), 5);
        assert!(users.get("a").unwrap().sections.is_empty());
        assert_eq!(users.get("b").unwrap().sections, ["hr"]);
        assert_eq!(
            users.get("c").unwrap().sections,
            ["hr", "marketing", "_all_"]
        );
        assert_eq!(users.get("jürgen@example.com").unwrap().sections, ["x_1"]);
        assert!(users.get("last").is_some());
        assert!(users.authenticate("c", b"1234").is_ok());
    }

    #[test]
    fn errors_with_line_numbers() {
        let ok = format!("ok:{MICA}:hr\n");
        let cases: Vec<(String, usize, UsersErrorKind)> = vec![
            ("mica".into(), 1, UsersErrorKind::NoColon),
            (format!("{ok}# c\n\nmica"), 4, UsersErrorKind::NoColon),
            (format!(":{MICA}"), 1, UsersErrorKind::EmptyName),
            (format!(" mica:{MICA}"), 1, UsersErrorKind::BadName),
            (format!("mi ca:{MICA}"), 1, UsersErrorKind::BadName),
            (format!("mi\u{0}ca:{MICA}"), 1, UsersErrorKind::BadName),
            (format!("mi\u{a0}ca:{MICA}"), 1, UsersErrorKind::BadName),
            (
                format!("{}:{MICA}", "a".repeat(MAX_USER_LEN + 1)),
                1,
                UsersErrorKind::BadName,
            ),
            (
                format!("{ok}mica:{MICA}:hr:x"),
                2,
                UsersErrorKind::TooManyFields,
            ),
            (format!("mica:{MICA}::"), 1, UsersErrorKind::TooManyFields),
            (
                "mica:1234".into(),
                1,
                UsersErrorKind::Hash(HashError::PlainText),
            ),
            ("mica:".into(), 1, UsersErrorKind::Hash(HashError::Empty)),
            (
                format!("{ok}{ok}"),
                2,
                UsersErrorKind::DuplicateUser {
                    name: "ok".into(),
                    first_line: 1,
                },
            ),
            (
                format!("{ok}\n# x\nok:{MIKE}"),
                4,
                UsersErrorKind::DuplicateUser {
                    name: "ok".into(),
                    first_line: 1,
                },
            ),
            (
                format!("{ok}x:$apr1$abc$def"),
                2,
                UsersErrorKind::Hash(HashError::UnknownScheme("$apr1$".into())),
            ),
            (
                "x:{SHA}cRDtpNCeBiql5KOQsKVyrA0sAiA=".to_string(),
                1,
                UsersErrorKind::Hash(HashError::UnknownScheme("{SHA}".into())),
            ),
            (
                format!("x:{MICA}x"),
                1,
                UsersErrorKind::Hash(HashError::Malformed(crate::hash::Scheme::Bcrypt)),
            ),
            (format!("x:{MICA}:"), 1, UsersErrorKind::EmptySection),
            (format!("x:{MICA}:hr,"), 1, UsersErrorKind::EmptySection),
            (
                format!("x:{MICA}:hr,,marketing"),
                1,
                UsersErrorKind::EmptySection,
            ),
            (format!("x:{MICA}: , "), 1, UsersErrorKind::EmptySection),
            (
                format!("x:{MICA}:h-r"),
                1,
                UsersErrorKind::BadSection("h-r".into()),
            ),
            (
                format!("x:{MICA}:hr marketing"),
                1,
                UsersErrorKind::BadSection("hr marketing".into()),
            ),
        ];
        for (text, line, kind) in cases {
            assert_eq!(
                parse(&text).err(),
                Some(UsersFileError { line, kind }),
                "{text:?}"
            );
        }
        // Non-UTF-8 on line 2.
        let mut bytes = ok.clone().into_bytes();
        bytes.extend_from_slice(b"m\xffca:x\n");
        assert_eq!(
            UsersFile::parse(&bytes).err(),
            Some(UsersFileError {
                line: 2,
                kind: UsersErrorKind::NotUtf8
            })
        );
    }

    #[test]
    fn no_users() {
        for text in ["", "\n", "# only a comment\n", "  \r\n\t\n"] {
            let err = parse(text).err().unwrap();
            assert_eq!(
                err,
                UsersFileError {
                    line: 0,
                    kind: UsersErrorKind::NoUsers
                }
            );
            assert_eq!(err.to_string(), "no users in file");
        }
    }

    #[test]
    fn messages_never_show_secrets() {
        let err = parse("a:1234\nb:$apr1$salt$digest").err().unwrap();
        assert_eq!(
            err.to_string(),
            "line 1: plain-text passwords are not accepted"
        );
        let err = parse(&format!("a:{MICA}\nb:$apr1$salt$digest"))
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "line 2: unknown password hash scheme \"$apr1$\""
        );
        let dbg = format!("{:?}", parse(&demo_file()).unwrap().get("mica").unwrap());
        assert!(!dbg.contains(MICA), "{dbg}");
    }

    #[test]
    fn load_errors() {
        let dir = std::env::temp_dir().join(format!("dash-auth-users-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing");
        let err = UsersFile::load(&missing).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "cannot read \"{}\": No such file or directory",
                missing.display()
            )
        );
        let bad = dir.join("bad");
        std::fs::write(&bad, format!("a:{MICA}\n\nb:1234\n")).unwrap();
        let err = UsersFile::load(&bad).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "\"{}\", line 3: plain-text passwords are not accepted",
                bad.display()
            )
        );
        let empty = dir.join("empty");
        std::fs::write(&empty, "").unwrap();
        assert_eq!(
            UsersFile::load(&empty).unwrap_err().to_string(),
            format!("\"{}\": no users in file", empty.display())
        );
        let good = dir.join("good");
        std::fs::write(&good, demo_file()).unwrap();
        assert_eq!(UsersFile::load(&good).unwrap().len(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unknown_sections_are_reported() {
        let users = parse(&format!("a:{MICA}:hr,typo\nb:{MIKE}:_all_\nc:{MIKE}:Other")).unwrap();
        let sections = Sections::new(["hr", "marketing"]).unwrap();
        let unknown: Vec<_> = users.unknown_sections(&sections).into_iter().collect();
        assert_eq!(unknown, ["other", "typo"]);
    }

    #[test]
    fn hundred_thousand_users() {
        let mut text = String::with_capacity(100_000 * 80);
        for i in 0..100_000 {
            text.push_str(&format!("user{i}:{MICA}:s{}\n", i % 50));
        }
        let started = std::time::Instant::now();
        let users = parse(&text).unwrap();
        // Informational only (`--nocapture`): timing asserts are flaky.
        eprintln!("parsed 100000 users in {:?}", started.elapsed());
        assert_eq!(users.len(), 100_000);
        assert_eq!(users.get("user99999").unwrap().sections, ["s49"]);
    }
}
