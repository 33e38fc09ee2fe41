//! `manifest.json`: every batch and its files, record counts and counts per status.
//!
//! The file is rewritten atomically after each batch. One batch per line keeps it readable
//! and lets a run append to what earlier runs wrote without re-encoding it:
//!
//! ```text
//! {"version":1,"totals":{"batches":2,"records":1500,"rejects":0,"statuses":{"ok":1490,"refused":10}},"batches":[
//! {"batch":1,"closed":"…","reason":"size","input":"<stdin>","first_line":1,"last_line":1000,"records":1000,"statuses":{…},"files":[…]},
//! {"batch":2,…}
//! ]}
//! ```
//!
//! Entries written by earlier runs are kept as they are; only the totals are recomputed.

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::record::Status;

use super::atomic::AtomicFile;

/// The manifest's file name in OUTDIR.
pub const MANIFEST: &str = "manifest.json";

const VERSION: u64 = 1;

/// Counts of records per status, in the order of the taxonomy; records without a status of the
/// taxonomy count as `none`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusCounts {
    counts: [u64; Status::ALL.len()],
    none: u64,
    /// Counts under names this version does not know (from a manifest written by another one).
    others: Vec<(String, u64)>,
}

impl StatusCounts {
    /// Counts one record.
    pub fn add(&mut self, status: Option<Status>) {
        match status {
            Some(status) => self.counts[status as usize] += 1,
            None => self.none += 1,
        }
    }

    /// Adds counts read from a manifest's `statuses` object.
    fn add_json(&mut self, value: &Value) {
        let Some(object) = value.as_object() else {
            return;
        };
        for (name, count) in object {
            let count = count.as_u64().unwrap_or(0);
            match name.parse::<Status>() {
                Ok(status) => self.counts[status as usize] += count,
                Err(_) if name == "none" => self.none += count,
                Err(_) => match self.others.iter_mut().find(|(other, _)| other == name) {
                    Some((_, total)) => *total += count,
                    None => self.others.push((name.clone(), count)),
                },
            }
        }
    }

    /// The counts as a JSON object in taxonomy order, zeros left out.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        for status in Status::ALL {
            let count = self.counts[status as usize];
            if count > 0 {
                object.insert(status.as_str().to_owned(), count.into());
            }
        }
        if self.none > 0 {
            object.insert("none".to_owned(), self.none.into());
        }
        for (name, count) in &self.others {
            object.insert(name.clone(), (*count).into());
        }
        Value::Object(object)
    }

    /// A short summary such as `ok 990, auth-failed 10`.
    pub fn summary(&self) -> String {
        let Value::Object(object) = self.to_json() else {
            return String::new();
        };
        object
            .iter()
            .map(|(name, count)| format!("{name} {count}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One file of a batch, as listed in the manifest.
#[derive(Debug, Clone, Serialize)]
pub struct FileEntry {
    /// The file name, relative to OUTDIR.
    pub path: String,
    /// `csv`, `json`, `ndjson`, or `batchscanner` for the legacy layout's files.
    pub format: &'static str,
    /// The `--by` value of this file's records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// Records (rows for the legacy layout's files) in the file.
    pub records: u64,
    /// Size in bytes.
    pub bytes: u64,
    /// Counts per status of the file's records (native files only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statuses: Option<Value>,
}

/// Why a batch was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CloseReason {
    /// It reached `--batch-size` records.
    Size,
    /// `--every` elapsed since its first record.
    Every,
    /// The input ended.
    End,
    /// SIGINT or SIGTERM.
    Signal,
    /// Standard output was closed under `--tee`.
    OutputClosed,
}

/// One batch, as listed in the manifest.
#[derive(Debug, Clone, Serialize)]
pub struct BatchEntry {
    /// The batch number (from 1, continued across runs into the same OUTDIR).
    pub batch: u64,
    /// When the batch was written, RFC 3339 UTC.
    pub closed: String,
    /// Why it was closed.
    pub reason: CloseReason,
    /// Where the records came from.
    pub input: String,
    /// Input line of the first record.
    pub first_line: u64,
    /// Input line of the last record.
    pub last_line: u64,
    /// Records in the batch.
    pub records: u64,
    /// Counts per status.
    pub statuses: Value,
    /// The batch's files.
    pub files: Vec<FileEntry>,
}

/// A manifest read from OUTDIR could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Reading it failed.
    #[error("reading {path}")]
    Read {
        /// The manifest's path.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// It is not a batchsave manifest.
    #[error(
        "{path} is not a batchsave manifest ({reason}); move it away to start a new series in this directory"
    )]
    Invalid {
        /// The manifest's path.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// The manifest of one OUTDIR.
#[derive(Debug, Default)]
pub struct Manifest {
    /// Every batch entry, one compact JSON line each, oldest first.
    lines: Vec<u8>,
    batches: u64,
    records: u64,
    rejects: u64,
    statuses: StatusCounts,
    first_batch: u64,
    last_batch: u64,
}

impl Manifest {
    /// Reads the manifest in `dir`; an empty manifest when there is none.
    pub fn load(dir: &Path) -> Result<Self, ManifestError> {
        let path = dir.join(MANIFEST);
        let shown = path.display().to_string();
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Manifest::default()),
            Err(source) => {
                return Err(ManifestError::Read {
                    path: shown,
                    source,
                });
            }
        };
        let invalid = |reason: String| ManifestError::Invalid {
            path: shown.clone(),
            reason,
        };
        let value: Value =
            serde_json::from_slice(&bytes).map_err(|err| invalid(err.to_string()))?;
        if value.get("version").and_then(Value::as_u64) != Some(VERSION) {
            return Err(invalid(format!("no \"version\": {VERSION}")));
        }
        let batches = value
            .get("batches")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("no \"batches\" array".into()))?;
        let mut manifest = Manifest {
            rejects: value
                .pointer("/totals/rejects")
                .and_then(Value::as_u64)
                .unwrap_or(0),
            ..Manifest::default()
        };
        for entry in batches {
            let number = entry
                .get("batch")
                .and_then(Value::as_u64)
                .ok_or_else(|| invalid("a batch without a \"batch\" number".into()))?;
            manifest.push_value(number, entry);
        }
        Ok(manifest)
    }

    /// The lowest batch number listed (0 when none).
    pub fn first_batch(&self) -> u64 {
        self.first_batch
    }

    /// The highest batch number listed (0 when none).
    pub fn last_batch(&self) -> u64 {
        self.last_batch
    }

    /// Adds a batch.
    pub fn push(&mut self, entry: &BatchEntry) {
        // A BatchEntry holds only strings, numbers and JSON values: it always serialises.
        let value = serde_json::to_value(entry).unwrap_or(Value::Null);
        self.push_value(entry.batch, &value);
    }

    fn push_value(&mut self, number: u64, entry: &Value) {
        self.batches += 1;
        self.records += entry.get("records").and_then(Value::as_u64).unwrap_or(0);
        if let Some(statuses) = entry.get("statuses") {
            self.statuses.add_json(statuses);
        }
        if self.batches == 1 || number < self.first_batch {
            self.first_batch = number;
        }
        self.last_batch = self.last_batch.max(number);
        if !self.lines.is_empty() {
            self.lines.extend_from_slice(b",\n");
        }
        // Serialising a Value into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.lines, entry);
    }

    /// Counts lines rejected by this run.
    pub fn add_rejects(&mut self, count: u64) {
        self.rejects += count;
    }

    /// Writes the manifest under a temporary name in `dir`; the caller fsyncs and renames it
    /// once the files it lists are durable.
    pub fn write_temp(&self, dir: &Path) -> io::Result<AtomicFile> {
        let totals = serde_json::json!({
            "batches": self.batches,
            "records": self.records,
            "rejects": self.rejects,
            "statuses": self.statuses.to_json(),
        });
        let mut file = AtomicFile::create_replacing(dir, MANIFEST)?;
        writeln!(
            file,
            "{{\"version\":{VERSION},\"totals\":{totals},\"batches\":["
        )?;
        file.write_all(&self.lines)?;
        if !self.lines.is_empty() {
            file.write_all(b"\n")?;
        }
        file.write_all(b"]}\n")?;
        file.finish()?;
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn save(manifest: &Manifest, dir: &Path) {
        let mut file = manifest.write_temp(dir).expect("written");
        file.sync().expect("synced");
        file.rename().expect("renamed");
    }

    fn entry(batch: u64, statuses: &StatusCounts) -> BatchEntry {
        BatchEntry {
            batch,
            closed: "2026-11-21T06:00:00.000Z".into(),
            reason: CloseReason::Size,
            input: "<stdin>".into(),
            first_line: 1,
            last_line: 2,
            records: 2,
            statuses: statuses.to_json(),
            files: vec![FileEntry {
                path: format!("batch-{batch:06}.csv"),
                format: "csv",
                by: None,
                records: 2,
                bytes: 10,
                statuses: None,
            }],
        }
    }

    #[test]
    fn a_saved_manifest_loads_back_and_keeps_counting() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut counts = StatusCounts::default();
        counts.add(Some(Status::Ok));
        counts.add(None);
        let mut manifest = Manifest::default();
        manifest.push(&entry(1, &counts));
        manifest.add_rejects(3);
        save(&manifest, dir.path());

        let mut again = Manifest::load(dir.path()).expect("loads");
        assert_eq!(again.last_batch(), 1);
        again.push(&entry(2, &counts));
        save(&again, dir.path());

        let value: Value =
            serde_json::from_slice(&std::fs::read(dir.path().join(MANIFEST)).expect("read"))
                .expect("valid JSON");
        assert_eq!(
            value["totals"],
            serde_json::json!({"batches": 2, "records": 4, "rejects": 3,
                               "statuses": {"ok": 2, "none": 2}})
        );
        assert_eq!(value["batches"][1]["files"][0]["path"], "batch-000002.csv");
    }

    #[test]
    fn a_foreign_manifest_json_is_refused_with_its_path() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(MANIFEST), "{\"name\":\"my project\"}").expect("written");
        let err = Manifest::load(dir.path()).expect_err("refused");
        assert!(
            err.to_string()
                .contains("manifest.json is not a batchsave manifest"),
            "{err}"
        );
    }
}
