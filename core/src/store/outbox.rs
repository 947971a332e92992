//! Where the request path leaves logouts and failures for the store: a
//! process-wide queue that the worker's store client empties on its timer.
//! Off (and free) unless a store is configured; a thread other than the
//! event loop's may push too, which is why it is a lock and not a cell.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::Event;

/// Events kept between two timer ticks at most; past it, new events are
/// dropped (they still hold in the local zone).
pub const CAPACITY: usize = 65_536;

static ENABLED: AtomicBool = AtomicBool::new(false);
static QUEUE: Mutex<Vec<Event>> = Mutex::new(Vec::new());

fn queue() -> MutexGuard<'static, Vec<Event>> {
    // A panic while holding it cannot leave a Vec half-pushed.
    QUEUE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Called once per worker process that runs a store client.
pub fn enable() {
    ENABLED.store(true, Ordering::Release);
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Acquire)
}

/// Queues the event `make` builds, if a store is configured.
pub fn push(make: impl FnOnce() -> Event) {
    if !enabled() {
        return;
    }
    let mut q = queue();
    if q.len() < CAPACITY {
        q.push(make());
    }
}

/// Everything queued so far.
pub fn drain() -> Vec<Event> {
    if !enabled() {
        return Vec::new();
    }
    std::mem::take(&mut *queue())
}
