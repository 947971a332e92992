//! Running core's password checks ([`HashJob`]) on an nginx thread pool,
//! so that a bcrypt never stalls the worker's event loop.
//!
//! The pattern is nginx's own for `aio threads`: the task and its work
//! live in the request pool; while it runs the request is `blocked`, so
//! nginx frees nothing of it even if the client goes away or the request
//! is terminated; the task's completion event comes back on the event
//! loop, which unblocks the request and calls its `write_event_handler`.
//! That is the phase engine for a Basic login, which re-enters the ACCESS
//! handler, and [`form_resumed`] for the login form. Either asks core the
//! same question again with the verdict. A terminated request has had its
//! handler replaced by nginx's finalizer, which ends it instead.
use core::ffi::c_void;
use core::ptr::NonNull;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use ngx::ffi::{
    __priority_which_PRIO_PROCESS, gettid, ngx_add_timer, ngx_del_timer, ngx_event_t,
    ngx_http_request_t, ngx_http_run_posted_requests, ngx_log_t, ngx_post_event, ngx_posted_events,
    ngx_thread_task_alloc, ngx_thread_task_post, ngx_thread_task_t, sched_param,
    sched_setscheduler, setpriority, NGX_LOG_WARN, NGX_OK, SCHED_IDLE,
};
use ngx::http::Request;
use ngx::ngx_log_error;

use dash_auth_core::password_check::{
    HashJob, HashQueue, Ticket, Verdict, HASHES_AT_ONCE, HASH_NICE,
};
use dash_auth_core::Identity;

use crate::conf::ext::ThreadPool;
use crate::conf::Active;
use crate::ctx::RequestCtx;
use crate::request_body;

thread_local! {
    /// This worker's checks. Only the event loop's thread touches it; the
    /// pool's threads see nothing but their own job.
    static QUEUE: HashQueue = const { HashQueue::new() };
}

/// Calls `f` with this worker's queue.
pub fn with_queue<R>(f: impl FnOnce(&HashQueue) -> R) -> R {
    QUEUE.with(f)
}

/// How often a running check is looked at; see [`job_done`].
const WATCH_MS: usize = 60_000;

/// What the request does once the verdict is in.
#[derive(Clone, Copy)]
pub enum Resume {
    /// Run the phases again: the ACCESS handler asks core anew.
    Phases,
    /// Answer the login form.
    Form,
}

/// The job going to the thread and the verdict coming back. The thread
/// has it between the post and the completion event; the event loop
/// touches it only after, and nginx's task queue orders the two.
pub struct Work {
    job: Option<HashJob>,
    verdict: Option<Verdict>,
}

/// A request's check, as the event loop sees it (in the request context).
#[derive(Clone, Copy)]
pub struct Pending {
    work: NonNull<Work>,
    /// Its place in the worker's queue.
    ticket: Option<Ticket>,
    /// Handed to the pool (not waiting in `WAITING`).
    running: bool,
    /// Set by the completion event: from then on the work is the loop's.
    finished: bool,
}

/// A task and the pool it is for, waiting for its turn.
struct Waiting {
    task: NonNull<ngx_thread_task_t>,
    pool: ThreadPool,
}

thread_local! {
    /// This worker's tasks in the pool now.
    static RUNNING: Cell<usize> = const { Cell::new(0) };
    /// Requests waiting for the verdict of a check of the same login,
    /// with its ticket.
    static FOLLOWERS: RefCell<Vec<(Ticket, NonNull<ngx_http_request_t>)>> =
        const { RefCell::new(Vec::new()) };
    /// This worker's tasks waiting for a turn, oldest first.
    static WAITING: RefCell<VecDeque<Waiting>> = const { RefCell::new(VecDeque::new()) };
}

/// Where [`submit`] put a task.
#[derive(PartialEq, Eq)]
enum Turn {
    Running,
    Waiting,
    Refused,
}

/// Hands `task` to its pool if fewer than [`HASHES_AT_ONCE`] of this
/// worker's run, else keeps it waiting.
fn submit(task: NonNull<ngx_thread_task_t>, pool: ThreadPool) -> Turn {
    if RUNNING.get() >= HASHES_AT_ONCE {
        let kept = WAITING.with(|w| {
            w.try_borrow_mut()
                .map(|mut w| w.push_back(Waiting { task, pool }))
                .is_ok()
        });
        return if kept { Turn::Waiting } else { Turn::Refused };
    }
    // SAFETY: the pool exists for the whole cycle; the task is complete
    // and lives in the pool of a request that stays blocked until its
    // completion event.
    if unsafe { ngx_thread_task_post(pool.0.as_ptr(), task.as_ptr()) } != NGX_OK as isize {
        return Turn::Refused;
    }
    RUNNING.set(RUNNING.get() + 1);
    Turn::Running
}

fn mark_running(task: NonNull<ngx_thread_task_t>) {
    // SAFETY: the task's event data is its request, blocked, so alive.
    let r = unsafe { (*task.as_ptr()).event.data.cast::<ngx_http_request_t>() };
    if r.is_null() {
        return;
    }
    // SAFETY: as above.
    let req = unsafe { Request::from_ngx_http_request(r) };
    if let Some(p) = RequestCtx::get(req).and_then(|ctx| ctx.hashing.as_mut()) {
        p.running = true;
    }
}

/// A turn is free: the oldest waiting task takes it. One nginx refuses
/// ends at once, without a verdict (its completion event is posted).
fn next_turn() {
    while RUNNING.get() < HASHES_AT_ONCE {
        let next = WAITING.with(|w| w.try_borrow_mut().ok().and_then(|mut w| w.pop_front()));
        let Some(next) = next else {
            return;
        };
        match submit(next.task, next.pool) {
            Turn::Running => mark_running(next.task),
            // Not while a turn is free.
            Turn::Waiting => return,
            Turn::Refused => fail(next.task),
        }
    }
}

/// Ends a waiting task nginx would not take: its completion event runs
/// from the loop's queue of posted events, finds no verdict and answers
/// the login with 503.
fn fail(task: NonNull<ngx_thread_task_t>) {
    // SAFETY: the task's event, in the pool of its blocked request; the
    // posted queue is the event loop's, this thread's.
    unsafe {
        ngx_post_event(
            &mut (*task.as_ptr()).event,
            core::ptr::addr_of_mut!(ngx_posted_events),
        )
    };
}

/// Starts `job` for `r` on the location's pool. `false` if nginx would not
/// take it (out of memory, or its own queue full): nothing was started and
/// the job has left the queue.
pub fn start(r: &mut Request, active: &'static Active, job: HashJob, resume: Resume) -> bool {
    let ticket = job.ticket();
    let started = post(r, active, job, resume);
    if !started {
        if let Some(t) = ticket {
            with_queue(|q| q.leave(t));
        }
    }
    started
}

fn post(r: &mut Request, active: &'static Active, job: HashJob, resume: Resume) -> bool {
    let ticket = job.ticket();
    let joins = job.joins();
    let work = r.pool().allocate(Work {
        job: Some(job),
        verdict: None,
    });
    let Some(work) = NonNull::new(work) else {
        return false;
    };
    // The request's context holds the work, for the handler that resumes
    // it; the identity is filled in once someone is let in.
    let ctx = match RequestCtx::get(r) {
        Some(ctx) => ctx,
        None => match RequestCtx::new(active, nobody()).attach(r) {
            Some(ctx) => ctx,
            None => return false,
        },
    };
    let req: *mut ngx_http_request_t = r.into();
    if let Some(leader) = joins {
        // The same login is being checked: its verdict will answer this
        // request too (see `job_done`).
        let Some(follower) = NonNull::new(req) else {
            return false;
        };
        let kept = FOLLOWERS.with(|f| {
            f.try_borrow_mut()
                .map(|mut f| f.push((leader, follower)))
                .is_ok()
        });
        if !kept {
            return false;
        }
        ctx.hashing = Some(Pending {
            work,
            ticket: None,
            running: false,
            finished: false,
        });
        // SAFETY: a live request.
        unsafe { block(req, resume) };
        return true;
    }
    // SAFETY: a request pool; the task lives as long as the request.
    let task = unsafe { ngx_thread_task_alloc(r.pool().as_ptr(), 0) };
    // SAFETY: NULL or a zeroed task nginx just allocated.
    let Some(task) = (unsafe { task.as_mut() }) else {
        return false;
    };
    task.ctx = work.as_ptr().cast();
    task.handler = Some(run_job);
    task.event.data = req.cast();
    task.event.handler = Some(job_done);
    // Known before the task can start, for `submit` to mark it running.
    ctx.hashing = Some(Pending {
        work,
        ticket,
        running: false,
        finished: false,
    });
    match submit(NonNull::from(&mut *task), active.threads) {
        Turn::Running => {
            if let Some(p) = ctx.hashing.as_mut() {
                p.running = true;
            }
        }
        Turn::Waiting => {}
        Turn::Refused => {
            ctx.hashing = None;
            return false;
        }
    }
    // A timer on the task keeps an exiting worker (reload, graceful
    // shutdown) alive until the check is done: it waits for timers, not
    // for requests.
    // SAFETY: the event is the task's, in the request pool, which lives
    // until the completion event has removed the timer.
    unsafe { ngx_add_timer(&mut task.event, WATCH_MS) };
    // SAFETY: a live request.
    unsafe { block(req, resume) };
    true
}

/// As `aio threads` does: nginx must neither free the request nor send on
/// it until [`unblock`].
///
/// # Safety
/// `r` is a live request.
unsafe fn block(r: *mut ngx_http_request_t, resume: Resume) {
    // SAFETY: the caller's.
    unsafe {
        let main = &mut *(*r).main;
        main.set_blocked(main.blocked() + 1);
        (*r).set_aio(1);
        if let Resume::Form = resume {
            (*r).write_event_handler = Some(form_resumed);
        }
    }
}

/// Undoes [`block`], then hands the request back to whatever nginx has it
/// do next, as the completion of an `aio threads` read does.
///
/// # Safety
/// `r` is a live request that [`block`] blocked.
unsafe fn unblock(r: *mut ngx_http_request_t) {
    // SAFETY: the caller's.
    unsafe {
        let c = (*r).connection;
        let main = &mut *(*r).main;
        main.set_blocked(main.blocked().saturating_sub(1));
        (*r).set_aio(0);
        if let Some(handler) = (*r).write_event_handler {
            handler(r);
        }
        ngx_http_run_posted_requests(c);
    }
}

/// Hands the verdict of the check `leader` to the requests that sent the
/// same login meanwhile, and resumes them.
fn answer_followers(leader: Ticket, verdict: Option<&Verdict>) {
    let mine: Vec<NonNull<ngx_http_request_t>> = FOLLOWERS.with(|f| {
        let Ok(mut f) = f.try_borrow_mut() else {
            return Vec::new();
        };
        let (mine, rest) = f.drain(..).partition(|(t, _)| *t == leader);
        *f = rest;
        mine.into_iter().map(|(_, r)| r).collect()
    });
    for r in mine {
        let r = r.as_ptr();
        // SAFETY: a follower is blocked, so alive.
        let req = unsafe { Request::from_ngx_http_request(r) };
        if let Some(pending) = RequestCtx::get(req).and_then(|ctx| ctx.hashing.as_mut()) {
            let mut work = pending.work;
            // SAFETY: the follower's own work, which no thread touches.
            unsafe { work.as_mut() }.verdict = verdict.cloned();
            pending.finished = true;
        }
        // SAFETY: as above.
        unsafe { unblock(r) };
    }
}

thread_local! {
    /// This pool thread runs at the lowest priority already.
    static LOWERED: Cell<bool> = const { Cell::new(false) };
}

/// Hashes share the CPUs with the workers' event loops. A thread that
/// hashes is `SCHED_IDLE`: any other thread that wakes up, an event loop
/// first of all, preempts it at once, so a burst of logins takes only the
/// CPU that sessions leave over, and the queue bound turns a backlog into
/// 503s instead of slow pages. (A plain nice value is not enough: the
/// event loop would still wait for the hash's time slice.)
fn lower_priority() {
    LOWERED.with(|done| {
        if !done.get() {
            done.set(true);
            let param = sched_param { sched_priority: 0 };
            // SAFETY: plain syscalls on the calling thread; on Linux a policy
            // and a nice value are per thread, so nothing else is slowed.
            // Where the policy is refused, the nice value still lowers it.
            let _ = unsafe {
                sched_setscheduler(0, SCHED_IDLE as i32, &param);
                setpriority(
                    __priority_which_PRIO_PROCESS,
                    gettid().unsigned_abs(),
                    HASH_NICE,
                )
            };
        }
    });
}

/// On a pool thread: the hash, and nothing else.
unsafe extern "C" fn run_job(data: *mut c_void, _log: *mut ngx_log_t) {
    lower_priority();
    // SAFETY: `data` is the work `post` gave this task; the event loop does
    // not touch it until the completion event, which follows this call.
    let Some(work) = (unsafe { data.cast::<Work>().as_mut() }) else {
        return;
    };
    if let Some(job) = work.job.take() {
        work.verdict = Some(job.run());
    }
}

/// Back on the event loop, the task done.
unsafe extern "C" fn job_done(ev: *mut ngx_event_t) {
    // SAFETY: nginx passes the task's event, whose data is the request
    // `post` blocked; blocked, it is still alive.
    let Some(ev) = (unsafe { ev.as_mut() }) else {
        return;
    };
    let Some(r) = NonNull::new(ev.data.cast::<ngx_http_request_t>()) else {
        return;
    };
    if ev.timedout() != 0 {
        // Not the end of the check, only its watch: keep waiting, and
        // keep the worker with it.
        ev.set_timedout(0);
        // SAFETY: as above; the request pool holds the event.
        let log = unsafe { (*(*r.as_ptr()).connection).log };
        ngx_log_error!(
            NGX_LOG_WARN,
            log,
            "dash_auth: a password check is still running after {} s",
            WATCH_MS / 1000
        );
        // SAFETY: as above.
        unsafe { ngx_add_timer(ev, WATCH_MS) };
        return;
    }
    if ev.timer_set() != 0 {
        // SAFETY: the timer `post` armed on this event.
        unsafe { ngx_del_timer(ev) };
    }
    let r = r.as_ptr();
    // SAFETY: as above.
    let req = unsafe { Request::from_ngx_http_request(r) };
    if let Some(pending) = RequestCtx::get(req).and_then(|ctx| ctx.hashing.as_mut()) {
        pending.finished = true;
        if let Some(ticket) = pending.ticket {
            with_queue(|q| q.leave(ticket));
        }
        if pending.running {
            RUNNING.set(RUNNING.get().saturating_sub(1));
            next_turn();
        }
        if let Some(ticket) = pending.ticket {
            // SAFETY: the thread is done with the work: this event follows
            // the task's handler.
            let verdict = unsafe { pending.work.as_ref() }.verdict.as_ref();
            answer_followers(ticket, verdict);
        }
    }
    // SAFETY: the request is alive (see above).
    unsafe { unblock(r) };
}

/// The login form's answer, now that its password was checked.
unsafe extern "C" fn form_resumed(r: *mut ngx_http_request_t) {
    // SAFETY: nginx calls a write event handler with the live request.
    let req = unsafe { Request::from_ngx_http_request(r) };
    request_body::login_form_hashed(req);
}

/// A request whose identity is not known yet.
fn nobody() -> Identity {
    Identity {
        user: String::new(),
        allowed_resources: Vec::new(),
    }
}

/// Where the request's check stands.
pub enum Progress {
    /// No check was started for it.
    None,
    /// Still running: wait.
    Running,
    /// This verdict: ask again with it.
    Done(Verdict),
    /// It ended without one (the thread never ran it).
    Lost,
}

/// Where the request's check stands; a verdict is handed out once, after
/// which the request has no check any more.
pub fn progress(r: &Request) -> Progress {
    let Some(ctx) = RequestCtx::get(r) else {
        return Progress::None;
    };
    let Some(pending) = ctx.hashing else {
        return Progress::None;
    };
    if !pending.finished {
        return Progress::Running;
    }
    ctx.hashing = None;
    let mut work = pending.work;
    // SAFETY: the work is in the request pool, and after the completion
    // event the thread is done with it.
    let work = unsafe { work.as_mut() };
    match work.verdict.take() {
        Some(v) => Progress::Done(v),
        None => Progress::Lost,
    }
}
