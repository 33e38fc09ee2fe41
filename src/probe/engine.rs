//! The streaming run: lines in, one record out per line, memory bounded by concurrency.
//!
//! zgrab2's shape (prior-art §A2): a reader thread feeds a bounded queue; a dispatcher starts at
//! most `-j` host probes at once (and at most `--rate` per second); one writer thread emits the
//! records in completion order, or in input order through a reorder window of bounded size.
//! Back-pressure flows from a slow stdout through the writer's queue to the dispatcher, so a
//! slow consumer slows the scan instead of growing memory.

use std::io::BufRead;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, Semaphore, mpsc};
use tokio::task::JoinSet;

use super::host::{ProbeContext, probe};
use super::resume::DoneSet;
use super::summary::Summary;
use super::target::{InputLine, parse_line};
use crate::pipe::{BoundedLines, DataOut};
use crate::record::{Record, Status};

/// Longest input line read; longer ones become `invalid-input` records.
const MAX_INPUT_LINE: usize = 4096;

/// How the run is shaped.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Hosts probed at once (`-j`).
    pub concurrency: usize,
    /// New connections per second at most (`--rate`).
    pub rate: Option<f64>,
    /// Emit records in input order (`--ordered`).
    pub ordered: bool,
    /// Flush every record (`--line-buffered`).
    pub line_buffered: bool,
    /// Write a `skipped` record for hosts skipped as done (`--emit-skipped`).
    pub emit_skipped: bool,
    /// Port for input lines that name none.
    pub default_port: u16,
}

impl EngineOptions {
    /// The reorder window of `--ordered`: how far completion may run ahead of the oldest
    /// unfinished host, in records.
    pub fn reorder_window(&self) -> usize {
        (self.concurrency * 4).max(1024)
    }
}

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

    async fn wait(&self) {
        let notified = self.notify.notified();
        if self.is_requested() {
            return;
        }
        notified.await;
    }
}

/// How the run ended.
#[derive(Debug)]
pub struct Outcome {
    /// Counts and timing.
    pub summary: Summary,
    /// Standard output was closed by the reader (`| head`).
    pub stdout_closed: bool,
}

/// One input line with its position: the line, or what it holds (lossily decoded, cut at the
/// line limit) and why it cannot be one.
struct Job {
    seq: u64,
    line: Result<String, (String, String)>,
}

/// A finished position and its records: none (a skipped host), one, or a TG DN and its
/// client nodes.
type Finished = (u64, Vec<Record>);

/// Runs the whole scan: reads `input` to the end (or until shutdown), writes every record.
pub async fn run(
    input: Box<dyn BufRead + Send>,
    context: Arc<ProbeContext>,
    options: EngineOptions,
    done: Arc<DoneSet>,
    shutdown: Arc<Shutdown>,
    progress: Arc<Progress>,
) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let concurrency = options.concurrency.max(1);
    let (job_tx, mut job_rx) = mpsc::channel::<Job>(concurrency.max(64));
    std::thread::Builder::new()
        .name("sikprobe-input".into())
        .spawn(move || read_input(input, job_tx))?;

    let (record_tx, record_rx) = mpsc::channel::<Finished>(concurrency.max(64));
    let window = Arc::new(Semaphore::new(if options.ordered {
        options.reorder_window()
    } else {
        Semaphore::MAX_PERMITS
    }));
    let stdout_closed = Arc::new(AtomicBool::new(false));
    let summary = Arc::new(Mutex::new(Summary::default()));
    let writer = {
        let window = window.clone();
        let stdout_closed = stdout_closed.clone();
        let shutdown = shutdown.clone();
        let summary = summary.clone();
        let progress = progress.clone();
        let options = options.clone();
        std::thread::Builder::new()
            .name("sikprobe-output".into())
            .spawn(move || {
                write_records(
                    record_rx,
                    &options,
                    &window,
                    &summary,
                    &progress,
                    &stdout_closed,
                    &shutdown,
                )
            })?
    };

    let watcher = tokio::spawn(watch_stdout(stdout_closed.clone(), shutdown.clone()));
    let slots = Arc::new(Semaphore::new(concurrency));
    let mut pacer = options.rate.filter(|r| *r > 0.0).map(|rate| {
        let mut interval = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval
    });
    let mut hosts = JoinSet::new();
    let mut skipped = 0u64;
    loop {
        let job = tokio::select! {
            biased;
            () = shutdown.wait() => break,
            job = job_rx.recv() => match job {
                Some(job) => job,
                None => break,
            },
        };
        // In --ordered mode a position is reserved before its host starts, and given back when
        // the writer emits it, so completion never runs further ahead than the window.
        let reserved = tokio::select! {
            biased;
            () = shutdown.wait() => break,
            permit = window.acquire() => permit,
        };
        if let Ok(permit) = reserved {
            permit.forget();
        }
        let (addr, raw) = match job.line {
            Err((text, reason)) => {
                send(&record_tx, (job.seq, vec![invalid(Some(text), reason)])).await;
                continue;
            }
            Ok(line) => match parse_line(&line, options.default_port) {
                // Blank lines were dropped by the reader; a comment-only line lands here.
                InputLine::Blank => {
                    send(&record_tx, (job.seq, Vec::new())).await;
                    continue;
                }
                InputLine::Invalid { reason } => {
                    send(&record_tx, (job.seq, vec![invalid(Some(line), reason)])).await;
                    continue;
                }
                InputLine::Target { addr, raw } => (addr, raw),
            },
        };
        if done.contains(&addr) {
            skipped += 1;
            let records = options.emit_skipped.then(|| skipped_record(addr));
            send(&record_tx, (job.seq, records.into_iter().collect())).await;
            continue;
        }
        let slot = tokio::select! {
            biased;
            () = shutdown.wait() => break,
            slot = slots.clone().acquire_owned() => slot?,
        };
        if let Some(pacer) = pacer.as_mut() {
            pacer.tick().await;
        }
        let context = context.clone();
        let record_tx = record_tx.clone();
        hosts.spawn(async move {
            let records = probe(addr, raw, &context).await;
            // The slot is held until the writer has taken the records: behind a slow stdout
            // the queue fills, hosts wait here, and no new host starts, so the records held
            // stay bounded by -j (giving the slot back first let the scan run on and pile up
            // every record in memory).
            send(&record_tx, (job.seq, records)).await;
            drop(slot);
        });
        // Finished tasks are reaped as we go, so the set holds only the running ones.
        while hosts.try_join_next().is_some() {}
    }
    drop(job_rx);
    if stdout_closed.load(Ordering::SeqCst) {
        hosts.abort_all();
    }
    while hosts.join_next().await.is_some() {
        if stdout_closed.load(Ordering::SeqCst) {
            hosts.abort_all();
        }
    }
    drop(record_tx);
    watcher.abort();
    let written = tokio::task::spawn_blocking(move || writer.join())
        .await?
        .map_err(|_| anyhow::anyhow!("the output thread panicked"))?;
    written?;

    let mut summary = summary
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    summary.skipped = skipped;
    summary.interrupted = shutdown.is_requested() && !stdout_closed.load(Ordering::SeqCst);
    summary.finish(started.elapsed());
    Ok(Outcome {
        summary,
        stdout_closed: stdout_closed.load(Ordering::SeqCst),
    })
}

/// Notices a reader that went away (`| head`) even while nothing is being written.
async fn watch_stdout(stdout_closed: Arc<AtomicBool>, shutdown: Arc<Shutdown>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tick.tick().await;
        if crate::pipe::stdout_reader_gone() {
            stdout_closed.store(true, Ordering::SeqCst);
            shutdown.request();
            return;
        }
    }
}

async fn send(tx: &mpsc::Sender<Finished>, finished: Finished) {
    // The writer only goes away after every sender is dropped, or when stdout closed, in which
    // case the record has nowhere to go anyway.
    let _ = tx.send(finished).await;
}

fn invalid(line: Option<String>, reason: String) -> Record {
    let mut record = Record::new(None, None, Status::InvalidInput);
    record.input = line;
    record.error = Some(reason);
    record
}

fn skipped_record(addr: SocketAddr) -> Record {
    let mut record = Record::new(Some(addr.ip()), Some(addr.port()), Status::Skipped);
    record.error = Some("already done in an earlier run (--skip-done)".into());
    record
}

/// The input thread: numbers non-blank lines and queues them; stops when the run stops
/// listening.
fn read_input(input: Box<dyn BufRead + Send>, jobs: mpsc::Sender<Job>) -> std::io::Result<()> {
    let mut lines = BoundedLines::new(input, MAX_INPUT_LINE);
    let mut seq = 0u64;
    while let Some(line) = lines.next_line()? {
        if line.bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let text = String::from_utf8_lossy(line.bytes).into_owned();
        // A bad line's record keeps what it held ('input'), so the user can find and fix it.
        let job = if line.truncated {
            Job {
                seq,
                line: Err((
                    text,
                    format!(
                        "input line longer than {MAX_INPUT_LINE} bytes (its start is in 'input')"
                    ),
                )),
            }
        } else if std::str::from_utf8(line.bytes).is_err() {
            Job {
                seq,
                line: Err((text, "input line is not UTF-8 text".to_owned())),
            }
        } else {
            Job {
                seq,
                line: Ok(text),
            }
        };
        seq += 1;
        if jobs.blocking_send(job).is_err() {
            break;
        }
    }
    Ok(())
}

/// The output thread: serialises each record with one write, in completion or input order.
fn write_records(
    mut records: mpsc::Receiver<Finished>,
    options: &EngineOptions,
    window: &Semaphore,
    summary: &Mutex<Summary>,
    progress: &Progress,
    stdout_closed: &AtomicBool,
    shutdown: &Shutdown,
) -> std::io::Result<()> {
    let mut out = DataOut::stdout(options.line_buffered);
    let mut pending = std::collections::BTreeMap::new();
    let mut next = 0u64;
    let mut line = Vec::with_capacity(4096);
    loop {
        // Records are flushed whenever the queue runs dry: a busy run writes large blocks, a
        // slow one shows every record at once (and loses none to a kill -9).
        let (seq, host_records) = match records.try_recv() {
            Ok(finished) => finished,
            Err(mpsc::error::TryRecvError::Disconnected) => break,
            Err(mpsc::error::TryRecvError::Empty) => {
                if !stdout_closed.load(Ordering::SeqCst)
                    && let Err(err) = out.flush()
                {
                    if err.kind() != std::io::ErrorKind::BrokenPipe {
                        return Err(err);
                    }
                    stdout_closed.store(true, Ordering::SeqCst);
                    shutdown.request();
                }
                match records.blocking_recv() {
                    Some(finished) => finished,
                    None => break,
                }
            }
        };
        if stdout_closed.load(Ordering::SeqCst) {
            continue;
        }
        let ready: Vec<Vec<Record>> = if options.ordered {
            pending.insert(seq, host_records);
            let mut ready = Vec::new();
            while let Some(record) = pending.remove(&next) {
                ready.push(record);
                next += 1;
            }
            window.add_permits(ready.len());
            ready
        } else {
            vec![host_records]
        };
        for record in ready.into_iter().flatten() {
            line.clear();
            serde_json::to_writer(&mut line, &record)?;
            line.push(b'\n');
            if let Err(err) = out.write_record(&line) {
                if err.kind() == std::io::ErrorKind::BrokenPipe {
                    stdout_closed.store(true, Ordering::SeqCst);
                    shutdown.request();
                    break;
                }
                return Err(err);
            }
            summary
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .count(record.status, record.commands.as_ref().map_or(0, Vec::len));
            progress.done.fetch_add(1, Ordering::Relaxed);
            if record.status == Status::Ok {
                progress.ok.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    if stdout_closed.load(Ordering::SeqCst) {
        return Ok(());
    }
    match out.finish() {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => {
            stdout_closed.store(true, Ordering::SeqCst);
            Ok(())
        }
        other => other,
    }
}
