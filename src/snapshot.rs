//! A run's records read back from disk: a sikprobe NDJSON file, or a batchsave output
//! directory's `*.ndjson` batches in batch order, line by line with where each line starts.
//!
//! `sikprobe --skip-done` reads earlier runs this way to learn which hosts are done, and
//! `sikdiff` reads its two snapshots this way (and reads a record again by its offset).

use std::cell::Cell;
use std::cmp::Reverse;
use std::io::{self, BufRead};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::batch;
use crate::pipe::BoundedLines;

/// Longest record line read back (a record with a large command output or configuration can
/// be long); a longer line is not a record.
pub const MAX_RECORD: usize = 64 * 1024 * 1024;

/// The NDJSON files of a snapshot: a file as given, or every `*.ndjson` file below a
/// directory (batchsave's output), in batch order.
///
/// Within a directory, files that carry a batchsave batch number (`batch-000012.ndjson`,
/// `batch-000012.EH.ndjson`) come first, by number, so the records of a resumed run's later
/// batches come after the earlier ones even past batch 999999; other files follow by name,
/// then subdirectories. `rejects.ndjson` holds batchsave's rejected lines, not records, and
/// is left out.
pub fn ndjson_files(path: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    collect(path, &mut files)?;
    Ok(files)
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    if !std::fs::metadata(path)?.is_dir() {
        out.push(path.to_owned());
        return Ok(());
    }
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(path)? {
        let entry = entry?.path();
        if entry.is_dir() {
            dirs.push(entry);
        } else if entry.extension().is_some_and(|ext| ext == "ndjson")
            && entry.file_name().is_some_and(|name| name != batch::REJECTS)
        {
            files.push(entry);
        }
    }
    files.sort_by_cached_key(|file| {
        let number = file
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(batch::batch_number);
        // Numbered batches first, by number; then the other files, by name.
        (Reverse(number.is_some()), number, file.clone())
    });
    dirs.sort();
    out.extend(files);
    for dir in dirs {
        collect(&dir, out)?;
    }
    Ok(())
}

/// One line of a snapshot file.
#[derive(Debug, PartialEq, Eq)]
pub struct RecordLine<'a> {
    /// 1-based line number.
    pub number: u64,
    /// Byte offset of the line's first byte in the file.
    pub offset: u64,
    /// The line without its terminator, cut at [`MAX_RECORD`].
    pub bytes: &'a [u8],
    /// True when the line was longer than [`MAX_RECORD`] (so it is not a whole record).
    pub truncated: bool,
}

impl RecordLine<'_> {
    /// True for a line of nothing but white space, which is neither a record nor a fault.
    pub fn is_blank(&self) -> bool {
        self.bytes.iter().all(u8::is_ascii_whitespace)
    }
}

/// The lines of a snapshot file, each with its offset, in bounded memory.
pub struct RecordLines<R> {
    lines: BoundedLines<Counted<R>>,
    consumed: Rc<Cell<u64>>,
}

impl<R: BufRead> RecordLines<R> {
    /// Reads lines of at most [`MAX_RECORD`] bytes from `reader`.
    pub fn new(reader: R) -> Self {
        let consumed = Rc::new(Cell::new(0));
        let counted = Counted {
            inner: reader,
            consumed: Rc::clone(&consumed),
        };
        RecordLines {
            lines: BoundedLines::new(counted, MAX_RECORD),
            consumed,
        }
    }

    /// The next line, or `None` at the end of the input.
    pub fn next_line(&mut self) -> io::Result<Option<RecordLine<'_>>> {
        // BoundedLines consumes exactly one line and its terminator per call, so the bytes
        // consumed before the call are where the line starts.
        let offset = self.consumed.get();
        Ok(self.lines.next_line()?.map(|line| RecordLine {
            number: line.number,
            offset,
            bytes: line.bytes,
            truncated: line.truncated,
        }))
    }
}

/// A reader that counts the bytes consumed from it (shared with its [`RecordLines`]).
struct Counted<R> {
    inner: R,
    consumed: Rc<Cell<u64>>,
}

impl<R: io::Read> io::Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed.set(self.consumed.get() + n as u64);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.consumed.set(self.consumed.get() + amount as u64);
        self.inner.consume(amount);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_point_at_each_line_whatever_its_terminator() {
        let input = b"{\"a\":1}\r\n\n  \n{\"b\":2}\n{\"c\":3}";
        let mut lines = RecordLines::new(&input[..]);
        let mut seen = Vec::new();
        while let Some(line) = lines.next_line().expect("a slice reads") {
            if line.is_blank() {
                continue;
            }
            let offset = usize::try_from(line.offset).expect("small");
            assert_eq!(&input[offset..offset + line.bytes.len()], line.bytes);
            seen.push((
                line.number,
                String::from_utf8_lossy(line.bytes).into_owned(),
            ));
        }
        assert_eq!(
            seen,
            [
                (1, "{\"a\":1}".to_owned()),
                (4, "{\"b\":2}".to_owned()),
                (5, "{\"c\":3}".to_owned())
            ]
        );
    }

    #[test]
    fn a_directory_gives_its_batches_in_batch_order_without_rejects() {
        let dir = tempfile::tempdir().expect("temp dir");
        for name in [
            "batch-1000000.ndjson",
            "batch-000002.TG.ndjson",
            "batch-000002.EH.ndjson",
            "batch-999999.ndjson",
            "batch-000010.csv",
            "rejects.ndjson",
            "extra.ndjson",
        ] {
            std::fs::write(dir.path().join(name), "").expect("written");
        }
        std::fs::create_dir(dir.path().join("sub")).expect("made");
        std::fs::write(dir.path().join("sub/batch-000001.ndjson"), "").expect("written");
        let names: Vec<String> = ndjson_files(dir.path())
            .expect("listed")
            .iter()
            .map(|p| {
                p.strip_prefix(dir.path())
                    .expect("below")
                    .display()
                    .to_string()
            })
            .collect();
        assert_eq!(
            names,
            [
                "batch-000002.EH.ndjson",
                "batch-000002.TG.ndjson",
                "batch-999999.ndjson",
                "batch-1000000.ndjson",
                "extra.ndjson",
                "sub/batch-000001.ndjson"
            ]
        );
        let file = dir.path().join("extra.ndjson");
        assert_eq!(ndjson_files(&file).expect("a file"), [file]);
        assert!(ndjson_files(&dir.path().join("missing")).is_err());
    }
}
