//! The streaming run: lines in, one record out per line, memory bounded by concurrency.
//!
//! zgrab2's shape: an input thread judges each line and feeds a bounded queue
//! (`super::input`); this dispatcher only paces and spawns — at most `-j` host probes at
//! once, at most `--rate` new ones per second; one output thread writes the records
//! (`super::output`). Back-pressure flows from a slow stdout through the writer's queue to
//! the dispatcher, so a slow consumer slows the scan instead of growing memory.
//!
//! A staged rollout (`super::rollout`) decides from the statuses of the hosts that ended
//! whether the next one may start: it holds the rest back while canaries run, and once it
//! stops, every further line of the input gets a `skipped` record saying why, while the hosts
//! in flight finish.
//!
//! A stop keeps one record per line read: the first Ctrl-C ends reading and dispatching, and
//! the lines already queued get `skipped` records while the hosts in flight finish; a second
//! abandons those hosts, each with an `interrupted` record.

use std::io::BufRead;
use std::net::SocketAddr;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use super::context::ProbeContext;
use super::input::{Job, Judge, ReaderState, Work, read_input};
use super::one_host::probe;
use super::output::{Finished, WriteOptions, write_records};
use super::resume::DoneSet;
use super::rollout::{self, Admission, Rollout, RolloutOptions};
use super::shared::{Progress, RunShared, Shutdown};
use super::summary::Summary;
use crate::record::{Record, Status};

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
    /// How the run is staged (`--canary`, `--max-failures`).
    pub rollout: RolloutOptions,
}

impl EngineOptions {
    /// The reorder window of `--ordered`: how far completion may run ahead of the oldest
    /// unfinished host, in records.
    pub fn reorder_window(&self) -> usize {
        (self.concurrency * 4).max(1024)
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
    let judge = Judge {
        default_port: options.default_port,
        done,
    };
    let reader = Arc::new(ReaderState::default());
    {
        let (reader, shutdown) = (reader.clone(), shutdown.clone());
        std::thread::Builder::new()
            .name("sikprobe-input".into())
            .spawn(move || read_input(input, &judge, &job_tx, &reader, &shutdown))?;
    }

    let (record_tx, record_rx) = mpsc::channel::<Finished>(concurrency.max(64));
    let window = if options.ordered {
        options.reorder_window()
    } else {
        Semaphore::MAX_PERMITS
    };
    let shared = Arc::new(RunShared::new(window, progress, shutdown.clone()));
    let writer = {
        let shared = shared.clone();
        let write = WriteOptions {
            ordered: options.ordered,
            line_buffered: options.line_buffered,
        };
        std::thread::Builder::new()
            .name("sikprobe-output".into())
            .spawn(move || write_records(record_rx, write, &shared))?
    };

    let watcher = tokio::spawn(watch_stdout(shared.clone()));
    let slots = Arc::new(Semaphore::new(concurrency));
    let mut pacer = options.rate.filter(|r| *r > 0.0).map(|rate| {
        let mut interval = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval
    });
    let mut hosts = JoinSet::new();
    let in_flight = &shared.progress.in_flight;
    let rollout = Arc::new(Rollout::new(options.rollout));
    let mut skipped = 0u64;
    // A job taken from the queue when the stop came, before its host started.
    let mut not_started = None;
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
            () = shutdown.wait() => {
                not_started = Some(job);
                break;
            }
            permit = shared.window.acquire() => permit,
        };
        if let Ok(permit) = reserved {
            permit.forget();
        }
        let (addr, raw) = match job.work {
            Work::Probe { addr, raw } => (addr, raw),
            other => {
                skipped += u64::from(matches!(other, Work::Done(_)));
                let records = without_probe(other, &options, || not_started_why(&rollout));
                send(&record_tx, (job.seq, records)).await;
                continue;
            }
        };
        // Once the rollout stopped, the rest of the input streams past without a slot.
        if let Some(why) = rollout.stopped() {
            send(&record_tx, (job.seq, vec![skipped_record(addr, &why, raw)])).await;
            continue;
        }
        let waited = tokio::select! {
            biased;
            () = shutdown.wait() => None,
            slot = slots.clone().acquire_owned() => Some(slot?),
        };
        let waited = match (waited, pacer.as_mut()) {
            (Some(slot), Some(pacer)) => tokio::select! {
                biased;
                () = shutdown.wait() => None,
                _ = pacer.tick() => Some(slot),
            },
            (waited, _) => waited,
        };
        // Asked only now, with a slot in hand: hosts that ended while this one waited for its
        // slot may have stopped the rollout.
        let admitted = match waited {
            Some(slot) => admit(&rollout, &shutdown)
                .await
                .map(|admission| (slot, admission)),
            None => None,
        };
        let Some((slot, admission)) = admitted else {
            not_started = Some(Job {
                seq: job.seq,
                work: Work::Probe { addr, raw },
            });
            break;
        };
        let canary = match admission {
            Ok(canary) => canary,
            Err(why) => {
                drop(slot);
                send(&record_tx, (job.seq, vec![skipped_record(addr, &why, raw)])).await;
                continue;
            }
        };
        let context = context.clone();
        let record_tx = record_tx.clone();
        in_flight.start(job.seq, addr, raw.clone());
        let shared = shared.clone();
        let rollout = rollout.clone();
        let abandon = shutdown.clone();
        hosts.spawn(async move {
            let records = probe(addr, raw, &context).await;
            // A host that ends once the run was abandoned was cut short by it (its ssh killed):
            // it keeps its place in flight and gets the `interrupted` record the others get.
            if abandon.is_abandoned() {
                return;
            }
            let outcome = rollout::outcome(&records);
            // The slot is held until the writer has taken the records: behind a slow stdout
            // the queue fills, hosts wait here, and no new host starts, so the records held
            // stay bounded by -j (giving the slot back first let the scan run on and pile up
            // every record in memory).
            send(&record_tx, (job.seq, records)).await;
            // No await between the send and these: an abandoned task either sent its records
            // and was judged, or is still in flight, never both. Judged after its records are
            // queued, so they come out before the `skipped` ones a stop gives the rest, and
            // before the slot is given back, so that the dispatcher, which waits for a slot
            // before it asks, knows of this host's outcome when it asks.
            rollout.ended(job.seq, addr, canary, outcome);
            shared.progress.in_flight.end(job.seq);
            drop(slot);
        });
        // Finished tasks are reaped as we go, so the set holds only the running ones.
        while hosts.try_join_next().is_some() {}
    }
    if shutdown.is_requested() && !shared.stdout_closed() {
        // Every line read gets its record, the ones whose hosts never started included.
        let why = not_started_why(&rollout);
        let mut jobs: Vec<Job> = not_started.into_iter().collect();
        jobs.extend(drain_queue(&mut job_rx, &reader).await);
        for job in jobs {
            skipped += u64::from(matches!(job.work, Work::Done(_)));
            let records = without_probe(job.work, &options, || why.clone());
            send(&record_tx, (job.seq, records)).await;
        }
    }
    drop(job_rx);
    let mut abandoned = false;
    loop {
        if shared.stdout_closed() {
            hosts.abort_all();
        }
        tokio::select! {
            biased;
            () = shutdown.wait_abandon(), if !abandoned => {
                abandoned = true;
                hosts.abort_all();
            }
            joined = hosts.join_next() => if joined.is_none() {
                break;
            },
        }
    }
    if abandoned && !shared.stdout_closed() {
        for (seq, addr, raw) in in_flight.take_all() {
            send(&record_tx, (seq, vec![interrupted_record(addr, raw)])).await;
        }
    }
    drop(record_tx);
    watcher.abort();
    let written = tokio::task::spawn_blocking(move || writer.join())
        .await?
        .map_err(|_| anyhow::anyhow!("the output thread panicked"))?;
    written?;

    let mut summary = shared
        .summary
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    summary.skipped = skipped;
    summary.interrupted = shutdown.is_requested() && !shared.stdout_closed();
    summary.stopped = rollout.finish().map(|why| why.to_string());
    summary.finish(started.elapsed());
    Ok(Outcome {
        summary,
        stdout_closed: shared.stdout_closed(),
    })
}

/// Notices a reader that went away (`| head`) even while nothing is being written.
async fn watch_stdout(shared: Arc<RunShared>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tick.tick().await;
        if crate::pipe::stdout_reader_gone() {
            shared.close_stdout();
            return;
        }
    }
}

async fn send(tx: &mpsc::Sender<Finished>, finished: Finished) {
    // The writer only goes away after every sender is dropped, or when stdout closed, in which
    // case the record has nowhere to go anyway.
    let _ = tx.send(finished).await;
}

/// The jobs the reader queued before it stopped: taken until the queue is empty while the
/// reader waits for input (or is gone), so no line it read is left without a record.
async fn drain_queue(jobs: &mut mpsc::Receiver<Job>, reader: &ReaderState) -> Vec<Job> {
    let mut drained = Vec::new();
    loop {
        match jobs.try_recv() {
            Ok(job) => drained.push(job),
            Err(mpsc::error::TryRecvError::Disconnected) => break,
            Err(mpsc::error::TryRecvError::Empty) if reader.is_waiting() => break,
            Err(mpsc::error::TryRecvError::Empty) => {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    }
    jobs.close();
    while let Ok(job) = jobs.try_recv() {
        drained.push(job);
    }
    drained
}

/// Asks the rollout whether the next host may start, waiting while canaries run:
/// `Some(Ok(canary))` to start it (as a canary or not), `Some(Err(why))` when the rollout
/// stopped, `None` when a stop request came first.
async fn admit(rollout: &Rollout, shutdown: &Shutdown) -> Option<Result<bool, Arc<str>>> {
    loop {
        let changed = rollout.changed();
        match rollout.admit() {
            Admission::Start { canary } => return Some(Ok(canary)),
            Admission::Stop(why) => return Some(Err(why)),
            Admission::Wait => tokio::select! {
                biased;
                () = shutdown.wait() => return None,
                () = changed => {}
            },
        }
    }
}

/// Why a host read before the dispatching stopped was not started: the rollout's reason, or
/// the stop request's.
fn not_started_why(rollout: &Rollout) -> Arc<str> {
    rollout.stopped().unwrap_or_else(|| {
        "not started: the run was interrupted (Ctrl-C) before this host's turn".into()
    })
}

/// The records of a job whose host is not probed: an invalid line, a host done in an earlier
/// run (written with `--emit-skipped` only), or a host the stop came before (`why` says what
/// stopped the run).
fn without_probe(
    work: Work,
    options: &EngineOptions,
    why: impl FnOnce() -> Arc<str>,
) -> Vec<Record> {
    match work {
        Work::Invalid { input, reason } => vec![invalid(input, reason)],
        Work::Done(addr) => options
            .emit_skipped
            .then(|| skipped_record(addr, "already done in an earlier run (--skip-done)", None))
            .into_iter()
            .collect(),
        Work::Probe { addr, raw } => vec![skipped_record(addr, &why(), raw)],
    }
}

fn invalid(input: String, reason: String) -> Record {
    let mut record = Record::new(None, None, Status::InvalidInput);
    record.input = Some(input);
    record.error = Some(reason);
    record
}

fn skipped_record(addr: SocketAddr, why: &str, input: Option<String>) -> Record {
    let mut record = Record::new(Some(addr.ip()), Some(addr.port()), Status::Skipped);
    record.error = Some(why.to_owned());
    record.input = input;
    record
}

fn interrupted_record(addr: SocketAddr, input: Option<String>) -> Record {
    let mut record = Record::new(Some(addr.ip()), Some(addr.port()), Status::Interrupted);
    record.error =
        Some("abandoned unfinished: the run was told to quit (a second Ctrl-C)".to_owned());
    record.input = input;
    record
}
