//! The reader thread: input bytes → lines → flattened records (or rejects), handed to the
//! batcher in chunks.
//!
//! Parsing runs on its own thread so that it overlaps with writing batch files. The thread
//! splits lines itself rather than through [`crate::pipe::BoundedLines`] because it must
//! (1) hand over everything it has read before each `read(2)` that may block, so a record
//! never waits for the next one to arrive, and (2) copy the input bytes to stdout exactly as
//! read for `--tee`, overlong lines and missing final newlines included.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::path::Path;
use std::sync::mpsc::SyncSender;
use std::thread::JoinHandle;

use crate::pipe::{DataOut, InputName, OpenError};
use crate::record::{Record, Status};

use super::flatten::{CellKind, FlatRecord, Flattener, KeyId};

/// Longest line kept, in bytes; a longer one is rejected, its first `MAX_LINE` bytes saved.
pub const MAX_LINE: usize = 16 << 20;

/// Initial read buffer; it grows (up to [`MAX_LINE`]) only for lines longer than this.
const READ_BUFFER: usize = 256 * 1024;

/// A record ready for a batch.
#[derive(Debug)]
pub struct Entry {
    /// 1-based input line number.
    pub line: u64,
    /// The line as read, without its line end.
    pub raw: Vec<u8>,
    /// Its flattened cells.
    pub flat: FlatRecord,
    /// Its `status`, when that is one of the taxonomy.
    pub status: Option<Status>,
    /// Its `--by` value: None when missing, null or empty.
    pub by: Option<String>,
    /// The record read as a sikprobe [`Record`] (for the batchscanner layout), or why not.
    pub record: Option<Result<Box<Record>, String>>,
}

/// A line that is not a JSON object.
#[derive(Debug)]
pub struct Reject {
    /// 1-based input line number.
    pub line: u64,
    /// The line (its first [`MAX_LINE`] bytes when it was longer).
    pub text: Vec<u8>,
    /// True when the line was longer than [`MAX_LINE`].
    pub truncated: bool,
    /// Why it was rejected.
    pub reason: String,
}

/// What the reader hands over, in input order.
#[derive(Debug)]
pub enum Item {
    /// A flattened name seen for the first time, and its id (always before its first use).
    Name(KeyId, Box<str>),
    /// A record.
    Entry(Entry),
    /// A rejected line.
    Reject(Reject),
}

/// How the input ended.
#[derive(Debug)]
pub enum InputEnd {
    /// End of input.
    Eof,
    /// `--tee` found standard output closed: a clean stop.
    OutputClosed,
    /// Reading the input failed.
    ReadFailed(io::Error),
    /// Writing standard output for `--tee` failed.
    TeeFailed(io::Error),
}

/// A message to the batcher.
#[derive(Debug)]
pub enum Msg {
    /// Everything parsed from one read.
    Items(Vec<Item>),
    /// The reader stopped; nothing follows.
    End(InputEnd),
    /// A signal arrived (sent by the signal thread, so a waiting batcher looks at it).
    Wake,
}

/// What the reader extracts from each record besides its cells.
#[derive(Debug, Clone, Default)]
pub struct InputConfig {
    /// The flattened name of the `--by` field.
    pub by: Option<String>,
    /// Read each record as a sikprobe [`Record`] too (for the batchscanner layout).
    pub parse_records: bool,
    /// Copy the input bytes to standard output.
    pub tee: bool,
}

/// An opened input.
pub struct Input {
    /// Its name, for messages.
    pub name: InputName,
    /// True for a regular file, which has no upstream that a Ctrl-C also stops.
    pub regular_file: bool,
    reader: Box<dyn Read + Send>,
}

/// Opens `path` (`-` is standard input).
pub fn open(path: &Path) -> Result<Input, OpenError> {
    let name = InputName::from_arg(path);
    let (reader, regular_file): (Box<dyn Read + Send>, bool) = match &name {
        InputName::Stdin => {
            let stdin = io::stdin();
            let regular = stdin
                .as_fd()
                .try_clone_to_owned()
                .ok()
                .and_then(|fd| File::from(fd).metadata().ok())
                .is_some_and(|meta| meta.is_file());
            (Box::new(stdin), regular)
        }
        InputName::File(_) => match File::open(path) {
            Ok(file) => {
                let regular = file.metadata().is_ok_and(|meta| meta.is_file());
                (Box::new(file), regular)
            }
            Err(source) => return Err(OpenError { name, source }),
        },
    };
    Ok(Input {
        name,
        regular_file,
        reader,
    })
}

/// Starts the reader thread; it sends [`Msg::Items`] as it reads and [`Msg::End`] last.
pub fn spawn(input: Input, config: InputConfig, tx: SyncSender<Msg>) -> io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("batchsave-reader".into())
        .spawn(move || {
            let mut reader = Reader::new(config);
            let end = reader.run(input.reader, &tx);
            // The batcher may already be gone (a fatal error); then nobody needs to know.
            let _ = tx.send(Msg::End(end));
        })
}

struct Reader {
    config: InputConfig,
    flattener: Flattener,
    status_key: KeyId,
    by_key: Option<KeyId>,
    items: Vec<Item>,
    line: u64,
}

impl Reader {
    fn new(config: InputConfig) -> Self {
        let mut flattener = Flattener::new();
        let status_key = flattener.intern("status");
        let by_key = config.by.as_deref().map(|by| flattener.intern(by));
        Reader {
            config,
            flattener,
            status_key,
            by_key,
            items: Vec::new(),
            line: 0,
        }
    }

    fn run(&mut self, mut input: Box<dyn Read + Send>, tx: &SyncSender<Msg>) -> InputEnd {
        // The tee flushes every read's bytes at once: nothing read sits in a buffer while the
        // next read blocks.
        let mut tee = self.config.tee.then(|| DataOut::stdout(true));
        let mut buf = vec![0u8; READ_BUFFER];
        let (mut start, mut end) = (0, 0);
        // Inside a line longer than MAX_LINE: its head was rejected, the rest is dropped.
        let mut skipping = false;
        loop {
            if end == buf.len() {
                if start > 0 {
                    buf.copy_within(start..end, 0);
                    end -= start;
                    start = 0;
                } else if buf.len() < MAX_LINE {
                    buf.resize((buf.len() * 2).min(MAX_LINE), 0);
                } else {
                    self.line += 1;
                    self.items.push(Item::Reject(Reject {
                        line: self.line,
                        text: buf[..end].to_vec(),
                        truncated: true,
                        reason: format!("line longer than {} MiB", MAX_LINE >> 20),
                    }));
                    skipping = true;
                    end = 0;
                }
            }
            let read = match input.read(&mut buf[end..]) {
                Ok(read) => read,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => {
                    self.send(tx);
                    return InputEnd::ReadFailed(err);
                }
            };
            let fresh = end;
            end += read;
            // The bytes before `fresh` were searched after the previous read and hold no line
            // end: searching only the new ones keeps a long line arriving in small pipe reads
            // linear, not quadratic.
            let mut search = fresh.max(start);
            while let Some(len) = buf[search..end].iter().position(|&b| b == b'\n') {
                let line_end = search + len;
                if skipping {
                    skipping = false;
                } else {
                    self.line += 1;
                    self.handle(&buf[start..line_end]);
                }
                start = line_end + 1;
                search = start;
            }
            if skipping {
                start = end;
            }
            if read == 0 {
                if start < end {
                    self.line += 1;
                    self.handle(&buf[start..end]);
                }
                self.send(tx);
                return InputEnd::Eof;
            }
            if !self.send(tx) {
                return InputEnd::Eof;
            }
            // Teed after the records were handed over: whatever a consumer of --tee has seen,
            // the batcher has too (a signal then saves it with the open batch).
            if let Some(out) = &mut tee
                && let Err(err) = out.write_record(&buf[fresh..end])
            {
                return if err.kind() == io::ErrorKind::BrokenPipe {
                    InputEnd::OutputClosed
                } else {
                    InputEnd::TeeFailed(err)
                };
            }
        }
    }

    /// Hands the items over; false when the batcher is gone.
    fn send(&mut self, tx: &SyncSender<Msg>) -> bool {
        if self.items.is_empty() {
            return true;
        }
        tx.send(Msg::Items(std::mem::take(&mut self.items))).is_ok()
    }

    fn handle(&mut self, line: &[u8]) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        // A blank line carries nothing to lose; NDJSON readers skip them too.
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let flat = match self.flattener.flatten(line) {
            Ok(flat) => flat,
            Err(err) => {
                self.push_names();
                self.items.push(Item::Reject(Reject {
                    line: self.line,
                    text: line.to_vec(),
                    truncated: false,
                    reason: err.to_string(),
                }));
                return;
            }
        };
        self.push_names();
        let status = flat
            .get(self.status_key)
            .filter(|cell| cell.kind == CellKind::Text)
            .and_then(|cell| flat.text(cell).parse().ok());
        let by = self
            .by_key
            .and_then(|key| flat.get(key))
            .map(|cell| flat.text(cell))
            .filter(|text| !text.is_empty())
            .map(str::to_owned);
        let record = self
            .config
            .parse_records
            .then(|| serde_json::from_slice::<Box<Record>>(line).map_err(|err| err.to_string()));
        self.items.push(Item::Entry(Entry {
            line: self.line,
            raw: line.to_vec(),
            flat,
            status,
            by,
            record,
        }));
    }

    fn push_names(&mut self) {
        for (id, name) in self.flattener.take_new_names() {
            self.items.push(Item::Name(id, name));
        }
    }
}

#[cfg(test)]
mod props {
    use std::net::IpAddr;
    use std::sync::mpsc;

    use proptest::prelude::*;

    use super::*;

    /// Hands the bytes out in the given read sizes, as a pipe does.
    struct Chunked {
        data: Vec<u8>,
        pos: usize,
        sizes: Vec<usize>,
        reads: usize,
    }

    impl Read for Chunked {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let size = self.sizes.get(self.reads).copied().unwrap_or(usize::MAX);
            self.reads += 1;
            let n = size.max(1).min(buf.len()).min(self.data.len() - self.pos);
            buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    /// Runs the reader thread's loop over `data`; returns its entries and rejects in order.
    fn read_all(
        data: Vec<u8>,
        sizes: Vec<usize>,
        parse_records: bool,
    ) -> (Vec<Entry>, Vec<Reject>) {
        let (tx, rx) = mpsc::sync_channel(4);
        let input = Box::new(Chunked {
            data,
            pos: 0,
            sizes,
            reads: 0,
        });
        let config = InputConfig {
            by: Some("status".into()),
            parse_records,
            tee: false,
        };
        let reader = std::thread::spawn(move || {
            let end = Reader::new(config).run(input, &tx);
            let _ = tx.send(Msg::End(end));
        });
        let (mut entries, mut rejects) = (Vec::new(), Vec::new());
        for msg in rx {
            match msg {
                Msg::Items(items) => {
                    for item in items {
                        match item {
                            Item::Entry(entry) => entries.push(entry),
                            Item::Reject(reject) => rejects.push(reject),
                            Item::Name(..) => {}
                        }
                    }
                }
                Msg::End(end) => {
                    assert!(matches!(end, InputEnd::Eof), "{end:?}");
                    break;
                }
                Msg::Wake => {}
            }
        }
        reader.join().expect("the reader does not panic");
        (entries, rejects)
    }

    /// The lines of `data` as batchsave numbers them (a last line may lack its newline),
    /// without their CR.
    fn lines(data: &[u8]) -> Vec<&[u8]> {
        let mut lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
        if lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        lines
            .into_iter()
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .collect()
    }

    fn record() -> impl Strategy<Value = Record> {
        (
            proptest::option::of(any::<IpAddr>()),
            proptest::option::of(any::<u16>()),
            proptest::sample::select(Status::ALL.to_vec()),
            proptest::option::of(any::<String>()),
            proptest::option::of("[ -~]{0,20}"),
            proptest::option::of(any::<u64>()),
        )
            .prop_map(|(ip, port, status, error, name, elapsed_ms)| {
                let mut record = Record::new(ip, port, status);
                record.error = error;
                record.name = name;
                record.elapsed_ms = elapsed_ms;
                record
            })
    }

    proptest! {
        /// Whatever the bytes and however they arrive, every non-blank line becomes exactly one
        /// record or one reject, numbered by its line, holding its bytes; nothing panics.
        #[test]
        fn any_bytes_give_one_entry_or_reject_per_line(
            data in proptest::collection::vec(
                prop_oneof![any::<u8>(), Just(b'\n'), Just(b'{'), Just(b'"'), Just(b'\r')],
                0..2048,
            ),
            sizes in proptest::collection::vec(1usize..300, 0..20),
        ) {
            let (entries, rejects) = read_all(data.clone(), sizes, true);
            let mut got: Vec<(u64, Vec<u8>)> = entries.iter().map(|e| (e.line, e.raw.clone())).collect();
            got.extend(rejects.iter().map(|r| (r.line, r.text.clone())));
            got.sort();
            let expected: Vec<(u64, Vec<u8>)> = lines(&data)
                .into_iter()
                .enumerate()
                .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
                .map(|(i, line)| (i as u64 + 1, line.to_vec()))
                .collect();
            prop_assert_eq!(got, expected);
            for reject in &rejects {
                prop_assert!(!reject.reason.is_empty() && !reject.truncated);
            }
        }

        /// sikprobe records, with CRLF line ends and blank lines anywhere, come out as they
        /// went in: the raw line, its status and `--by` value, and the same record.
        #[test]
        fn records_round_trip(
            records in proptest::collection::vec((record(), any::<bool>(), any::<bool>()), 0..20),
            sizes in proptest::collection::vec(1usize..300, 0..20),
        ) {
            let mut data = Vec::new();
            let mut json = Vec::new();
            for (record, crlf, blank) in &records {
                if *blank {
                    data.extend_from_slice(b" \t\r\n");
                }
                let line = serde_json::to_vec(record).expect("a record serialises");
                data.extend_from_slice(&line);
                data.extend_from_slice(if *crlf { b"\r\n" } else { b"\n" });
                json.push(line);
            }
            let (entries, rejects) = read_all(data, sizes, true);
            prop_assert!(rejects.is_empty(), "{rejects:?}");
            prop_assert_eq!(entries.len(), records.len());
            for (entry, ((record, _, _), line)) in entries.iter().zip(records.iter().zip(&json)) {
                prop_assert_eq!(&entry.raw, line);
                prop_assert_eq!(entry.status, Some(record.status));
                prop_assert_eq!(entry.by.as_deref(), Some(record.status.as_str()));
                match &entry.record {
                    Some(Ok(read)) => prop_assert_eq!(read.as_ref(), record),
                    other => prop_assert!(false, "not read back: {other:?}"),
                }
            }
        }
    }
}
