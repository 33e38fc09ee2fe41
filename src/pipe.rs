//! Unix conventions shared by every sikscan binary.
//!
//! - stdout carries data only, block-buffered into a pipe (a record is never split), optionally
//!   flushed per record with `--line-buffered`;
//! - a closed stdout (`| head`) is a clean stop: exit 0 and nothing on stderr;
//! - `-` names standard input;
//! - errors print as `<program>: <message>` and map onto one exit-code scheme;
//! - input is read as bounded lines, so binary garbage or a gigabyte without a newline can
//!   neither exhaust memory nor panic.

use std::fmt::Display;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::OnceLock;

/// The exit-code scheme every binary documents in `--help` and its man page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: the work is done (for sikprobe: every host got a record, whatever its status).
    Success,
    /// 1: some lines or records were rejected or failed where a flag asked for strictness.
    Partial,
    /// 2: usage error, bad input, or a fatal error; nothing was done that could be lost.
    Error,
    /// 130: interrupted by SIGINT/SIGTERM after writing everything that was finished.
    Interrupted,
}

impl Exit {
    /// The numeric process exit status.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Partial => 1,
            Exit::Error => 2,
            Exit::Interrupted => 130,
        }
    }
}

/// The exit-status table, for the `after_help` of every binary and its man page.
pub const EXIT_STATUS_HELP: &str = "\
Exit status:
  0    success
  1    some input was rejected or some work failed where a flag asked for strictness
  2    usage error, invalid input, or a fatal error (nothing is written to stdout for invalid input)
  130  interrupted (SIGINT/SIGTERM); everything finished before it was written.
A closed standard output (for example '| head') is a clean stop with status 0.";

static PROGRAM: OnceLock<&'static str> = OnceLock::new();

fn program() -> &'static str {
    PROGRAM.get().copied().unwrap_or("sikscan")
}

/// Runs a binary's body and turns its outcome into the process exit status.
///
/// A broken pipe anywhere in the error chain is a clean stop (exit 0, silent); any other error
/// prints as `<program>: <message with context>` and exits 2.
pub fn run(program_name: &'static str, body: impl FnOnce() -> anyhow::Result<Exit>) -> ExitCode {
    let _ = PROGRAM.set(program_name);
    match body() {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{program_name}: {err:#}");
            ExitCode::from(Exit::Error.code())
        }
    }
}

/// True when the error, or any error it wraps, is an EPIPE on a write.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Prints `<program>: warning: <message>` on stderr.
pub fn warn(message: impl Display) {
    eprintln!("{}: warning: {message}", program());
}

/// Prints `<program>: <message>` on stderr (notes such as a chosen seed or a summary).
pub fn note(message: impl Display) {
    eprintln!("{}: {message}", program());
}

/// True when standard input is a terminal (so a filter must not wait on it).
pub fn stdin_is_terminal() -> bool {
    io::stdin().is_terminal()
}

/// True when standard error is a terminal (progress bars are drawn only then).
pub fn stderr_is_terminal() -> bool {
    io::stderr().is_terminal()
}

/// Raises the soft limit on open files to at least `wanted` when allowed (root may also raise
/// the hard limit), otherwise to the hard limit. Returns the soft limit in force, so the caller
/// can warn when its concurrency does not fit.
pub fn raise_open_files_limit(wanted: u64) -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 0;
    }
    let target = limit.rlim_max.max(wanted);
    for (soft, hard) in [(target, target), (limit.rlim_max, limit.rlim_max)] {
        let raised = libc::rlimit {
            rlim_cur: soft,
            rlim_max: hard,
        };
        // SAFETY: setrlimit only reads the struct we own; a refusal changes nothing.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            return soft;
        }
    }
    limit.rlim_cur
}

/// Size of the stdout buffer: large enough that a pipe sees few, full writes.
const DATA_BUFFER: usize = 128 * 1024;

/// Standard output for data records.
///
/// Block-buffered, so a pipe sees large writes; every call to [`DataOut::write_record`] hands over
/// whole records, so a record is never split across a flush. With `line_buffered` each record is
/// flushed as soon as it is written, for `tail -f`-style consumers.
pub struct DataOut {
    inner: BufWriter<io::StdoutLock<'static>>,
    line_buffered: bool,
}

impl DataOut {
    /// Locks stdout for the life of the program.
    pub fn stdout(line_buffered: bool) -> Self {
        widen_stdout_pipe();
        DataOut {
            inner: BufWriter::with_capacity(DATA_BUFFER, io::stdout().lock()),
            line_buffered,
        }
    }

    /// Writes one or more complete records, terminator included.
    pub fn write_record(&mut self, record: &[u8]) -> io::Result<()> {
        self.inner.write_all(record)?;
        if self.line_buffered {
            self.inner.flush()?;
        }
        Ok(())
    }

    /// Hands everything buffered to stdout now (for example when no more data is coming soon).
    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    /// Flushes everything buffered; call before exiting.
    pub fn finish(mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Asks for a 1 MiB pipe buffer when stdout is a pipe, so a fast producer and its consumer
/// trade fewer, larger slices of work (the default 64 KiB makes both wake up 16 times as often).
/// A failure (not a pipe, or above the system's pipe-max-size) changes nothing.
fn widen_stdout_pipe() {
    const WIDE_PIPE: libc::c_int = 1 << 20;
    // SAFETY: F_SETPIPE_SZ on fd 1 takes an int argument and touches no memory of ours; an fd
    // that is not a pipe only makes the call fail with EBADF or EINVAL.
    unsafe {
        libc::fcntl(libc::STDOUT_FILENO, libc::F_SETPIPE_SZ, WIDE_PIPE);
    }
}

/// True when stdout is a pipe whose reader has gone (`| head` exited). A writer learns that
/// only on its next write; a long-running producer asks this to stop early even when its
/// output still fits in the pipe.
pub fn stdout_reader_gone() -> bool {
    let mut poll = libc::pollfd {
        fd: libc::STDOUT_FILENO,
        events: 0,
        revents: 0,
    };
    // SAFETY: poll reads and writes only the one pollfd we own; a zero timeout never blocks.
    let ready = unsafe { libc::poll(&mut poll, 1, 0) };
    ready > 0 && poll.revents & libc::POLLERR != 0
}

/// Where an input comes from, for error messages: a file path or standard input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputName {
    /// Standard input (named `-` on the command line).
    Stdin,
    /// A file, by the path the user gave.
    File(String),
}

impl InputName {
    /// Interprets a command-line path operand, `-` being standard input.
    pub fn from_arg(path: &Path) -> Self {
        if path.as_os_str() == "-" {
            InputName::Stdin
        } else {
            InputName::File(path.display().to_string())
        }
    }
}

impl Display for InputName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputName::Stdin => f.write_str("<stdin>"),
            InputName::File(path) => f.write_str(path),
        }
    }
}

/// Opening an input failed. The message names the input; the cause follows it in a chain.
#[derive(Debug, thiserror::Error)]
#[error("{name}")]
pub struct OpenError {
    /// The input that could not be opened.
    pub name: InputName,
    /// Why.
    #[source]
    pub source: io::Error,
}

/// Opens a path operand for buffered reading; `-` is standard input.
pub fn open_input(path: &Path) -> Result<(InputName, Box<dyn BufRead + Send>), OpenError> {
    let name = InputName::from_arg(path);
    match &name {
        InputName::Stdin => Ok((name, Box::new(BufReader::new(io::stdin())))),
        InputName::File(_) => match File::open(path) {
            Ok(file) => Ok((name, Box::new(BufReader::new(file)))),
            Err(source) => Err(OpenError { name, source }),
        },
    }
}

/// One line from a [`BoundedLines`] reader.
#[derive(Debug, PartialEq, Eq)]
pub struct Line<'a> {
    /// 1-based line number.
    pub number: u64,
    /// The line without its terminator (`\n` or `\r\n`), cut at the reader's limit.
    pub bytes: &'a [u8],
    /// True when the line was longer than the limit; the rest of it was skipped.
    pub truncated: bool,
}

/// Reads lines of at most `limit` bytes from any reader, whatever it contains.
///
/// A longer line is returned cut, flagged `truncated`, and the remainder is consumed without
/// being stored, so memory stays bounded by the limit.
pub struct BoundedLines<R> {
    reader: R,
    limit: usize,
    buffer: Vec<u8>,
    number: u64,
}

impl<R: BufRead> BoundedLines<R> {
    /// Wraps a reader; `limit` is the longest line kept, in bytes.
    pub fn new(reader: R, limit: usize) -> Self {
        BoundedLines {
            reader,
            limit,
            buffer: Vec::new(),
            number: 0,
        }
    }

    /// The next line, or `None` at end of input.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.buffer.clear();
        let mut truncated = false;
        let mut saw_any = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(bytes) => bytes,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            };
            if available.is_empty() {
                break;
            }
            saw_any = true;
            let (chunk, consumed, ended) = match memchr::memchr(b'\n', available) {
                Some(end) => (&available[..end], end + 1, true),
                None => (available, available.len(), false),
            };
            let room = self.limit.saturating_sub(self.buffer.len());
            if chunk.len() > room {
                truncated = true;
            }
            self.buffer
                .extend_from_slice(&chunk[..chunk.len().min(room)]);
            self.reader.consume(consumed);
            if ended {
                break;
            }
        }
        if !saw_any {
            return Ok(None);
        }
        self.number += 1;
        if !truncated && self.buffer.last() == Some(&b'\r') {
            self.buffer.pop();
        }
        Ok(Some(Line {
            number: self.number,
            bytes: &self.buffer,
            truncated,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], limit: usize) -> Vec<(u64, Vec<u8>, bool)> {
        let mut reader = BoundedLines::new(input, limit);
        let mut out = Vec::new();
        while let Some(line) = reader.next_line().expect("reading a slice cannot fail") {
            out.push((line.number, line.bytes.to_vec(), line.truncated));
        }
        out
    }

    #[test]
    fn splits_lf_and_crlf_and_keeps_a_last_line_without_newline() {
        assert_eq!(
            lines(b"a\r\nb\n\nc", 100),
            vec![
                (1, b"a".to_vec(), false),
                (2, b"b".to_vec(), false),
                (3, b"".to_vec(), false),
                (4, b"c".to_vec(), false)
            ]
        );
        assert!(lines(b"", 100).is_empty());
    }

    #[test]
    fn cuts_long_lines_and_resumes_at_the_next_one() {
        let mut input = vec![b'x'; 10_000];
        input.extend_from_slice(b"\nok\n");
        let got = lines(&input, 16);
        assert_eq!(got[0], (1, vec![b'x'; 16], true));
        assert_eq!(got[1], (2, b"ok".to_vec(), false));
    }
}
