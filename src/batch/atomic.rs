//! Files that appear whole or not at all.
//!
//! A file is written under a temporary name in its final directory, flushed, fsynced, and only
//! then renamed to its final name; the caller fsyncs the directory once the batch's renames are
//! done, so the names are durable too. A crash at any moment leaves either the complete file or
//! a temporary file, which the next run removes ([`is_temporary`]).

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Every temporary file's name ends with this, after a leading `.` and the final name.
const TEMP_SUFFIX: &str = ".batchsave-tmp";

/// Buffer of each file being written: large writes, few system calls.
const FILE_BUFFER: usize = 256 * 1024;

/// True for the name of a temporary file left by an interrupted run.
pub fn is_temporary(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(TEMP_SUFFIX)
}

/// The name a temporary file was to be given (`.NAME.PID.batchsave-tmp` → `NAME`).
pub fn final_name(temp: &str) -> Option<&str> {
    let inner = temp.strip_prefix('.')?.strip_suffix(TEMP_SUFFIX)?;
    let (name, pid) = inner.rsplit_once('.')?;
    (!name.is_empty() && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())).then_some(name)
}

/// A file being written under a temporary name; [`AtomicFile::rename`] gives it its final
/// name, dropping it before that removes it.
#[derive(Debug)]
pub struct AtomicFile {
    temp: PathBuf,
    target: PathBuf,
    file: Option<BufWriter<File>>,
    replace: bool,
}

impl AtomicFile {
    /// Creates `dir/.<name>.<pid>.batchsave-tmp`, to become `dir/<name>`, which must not
    /// exist (nothing is ever overwritten).
    pub fn create(dir: &Path, name: &str) -> io::Result<Self> {
        Self::open(dir, name, false)
    }

    /// Like [`AtomicFile::create`], for a file that replaces its previous version as a whole
    /// (the manifest).
    pub fn create_replacing(dir: &Path, name: &str) -> io::Result<Self> {
        Self::open(dir, name, true)
    }

    fn open(dir: &Path, name: &str, replace: bool) -> io::Result<Self> {
        let temp = dir.join(format!(".{name}.{}{TEMP_SUFFIX}", std::process::id()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        Ok(AtomicFile {
            temp,
            target: dir.join(name),
            file: Some(BufWriter::with_capacity(FILE_BUFFER, file)),
            replace,
        })
    }

    /// Flushes what is buffered; returns the file's size in bytes.
    pub fn finish(&mut self) -> io::Result<u64> {
        let file = self.writer()?;
        file.flush()?;
        Ok(file.get_ref().metadata()?.len())
    }

    /// Fsyncs the data (after [`AtomicFile::finish`]); several files may be synced at once
    /// from different threads.
    pub fn sync(&mut self) -> io::Result<()> {
        let file = self.writer()?;
        file.flush()?;
        file.get_ref().sync_all()
    }

    /// Gives the file its final name (after [`AtomicFile::sync`]). The caller fsyncs the
    /// directory to make the new name durable.
    pub fn rename(mut self) -> io::Result<()> {
        self.file = None;
        if !self.replace && fs::symlink_metadata(&self.target).is_ok() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "the file already exists; batchsave never overwrites",
            ));
        }
        fs::rename(&self.temp, &self.target)?;
        // Renamed: nothing left for Drop to remove.
        self.temp = PathBuf::new();
        Ok(())
    }

    fn writer(&mut self) -> io::Result<&mut BufWriter<File>> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("file already renamed"))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.file {
            Some(file) => file.write(buf),
            None => Err(io::Error::other("file already renamed")),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match &mut self.file {
            Some(file) => file.write_all(buf),
            None => Err(io::Error::other("file already renamed")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Some(file) => file.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.temp.as_os_str().is_empty() {
            // The write failed or was abandoned: no half file stays behind. A failure here
            // leaves a temporary file the next run removes.
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Fsyncs a directory, making the renames done in it durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(mut file: AtomicFile) -> io::Result<u64> {
        let size = file.finish()?;
        file.sync()?;
        file.rename()?;
        Ok(size)
    }

    #[test]
    fn a_committed_file_has_its_final_name_and_an_abandoned_one_leaves_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut file = AtomicFile::create(dir.path(), "a.csv").expect("created");
        file.write_all(b"x,y\r\n").expect("written");
        assert_eq!(commit(file).expect("committed"), 5);
        assert_eq!(
            fs::read(dir.path().join("a.csv")).expect("read"),
            b"x,y\r\n"
        );

        let mut abandoned = AtomicFile::create(dir.path(), "b.csv").expect("created");
        abandoned.write_all(b"partial").expect("written");
        drop(abandoned);
        let names: Vec<String> = fs::read_dir(dir.path())
            .expect("listed")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, ["a.csv"]);
    }

    #[test]
    fn an_existing_file_is_never_overwritten() {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::write(dir.path().join("a.csv"), "keep").expect("written");
        let mut file = AtomicFile::create(dir.path(), "a.csv").expect("created");
        file.write_all(b"new").expect("written");
        let err = commit(file).expect_err("refused");
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(dir.path().join("a.csv")).expect("read"), b"keep");
        assert_eq!(fs::read_dir(dir.path()).expect("listed").count(), 1);
    }

    #[test]
    fn temporary_names_are_recognised() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = AtomicFile::create(dir.path(), "batch-000001.csv").expect("created");
        let name = file
            .temp
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        assert!(is_temporary(&name), "{name}");
        assert!(!is_temporary("batch-000001.csv"));
    }
}
