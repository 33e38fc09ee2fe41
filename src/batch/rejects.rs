//! `OUTDIR/rejects.ndjson`: every input line that is not a JSON object, with where it came
//! from, appended across runs (without OUTDIR, `--configs` alone, rejects are only counted
//! and reported on stderr: the input still holds them).
//!
//! Each reject is one `write(2)` to a file opened for appending, so a crash cannot leave half a
//! line; the file is fsynced with every batch.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::BatchError;
use super::input::Reject;

/// The rejects file's name in OUTDIR.
pub const REJECTS: &str = "rejects.ndjson";

/// One line of `rejects.ndjson`.
#[derive(Debug, Serialize)]
struct RejectLine<'a> {
    /// 1-based line number in `input`.
    line: u64,
    /// The input (`<stdin>` or a path).
    input: &'a str,
    /// When the run that read it started (line numbers restart with every run).
    run: &'a str,
    /// Why the line was rejected.
    error: &'a str,
    /// The line (invalid UTF-8 replaced by U+FFFD, see `invalid_utf8`).
    text: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    invalid_utf8: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    truncated: bool,
}

/// The rejects file of one run.
#[derive(Debug)]
pub struct Rejects {
    path: Option<PathBuf>,
    file: Option<File>,
    input: String,
    run: String,
    count: u64,
    unsynced: bool,
}

impl Rejects {
    /// Rejects of a run reading `input`, started at `run` (RFC 3339), saved in `dir` (None:
    /// only counted).
    pub fn new(dir: Option<&Path>, input: String, run: String) -> Self {
        Rejects {
            path: dir.map(|dir| dir.join(REJECTS)),
            file: None,
            input,
            run,
            count: 0,
            unsynced: false,
        }
    }

    /// The file's path, for messages (None when rejects are only counted).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Lines rejected by this run.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Appends one reject.
    pub fn write(&mut self, reject: &Reject) -> Result<(), BatchError> {
        let Some(path) = self.path.clone() else {
            self.count += 1;
            return Ok(());
        };
        let text = String::from_utf8_lossy(&reject.text);
        let line = RejectLine {
            line: reject.line,
            input: &self.input,
            run: &self.run,
            error: &reject.reason,
            invalid_utf8: matches!(text, std::borrow::Cow::Owned(_)),
            text: &text,
            truncated: reject.truncated,
        };
        let mut bytes = serde_json::to_vec(&line).map_err(|err| self.error(err.into()))?;
        bytes.push(b'\n');
        let file = match &mut self.file {
            Some(file) => file,
            None => {
                let file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|err| self.error(err))?;
                self.file.insert(file)
            }
        };
        if let Err(err) = file.write_all(&bytes) {
            return Err(self.error(err));
        }
        self.count += 1;
        self.unsynced = true;
        Ok(())
    }

    /// Fsyncs what was appended since the last call.
    pub fn sync(&mut self) -> Result<(), BatchError> {
        if let (true, Some(file)) = (self.unsynced, &self.file) {
            file.sync_data().map_err(|err| self.error(err))?;
            self.unsynced = false;
        }
        Ok(())
    }

    fn error(&self, source: io::Error) -> BatchError {
        BatchError::Write {
            path: self
                .path
                .as_deref()
                .map_or_else(String::new, |path| path.display().to_string()),
            source,
        }
    }
}
