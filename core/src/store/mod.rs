//! The optional Redis store that several nginx instances share: logout
//! cut-offs and login failure counts travel through it, so that a logout
//! on one instance ends the session on all of them and guesses spread over
//! instances meet one limit.
//!
//! The request path never waits on it. Logouts and failures are recorded
//! in the local zone as without Redis, and also put in the [`outbox`]; each
//! worker process's [`Client`] takes them from there on its timer, writes
//! them to Redis, polls the other instances' logouts and hands back
//! [`Merge`]s that [`apply`] writes into the local zone. The glue only
//! moves bytes between the client and a non-blocking socket.
//!
//! Keys (under the configured prefix, `dash_auth:` by default):
//! - `revoked`: sorted set, member = user name, score = cut-off (Unix
//!   seconds); members older than the token lifetime are pruned and the
//!   key expires with it. Read (`ZSCAN`, by pages) at start-up and after a reconnect.
//! - `events`: stream, capped and expiring with the token lifetime, polled
//!   for what happened since: a logout (`u` user, `c` cut-off), or a
//!   failure count that reached its limit (`k` = `user`, `addr` or `pair`,
//!   `u`, `a` address, `n` limit, `w` window, `d` cool-down), sent by the
//!   instance whose failure reached it, so that every instance blocks.
//! - `fail:user:<user>`, `fail:addr:<address>`, `fail:pair:<address>/<user>`:
//!   failure counts, expiring with the failure window.

pub mod outbox;
pub mod resp;

use std::collections::{BTreeMap, VecDeque};

use zeroize::Zeroizing;

use crate::plan::{Level, Log};
use crate::rate_limit::{Attempts, Limit, Subject};
use crate::revocation::Revocations;
use crate::shared_table::Table;
use resp::Value;

/// How often the glue's timer runs [`Client::tick`]: the outbox's delay.
pub const TICK_MS: u64 = 50;
/// How often the other instances' logouts are polled.
pub const POLL_MS: u64 = 200;
/// A reply (or a connection) not there within this is an outage.
pub const DEFAULT_TIMEOUT_MS: u64 = 1000;
pub const DEFAULT_PREFIX: &str = "dash_auth:";
pub const DEFAULT_PORT: u16 = 6379;

const BACKOFF_MIN_MS: u64 = 100;
const BACKOFF_MAX_MS: u64 = 3000;
/// Own logouts remembered for replay; beyond, the oldest are forgotten
/// (they still hold in the local zone).
const MAX_OWN: usize = 100_000;
/// Failure events kept while Redis is away.
const MAX_QUEUED: usize = 4096;
/// Commands awaiting a reply before the connection counts as stuck.
const MAX_PENDING: usize = 65_536;
/// Members asked for per page of the start-up load.
const SCAN_BATCH: &str = "1000";
/// Stream entries read per poll.
const READ_BATCH: usize = 1000;
/// The `events` stream's approximate cap.
const STREAM_CAP: &str = "100000";

/// Waits before reconnect attempt number `failures + 1`.
pub fn backoff_ms(failures: u32) -> u64 {
    BACKOFF_MIN_MS
        .saturating_mul(1u64 << failures.min(16))
        .min(BACKOFF_MAX_MS)
}

/// The `dash_auth_redis` directive, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub host: String,
    pub port: u16,
    pub prefix: String,
    pub password_file: Option<String>,
    pub timeout: Option<String>,
    /// `tls`: the connection is TLS, verified against this file of CA
    /// certificates (required), for this name (the host by default).
    pub tls: Option<TlsDirective>,
}

/// `tls tls_trusted_certificate=file [tls_name=name]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsDirective {
    pub trusted_certificate: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectiveError {
    Address(String),
    Parameter(String),
    Prefix(String),
    /// `tls` without `tls_trusted_certificate=`: a server that is not
    /// verified is not trusted.
    TlsUnverified,
    /// A `tls_…` parameter without `tls`.
    TlsOff(String),
}

impl std::fmt::Display for DirectiveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Address(a) => write!(f, "has invalid address \"{a}\", expected host[:port]"),
            Self::Parameter(p) => write!(f, "has invalid parameter \"{p}\""),
            Self::Prefix(p) => write!(
                f,
                "has invalid prefix \"{p}\", it must be printable ASCII without spaces"
            ),
            Self::TlsUnverified => f.write_str(
                "has \"tls\" without \"tls_trusted_certificate=file\": the server's certificate must be verified",
            ),
            Self::TlsOff(p) => write!(f, "has \"{p}\" without \"tls\""),
        }
    }
}

/// Parses `address [prefix=...] [password_file=...] [timeout=...]`.
pub fn parse_directive(args: &[&str]) -> Result<Directive, DirectiveError> {
    let Some((addr, rest)) = args.split_first() else {
        return Err(DirectiveError::Address(String::new()));
    };
    let (host, port) = parse_address(addr)?;
    let mut d = Directive {
        host,
        port,
        prefix: DEFAULT_PREFIX.to_owned(),
        password_file: None,
        timeout: None,
        tls: None,
    };
    let (mut tls, mut trusted, mut name) = (false, None, None);
    for a in rest {
        if *a == "tls" {
            tls = true;
            continue;
        }
        match a.split_once('=') {
            Some(("tls_trusted_certificate", f)) if !f.is_empty() => trusted = Some(f.to_owned()),
            Some(("tls_name", n))
                if !n.is_empty()
                    && n.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)) =>
            {
                name = Some(n.to_owned())
            }
            Some(("prefix", p)) => {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(DirectiveError::Prefix(p.to_owned()));
                }
                d.prefix = p.to_owned();
            }
            Some(("password_file", p)) if !p.is_empty() => d.password_file = Some(p.to_owned()),
            Some(("timeout", t)) if !t.is_empty() => d.timeout = Some(t.to_owned()),
            _ => return Err(DirectiveError::Parameter((*a).to_owned())),
        }
    }
    match (tls, trusted) {
        (true, Some(trusted_certificate)) => {
            d.tls = Some(TlsDirective {
                trusted_certificate,
                name: name.unwrap_or_else(|| d.host.clone()),
            })
        }
        (true, None) => return Err(DirectiveError::TlsUnverified),
        (false, Some(_)) => return Err(DirectiveError::TlsOff("tls_trusted_certificate".into())),
        (false, None) if name.is_some() => return Err(DirectiveError::TlsOff("tls_name".into())),
        (false, None) => {}
    }
    Ok(d)
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn parse_address(a: &str) -> Result<(String, u16), DirectiveError> {
    let bad = || DirectiveError::Address(a.to_owned());
    let (host, port) = if let Some(rest) = a.strip_prefix('[') {
        let (h, tail) = rest.split_once(']').ok_or_else(bad)?;
        match tail {
            "" => (h, None),
            t => (h, Some(t.strip_prefix(':').ok_or_else(bad)?)),
        }
    } else {
        match a.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (a, None),
        }
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:_".contains(&b));
    if !host_ok || a.starts_with("unix:") {
        return Err(bad());
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(bad)?
        }
        Some(_) => return Err(bad()),
    };
    Ok((host.to_owned(), port))
}

/// Whose failures a count is about, owned (see [`Subject`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    User(String),
    Address(Vec<u8>),
    UserAt(String, Vec<u8>),
}

impl From<Subject<'_>> for Who {
    fn from(s: Subject<'_>) -> Who {
        match s {
            Subject::User(u) => Who::User(u.to_owned()),
            Subject::Address(a) => Who::Address(a.to_vec()),
            Subject::UserAt(u, a) => Who::UserAt(u.to_owned(), a.to_vec()),
        }
    }
}

impl Who {
    pub fn subject(&self) -> Subject<'_> {
        match self {
            Who::User(u) => Subject::User(u),
            Who::Address(a) => Subject::Address(a),
            Who::UserAt(u, a) => Subject::UserAt(u, a),
        }
    }

    /// The key's name after the prefix. An address has no `/`, and comes
    /// first, so the pair's key cannot be read two ways.
    fn key(&self, prefix: &[u8]) -> Vec<u8> {
        let mut k = prefix.to_vec();
        match self {
            Who::User(u) => {
                k.extend_from_slice(b"fail:user:");
                k.extend_from_slice(u.as_bytes());
            }
            Who::Address(a) => {
                k.extend_from_slice(b"fail:addr:");
                k.extend_from_slice(a);
            }
            Who::UserAt(u, a) => {
                k.extend_from_slice(b"fail:pair:");
                k.extend_from_slice(a);
                k.push(b'/');
                k.extend_from_slice(u.as_bytes());
            }
        }
        k
    }
}

/// What the request path leaves for the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A logout recorded `cutoff` for `user` in the local zone.
    Revoked { user: String, cutoff: u64 },
    /// One failed login counted against `who` at `at`.
    Failed { who: Who, limit: Limit, at: u64 },
    /// A successful login cleared `who`'s count.
    Cleared { who: Who },
}

/// What Redis says that the local zone should hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merge {
    /// A cut-off some instance recorded.
    Cutoff { user: String, cutoff: u64 },
    /// The count of `who` over every instance, right after one more.
    Count { who: Who, count: u64, limit: Limit },
}

/// Writes a merge into the zone's tables. `horizon` is the longest token
/// lifetime (see [`crate::Policy::token_horizon`]). A count that reaches the
/// limit through other instances starts a block here too, and is logged.
pub fn apply(
    merge: &Merge,
    revocations: Option<Table<'_>>,
    attempts: Option<Table<'_>>,
    horizon: u64,
    now: u64,
) -> Option<Log> {
    match merge {
        Merge::Cutoff { user, cutoff } => {
            let recorded =
                revocations.is_some_and(|t| Revocations(t).merge(user, *cutoff, horizon, now));
            (!recorded).then(|| {
                Log::user(
                    Level::Error,
                    user,
                    "logout from another instance not recorded, \"dash_auth_zone\" is full; enlarge it",
                )
            })
        }
        Merge::Count { who, count, limit } => {
            let table = attempts?;
            let a = Attempts {
                table,
                limit: *limit,
            };
            a.absorb(who.subject(), *count, now).then(|| {
                let text = match who {
                    Who::User(u) => format!("login failures for user \"{u}\" reached the limit across instances"),
                    Who::Address(addr) => format!(
                        "login failures from client address {} reached the limit across instances",
                        String::from_utf8_lossy(addr)
                    ),
                    Who::UserAt(u, addr) => format!(
                        "login failures for user \"{u}\" from client address {} reached the limit across instances",
                        String::from_utf8_lossy(addr)
                    ),
                };
                Log {
                    level: Level::Warn,
                    text,
                }
            })
        }
    }
}

/// The store's settings for one worker.
pub struct Settings {
    /// `host:port`, for log lines.
    pub name: String,
    pub prefix: String,
    pub password: Option<Zeroizing<Vec<u8>>>,
    pub timeout_ms: u64,
    /// The longest token lifetime of any location: how long cut-offs live.
    pub horizon: u64,
}

/// What the reply to each command sent means.
#[derive(Debug)]
enum Expect {
    Auth,
    Ack,
    LastId,
    Scan,
    Poll,
    Count { who: Who, limit: Limit },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No connection; the next attempt is due at `retry_at` (ms).
    Down { retry_at: u64 },
    /// A connect was started; given up at `deadline`.
    Connecting { deadline: u64 },
    /// Connected; commands flow.
    Up,
}

/// What the glue does after a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Nothing,
    /// Start a connection, then call [`Client::connected`] or [`Client::failed`].
    Connect,
    /// Close the connection: the client has counted it as failed.
    Close,
}

/// What the glue does after bytes arrived.
#[derive(Debug, Default)]
pub struct Received {
    pub merges: Vec<Merge>,
    pub log: Option<Log>,
    /// The connection is to be closed: the client has counted it as failed.
    pub close: bool,
}

/// One worker's connection to Redis, as a state machine without I/O.
pub struct Client {
    settings: Settings,
    state: State,
    /// Failed attempts since the last good reply, for the backoff.
    failures: u32,
    /// An outage was logged and has not ended: no more lines until it does.
    in_outage: bool,
    out: Vec<u8>,
    input: Vec<u8>,
    expects: VecDeque<(Expect, u64)>,
    /// The newest `events` entry seen; `None` until the load is done.
    last_id: Option<Vec<u8>>,
    polling: bool,
    next_poll: u64,
    /// This worker's logouts still live: replayed on every connect, so
    /// that Redis has them even after an outage or a restart without
    /// persistence.
    own: BTreeMap<String, u64>,
    /// Failure events waiting for a connection.
    queued: VecDeque<Event>,
}

impl Client {
    pub fn new(settings: Settings) -> Client {
        Client {
            settings,
            state: State::Down { retry_at: 0 },
            failures: 0,
            in_outage: false,
            out: Vec::new(),
            input: Vec::new(),
            expects: VecDeque::new(),
            last_id: None,
            polling: false,
            next_poll: 0,
            own: BTreeMap::new(),
            queued: VecDeque::new(),
        }
    }

    pub fn is_up(&self) -> bool {
        self.state == State::Up
    }

    /// Bytes to write to the socket; [`Client::consumed`] says how many went.
    pub fn output(&self) -> &[u8] {
        &self.out
    }

    pub fn consumed(&mut self, n: usize) {
        self.out.drain(..n.min(self.out.len()));
    }

    /// Runs every [`TICK_MS`] with the events taken from the outbox.
    pub fn tick(&mut self, now_ms: u64, now: u64, events: Vec<Event>) -> (Action, Option<Log>) {
        for e in events {
            self.take(e, now_ms, now);
        }
        match self.state {
            State::Down { retry_at } if now_ms >= retry_at => {
                self.state = State::Connecting {
                    deadline: now_ms.saturating_add(self.settings.timeout_ms),
                };
                (Action::Connect, None)
            }
            State::Connecting { deadline } if now_ms >= deadline => {
                (Action::Close, self.failed(now_ms, "connection timed out"))
            }
            State::Up => {
                let stale = self.expects.front().is_some_and(|(_, sent)| {
                    now_ms >= sent.saturating_add(self.settings.timeout_ms)
                });
                if stale {
                    return (Action::Close, self.failed(now_ms, "reply timed out"));
                }
                if self.expects.len() > MAX_PENDING {
                    return (
                        Action::Close,
                        self.failed(now_ms, "too many replies outstanding"),
                    );
                }
                if self.last_id.is_some() && !self.polling && now_ms >= self.next_poll {
                    self.poll(now_ms);
                }
                (Action::Nothing, None)
            }
            _ => (Action::Nothing, None),
        }
    }

    fn take(&mut self, e: Event, now_ms: u64, now: u64) {
        match e {
            Event::Revoked { user, cutoff } => {
                if self.state == State::Up {
                    self.send_revocation(&user, cutoff, now_ms, now);
                }
                self.remember(user, cutoff, now);
            }
            other => {
                if self.state == State::Up {
                    self.send_count(&other, now_ms);
                } else {
                    if self.queued.len() >= MAX_QUEUED {
                        self.queued.pop_front();
                    }
                    self.queued.push_back(other);
                }
            }
        }
    }

    fn remember(&mut self, user: String, cutoff: u64, now: u64) {
        let horizon = self.settings.horizon;
        let slot = self.own.entry(user).or_insert(0);
        *slot = (*slot).max(cutoff);
        if self.own.len() > MAX_OWN {
            self.own.retain(|_, c| c.saturating_add(horizon) >= now);
            while self.own.len() > MAX_OWN {
                // The oldest cut-off goes first.
                let oldest = self
                    .own
                    .iter()
                    .min_by_key(|(_, c)| **c)
                    .map(|(u, _)| u.clone());
                match oldest {
                    Some(u) => {
                        self.own.remove(&u);
                    }
                    None => break,
                }
            }
        }
    }

    fn key(&self, name: &str) -> Vec<u8> {
        [self.settings.prefix.as_bytes(), name.as_bytes()].concat()
    }

    fn send(&mut self, args: &[&[u8]], expect: Expect, now_ms: u64) {
        resp::encode(&mut self.out, args);
        self.expects.push_back((expect, now_ms));
    }

    fn send_revocation(&mut self, user: &str, cutoff: u64, now_ms: u64, now: u64) {
        let (revoked, logouts) = (self.key("revoked"), self.key("events"));
        let h = self.settings.horizon.to_string();
        let c = cutoff.to_string();
        let oldest = format!("({}", now.saturating_sub(self.settings.horizon));
        self.send(
            &[b"ZADD", &revoked, b"GT", c.as_bytes(), user.as_bytes()],
            Expect::Ack,
            now_ms,
        );
        self.send(
            &[b"ZREMRANGEBYSCORE", &revoked, b"-inf", oldest.as_bytes()],
            Expect::Ack,
            now_ms,
        );
        self.send(&[b"EXPIRE", &revoked, h.as_bytes()], Expect::Ack, now_ms);
        self.send(
            &[
                b"XADD",
                &logouts,
                b"MAXLEN",
                b"~",
                STREAM_CAP.as_bytes(),
                b"*",
                b"u",
                user.as_bytes(),
                b"c",
                c.as_bytes(),
            ],
            Expect::Ack,
            now_ms,
        );
        self.send(&[b"EXPIRE", &logouts, h.as_bytes()], Expect::Ack, now_ms);
    }

    fn send_count(&mut self, e: &Event, now_ms: u64) {
        let prefix = self.settings.prefix.as_bytes().to_vec();
        match e {
            Event::Failed { who, limit, .. } => {
                let key = who.key(&prefix);
                let w = limit.window.to_string();
                self.send(
                    &[b"INCR", &key],
                    Expect::Count {
                        who: who.clone(),
                        limit: *limit,
                    },
                    now_ms,
                );
                // NX: the window runs from the first failure, as locally.
                self.send(&[b"EXPIRE", &key, w.as_bytes(), b"NX"], Expect::Ack, now_ms);
            }
            Event::Cleared { who } => {
                let key = who.key(&prefix);
                self.send(&[b"DEL", &key], Expect::Ack, now_ms);
            }
            Event::Revoked { .. } => {}
        }
    }

    /// Tells every instance that `who` reached the limit: only the
    /// instance whose failure made the count exactly the limit sends it.
    fn send_block(&mut self, who: &Who, limit: &Limit, now_ms: u64) {
        let events = self.key("events");
        let h = self.settings.horizon.to_string();
        let (kind, user, addr): (&[u8], &[u8], &[u8]) = match who {
            Who::User(u) => (b"user", u.as_bytes(), b""),
            Who::Address(a) => (b"addr", b"", a),
            Who::UserAt(u, a) => (b"pair", u.as_bytes(), a),
        };
        let (n, w, d) = (
            limit.max_failures.to_string(),
            limit.window.to_string(),
            limit.cooldown.to_string(),
        );
        self.send(
            &[
                b"XADD",
                &events,
                b"MAXLEN",
                b"~",
                STREAM_CAP.as_bytes(),
                b"*",
                b"k",
                kind,
                b"u",
                user,
                b"a",
                addr,
                b"n",
                n.as_bytes(),
                b"w",
                w.as_bytes(),
                b"d",
                d.as_bytes(),
            ],
            Expect::Ack,
            now_ms,
        );
        self.send(&[b"EXPIRE", &events, h.as_bytes()], Expect::Ack, now_ms);
    }

    /// One page of the start-up load: pages keep each reply small, so
    /// that no read parses megabytes on the event loop.
    fn send_scan(&mut self, cursor: &[u8], now_ms: u64) {
        let revoked = self.key("revoked");
        self.send(
            &[b"ZSCAN", &revoked, cursor, b"COUNT", SCAN_BATCH.as_bytes()],
            Expect::Scan,
            now_ms,
        );
    }

    fn poll(&mut self, now_ms: u64) {
        let Some(id) = self.last_id.clone() else {
            return;
        };
        let logouts = self.key("events");
        let n = READ_BATCH.to_string();
        self.send(
            &[b"XREAD", b"COUNT", n.as_bytes(), b"STREAMS", &logouts, &id],
            Expect::Poll,
            now_ms,
        );
        self.polling = true;
    }

    /// The transport is connected: the handshake, the replay of this
    /// worker's logouts, the load of every live cut-off, then the queued
    /// failures, all pipelined.
    pub fn connected(&mut self, now_ms: u64, now: u64) {
        self.state = State::Up;
        self.out.clear();
        self.input.clear();
        self.expects.clear();
        self.last_id = None;
        self.polling = false;
        if let Some(pw) = self.settings.password.clone() {
            self.send(&[b"AUTH", &pw], Expect::Auth, now_ms);
        }
        let horizon = self.settings.horizon;
        self.own.retain(|_, c| c.saturating_add(horizon) >= now);
        let own: Vec<(String, u64)> = self.own.iter().map(|(u, c)| (u.clone(), *c)).collect();
        for (u, c) in own {
            self.send_revocation(&u, c, now_ms, now);
        }
        // The stream's end first, then the set: a logout written before the
        // scan ends is in the set (ZSCAN returns every member present from
        // its start to its end), one written after the stream's end is read
        // from the stream.
        let logouts = self.key("events");
        self.send(
            &[b"XREVRANGE", &logouts, b"+", b"-", b"COUNT", b"1"],
            Expect::LastId,
            now_ms,
        );
        self.send_scan(b"0", now_ms);
        let queued: Vec<Event> = self.queued.drain(..).collect();
        for e in queued {
            if let Event::Failed { limit, at, .. } = &e {
                if at.saturating_add(limit.window) <= now {
                    continue;
                }
            }
            self.send_count(&e, now_ms);
        }
    }

    /// The connection failed or was lost. Logs at the start of an outage only.
    pub fn failed(&mut self, now_ms: u64, why: &str) -> Option<Log> {
        self.state = State::Down {
            retry_at: now_ms.saturating_add(backoff_ms(self.failures)),
        };
        self.failures = self.failures.saturating_add(1);
        self.out.clear();
        self.input.clear();
        self.expects.clear();
        self.last_id = None;
        self.polling = false;
        if self.in_outage {
            return None;
        }
        self.in_outage = true;
        Some(Log {
            level: Level::Error,
            text: format!(
                "redis {} unavailable ({why}); logouts and failure counts stay local, and logouts are sent when it is back",
                self.settings.name
            ),
        })
    }

    /// Bytes read from the socket.
    pub fn received(&mut self, bytes: &[u8], now_ms: u64) -> Received {
        let mut r = Received::default();
        self.input.extend_from_slice(bytes);
        let mut at = 0;
        loop {
            let parsed = resp::parse(self.input.get(at..).unwrap_or_default());
            let (value, n) = match parsed {
                Ok(Some(v)) => v,
                Ok(None) => break,
                Err(e) => return self.broken(now_ms, &e.to_string(), r),
            };
            at += n;
            let Some((expect, _)) = self.expects.pop_front() else {
                return self.broken(now_ms, "unexpected reply", r);
            };
            if let Value::Error(msg) = &value {
                let what = match expect {
                    Expect::Auth => "authentication refused",
                    _ => "command refused",
                };
                let msg =
                    String::from_utf8_lossy(msg.get(..msg.len().min(200)).unwrap_or_default())
                        .into_owned();
                return self.broken(now_ms, &format!("{what}: {msg}"), r);
            }
            if let Err(why) = self.handle(expect, value, now_ms, &mut r.merges) {
                return self.broken(now_ms, why, r);
            }
            if self.in_outage || self.failures > 0 {
                if self.in_outage {
                    r.log = Some(Log {
                        level: Level::Warn,
                        text: format!("redis {} is back", self.settings.name),
                    });
                }
                self.in_outage = false;
                self.failures = 0;
            }
        }
        self.input.drain(..at.min(self.input.len()));
        r
    }

    fn broken(&mut self, now_ms: u64, why: &str, mut r: Received) -> Received {
        r.log = self.failed(now_ms, why).or(r.log);
        r.close = true;
        r
    }

    fn handle(
        &mut self,
        expect: Expect,
        v: Value,
        now_ms: u64,
        merges: &mut Vec<Merge>,
    ) -> Result<(), &'static str> {
        match expect {
            Expect::Auth | Expect::Ack => Ok(()),
            Expect::LastId => {
                let Value::Array(Some(entries)) = v else {
                    return Err("unexpected reply to XREVRANGE");
                };
                let id = match entries.first() {
                    None => b"0-0".to_vec(),
                    Some(e) => entry_id(e).ok_or("unexpected reply to XREVRANGE")?.to_vec(),
                };
                self.last_id = Some(id);
                Ok(())
            }
            Expect::Scan => {
                let Some([Value::Bulk(Some(cursor)), Value::Array(Some(items))]) = array(&v) else {
                    return Err("unexpected reply to ZSCAN");
                };
                for pair in items.chunks(2) {
                    let (Some(m), Some(s)) =
                        (pair.first().and_then(bulk), pair.get(1).and_then(bulk))
                    else {
                        return Err("unexpected reply to ZSCAN");
                    };
                    // Members past the token lifetime not yet pruned are
                    // dropped by `Revocations::merge`.
                    if let (Ok(user), Some(cutoff)) = (std::str::from_utf8(m), score(s)) {
                        merges.push(Merge::Cutoff {
                            user: user.to_owned(),
                            cutoff,
                        });
                    }
                }
                if cursor.as_slice() == b"0" {
                    self.next_poll = now_ms;
                } else {
                    let next = cursor.clone();
                    self.send_scan(&next, now_ms);
                }
                Ok(())
            }
            Expect::Poll => {
                self.polling = false;
                self.next_poll = now_ms.saturating_add(POLL_MS);
                let streams = match v {
                    Value::Array(None) => return Ok(()),
                    Value::Array(Some(s)) => s,
                    _ => return Err("unexpected reply to XREAD"),
                };
                let mut read = 0;
                for s in &streams {
                    let Some([_, Value::Array(Some(entries))]) = array(s) else {
                        return Err("unexpected reply to XREAD");
                    };
                    for e in entries {
                        let id = entry_id(e).ok_or("unexpected reply to XREAD")?;
                        self.last_id = Some(id.to_vec());
                        read += 1;
                        if let Some(m) = logout_entry(e) {
                            merges.push(m);
                        }
                    }
                }
                if read >= READ_BATCH {
                    self.next_poll = now_ms;
                }
                Ok(())
            }
            Expect::Count { who, limit } => {
                let Value::Int(n) = v else {
                    return Err("unexpected reply to INCR");
                };
                if n == i64::from(limit.max_failures) {
                    self.send_block(&who, &limit, now_ms);
                }
                merges.push(Merge::Count {
                    who,
                    count: u64::try_from(n).unwrap_or(0),
                    limit,
                });
                Ok(())
            }
        }
    }
}

fn bulk(v: &Value) -> Option<&[u8]> {
    match v {
        Value::Bulk(Some(b)) => Some(b),
        _ => None,
    }
}

fn array(v: &Value) -> Option<&[Value]> {
    match v {
        Value::Array(Some(a)) => Some(a),
        _ => None,
    }
}

/// A stream entry is `[id, [field, value, ...]]`.
fn entry_id(e: &Value) -> Option<&[u8]> {
    array(e)?.first().and_then(bulk)
}

/// A stream entry's merge: a logout, or a count that reached its limit.
fn logout_entry(e: &Value) -> Option<Merge> {
    let fields = array(array(e)?.get(1)?)?;
    let get = |name: &[u8]| {
        fields
            .chunks(2)
            .find(|kv| kv.first().and_then(bulk) == Some(name))
            .and_then(|kv| kv.get(1).and_then(bulk))
    };
    let text = |name: &[u8]| get(name).and_then(|v| std::str::from_utf8(v).ok());
    let number = |name: &[u8]| text(name).and_then(|v| v.parse::<u64>().ok());
    if let Some(kind) = get(b"k") {
        let user = text(b"u").map(str::to_owned);
        let addr = get(b"a").map(<[u8]>::to_vec);
        let who = match kind {
            b"user" => Who::User(user?),
            b"addr" => Who::Address(addr?),
            b"pair" => Who::UserAt(user?, addr?),
            _ => return None,
        };
        let limit = Limit {
            max_failures: u32::try_from(number(b"n")?).ok().filter(|n| *n > 0)?,
            window: number(b"w")?,
            cooldown: number(b"d")?,
        };
        return Some(Merge::Count {
            who,
            count: u64::from(limit.max_failures),
            limit,
        });
    }
    Some(Merge::Cutoff {
        user: text(b"u")?.to_owned(),
        cutoff: get(b"c").and_then(score)?,
    })
}

/// A score as Redis prints it: an integer, or a float for a huge one.
fn score(s: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(s).ok()?;
    s.parse::<u64>().ok().or_else(|| {
        let f = s.parse::<f64>().ok()?;
        (0.0..1.8e19).contains(&f).then_some(f as u64)
    })
}

#[cfg(test)]
mod tests;
