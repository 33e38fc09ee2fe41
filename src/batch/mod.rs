//! batchsave's engine: group an NDJSON record stream into durable, schema-stable batch files.
//!
//! - [`flatten`]: one JSON object → dotted-name cells, parsed and flattened in one pass;
//! - [`columns`]: which columns a CSV file gets, and in what order;
//! - [`formats`]: CSV (RFC 4180), JSON and NDJSON writers;
//! - [`atomic`]: files written under a temporary name, fsynced, renamed;
//! - [`manifest`]: `manifest.json`, every batch with its files and counts per status;
//! - [`legacy`]: batchscanner's files (`--layout batchscanner`), rebuilt from records;
//! - `input`, `outdir`, `commit`, `rejects`, `exec` and `batcher`: the reader thread, the
//!   output directory, the commit thread, `rejects.ndjson`, `--exec` hooks, and the loop that
//!   ties them together.

pub mod atomic;
mod batcher;
pub mod columns;
mod commit;
mod exec;
pub mod flatten;
pub mod formats;
mod input;
pub mod legacy;
pub mod manifest;
mod outdir;
mod rejects;

use std::io;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use clap::ValueEnum;

pub use batcher::run;
pub use formats::Format;
pub use outdir::batch_number;
pub use rejects::REJECTS;

use crate::pipe::OpenError;

/// Extra file layouts written beside the native files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Layout {
    /// batchscanner 0.1.7's per-batch CSV files, same names (plus the batch number), columns,
    /// line ends and error strings.
    Batchscanner,
}

/// What batchsave is asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where batch files go (None: no batch files, only the archive).
    pub outdir: Option<PathBuf>,
    /// The configuration archive (`--configs`).
    pub configs: Option<PathBuf>,
    /// `--mask` patterns for the archive.
    pub masks: Vec<String>,
    /// Where records come from (`-` is standard input).
    pub input: PathBuf,
    /// Records per batch.
    pub batch_size: NonZeroUsize,
    /// Close a batch this long after its first record.
    pub every: Option<Duration>,
    /// Native formats written for each batch.
    pub formats: Vec<Format>,
    /// Fixed CSV columns, instead of the union of each file's names.
    pub fields: Option<Vec<String>>,
    /// Keep raw device text (command outputs, configurations) in CSV files built from the
    /// records' names.
    pub csv_raw: bool,
    /// One file series per value of this (flattened) field.
    pub by: Option<String>,
    /// Extra layouts.
    pub layout: Option<Layout>,
    /// Neutralise formula-looking CSV cells.
    pub excel_safe: bool,
    /// Copy the input to standard output.
    pub tee: bool,
    /// Shell command run on each finished file.
    pub exec: Option<String>,
    /// Exit 0 even when lines were rejected.
    pub allow_rejects: bool,
    /// Nothing on stderr but errors and warnings.
    pub quiet: bool,
}

/// Why batchsave stopped with an error. The messages leave the cause to the error's source,
/// so that printing the chain (`{:#}` through anyhow) says everything once.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The input could not be opened.
    #[error(transparent)]
    Open(OpenError),
    /// Reading the input failed.
    #[error("reading {name}")]
    Read {
        /// The input.
        name: String,
        /// Why.
        source: io::Error,
    },
    /// Writing standard output (`--tee`) failed.
    #[error("writing standard output: {0}")]
    Tee(io::Error),
    /// OUTDIR could not be created, read or synced.
    #[error("output directory {path}")]
    OutDir {
        /// OUTDIR.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// OUTDIR exists and is not a directory.
    #[error("output directory {path} exists and is not a directory")]
    NotADirectory {
        /// OUTDIR.
        path: String,
    },
    /// Another batchsave holds OUTDIR's lock.
    #[error("output directory {path} is in use by another batchsave")]
    Locked {
        /// OUTDIR.
        path: String,
    },
    /// OUTDIR's manifest is unreadable or not batchsave's.
    #[error(transparent)]
    Manifest(#[from] manifest::ManifestError),
    /// Writing a file failed (its temporary file was removed).
    #[error("writing {path}")]
    Write {
        /// The file's final path.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// A batch could not be saved; its records are still in the input at these lines.
    #[error("batch {batch} (input lines {first_line}-{last_line}) was not saved")]
    BatchLost {
        /// The batch number.
        batch: u64,
        /// Input line of its first record.
        first_line: u64,
        /// Input line of its last record.
        last_line: u64,
        /// What failed.
        source: Box<BatchError>,
    },
    /// The configuration archive could not be opened or updated.
    #[error(transparent)]
    Archive(#[from] crate::archive::ArchiveError),
    /// A `--mask` pattern is not a regular expression.
    #[error(transparent)]
    Mask(#[from] crate::archive::mask::BadMask),
    /// A thread or the signal handlers could not be set up.
    #[error("{what}")]
    Setup {
        /// What was being set up.
        what: &'static str,
        /// Why it failed.
        source: io::Error,
    },
}
