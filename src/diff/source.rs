//! One side of a comparison: its NDJSON files read line by line, and any record read again
//! later by where it lies, so that only a small summary of each record stays in memory.
//!
//! Standard input is copied to an unnamed temporary file first (it cannot be read twice);
//! the operating system removes the file when sikdiff exits, however it exits.

use std::fs::File;
use std::io::{self, BufReader, Seek};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::snapshot::{self, RecordLines};

use super::DiffError;

/// Read buffer for the files of a snapshot: large reads keep the kernel out of the way.
const READ_BUFFER: usize = 256 * 1024;

/// Where a record lies in its snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// Index of the file in the snapshot's batch order.
    pub file: u32,
    /// Byte offset of the record's line.
    pub offset: u64,
    /// Length of the record, its line terminator left out.
    pub len: u32,
}

/// One file of a snapshot.
#[derive(Debug)]
enum Part {
    /// A file by its path.
    Path(PathBuf),
    /// Standard input, copied.
    Spool(File),
}

/// A snapshot: an NDJSON file, a batchsave output directory, or standard input.
#[derive(Debug)]
pub struct Source {
    /// The snapshot as the user named it (`-` shows as `<stdin>`), for messages and labels.
    pub label: String,
    parts: Vec<Part>,
    /// The file [`Source::read_at`] read last, kept open for the next record.
    open: Option<(u32, File)>,
}

impl Source {
    /// Opens the snapshot named by a command-line operand (`-` for standard input).
    pub fn open(operand: &Path) -> Result<Source, DiffError> {
        if operand.as_os_str() == "-" {
            let label = "<stdin>".to_owned();
            let spool = spool_stdin().map_err(|source| DiffError::Read {
                what: label.clone(),
                source,
            })?;
            return Ok(Source {
                label,
                parts: vec![Part::Spool(spool)],
                open: None,
            });
        }
        let label = operand.display().to_string();
        let files = snapshot::ndjson_files(operand).map_err(|source| DiffError::Read {
            what: label.clone(),
            source,
        })?;
        if files.is_empty() {
            return Err(DiffError::NoRecordFiles { dir: label });
        }
        Ok(Source {
            label,
            parts: files.into_iter().map(Part::Path).collect(),
            open: None,
        })
    }

    /// Calls `each` with every line of the snapshot, in batch order: the line's location,
    /// where it is for messages (`FILE:LINE`), and its bytes. Blank lines are skipped.
    pub fn for_each_line(
        &mut self,
        mut each: impl FnMut(Location, &dyn Fn() -> String, &[u8], bool),
    ) -> Result<(), DiffError> {
        for (index, part) in self.parts.iter().enumerate() {
            let file_index = u32::try_from(index).map_err(|_| DiffError::TooManyFiles {
                what: self.label.clone(),
            })?;
            let (name, file) = match part {
                Part::Path(path) => (
                    path.display().to_string(),
                    File::open(path).map_err(|source| DiffError::Read {
                        what: path.display().to_string(),
                        source,
                    })?,
                ),
                Part::Spool(file) => (
                    self.label.clone(),
                    file.try_clone().map_err(|source| DiffError::Read {
                        what: self.label.clone(),
                        source,
                    })?,
                ),
            };
            let read_error = |source| DiffError::Read {
                what: name.clone(),
                source,
            };
            let mut file = file;
            file.rewind().map_err(read_error)?;
            let mut lines = RecordLines::new(BufReader::with_capacity(READ_BUFFER, file));
            while let Some(line) = lines.next_line().map_err(read_error)? {
                if line.is_blank() {
                    continue;
                }
                let location = Location {
                    file: file_index,
                    offset: line.offset,
                    len: u32::try_from(line.bytes.len()).unwrap_or(u32::MAX),
                };
                let number = line.number;
                let place = || format!("{name}:{number}");
                each(location, &place, line.bytes, line.truncated);
            }
        }
        Ok(())
    }

    /// Reads the record at `at` again.
    pub fn read_at(&mut self, at: Location) -> Result<Vec<u8>, DiffError> {
        let mut buffer = vec![0; at.len as usize];
        let index = at.file as usize;
        let Some(part) = self.parts.get(index) else {
            return Err(DiffError::Changed {
                what: self.label.clone(),
            });
        };
        let what = match part {
            Part::Path(path) => path.display().to_string(),
            Part::Spool(_) => self.label.clone(),
        };
        let read = match part {
            Part::Spool(file) => file.read_exact_at(&mut buffer, at.offset),
            Part::Path(path) => {
                if self.open.as_ref().is_none_or(|(open, _)| *open != at.file) {
                    let file = File::open(path).map_err(|source| DiffError::Read {
                        what: what.clone(),
                        source,
                    })?;
                    self.open = Some((at.file, file));
                }
                match &self.open {
                    Some((_, file)) => file.read_exact_at(&mut buffer, at.offset),
                    None => Err(io::Error::from(io::ErrorKind::NotFound)),
                }
            }
        };
        read.map_err(|source| DiffError::Read { what, source })?;
        Ok(buffer)
    }
}

/// Copies standard input into an unnamed temporary file.
fn spool_stdin() -> io::Result<File> {
    let mut spool = tempfile::tempfile()?;
    io::copy(&mut io::stdin().lock(), &mut spool)?;
    Ok(spool)
}
