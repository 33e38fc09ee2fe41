//! sikdiff's engine: what changed in the fleet between two snapshots.
//!
//! - [`source`]: a snapshot (NDJSON file, batchsave directory, standard input), read line by
//!   line and read again by a record's location;
//! - [`summary`]: a record reduced to its address, serial and a fingerprint of what is
//!   compared, in one pass over its text;
//! - [`matcher`]: OLD's radios paired with NEW's, by serial, else by address;
//! - [`rules`]: what is compared, what is volatile, the tolerances;
//! - [`compare`], [`config`] and [`event`]: the two records of a radio that may differ read in
//!   full and turned into its change event;
//! - [`report`]: `--format text`.
//!
//! Memory: one summary (about a hundred bytes) per radio of OLD, one per radio of NEW that
//! is not at its OLD address, and a bounded queue of NEW's summaries while OLD loads; the
//! records themselves are read again, two at a time, only for the radios whose summaries
//! differ.

pub mod compare;
pub mod config;
pub mod event;
pub mod matcher;
pub mod report;
pub mod rules;
pub mod source;
pub mod summary;

use std::path::Path;
use std::sync::mpsc;

use clap::ValueEnum;
use serde_json::{Map, Value};

use crate::pipe::{self, DataOut};

use event::{Event, Labels};
use matcher::{Candidate, Counts, Matcher};
use report::Tally;
use rules::Rules;
use source::{Location, Source};
use summary::{Line, Summarizer};

/// Lines that are not records named one by one on stderr before the rest are only counted.
const BAD_LINES_SHOWN: u64 = 10;

/// Summaries of NEW handed to the matcher at once.
const BATCH: usize = 1024;

/// Batches of NEW's summaries the reading thread may be ahead of the matcher: about 15 MB
/// at most, whatever NEW's size.
const AHEAD_BATCHES: usize = 128;

/// How the events are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON object per radio that differs.
    Ndjson,
    /// A report for a person: the counts, then one block per radio.
    Text,
}

/// What to compare and how to write it.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Compare every field exactly, volatile ones included.
    pub all_fields: bool,
    /// How the events are written.
    pub format: Format,
    /// Flush each event as soon as it is written.
    pub line_buffered: bool,
}

/// What a comparison found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Events written, by kind.
    pub tally: Tally,
    /// Radios and superseded records on each side.
    pub counts: Counts,
    /// Lines of either snapshot that were not records (each was warned about, or counted in
    /// a warning).
    pub bad_lines: u64,
}

/// Why a comparison could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// A snapshot, or one of its files, could not be read.
    #[error("{what}")]
    Read {
        /// The path (or `<stdin>`).
        what: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A directory holds no NDJSON file.
    #[error("{dir}: no *.ndjson file in this directory (not a batchsave output directory?)")]
    NoRecordFiles {
        /// The directory.
        dir: String,
    },
    /// More files than a location can number.
    #[error("{what}: more than 2^32 NDJSON files")]
    TooManyFiles {
        /// The snapshot.
        what: String,
    },
    /// A record read again was not what was read the first time.
    #[error("{what} changed while sikdiff was reading it")]
    Changed {
        /// The snapshot.
        what: String,
    },
    /// `-` given twice.
    #[error("OLD and NEW cannot both be standard input ('-')")]
    BothStdin,
    /// Writing the events failed.
    #[error("writing the events")]
    Write(#[source] std::io::Error),
}

/// Compares snapshot `new` with snapshot `old` and writes one event per radio that differs
/// to `out`, in NEW's order, then the radios that vanished, in OLD's order.
pub fn run(
    old: &Path,
    new: &Path,
    options: &Options,
    out: &mut DataOut,
) -> Result<Outcome, DiffError> {
    if old.as_os_str() == "-" && new.as_os_str() == "-" {
        return Err(DiffError::BothStdin);
    }
    let mut old = Source::open(old)?;
    let mut new = Source::open(new)?;
    let mut matcher = Matcher::new();
    let mut bad_lines = 0;
    let mut rules = read_both(
        &mut old,
        &mut new,
        options.all_fields,
        &mut matcher,
        &mut bad_lines,
    )?;
    if bad_lines > BAD_LINES_SHOWN {
        pipe::warn(format!(
            "{} more lines were not records (skipped)",
            bad_lines - BAD_LINES_SHOWN
        ));
    }
    let (candidates, counts) = matcher.finish();
    let labels = (old.label.clone(), new.label.clone());
    let labels = Labels {
        old: &labels.0,
        new: &labels.1,
    };
    let mut tally = Tally::default();
    let mut kept = Vec::new();
    for candidate in candidates {
        let Some(event) = event(&mut old, &mut new, candidate, labels, &mut rules)? else {
            continue;
        };
        tally.add(event.change);
        match options.format {
            Format::Ndjson => {
                let mut line = serde_json::to_vec(&event)
                    .map_err(std::io::Error::from)
                    .map_err(DiffError::Write)?;
                line.push(b'\n');
                out.write_record(&line).map_err(DiffError::Write)?;
            }
            Format::Text => kept.push(event),
        }
    }
    if options.format == Format::Text {
        let text = report::render(&kept, &tally, &counts, labels.old, labels.new);
        out.write_record(text.as_bytes())
            .map_err(DiffError::Write)?;
    }
    if options.line_buffered {
        out.flush().map_err(DiffError::Write)?;
    }
    Ok(Outcome {
        tally,
        counts,
        bad_lines,
    })
}

/// Reads OLD into the matcher, then NEW. NEW is summarised on a second thread while OLD
/// loads, at most [`AHEAD_BATCHES`] batches ahead of the matcher: reading both snapshots costs
/// about the time of one on two cores, and memory stays bounded whatever NEW's size. Lines
/// that are not records are counted in `bad_lines`, the first few named on stderr (OLD's
/// first). Returns the rules, with the treatment of every path seen remembered.
fn read_both(
    old: &mut Source,
    new: &mut Source,
    all_fields: bool,
    matcher: &mut Matcher,
    bad_lines: &mut u64,
) -> Result<Rules, DiffError> {
    let mut bad = |side: &str, place: String, why: String| {
        *bad_lines += 1;
        if *bad_lines <= BAD_LINES_SHOWN {
            pipe::warn(format!("{side} {place}: not a record, skipped: {why}"));
        }
    };
    std::thread::scope(|scope| {
        let (queue, queued) = mpsc::sync_channel::<Vec<Item>>(AHEAD_BATCHES);
        let reader = scope.spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            let mut summarizer = Summarizer::new(Rules::new(all_fields));
            let read = summarize(new, &mut summarizer, |item| {
                batch.push(item);
                if batch.len() == BATCH {
                    // A closed queue means the matcher stopped on an error of its own.
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    let _ = queue.send(full);
                }
            });
            let _ = queue.send(batch);
            read
        });
        let mut summarizer = Summarizer::new(Rules::new(all_fields));
        let loaded = summarize(old, &mut summarizer, |item| match item {
            Item::Radio(summary) => matcher.add_old(summary),
            Item::NotARecord { place, why } => bad("OLD", place, why),
        });
        matcher.old_done();
        if loaded.is_ok() {
            for item in queued.iter().flatten() {
                match item {
                    Item::Radio(summary) => matcher.add_new(summary),
                    Item::NotARecord { place, why } => bad("NEW", place, why),
                }
            }
        }
        drop(queued);
        let read = reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        loaded.and(read).map(|()| summarizer.into_rules())
    })
}

/// A line of a snapshot, summarised.
enum Item {
    /// A record about a radio.
    Radio(summary::Summary),
    /// A line that is not a record: where (`FILE:LINE`) and why.
    NotARecord { place: String, why: String },
}

/// Summarises every line of a snapshot, in order, into `each` (records without an address
/// are about no radio and left out).
fn summarize(
    source: &mut Source,
    summarizer: &mut Summarizer,
    mut each: impl FnMut(Item),
) -> Result<(), DiffError> {
    source.for_each_line(|at, place, bytes, truncated| {
        let why = if truncated {
            format!("longer than {} bytes", crate::snapshot::MAX_RECORD)
        } else {
            match summarizer.summarize(bytes, at) {
                Line::Radio(summary) => return each(Item::Radio(summary)),
                Line::NoAddress => return,
                Line::NotARecord(why) => why,
            }
        };
        each(Item::NotARecord {
            place: place(),
            why,
        });
    })
}

/// The event of a radio that may differ, from its records read again in full.
fn event(
    old: &mut Source,
    new: &mut Source,
    candidate: Candidate,
    labels: Labels<'_>,
    rules: &mut Rules,
) -> Result<Option<Event>, DiffError> {
    let old_record = record(old, candidate.old)?;
    let new_record = record(new, candidate.new)?;
    Ok(event::build(
        candidate.change,
        old_record.as_ref(),
        new_record.as_ref(),
        labels,
        rules,
    ))
}

fn record(
    source: &mut Source,
    at: Option<Location>,
) -> Result<Option<Map<String, Value>>, DiffError> {
    let Some(at) = at else {
        return Ok(None);
    };
    let bytes = source.read_at(at)?;
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|_| DiffError::Changed {
            what: source.label.clone(),
        })
}
