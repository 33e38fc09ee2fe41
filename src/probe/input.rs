//! The input thread: reads sikprobe's input lines and judges each one once — a target to
//! probe, a target an earlier run already finished, or a line that is not a target — handing
//! the dispatcher numbered [`Job`]s.

use std::io::BufRead;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc;

use super::resume::DoneSet;
use super::shared::Shutdown;
use super::target::{InputLine, parse_line};
use crate::pipe::BoundedLines;

/// Longest input line read; longer ones become `invalid-input` records.
const MAX_INPUT_LINE: usize = 4096;

/// One input line, judged, with its position in the input (for `--ordered`).
#[derive(Debug)]
pub(crate) struct Job {
    /// The line's position among the lines that give a record.
    pub(crate) seq: u64,
    /// What to do with it.
    pub(crate) work: Work,
}

/// What one input line asks for.
#[derive(Debug)]
pub(crate) enum Work {
    /// Probe this target; `raw` keeps the line when it was more than a plain address.
    Probe {
        /// Where to connect.
        addr: SocketAddr,
        /// The input line, when it was not just the address.
        raw: Option<String>,
    },
    /// This target has a final record in an earlier run's output (`--skip-done`).
    Done(SocketAddr),
    /// Not a target: the line (lossily decoded, cut at the line limit) and why.
    Invalid {
        /// What the line held.
        input: String,
        /// Why it is not a target.
        reason: String,
    },
}

/// How the input thread judges lines.
pub(crate) struct Judge {
    /// Port for lines that name none.
    pub(crate) default_port: u16,
    /// Targets already done.
    pub(crate) done: Arc<DoneSet>,
}

impl Judge {
    /// What one line asks for; `None` for a line that gives no record (blank, a comment).
    fn judge(&self, bytes: &[u8], truncated: bool) -> Option<Work> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        let text = String::from_utf8_lossy(bytes).into_owned();
        // A bad line's record keeps what it held ('input'), so the user can find and fix it.
        if truncated {
            return Some(Work::Invalid {
                input: text,
                reason: format!(
                    "input line longer than {MAX_INPUT_LINE} bytes (its start is in 'input')"
                ),
            });
        }
        if std::str::from_utf8(bytes).is_err() {
            return Some(Work::Invalid {
                input: text,
                reason: "input line is not UTF-8 text".to_owned(),
            });
        }
        match parse_line(&text, self.default_port) {
            InputLine::Blank => None,
            InputLine::Invalid { reason } => Some(Work::Invalid {
                input: text,
                reason,
            }),
            InputLine::Target { addr, .. } if self.done.contains(&addr) => Some(Work::Done(addr)),
            InputLine::Target { addr, raw } => Some(Work::Probe { addr, raw }),
        }
    }
}

/// What the input thread is doing, for a dispatcher that stops: it may take the reader's
/// queue as complete once the reader is waiting for input or gone, since then no line that
/// was read is still on its way.
#[derive(Debug, Default)]
pub(crate) struct ReaderState {
    waiting: AtomicBool,
}

impl ReaderState {
    /// True while the reader waits for a line (or has stopped reading).
    pub(crate) fn is_waiting(&self) -> bool {
        self.waiting.load(Ordering::SeqCst)
    }
}

/// Reads `input` to its end, numbering and queueing the lines that give a record; stops
/// reading once a stop is requested, and when the run stops listening.
pub(crate) fn read_input(
    input: Box<dyn BufRead + Send>,
    judge: &Judge,
    jobs: &mpsc::Sender<Job>,
    state: &ReaderState,
    shutdown: &Shutdown,
) -> std::io::Result<()> {
    let mut lines = BoundedLines::new(input, MAX_INPUT_LINE);
    let mut seq = 0u64;
    let result = loop {
        if shutdown.is_requested() {
            break Ok(());
        }
        state.waiting.store(true, Ordering::SeqCst);
        let line = match lines.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => break Ok(()),
            Err(err) => break Err(err),
        };
        state.waiting.store(false, Ordering::SeqCst);
        let Some(work) = judge.judge(line.bytes, line.truncated) else {
            continue;
        };
        if jobs.blocking_send(Job { seq, work }).is_err() {
            break Ok(());
        }
        seq += 1;
    };
    state.waiting.store(true, Ordering::SeqCst);
    result
}
