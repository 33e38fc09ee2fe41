//! What the parts of a run share while it goes: stop requests (signals, a closed stdout), live
//! counts for the progress line, and the output's state that the dispatcher and the writer
//! both watch.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, Semaphore};

use super::summary::Summary;

/// Live counts, shared with the progress display.
#[derive(Debug, Default)]
pub struct Progress {
    /// Records written.
    pub done: AtomicU64,
    /// Of which `ok`.
    pub ok: AtomicU64,
}

/// Stop requests from signals: the first stops dispatching; the run then drains.
#[derive(Debug, Default)]
pub struct Shutdown {
    requested: AtomicBool,
    notify: Notify,
}

impl Shutdown {
    /// Asks the run to stop taking new hosts.
    pub fn request(&self) {
        self.requested.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// True once a stop was requested.
    pub fn is_requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }

    /// Returns once a stop was requested.
    pub(crate) async fn wait(&self) {
        let notified = self.notify.notified();
        if self.is_requested() {
            return;
        }
        notified.await;
    }
}

/// The state the dispatcher and the writer share.
pub(crate) struct RunShared {
    /// Positions the writer may still hold back under `--ordered` (unlimited otherwise).
    pub(crate) window: Semaphore,
    /// Counts of what was written.
    pub(crate) summary: Mutex<Summary>,
    /// Live counts for the progress line.
    pub(crate) progress: Arc<Progress>,
    /// Set once standard output's reader went away (`| head`).
    stdout_closed: AtomicBool,
    /// Stop requests.
    pub(crate) shutdown: Arc<Shutdown>,
}

impl RunShared {
    /// The shared state of a run; `window` positions may be held back for ordering.
    pub(crate) fn new(window: usize, progress: Arc<Progress>, shutdown: Arc<Shutdown>) -> Self {
        RunShared {
            window: Semaphore::new(window),
            summary: Mutex::default(),
            progress,
            stdout_closed: AtomicBool::new(false),
            shutdown,
        }
    }

    /// True once standard output's reader went away.
    pub(crate) fn stdout_closed(&self) -> bool {
        self.stdout_closed.load(Ordering::SeqCst)
    }

    /// Standard output's reader went away: nothing more can be written, so the run stops.
    pub(crate) fn close_stdout(&self) {
        self.stdout_closed.store(true, Ordering::SeqCst);
        self.shutdown.request();
    }
}
