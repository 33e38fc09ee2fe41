//! The batch loop: records in, batches out, until the input ends or a signal stops it.
//!
//! The reader thread parses; this thread keeps the open batch and writes it when it closes:
//! on `--batch-size` records, `--every` after its first record, at the end of the input, and
//! on SIGINT/SIGTERM. A first signal saves the open batch at once; then, when the input is a
//! pipe, batchsave keeps reading until it ends, because the producer upstream got the same
//! Ctrl-C and is writing its last records (losing them would defeat the point). A second
//! signal, or the first when the input is a regular file, saves what was read and exits 130.
//! A third exits at once.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::time::Instant;

use chrono::{Local, SecondsFormat, Utc};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use super::columns::Columns;
use super::commit::{Committer, Job, Report};
use super::formats::{self, CsvStyle, Format};
use super::input::{self, Entry, InputConfig, InputEnd, Item, Msg};
use super::legacy;
use super::manifest::{BatchEntry, CloseReason, FileEntry, StatusCounts};
use super::outdir::{self, Ledger, OutDir, Written};
use super::rejects::Rejects;
use super::{BatchError, Layout, Options};
use crate::archive::Archive;
use crate::archive::mask::Masks;
use crate::pipe::{self, Exit};
use crate::record::Record;

/// Chunks (one per read of the input, at most 256 KiB of it) in flight between the reader and
/// the batcher: enough for the reader to keep parsing while a batch is being fsynced, few
/// enough to bound the memory the batch itself does not account for.
const CHANNEL_CHUNKS: usize = 16;

/// Rejected lines reported one by one on stderr; the rest are counted in the summary.
const REJECTS_SHOWN: u64 = 10;

/// Reads records from `options.input` and writes them in batches into `options.outdir`, and
/// their configurations into the archive of `options.configs`.
pub fn run(options: &Options) -> Result<Exit, BatchError> {
    let input = input::open(&options.input).map_err(BatchError::Open)?;
    let masks = Masks::new(&options.masks)?;
    let archive = match &options.configs {
        Some(dir) => {
            let (archive, opened) = Archive::open(dir, masks)?;
            for lock in &opened.stale {
                pipe::warn(format!(
                    "removed {lock}, left by an interrupted run of batchsave"
                ));
            }
            if opened.repaired {
                pipe::warn(format!(
                    "{}: an interrupted run had committed but not finished the work tree; \
                     repaired it",
                    dir.display()
                ));
            }
            if opened.created && !options.quiet {
                pipe::note(format!("created the archive {}", dir.display()));
            }
            Some(archive)
        }
        None => None,
    };
    let batches = match &options.outdir {
        Some(path) => Some(open_outdir(path, options)?),
        None => None,
    };

    let (tx, rx) = mpsc::sync_channel(CHANNEL_CHUNKS);
    let signals = watch_signals(tx.clone())?;
    let input_name = input.name.to_string();
    // A regular file has no producer upstream that is still finishing after a Ctrl-C.
    let drain_after_signal = !input.regular_file;
    let config = InputConfig {
        by: options.by.clone(),
        parse_records: options.layout == Some(Layout::Batchscanner) || archive.is_some(),
        tee: options.tee,
    };
    input::spawn(input, config, tx).map_err(|source| BatchError::Setup {
        what: "starting the reader thread",
        source,
    })?;

    let run_started = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    let (outdir, committer) = match batches {
        Some((outdir, ledger)) => {
            let committer =
                Committer::start(ledger, outdir.path().to_owned(), options.exec.clone())?;
            (Some(outdir), Some(committer))
        }
        None => (None, None),
    };
    let rejects = Rejects::new(
        outdir.as_ref().map(OutDir::path),
        input_name.clone(),
        run_started,
    );
    let mut batcher = Batcher {
        options,
        outdir,
        committer,
        rejects,
        archive,
        input: input_name,
        names: Vec::new(),
        pending: Vec::new(),
        opened: None,
        rejects_saved: 0,
        batches: 0,
        records: 0,
        statuses: StatusCounts::default(),
        not_records: 0,
        not_archived: 0,
        interrupted: false,
    };
    let stop = batcher.run(&rx, &signals, drain_after_signal);
    batcher.finish(stop)
}

/// Opens OUTDIR and says what an interrupted run left in it.
fn open_outdir(path: &Path, options: &Options) -> Result<(OutDir, Ledger), BatchError> {
    let (outdir, ledger, findings) = OutDir::open(path)?;
    for file in &findings.completed {
        pipe::warn(format!(
            "renamed {file} into place: an interrupted run had made it durable but not yet \
             renamed it (its batch's other files were in place)"
        ));
    }
    if !options.quiet {
        for temp in &findings.removed {
            pipe::note(format!(
                "removed {temp}, a temporary file left by an interrupted run"
            ));
        }
    }
    for batch in &findings.unlisted {
        pipe::warn(format!(
            "{}: the files of batch {batch} are not listed in {} (the run that wrote them \
             was stopped before it could update it); numbering continues after them",
            path.display(),
            super::manifest::MANIFEST
        ));
    }
    if let (Some((first, last)), false) = (findings.existing, options.quiet) {
        let held = if first == last {
            format!("batch {last}")
        } else {
            format!("batches {first}\u{2013}{last}")
        };
        pipe::note(format!(
            "{} holds {held}; continuing with batch {}",
            path.display(),
            last + 1
        ));
    }
    Ok((outdir, ledger))
}

/// Counts SIGINT/SIGTERM and wakes the batcher; exits at once on the third.
fn watch_signals(tx: SyncSender<Msg>) -> Result<Arc<AtomicUsize>, BatchError> {
    let count = Arc::new(AtomicUsize::new(0));
    let mut signals = Signals::new([SIGINT, SIGTERM]).map_err(|source| BatchError::Setup {
        what: "installing signal handlers",
        source,
    })?;
    let seen = Arc::clone(&count);
    std::thread::Builder::new()
        .name("batchsave-signals".into())
        .spawn(move || {
            for _ in signals.forever() {
                if seen.fetch_add(1, Ordering::SeqCst) + 1 >= 3 {
                    // The batcher did not stop after two signals (a hung --exec hook, a stuck
                    // disk): leave now. Finished batches are on disk; the next run removes
                    // any temporary file.
                    std::process::exit(i32::from(Exit::Interrupted.code()));
                }
                // When the channel is full the batcher is busy and checks the count anyway.
                let _ = tx.try_send(Msg::Wake);
            }
        })
        .map_err(|source| BatchError::Setup {
            what: "starting the signal thread",
            source,
        })?;
    Ok(count)
}

/// Why the loop stopped, when it was not an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// The input ended.
    End,
    /// A signal: exit 130.
    Interrupted,
    /// `--tee` found stdout closed: a clean stop.
    OutputClosed,
}

struct Batcher<'a> {
    options: &'a Options,
    /// None with `--configs` and no OUTDIR: no batch files.
    outdir: Option<OutDir>,
    committer: Option<Committer>,
    rejects: Rejects,
    archive: Option<Archive>,
    input: String,
    /// Flattened names by id, as the reader interned them.
    names: Vec<Box<str>>,
    /// The open batch.
    pending: Vec<Entry>,
    /// When the open batch got its first record.
    opened: Option<Instant>,
    /// Rejects already counted in the manifest.
    rejects_saved: u64,
    batches: u64,
    records: u64,
    statuses: StatusCounts,
    /// Records left out of the batchscanner files because they are not sikprobe records.
    not_records: u64,
    /// Records left out of the archive because they are not sikprobe records.
    not_archived: u64,
    interrupted: bool,
}

impl Batcher<'_> {
    fn run(
        &mut self,
        rx: &Receiver<Msg>,
        signals: &AtomicUsize,
        drain_after_signal: bool,
    ) -> Result<Stop, BatchError> {
        let mut signals_seen = 0;
        loop {
            let count = signals.load(Ordering::SeqCst);
            if count > signals_seen {
                signals_seen = count;
                // Everything the reader has handed over belongs to the batch saved now.
                let ended = self.take_ready(rx)?;
                self.close(CloseReason::Signal)?;
                self.interrupted = true;
                if let Some(end) = ended {
                    return self.end(end);
                }
                if count >= 2 || !drain_after_signal {
                    return Ok(Stop::Interrupted);
                }
                if !self.options.quiet {
                    pipe::note(
                        "interrupted: the open batch is saved; saving the rest of the input \
                         until it ends (interrupt again to stop now)",
                    );
                }
            }
            let message = match self.deadline() {
                Some(deadline) => {
                    match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                        Ok(message) => message,
                        Err(RecvTimeoutError::Timeout) => {
                            self.close(CloseReason::Every)?;
                            continue;
                        }
                        Err(RecvTimeoutError::Disconnected) => Msg::End(reader_vanished()),
                    }
                }
                None => rx.recv().unwrap_or_else(|_| Msg::End(reader_vanished())),
            };
            match message {
                Msg::Wake => {}
                Msg::Items(items) => self.take(items)?,
                Msg::End(end) => return self.end(end),
            }
        }
    }

    /// When the open batch must close because of `--every`.
    fn deadline(&self) -> Option<Instant> {
        Some(self.opened? + self.options.every?)
    }

    /// Takes whatever the reader already handed over, without waiting; returns how the
    /// input ended if the reader said so.
    fn take_ready(&mut self, rx: &Receiver<Msg>) -> Result<Option<InputEnd>, BatchError> {
        while let Ok(message) = rx.try_recv() {
            match message {
                Msg::Items(items) => self.take(items)?,
                Msg::End(end) => return Ok(Some(end)),
                Msg::Wake => {}
            }
        }
        Ok(None)
    }

    fn take(&mut self, items: Vec<Item>) -> Result<(), BatchError> {
        for item in items {
            match item {
                Item::Name(id, name) => {
                    // Ids come in order; placing by id keeps names right even if they did not.
                    let id = id as usize;
                    if self.names.len() <= id {
                        self.names.resize(id + 1, Box::from(""));
                    }
                    self.names[id] = name;
                }
                Item::Entry(entry) => {
                    self.archive(&entry)?;
                    if self.outdir.is_none() {
                        continue;
                    }
                    if self.pending.is_empty() {
                        self.opened = Some(Instant::now());
                    }
                    self.pending.push(entry);
                    if self.pending.len() >= self.options.batch_size.get() {
                        self.close(CloseReason::Size)?;
                    }
                }
                Item::Reject(reject) => {
                    self.rejects.write(&reject)?;
                    if self.rejects.count() <= REJECTS_SHOWN {
                        let saved = match self.rejects.path() {
                            Some(path) => format!("; saved in {}", path.display()),
                            None => String::new(),
                        };
                        pipe::warn(format!(
                            "{}:{}: rejected ({}){saved}",
                            self.input, reject.line, reject.reason,
                        ));
                    }
                }
            }
        }
        // A steady stream never lets recv_timeout expire: check the deadline here too.
        if self
            .deadline()
            .is_some_and(|deadline| Instant::now() >= deadline)
        {
            self.close(CloseReason::Every)?;
        }
        Ok(())
    }

    /// Hands a record to the archive, if there is one.
    fn archive(&mut self, entry: &Entry) -> Result<(), BatchError> {
        let Some(archive) = &mut self.archive else {
            return Ok(());
        };
        match &entry.record {
            Some(Ok(record)) => {
                archive.add(record)?;
            }
            Some(Err(reason)) => {
                self.not_archived += 1;
                if self.not_archived == 1 {
                    pipe::warn(format!(
                        "{}:{}: not a sikprobe record ({reason}); left out of the archive \
                         (and so are any others, counted at the end)",
                        self.input, entry.line
                    ));
                }
            }
            None => {}
        }
        Ok(())
    }

    fn end(&mut self, end: InputEnd) -> Result<Stop, BatchError> {
        let reason = match end {
            InputEnd::OutputClosed => CloseReason::OutputClosed,
            _ => CloseReason::End,
        };
        // Whatever happened to the input, what was read is saved.
        self.close(reason)?;
        match end {
            InputEnd::Eof | InputEnd::OutputClosed if self.interrupted => Ok(Stop::Interrupted),
            InputEnd::Eof => Ok(Stop::End),
            InputEnd::OutputClosed => Ok(Stop::OutputClosed),
            InputEnd::ReadFailed(source) => Err(BatchError::Read {
                name: self.input.clone(),
                source,
            }),
            InputEnd::TeeFailed(source) => Err(BatchError::Tee(source)),
        }
    }

    /// Writes the open batch, if it has records, and hands it to the commit thread.
    fn close(&mut self, reason: CloseReason) -> Result<(), BatchError> {
        self.opened = None;
        let (Some(first), Some(last)) = (self.pending.first(), self.pending.last()) else {
            return Ok(());
        };
        let (first_line, last_line) = (first.line, last.line);
        // Taken out while the batch is written, so the writer can borrow the rest of self.
        let Some(mut outdir) = self.outdir.take() else {
            return Ok(());
        };
        let batch = outdir.allocate_batch();
        let written = self.write_batch(&mut outdir, batch, reason, first_line, last_line);
        self.outdir = Some(outdir);
        self.pending.clear();
        let job = written.map_err(|source| BatchError::BatchLost {
            batch,
            first_line,
            last_line,
            source: Box::new(source),
        })?;
        match &mut self.committer {
            Some(committer) => committer.send(job),
            None => Ok(()),
        }
    }

    /// Writes every file of a batch under temporary names, for the commit thread.
    fn write_batch(
        &mut self,
        outdir: &mut OutDir,
        batch: u64,
        reason: CloseReason,
        first_line: u64,
        last_line: u64,
    ) -> Result<Job, BatchError> {
        let mut files = Vec::new();
        let mut written = Vec::new();
        let mut statuses = StatusCounts::default();
        for entry in &self.pending {
            statuses.add(entry.status);
        }
        for (by, members) in self.groups() {
            let mut counts = StatusCounts::default();
            for entry in &members {
                counts.add(entry.status);
            }
            for &format in &self.options.formats {
                let name = outdir::batch_file_name(batch, by, format.extension());
                let file_written = outdir.write(&name, |file| match format {
                    Format::Csv => {
                        let flat = || members.iter().map(|entry| &entry.flat);
                        let columns = match &self.options.fields {
                            Some(fields) => Columns::fixed(fields, &self.names),
                            None => Columns::union(flat(), &self.names, self.options.csv_raw),
                        };
                        let style = CsvStyle {
                            excel_safe: self.options.excel_safe,
                        };
                        formats::write_csv(file, flat(), &columns, style).map(drop)
                    }
                    Format::Json => {
                        formats::write_json(file, members.iter().map(|e| e.raw.as_slice()))
                            .map(drop)
                    }
                    Format::Ndjson => {
                        formats::write_ndjson(file, members.iter().map(|e| e.raw.as_slice()))
                            .map(drop)
                    }
                })?;
                files.push(FileEntry {
                    path: name,
                    format: format.extension(),
                    by: by.map(str::to_owned),
                    records: members.len() as u64,
                    bytes: file_written.bytes,
                    statuses: Some(counts.to_json()),
                });
                written.push(file_written);
            }
        }
        if self.options.layout == Some(Layout::Batchscanner) {
            self.write_legacy(outdir, batch, &mut files, &mut written)?;
        }
        self.rejects.sync()?;
        let new_rejects = self.rejects.count() - self.rejects_saved;
        self.rejects_saved = self.rejects.count();
        let entry = BatchEntry {
            batch,
            closed: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
            reason,
            input: self.input.clone(),
            first_line,
            last_line,
            records: self.pending.len() as u64,
            statuses: statuses.to_json(),
            files,
        };
        self.batches += 1;
        self.records += entry.records;
        for entry in &self.pending {
            self.statuses.add(entry.status);
        }
        Ok(Job {
            files: written,
            entry,
            rejects: new_rejects,
        })
    }

    /// The open batch split by `--by` value, in the order values first appear; one group of
    /// everything without `--by`.
    fn groups(&self) -> Vec<(Option<&str>, Vec<&Entry>)> {
        if self.options.by.is_none() {
            return vec![(None, self.pending.iter().collect())];
        }
        let mut groups: Vec<(Option<&str>, Vec<&Entry>)> = Vec::new();
        for entry in &self.pending {
            let value = entry.by.as_deref().unwrap_or("none");
            match groups.iter_mut().find(|(by, _)| *by == Some(value)) {
                Some((_, members)) => members.push(entry),
                None => groups.push((Some(value), vec![entry])),
            }
        }
        groups
    }

    fn write_legacy(
        &mut self,
        outdir: &mut OutDir,
        batch: u64,
        files: &mut Vec<FileEntry>,
        written: &mut Vec<Written>,
    ) -> Result<(), BatchError> {
        let mut records: Vec<&Record> = Vec::with_capacity(self.pending.len());
        for entry in &self.pending {
            match &entry.record {
                Some(Ok(record)) => records.push(record),
                Some(Err(reason)) => {
                    self.not_records += 1;
                    if self.not_records == 1 {
                        pipe::warn(format!(
                            "{}:{}: not a sikprobe record ({reason}); left out of the \
                             batchscanner files (and so are any others, counted at the end)",
                            self.input, entry.line
                        ));
                    }
                }
                None => {}
            }
        }
        let stamp = Local::now().format("%Y%m%d_%H%M%S").to_string();
        let rendered = legacy::render(&records, &stamp).map_err(|source| BatchError::Write {
            path: outdir.path().display().to_string(),
            source,
        })?;
        for file in rendered {
            let name = legacy::file_name(&stamp, batch, &file.suffix);
            let file_written =
                outdir.write(&name, |out| std::io::Write::write_all(out, &file.content))?;
            files.push(FileEntry {
                path: name,
                format: "batchscanner",
                by: None,
                records: file.rows,
                bytes: file_written.bytes,
                statuses: None,
            });
            written.push(file_written);
        }
        Ok(())
    }

    /// Waits for the commit thread (every batch handed over is durable and listed, even when
    /// the loop stopped on an error), saves the reject count, prints the summary, and gives
    /// the exit status.
    fn finish(self, stop: Result<Stop, BatchError>) -> Result<Exit, BatchError> {
        let unsaved = self.rejects.count() - self.rejects_saved;
        let committed = match self.committer {
            Some(committer) => committer.finish(unsaved),
            None => Ok(Report::default()),
        };
        let (stop, report) = match (stop, committed) {
            (Err(err), committed) => {
                if let Err(also) = committed {
                    pipe::warn(format!("{:#}", anyhow::Error::from(also)));
                }
                return Err(err);
            }
            (Ok(_), Err(err)) => return Err(err),
            (Ok(stop), Ok(report)) => (stop, report),
        };
        if self.not_records > 1 {
            pipe::warn(format!(
                "{} records were not sikprobe records and are not in the batchscanner files",
                self.not_records
            ));
        }
        if self.not_archived > 1 {
            pipe::warn(format!(
                "{} records were not sikprobe records and are not in the archive",
                self.not_archived
            ));
        }
        // The batches are durable before the archive commits, so the archive never knows of a
        // run that OUTDIR lost.
        if let Some(archive) = self.archive {
            let dir = archive.dir().display().to_string();
            let outcome = archive.finish(stop == Stop::Interrupted)?;
            if !self.options.quiet {
                pipe::note(match outcome.commit {
                    Some(commit) => format!(
                        "archive {dir}: commit {:.7}: {}; {} {} in the archive",
                        commit.to_string(),
                        outcome.summary.subject(),
                        outcome.radios,
                        plural(outcome.radios as u64, "radio", "radios")
                    ),
                    None => format!(
                        "archive {dir}: nothing changed, no commit ({}; {} in the archive)",
                        outcome.summary.subject(),
                        outcome.radios
                    ),
                });
            }
        }
        if let (Some(outdir), false) = (&self.options.outdir, self.options.quiet) {
            let mut summary = format!(
                "{} {} of {} {} saved in {}",
                self.batches,
                plural(self.batches, "batch", "batches"),
                self.records,
                plural(self.records, "record", "records"),
                outdir.display()
            );
            if self.records > 0 {
                summary.push_str(&format!(" ({})", self.statuses.summary()));
            }
            if let (true, Some(path)) = (self.rejects.count() > 0, self.rejects.path()) {
                summary.push_str(&format!(
                    "; {} {} rejected, see {}",
                    self.rejects.count(),
                    plural(self.rejects.count(), "line", "lines"),
                    path.display()
                ));
            }
            pipe::note(summary);
        }
        if self.options.outdir.is_none() && self.rejects.count() > 0 {
            pipe::warn(format!(
                "{} {} of {} rejected (not JSON objects)",
                self.rejects.count(),
                plural(self.rejects.count(), "line", "lines"),
                self.input
            ));
        }
        let strict_failure =
            (self.rejects.count() > 0 && !self.options.allow_rejects) || report.hook_failures > 0;
        Ok(match stop {
            Stop::Interrupted => Exit::Interrupted,
            _ if strict_failure => Exit::Partial,
            Stop::End | Stop::OutputClosed => Exit::Success,
        })
    }
}

fn reader_vanished() -> InputEnd {
    InputEnd::ReadFailed(std::io::Error::other(
        "the reader thread stopped unexpectedly",
    ))
}

fn plural<'a>(count: u64, one: &'a str, many: &'a str) -> &'a str {
    if count == 1 { one } else { many }
}
