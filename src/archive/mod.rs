//! The configuration archive (`batchsave --configs DIR`): a git repository holding one file per
//! radio with its configuration, an index of the radios, and one commit per run that changed
//! something — the fleet's memory, read with stock git (`git log -p`, `git blame`,
//! `git diff HEAD~1`).
//!
//! - [`name`]: which file holds which radio;
//! - [`mask`]: what is masked in a configuration before it is archived;
//! - [`index`]: `index.tsv`, a line per radio;
//! - [`message`]: the commit message;
//! - [`repo`]: the git repository (libgit2), written so that a kill at any moment leaves it
//!   valid, new configurations stored as packs (`pack`).
//!
//! A run reads records ([`Archive::add`]), writes each new configuration as a git object as it
//! arrives (so memory holds one line of index per radio, not the texts), and at the end
//! ([`Archive::finish`]) compares them with the last commit: a radio whose record carries a
//! configuration gets its file (masked, see [`mask`]) and index line; a radio whose record has
//! none keeps its last file and line, and is named in the message as could not be read.
//! Radios absent from the run's input are left as they are.

pub mod index;
pub mod mask;
pub mod message;
pub mod name;
mod pack;
pub mod repo;

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};

use chrono::{SecondsFormat, Utc};
use git2::Oid;

use crate::record::Record;
use index::{BadIndex, INDEX, Row};
use mask::Masks;
use message::{Named, Summary};
use name::Key;
use repo::Repo;

/// Why the archive could not be opened or updated.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The directory could not be created, read or synced.
    #[error("archive {path}")]
    Dir {
        /// DIR.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// DIR exists and is not a directory.
    #[error("archive {path} exists and is not a directory")]
    NotADirectory {
        /// DIR.
        path: String,
    },
    /// DIR holds files but no git work tree.
    #[error(
        "archive {path} is neither empty nor a git work tree: give a new or empty directory, \
         or an archive batchsave made"
    )]
    NotAnArchive {
        /// DIR.
        path: String,
    },
    /// Another batchsave is writing the archive.
    #[error("archive {path} is in use by another batchsave")]
    Locked {
        /// DIR.
        path: String,
    },
    /// A git operation failed.
    #[error("archive {path}: {what}")]
    Git {
        /// What was being done.
        what: &'static str,
        /// DIR.
        path: String,
        /// libgit2's error.
        source: git2::Error,
    },
    /// The last commit's index cannot be read.
    #[error("archive {path}: the last commit's {INDEX}")]
    Index {
        /// DIR.
        path: String,
        /// Which line, and why.
        source: BadIndex,
    },
}

/// What a record is to the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// Its configuration was taken.
    Read,
    /// It has no configuration: its radio keeps its last file.
    Unreadable,
    /// It names no radio (no address: an invalid input line).
    NotARadio,
}

/// What a radio's record brought in this run.
enum Seen {
    Read { row: Row, blob: Oid },
    Unreadable { named: Named, why: String },
}

/// What a run did, once finished.
#[derive(Debug)]
pub struct Outcome {
    /// The new commit, None when nothing changed.
    pub commit: Option<Oid>,
    /// What changed, as the commit message says it.
    pub summary: Summary,
    /// Radios in the archive after the run.
    pub radios: usize,
}

/// What opening an archive found.
#[derive(Debug, Default)]
pub struct Opened {
    /// The repository was created by this run.
    pub created: bool,
    /// Stale lock files of an interrupted run, removed.
    pub stale: Vec<String>,
    /// The work tree was repaired: an interrupted run had committed but not finished it.
    pub repaired: bool,
}

/// An archive being updated by a run.
pub struct Archive {
    repo: Repo,
    dir: PathBuf,
    masks: Masks,
    head: Option<(Oid, Oid)>,
    old_rows: BTreeMap<Key, Row>,
    old_files: HashMap<String, Oid>,
    seen: BTreeMap<Key, Seen>,
    run_time: String,
}

impl Archive {
    /// Opens (creating when missing) and locks the archive in `dir`; returns it and what was
    /// found (stale lock files removed, a work tree repaired).
    pub fn open(dir: &Path, masks: Masks) -> Result<(Archive, Opened), ArchiveError> {
        let (repo, created, stale) = Repo::open(dir)?;
        let repaired = repo.repair()?;
        let opened = Opened {
            created,
            stale,
            repaired,
        };
        let head = repo.head()?;
        let mut old_files = HashMap::new();
        let mut old_rows = BTreeMap::new();
        if let Some((_, tree)) = head {
            old_files = repo.files(tree)?.into_iter().collect();
            if let Some(&blob) = old_files.get(INDEX) {
                let text = repo.read(blob)?;
                old_rows = index::parse(&String::from_utf8_lossy(&text)).map_err(|source| {
                    ArchiveError::Index {
                        path: dir.display().to_string(),
                        source,
                    }
                })?;
            }
        }
        Ok((
            Archive {
                repo,
                dir: dir.to_owned(),
                masks,
                head,
                old_rows,
                old_files,
                seen: BTreeMap::new(),
                run_time: Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
            },
            opened,
        ))
    }

    /// The archive's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Takes one record: its configuration is masked and stored at once. When one run holds
    /// several records of a radio, the last with a configuration counts.
    pub fn add(&mut self, record: &Record) -> Result<Added, ArchiveError> {
        let Some(ip) = record.ip else {
            return Ok(Added::NotARadio);
        };
        let key = Key::new(ip, record.port, record.route.as_deref());
        let file = key.file_name();
        let Some(config) = &record.config else {
            if !matches!(self.seen.get(&key), Some(Seen::Read { .. })) {
                let why = match &record.error {
                    Some(error) => format!("{}: {error}", record.status),
                    None => format!("{}: the record has no configuration", record.status),
                };
                let named = Named {
                    file,
                    name: record.name.clone(),
                    sn: record.sn.clone(),
                };
                self.seen.insert(key, Seen::Unreadable { named, why });
            }
            return Ok(Added::Unreadable);
        };
        let text = self.masks.apply(record.radio_type, config);
        let mut blob = repo::blob_id(text.as_bytes());
        if self.old_files.get(&file) != Some(&blob) {
            blob = self.repo.write(text.as_bytes())?;
        }
        let row = Row {
            file,
            ip,
            port: key.port,
            route: record.route.clone(),
            sn: record.sn.clone(),
            name: record.name.clone(),
            model: record.model.clone(),
            sw: record.sw.clone(),
            radio_type: record.radio_type.map(|t| t.as_str().to_owned()),
            config_saved: record.config_saved,
            changed: record
                .started
                .as_deref()
                .and_then(|started| chrono::DateTime::parse_from_rfc3339(started).ok())
                .map_or_else(
                    || self.run_time.clone(),
                    |started| {
                        started
                            .with_timezone(&Utc)
                            .to_rfc3339_opts(SecondsFormat::Secs, true)
                    },
                ),
        };
        self.seen.insert(key, Seen::Read { row, blob });
        Ok(Added::Read)
    }

    /// Commits what the run read, when it changed anything, and brings the work tree to the
    /// branch. `interrupted` says the input did not end (a signal).
    pub fn finish(mut self, interrupted: bool) -> Result<Outcome, ArchiveError> {
        let mut summary = Summary {
            radios: self.seen.len(),
            interrupted,
            ..Summary::default()
        };
        let mut rows = self.old_rows;
        let mut files = Vec::new();
        for (key, seen) in self.seen {
            match seen {
                Seen::Read { mut row, blob } => {
                    let named = Named {
                        file: row.file.clone(),
                        name: row.name.clone(),
                        sn: row.sn.clone(),
                    };
                    match self.old_files.get(&row.file) {
                        None => summary.appeared.push(named.clone()),
                        Some(old) if *old != blob => summary.changed.push(named.clone()),
                        Some(_) => {
                            if let Some(old) = rows.get(&key) {
                                row.changed.clone_from(&old.changed);
                                let differences = row.differences(old);
                                if !differences.is_empty() {
                                    summary.updated.push((named.clone(), differences));
                                }
                            }
                        }
                    }
                    if row.config_saved == Some(false) {
                        summary.unsaved.push(named);
                    }
                    if self.old_files.get(&row.file) != Some(&blob) {
                        files.push((row.file.clone(), blob));
                    }
                    rows.insert(key, row);
                }
                Seen::Unreadable { named, why } => {
                    let kept = self.old_files.contains_key(&named.file);
                    summary.unreadable.push((named, why, kept));
                }
            }
        }
        let index = index::render(rows.values());
        let index_blob = repo::blob_id(index.as_bytes());
        // Nothing new, or never a configuration read: no commit (and no object written).
        let unchanged = files.is_empty() && self.old_files.get(INDEX) == Some(&index_blob);
        let commit = if unchanged || (self.head.is_none() && rows.is_empty()) {
            None
        } else {
            files.push((INDEX.to_owned(), self.repo.write(index.as_bytes())?));
            self.repo.commit(self.head, &files, &summary.message())?
        };
        if commit.is_some() {
            self.repo.write_work_tree(&files)?;
        }
        Ok(Outcome {
            commit,
            summary,
            radios: rows.len(),
        })
    }
}
