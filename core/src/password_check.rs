//! Password checks that run off nginx's event loop.
//!
//! A bcrypt at cost 10 takes tens of milliseconds; done inline it would
//! stall every other request of the worker for that long. So a login whose
//! password must be hashed gets a [`HashJob`] instead of an answer
//! ([`Plan::Hash`](crate::Plan::Hash)). The module runs the job on a thread
//! of nginx's pool and asks the same question again with the job's
//! [`Verdict`] ([`Hashing::Done`]). Everything around the hash (the failure
//! limit, the cache, the cookie) is decided on the event loop, as before.
//!
//! The queue is bounded per worker ([`Policy::hash_queue`]
//! (crate::Policy)): past it a login is refused with 503 and
//! `Retry-After` rather than waiting behind an unbounded backlog.

use std::cell::{Cell, RefCell};
use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::hash::PasswordHash;
use crate::rate_limit::Subject;
use crate::users::AuthFailure;

/// Hashes queued or running per worker before logins get 503. Sizing:
/// hashes per second per core × cores × the wait a login may take, shared
/// among the workers; at cost 10 a core does about 13 a second.
pub const DEFAULT_HASH_QUEUE: usize = 32;

/// The thread pool the jobs run on when `dash_auth_thread_pool` is not
/// set: nginx's `default` one, as for `aio threads`.
pub const DEFAULT_THREAD_POOL: &str = "default";

/// Checks one worker hands to the thread pool at once; the others wait
/// their turn in the worker, in order. One per worker: with
/// `worker_processes auto` that is one hash per core, which is all the
/// cores can do, and more threads hashing would only take turns with the
/// event loops.
pub const HASHES_AT_ONCE: usize = 1;

/// The nice value of the threads that hash, besides `SCHED_IDLE`: the
/// lowest priority, so that sessions' requests always go first.
pub const HASH_NICE: i32 = 19;

/// Seconds a refused login is told to wait (`Retry-After`): the queue
/// drains in about that long at its default size.
pub const RETRY_AFTER: u64 = 1;

/// Where a login's hash is to be computed.
#[derive(Debug, Clone, Copy, Default)]
pub enum Hashing<'a> {
    /// Here and now, on the caller's thread (tools and tests).
    #[default]
    Inline,
    /// As a [`HashJob`] entered in the worker's queue.
    Offload(&'a HashQueue),
    /// The job of this request finished with this verdict.
    Done(&'a Verdict),
}

/// One password verification, owning all it needs, so that it can run on
/// another thread. An unknown user is checked against the users file's
/// dummy hash of the same scheme and cost: it costs a full hash too.
#[derive(Clone, PartialEq, Eq)]
pub struct HashJob {
    user: String,
    password: Zeroizing<Vec<u8>>,
    target: PasswordHash,
    known: bool,
    ticket: Option<Ticket>,
    /// The same login is being checked under this ticket: wait for its
    /// verdict instead of hashing again.
    joins: Option<Ticket>,
}

// Never the password.
impl fmt::Debug for HashJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashJob")
            .field("user", &self.user)
            .field("target", &self.target)
            .field("known", &self.known)
            .finish_non_exhaustive()
    }
}

impl HashJob {
    /// `target` is the user's hash, or the dummy when `known` is false.
    pub(crate) fn new(user: &str, password: &[u8], target: PasswordHash, known: bool) -> HashJob {
        HashJob {
            user: user.to_owned(),
            password: Zeroizing::new(password.to_vec()),
            target,
            known,
            ticket: None,
            joins: None,
        }
    }

    pub(crate) fn joining(self, leader: Ticket) -> HashJob {
        HashJob {
            joins: Some(leader),
            ..self
        }
    }

    /// The check whose verdict answers this one too, when the same login
    /// is already being checked.
    pub fn joins(&self) -> Option<Ticket> {
        self.joins
    }

    pub(crate) fn with_ticket(self, ticket: Ticket) -> HashJob {
        HashJob {
            ticket: Some(ticket),
            ..self
        }
    }

    /// Its place in the queue, to [`leave`](HashQueue::leave) should it
    /// never run.
    pub fn ticket(&self) -> Option<Ticket> {
        self.ticket
    }

    /// The slow part; safe to call on any thread.
    pub fn run(self) -> Verdict {
        let matched = self.target.verify(&self.password);
        let outcome = match (self.known, matched) {
            (true, true) => Ok(()),
            (true, false) => Err(AuthFailure::WrongPassword),
            // black_box: the dummy's result is unused and must still be
            // computed in full.
            (false, m) => {
                std::hint::black_box(m);
                Err(AuthFailure::UnknownUser)
            }
        };
        Verdict {
            user: self.user,
            password: self.password,
            outcome,
            ticket: self.ticket,
        }
    }
}

/// What a [`HashJob`] found, for the user name and password it was given.
#[derive(Clone, PartialEq, Eq)]
pub struct Verdict {
    user: String,
    password: Zeroizing<Vec<u8>>,
    outcome: Result<(), AuthFailure>,
    ticket: Option<Ticket>,
}

impl fmt::Debug for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verdict")
            .field("user", &self.user)
            .field("outcome", &self.outcome)
            .finish_non_exhaustive()
    }
}

impl Verdict {
    /// The job's place in the queue, to [`leave`](HashQueue::leave) now
    /// that it ran.
    pub fn ticket(&self) -> Option<Ticket> {
        self.ticket
    }

    /// The outcome, if this verdict is about `user` and `password`. The
    /// request is asked again as it came, so they always are; were they
    /// not, the login fails rather than borrow another one's result.
    pub fn outcome_for(&self, user: &str, password: &[u8]) -> Result<(), AuthFailure> {
        let same_user = self.user.as_bytes().ct_eq(user.as_bytes());
        let same_password = self.password.as_slice().ct_eq(password);
        if bool::from(same_user & same_password) {
            self.outcome
        } else {
            Err(AuthFailure::WrongPassword)
        }
    }
}

/// Why a [`HashJob`] gave no verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unhashed {
    /// nginx would not take the task (out of memory, or its thread pool's
    /// own queue is full).
    NotQueued,
    /// The task ended without running the job.
    Lost,
}

impl fmt::Display for Unhashed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unhashed::NotQueued => "nginx refused the thread task (see dash_auth_thread_pool)",
            Unhashed::Lost => "the thread task ended without running it",
        })
    }
}

/// A job's place in a [`HashQueue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(u64);

/// The password checks one worker has queued or running. Besides their
/// number, which the queue bound is about, it keeps whose they are: the
/// failure limit counts a running check as a failure until it ends, so
/// that a burst of guesses sent at once cannot all be hashed before the
/// first one is counted. The event loop is its only user.
#[derive(Default)]
pub struct HashQueue {
    entries: RefCell<Vec<Entry>>,
    next: Cell<u64>,
}

struct Entry {
    ticket: Ticket,
    user: String,
    client: Vec<u8>,
    password: Zeroizing<Vec<u8>>,
}

impl Entry {
    fn is(&self, who: Subject<'_>) -> bool {
        match who {
            Subject::User(u) => self.user == u,
            Subject::Address(a) => self.client == a,
            Subject::UserAt(u, a) => self.user == u && self.client == a,
        }
    }

    fn same_login(&self, other: &Entry) -> bool {
        let user = self.user.as_bytes().ct_eq(other.user.as_bytes());
        bool::from(user & self.password.as_slice().ct_eq(other.password.as_slice()))
    }
}

impl fmt::Debug for HashQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HashQueue({})", self.len())
    }
}

impl HashQueue {
    pub const fn new() -> HashQueue {
        HashQueue {
            entries: RefCell::new(Vec::new()),
            next: Cell::new(0),
        }
    }

    /// Checks queued or running.
    pub fn len(&self) -> usize {
        // Never borrowed across a call; if it were, count it as full.
        self.entries.try_borrow().map_or(usize::MAX, |e| e.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The distinct logins (user and password) being checked for `who`.
    /// The same login sent several times at once, as a browser does for a
    /// page's resources under Basic, may fail only once.
    pub(crate) fn pending(&self, who: Subject<'_>) -> usize {
        let Ok(entries) = self.entries.try_borrow() else {
            return usize::MAX;
        };
        let mine: Vec<&Entry> = entries.iter().filter(|e| e.is(who)).collect();
        mine.iter()
            .enumerate()
            .filter(|&(i, e)| !mine.iter().take(i).any(|earlier| earlier.same_login(e)))
            .count()
    }

    /// The ticket of a check of the same login (user and password) now in
    /// the queue: a second copy waits for its verdict. A client that sends
    /// the same credentials on many connections at once (a browser with
    /// Basic, a script's pool) then costs one hash, not one per connection.
    pub(crate) fn same_login(&self, user: &str, password: &[u8]) -> Option<Ticket> {
        let entries = self.entries.try_borrow().ok()?;
        let probe = Entry {
            ticket: Ticket(0),
            user: user.to_owned(),
            client: Vec::new(),
            password: Zeroizing::new(password.to_vec()),
        };
        entries
            .iter()
            .find(|e| e.same_login(&probe))
            .map(|e| e.ticket)
    }

    pub(crate) fn enter(&self, user: &str, client: &[u8], password: &[u8]) -> Option<Ticket> {
        let mut entries = self.entries.try_borrow_mut().ok()?;
        let ticket = Ticket(self.next.get());
        self.next.set(self.next.get().wrapping_add(1));
        entries.push(Entry {
            ticket,
            user: user.to_owned(),
            client: client.to_vec(),
            password: Zeroizing::new(password.to_vec()),
        });
        Some(ticket)
    }

    /// The job of `ticket` ended, whatever became of its request.
    pub fn leave(&self, ticket: Ticket) {
        if let Ok(mut entries) = self.entries.try_borrow_mut() {
            entries.retain(|e| e.ticket != ticket);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users::tests::demo_file;
    use crate::users::UsersFile;

    fn users() -> UsersFile {
        UsersFile::parse(demo_file().as_bytes()).unwrap()
    }

    #[test]
    fn a_job_finds_what_the_inline_check_finds() {
        let users = users();
        for (user, password) in [
            ("mica", "1234"),
            ("mica", "12345"),
            ("nobody", "1234"),
            ("mike", "123456"),
            ("mike", ""),
        ] {
            let inline = users.authenticate(user, password.as_bytes()).map(|_| ());
            let verdict = users.job(user, password.as_bytes()).run();
            assert_eq!(
                verdict.outcome_for(user, password.as_bytes()),
                inline,
                "{user}"
            );
        }
    }

    #[test]
    fn an_unknown_user_costs_a_full_hash() {
        let users = users();
        let job = users.job("nobody", b"1234");
        let mica = users.get("mica").unwrap().hash();
        assert!(!job.known);
        assert_eq!(
            (job.target.scheme(), job.target.cost()),
            (mica.scheme(), mica.cost())
        );
        assert_ne!(job.target.as_str(), mica.as_str());
    }

    #[test]
    fn a_verdict_answers_only_for_its_own_credentials() {
        let users = users();
        let verdict = users.job("mica", b"1234").run();
        assert_eq!(verdict.outcome_for("mica", b"1234"), Ok(()));
        assert_eq!(
            verdict.outcome_for("mica", b"12345"),
            Err(AuthFailure::WrongPassword)
        );
        assert_eq!(
            verdict.outcome_for("mike", b"1234"),
            Err(AuthFailure::WrongPassword)
        );
    }

    #[test]
    fn the_queue_counts_distinct_logins_per_subject() {
        let q = HashQueue::default();
        let a = q.enter("mike", b"10.0.0.1", b"guess1").unwrap();
        let b = q.enter("mike", b"10.0.0.1", b"guess1").unwrap();
        let c = q.enter("mike", b"10.0.0.2", b"guess2").unwrap();
        let d = q.enter("mica", b"10.0.0.1", b"guess1").unwrap();
        assert_eq!(q.len(), 4);
        assert_eq!(q.pending(Subject::User("mike")), 2);
        assert_eq!(q.pending(Subject::UserAt("mike", b"10.0.0.1")), 1);
        assert_eq!(q.pending(Subject::Address(b"10.0.0.1")), 2);
        assert_eq!(q.pending(Subject::User("nobody")), 0);
        for t in [a, b, c, d] {
            q.leave(t);
        }
        assert!(q.is_empty());
        assert_eq!(q.pending(Subject::User("mike")), 0);
    }

    #[test]
    fn the_same_login_joins_the_check_in_flight() {
        let q = HashQueue::default();
        let a = q.enter("mike", b"10.0.0.1", b"123456").unwrap();
        assert_eq!(q.same_login("mike", b"123456"), Some(a));
        assert_eq!(q.same_login("mike", b"1234567"), None);
        assert_eq!(q.same_login("mika", b"123456"), None);
        q.leave(a);
        assert_eq!(q.same_login("mike", b"123456"), None);
    }

    #[test]
    fn debug_never_shows_the_password() {
        let users = users();
        let job = users.job("mica", b"s3cret-pw");
        assert!(!format!("{job:?}").contains("s3cret"));
        assert!(!format!("{:?}", job.run()).contains("s3cret"));
    }
}
