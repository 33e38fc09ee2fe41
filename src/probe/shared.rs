//! What the parts of a run share while it goes: stop requests (signals, a closed stdout), live
//! counts for the progress line, and the output's state that the dispatcher and the writer
//! both watch.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use tokio::sync::{Notify, Semaphore};

use super::summary::Summary;

/// Live counts, shared with the progress display.
#[derive(Debug, Default)]
pub struct Progress {
    /// Records written.
    pub done: AtomicU64,
    /// Of which `ok`.
    pub ok: AtomicU64,
    /// The hosts started whose records are not written yet.
    pub in_flight: InFlight,
}

/// The hosts started and not yet written, with what their records need and when each
/// started: when the run is abandoned, each gets an `interrupted` record in place of the one it
/// did not finish, and the progress line bounds the time the last ones can still take.
#[derive(Debug, Default)]
pub struct InFlight(Mutex<HashMap<u64, Started>>);

/// A host in flight.
#[derive(Debug)]
struct Started {
    addr: SocketAddr,
    input: Option<String>,
    at: Instant,
}

impl InFlight {
    /// Host number `seq` (its input position) started.
    pub(crate) fn start(&self, seq: u64, addr: SocketAddr, input: Option<String>) {
        let at = Instant::now();
        self.lock().insert(seq, Started { addr, input, at });
    }

    /// Host number `seq`'s records were handed to the writer.
    pub(crate) fn end(&self, seq: u64) {
        self.lock().remove(&seq);
    }

    /// How many hosts are in flight.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when no host is in flight.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// When the longest-running host in flight started.
    pub fn oldest(&self) -> Option<Instant> {
        self.lock().values().map(|host| host.at).min()
    }

    /// The hosts still in flight, in input order, each with its address and input line.
    pub(crate) fn take_all(&self) -> Vec<(u64, SocketAddr, Option<String>)> {
        let mut hosts: Vec<_> = self
            .lock()
            .drain()
            .map(|(seq, host)| (seq, host.addr, host.input))
            .collect();
        hosts.sort_unstable_by_key(|(seq, _, _)| *seq);
        hosts
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Started>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Stop requests from signals: the first stops reading and dispatching, and the hosts in
/// flight finish; the second abandons those hosts too, each with an `interrupted` record.
#[derive(Debug, Default)]
pub struct Shutdown {
    requested: AtomicBool,
    notify: Notify,
    abandoned: AtomicBool,
    notify_abandon: Notify,
}

impl Shutdown {
    /// Asks the run to stop taking new hosts.
    pub fn request(&self) {
        self.requested.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// Asks the run to stop at once: the hosts in flight are abandoned unfinished.
    pub fn abandon(&self) {
        self.request();
        self.abandoned.store(true, Ordering::SeqCst);
        self.notify_abandon.notify_waiters();
    }

    /// True once a stop was requested.
    pub fn is_requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }

    /// True once the run was told to abandon the hosts in flight.
    pub fn is_abandoned(&self) -> bool {
        self.abandoned.load(Ordering::SeqCst)
    }

    /// Returns once a stop was requested.
    pub(crate) async fn wait(&self) {
        let notified = self.notify.notified();
        if self.is_requested() {
            return;
        }
        notified.await;
    }

    /// Returns once the run was told to abandon the hosts in flight.
    pub(crate) async fn wait_abandon(&self) {
        let notified = self.notify_abandon.notified();
        if self.is_abandoned() {
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
