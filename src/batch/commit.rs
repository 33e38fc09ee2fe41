//! The commit thread: makes closed batches durable and lists them in the manifest, while the
//! batcher prepares the next ones.
//!
//! fsync is the slowest step by far (milliseconds per batch where writing it into the page
//! cache takes less), so it runs beside the batcher. When the disk falls behind, the batches
//! waiting are committed together (group commit): their files and one manifest are fsynced in
//! parallel, which costs one wait for the disk instead of one per batch. Each batch is still
//! durable before the manifest lists it, and `--exec` runs only on durable files.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use super::BatchError;
use super::exec;
use super::manifest::BatchEntry;
use super::outdir::{Ledger, Written};
use crate::pipe;

/// Closed batches waiting for the disk; more blocks the batcher (back-pressure), so the data
/// not yet durable stays bounded.
const QUEUE: usize = 8;

/// One closed batch, written under temporary names.
#[derive(Debug)]
pub struct Job {
    /// Its files.
    pub files: Vec<Written>,
    /// Its manifest entry.
    pub entry: BatchEntry,
    /// Lines rejected since the previous batch, for the manifest's totals.
    pub rejects: u64,
}

/// What the commit thread reports when it stops.
#[derive(Debug, Default)]
pub struct Report {
    /// `--exec` commands that failed.
    pub hook_failures: u64,
}

/// Handle on the commit thread.
#[derive(Debug)]
pub struct Committer {
    tx: Option<SyncSender<Job>>,
    handle: Option<JoinHandle<Result<(Report, Ledger), BatchError>>>,
}

impl Committer {
    /// Starts the thread; `exec` is the `--exec` template, `dir` OUTDIR.
    pub fn start(ledger: Ledger, dir: PathBuf, exec: Option<String>) -> Result<Self, BatchError> {
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let handle = std::thread::Builder::new()
            .name("batchsave-commit".into())
            .spawn(move || run(ledger, &rx, &dir, exec.as_deref()))
            .map_err(|source| BatchError::Setup {
                what: "starting the commit thread",
                source,
            })?;
        Ok(Committer {
            tx: Some(tx),
            handle: Some(handle),
        })
    }

    /// Hands a closed batch over; fails with the commit thread's error if it has stopped.
    pub fn send(&mut self, job: Job) -> Result<(), BatchError> {
        let sent = match &self.tx {
            Some(tx) => tx.send(job).is_ok(),
            None => false,
        };
        if sent {
            return Ok(());
        }
        // The thread stopped on an error: that error is the one to report.
        self.join(0)?;
        Err(BatchError::Setup {
            what: "committing batches",
            source: std::io::Error::other("the commit thread stopped"),
        })
    }

    /// Waits until every batch handed over is durable and listed, then counts `rejects` in
    /// the manifest (saving it when there are any).
    pub fn finish(mut self, rejects: u64) -> Result<Report, BatchError> {
        self.join(rejects)
    }

    fn join(&mut self, rejects: u64) -> Result<Report, BatchError> {
        // Closing the queue lets the thread drain it and stop.
        self.tx = None;
        let Some(handle) = self.handle.take() else {
            return Ok(Report::default());
        };
        let (report, mut ledger) = match handle.join() {
            Ok(Ok(done)) => done,
            Ok(Err(err)) => return Err(err),
            Err(_) => {
                return Err(BatchError::Setup {
                    what: "committing batches",
                    source: std::io::Error::other("the commit thread panicked"),
                });
            }
        };
        if rejects > 0 {
            ledger.save_rejects(rejects)?;
        }
        Ok(report)
    }
}

fn run(
    mut ledger: Ledger,
    rx: &Receiver<Job>,
    dir: &std::path::Path,
    exec: Option<&str>,
) -> Result<(Report, Ledger), BatchError> {
    let mut report = Report::default();
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        group.extend(rx.try_iter());
        let (first_batch, first_line) = (group[0].entry.batch, group[0].entry.first_line);
        let last_line = group.last().map_or(first_line, |job| job.entry.last_line);
        let mut files = Vec::new();
        let mut entries = Vec::with_capacity(group.len());
        let mut rejects = 0;
        for job in group {
            files.extend(job.files);
            entries.push(job.entry);
            rejects += job.rejects;
        }
        ledger
            .commit(files, &entries, rejects)
            .map_err(|source| BatchError::BatchLost {
                batch: first_batch,
                first_line,
                last_line,
                source: Box::new(source),
            })?;
        if let Some(template) = exec {
            for file in entries.iter().flat_map(|entry| &entry.files) {
                let path = dir.join(&file.path);
                if let Err(err) = exec::run_hook(template, &path) {
                    report.hook_failures += 1;
                    pipe::warn(format!("--exec on {}: {err}", path.display()));
                }
            }
        }
    }
    Ok((report, ledger))
}
