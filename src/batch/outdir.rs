//! OUTDIR: created if needed, locked against a second batchsave, cleaned of an interrupted
//! run's temporary files, and numbered so that a new run continues where the last one ended.

use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};

use super::BatchError;
use super::atomic::{self, AtomicFile};
use super::manifest::{BatchEntry, MANIFEST, Manifest};

/// The lock file that keeps two batchsave processes out of one OUTDIR.
const LOCK: &str = ".batchsave.lock";

/// Files fsynced at once: enough to keep the disk's queue full, few enough threads.
const PARALLEL_SYNCS: usize = 16;

/// Longest `--by` value kept as is in a file name, after escaping.
const LABEL_MAX: usize = 64;

/// An open, locked output directory, where batch files are written.
#[derive(Debug)]
pub struct OutDir {
    path: PathBuf,
    next_batch: u64,
    /// Held for the life of the run; the lock goes with it.
    _lock: File,
}

/// The manifest side of the output directory: makes written files durable and lists them.
/// It lives on the commit thread, so the next batch is prepared while the disk syncs this one.
#[derive(Debug)]
pub struct Ledger {
    path: PathBuf,
    shown: String,
    manifest: Manifest,
}

/// What opening OUTDIR found worth telling the user.
#[derive(Debug, Default)]
pub struct Findings {
    /// Temporary files of an interrupted run, removed.
    pub removed: Vec<String>,
    /// Files of a batch that an interrupted run had begun to rename into place, renamed by
    /// this run: the batch's files were all durable before its first rename, so finishing
    /// leaves the batch whole instead of one format holding hosts the other lacks.
    pub completed: Vec<String>,
    /// Batches whose files exist but which the manifest does not list (the run that wrote
    /// them was killed before it updated the manifest).
    pub unlisted: Vec<u64>,
    /// The lowest and highest batch numbers OUTDIR already holds (files or manifest), when
    /// it holds any: this run continues after the highest.
    pub existing: Option<(u64, u64)>,
}

impl OutDir {
    /// Creates (if needed), locks and inspects OUTDIR.
    pub fn open(path: &Path) -> Result<(OutDir, Ledger, Findings), BatchError> {
        let shown = path.display().to_string();
        let dir_error = |source: io::Error| BatchError::OutDir {
            path: shown.clone(),
            source,
        };
        match fs::metadata(path) {
            Ok(meta) if !meta.is_dir() => {
                return Err(BatchError::NotADirectory {
                    path: shown.clone(),
                });
            }
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                fs::create_dir_all(path).map_err(dir_error)?;
            }
            Err(err) => return Err(dir_error(err)),
        }
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path.join(LOCK))
            .map_err(dir_error)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(BatchError::Locked {
                    path: shown.clone(),
                });
            }
            Err(fs::TryLockError::Error(err)) => return Err(dir_error(err)),
        }

        let mut findings = Findings::default();
        let mut highest = 0;
        let mut lowest = u64::MAX;
        let mut temporaries = Vec::new();
        let mut placed = std::collections::HashSet::new();
        for entry in fs::read_dir(path).map_err(dir_error)? {
            let name = entry.map_err(dir_error)?.file_name();
            let Some(name) = name.to_str() else { continue };
            if atomic::is_temporary(name) {
                temporaries.push(name.to_owned());
            } else if let Some(batch) = batch_number(name) {
                highest = highest.max(batch);
                lowest = lowest.min(batch);
                placed.insert(batch);
            }
        }
        for temp in &temporaries {
            let target = atomic::final_name(temp).filter(|name| {
                batch_number(name).is_some_and(|batch| placed.contains(&batch))
                    && fs::symlink_metadata(path.join(name)).is_err()
            });
            match target {
                Some(name) => {
                    fs::rename(path.join(temp), path.join(name)).map_err(dir_error)?;
                    findings
                        .completed
                        .push(path.join(name).display().to_string());
                }
                None => {
                    fs::remove_file(path.join(temp)).map_err(dir_error)?;
                    findings.removed.push(path.join(temp).display().to_string());
                }
            }
        }
        let manifest = Manifest::load(path)?;
        findings.unlisted = (manifest.last_batch() + 1..=highest).collect();
        if !temporaries.is_empty() {
            atomic::sync_dir(path).map_err(dir_error)?;
        }
        let next_batch = highest.max(manifest.last_batch()) + 1;
        if manifest.last_batch() > 0 {
            lowest = lowest.min(manifest.first_batch());
        }
        if next_batch > 1 {
            findings.existing = Some((lowest, next_batch - 1));
        }
        Ok((
            OutDir {
                path: path.to_owned(),
                next_batch,
                _lock: lock,
            },
            Ledger {
                path: path.to_owned(),
                shown,
                manifest,
            },
            findings,
        ))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The next batch number; each call gives a new one.
    pub fn allocate_batch(&mut self) -> u64 {
        let batch = self.next_batch;
        self.next_batch += 1;
        batch
    }

    /// Writes `name` under a temporary name; [`Ledger::commit`] makes it durable and visible.
    pub fn write(
        &self,
        name: &str,
        body: impl FnOnce(&mut AtomicFile) -> io::Result<()>,
    ) -> Result<Written, BatchError> {
        let path = self.path.join(name).display().to_string();
        let mut file = match AtomicFile::create(&self.path, name) {
            Ok(file) => file,
            Err(source) => return Err(BatchError::Write { path, source }),
        };
        let written = body(&mut file).and_then(|()| file.finish());
        match written {
            Ok(bytes) => Ok(Written { path, file, bytes }),
            Err(source) => Err(BatchError::Write { path, source }),
        }
    }
}

impl Ledger {
    /// Makes batches' files durable, gives them their names, then lists the batches in the
    /// manifest, in an order that never lets the manifest name a file that is not whole.
    ///
    /// The files and the new manifest are fsynced in parallel (one wait for the disk instead
    /// of one per file); the files are renamed and the directory fsynced; then the manifest is
    /// renamed over the old one and the directory fsynced again.
    pub fn commit(
        &mut self,
        files: Vec<Written>,
        entries: &[BatchEntry],
        rejects: u64,
    ) -> Result<(), BatchError> {
        for entry in entries {
            self.manifest.push(entry);
        }
        self.manifest.add_rejects(rejects);
        let manifest = self.manifest_temp()?;
        let mut files = files;
        files.push(manifest);
        for chunk in files.chunks_mut(PARALLEL_SYNCS) {
            sync_all(chunk)?;
        }
        let manifest = files.pop();
        for written in files {
            written.rename()?;
        }
        self.sync()?;
        if let Some(manifest) = manifest {
            manifest.rename()?;
        }
        self.sync()
    }

    /// Makes the renames done so far durable.
    fn sync(&self) -> Result<(), BatchError> {
        atomic::sync_dir(&self.path).map_err(|source| BatchError::OutDir {
            path: self.shown.clone(),
            source,
        })
    }

    /// Counts rejected lines in the manifest's totals and saves it atomically and durably.
    pub fn save_rejects(&mut self, count: u64) -> Result<(), BatchError> {
        self.manifest.add_rejects(count);
        let mut manifest = self.manifest_temp()?;
        manifest.file.sync().map_err(|source| BatchError::Write {
            path: manifest.path.clone(),
            source,
        })?;
        manifest.rename()?;
        self.sync()
    }

    fn manifest_temp(&self) -> Result<Written, BatchError> {
        let path = self.path.join(MANIFEST).display().to_string();
        match self.manifest.write_temp(&self.path) {
            Ok(file) => Ok(Written {
                path,
                file,
                bytes: 0,
            }),
            Err(source) => Err(BatchError::Write { path, source }),
        }
    }
}

/// Fsyncs files in parallel, one thread each.
fn sync_all(files: &mut [Written]) -> Result<(), BatchError> {
    let synced: Vec<Result<(), BatchError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .iter_mut()
            .map(|written| {
                scope.spawn(move || {
                    written.file.sync().map_err(|source| BatchError::Write {
                        path: written.path.clone(),
                        source,
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle.join().unwrap_or_else(|_| {
                    Err(BatchError::Setup {
                        what: "syncing files",
                        source: io::Error::other("a sync thread panicked"),
                    })
                })
            })
            .collect()
    });
    synced.into_iter().collect()
}

/// A file written under its temporary name, waiting for [`Ledger::commit`].
#[derive(Debug)]
pub struct Written {
    path: String,
    file: AtomicFile,
    /// Its size.
    pub bytes: u64,
}

impl Written {
    fn rename(self) -> Result<(), BatchError> {
        let path = self.path;
        self.file
            .rename()
            .map_err(|source| BatchError::Write { path, source })
    }
}

/// The native file name of a batch: `batch-000001.csv`, or `batch-000001.EH.csv` for the
/// records whose `--by` value is `EH`.
pub fn batch_file_name(batch: u64, by: Option<&str>, extension: &str) -> String {
    match by {
        Some(value) => format!("batch-{batch:06}.{}.{extension}", file_label(value)),
        None => format!("batch-{batch:06}.{extension}"),
    }
}

/// A `--by` value made safe for a file name: letters, digits, `_` and `-` are kept, any other
/// byte is written `%XX` (so no value can name a path, a hidden file, or another value's
/// series); a very long result is cut and ended by a hash of the whole value.
pub fn file_label(value: &str) -> String {
    let mut label = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-' {
            label.push(char::from(byte));
        } else {
            let _ = write!(label, "%{byte:02X}");
        }
    }
    if label.len() > LABEL_MAX {
        let mut hasher = DefaultHasher::new();
        value.hash(&mut hasher);
        label.truncate(LABEL_MAX - 17);
        let _ = write!(label, "~{:016x}", hasher.finish());
    }
    label
}

/// The batch number in a name batchsave wrote: `batch-<N>…` or `<YYYYmmdd_HHMMSS>_<N>_…`.
pub fn batch_number(name: &str) -> Option<u64> {
    let digits = if let Some(rest) = name.strip_prefix("batch-") {
        rest
    } else {
        let stamp = name.get(..16)?;
        let well_formed = stamp.bytes().enumerate().all(|(i, b)| match i {
            8 => b == b'_',
            15 => b == b'_',
            _ => b.is_ascii_digit(),
        });
        if !well_formed {
            return None;
        }
        &name[16..]
    };
    let end = digits.find(|c: char| !c.is_ascii_digit())?;
    if end == 0 {
        return None;
    }
    digits[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_numbers_are_read_back_from_both_layouts() {
        assert_eq!(batch_number("batch-000012.csv"), Some(12));
        assert_eq!(batch_number("batch-1234567.EH.ndjson"), Some(1234567));
        assert_eq!(
            batch_number("20261121_050904_000003_scan_results.csv"),
            Some(3)
        );
        assert_eq!(batch_number("manifest.json"), None);
        assert_eq!(batch_number("rejects.ndjson"), None);
        assert_eq!(batch_number("batch-.csv"), None);
        assert_eq!(batch_number("20261121_050904_scan_results.csv"), None);
    }

    #[test]
    fn labels_cannot_escape_or_collide() {
        assert_eq!(file_label("EH"), "EH");
        assert_eq!(file_label("../x"), "%2E%2E%2Fx");
        assert_eq!(file_label("a.b"), "a%2Eb");
        assert_eq!(file_label("é"), "%C3%A9");
        let long_a = file_label(&"a".repeat(200));
        let long_b = file_label(&format!("{}b", "a".repeat(199)));
        assert!(long_a.len() <= LABEL_MAX);
        assert_ne!(long_a, long_b);
        assert_eq!(batch_file_name(7, Some("TG"), "csv"), "batch-000007.TG.csv");
        assert_eq!(batch_file_name(7, None, "json"), "batch-000007.json");
    }

    #[test]
    fn a_batch_caught_between_renames_is_finished_and_partial_ones_removed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let write = |name: &str| std::fs::write(dir.path().join(name), name).expect("written");
        // Batch 1 was killed after its CSV was renamed; batch 2 before any rename.
        write("batch-000001.csv");
        write(".batch-000001.ndjson.4242.batchsave-tmp");
        write(".batch-000002.csv.4242.batchsave-tmp");
        write(".manifest.json.4242.batchsave-tmp");
        let (mut outdir, _, findings) = OutDir::open(dir.path()).expect("opens");
        let ndjson = dir.path().join("batch-000001.ndjson");
        assert_eq!(
            std::fs::read_to_string(&ndjson).expect("completed"),
            ".batch-000001.ndjson.4242.batchsave-tmp"
        );
        assert_eq!(findings.completed, vec![ndjson.display().to_string()]);
        assert_eq!(findings.removed.len(), 2, "{:?}", findings.removed);
        assert!(!dir.path().join("batch-000002.csv").exists());
        assert_eq!(findings.unlisted, vec![1]);
        assert_eq!(outdir.allocate_batch(), 2);
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .expect("listed")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with("batchsave-tmp"))
            .collect();
        assert!(left.is_empty());
    }

    #[test]
    fn a_second_writer_is_locked_out() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (_first, _, _) = OutDir::open(dir.path()).expect("first opens");
        let err = OutDir::open(dir.path()).expect_err("second is refused");
        assert!(matches!(err, BatchError::Locked { .. }), "{err}");
    }
}
