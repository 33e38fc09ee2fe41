//! The output thread: serialises each record with one write, in completion order or, with
//! `--ordered`, in input order through a reorder window of bounded size, and counts what it
//! wrote.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::sync::PoisonError;
use std::sync::atomic::Ordering;

use tokio::sync::mpsc;

use super::shared::RunShared;
use crate::pipe::DataOut;
use crate::record::{Record, Status};

/// A finished position and its records: none (a skipped host), one, or a TG DN and its
/// client nodes.
pub(crate) type Finished = (u64, Vec<Record>);

/// How records are written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WriteOptions {
    /// Emit in input order.
    pub(crate) ordered: bool,
    /// Flush every record.
    pub(crate) line_buffered: bool,
}

/// Writes every record that arrives until every sender is gone (or stdout closed).
pub(crate) fn write_records(
    mut records: mpsc::Receiver<Finished>,
    options: WriteOptions,
    shared: &RunShared,
) -> std::io::Result<()> {
    let mut out = DataOut::stdout(options.line_buffered);
    let mut pending = BTreeMap::new();
    let mut next = 0u64;
    let mut line = Vec::with_capacity(4096);
    loop {
        // Records are flushed whenever the queue runs dry: a busy run writes large blocks, a
        // slow one shows every record at once (and loses none to a kill -9).
        let (seq, host_records) = match records.try_recv() {
            Ok(finished) => finished,
            Err(mpsc::error::TryRecvError::Disconnected) => break,
            Err(mpsc::error::TryRecvError::Empty) => {
                if !shared.stdout_closed()
                    && let Err(err) = out.flush()
                {
                    if err.kind() != ErrorKind::BrokenPipe {
                        return Err(err);
                    }
                    shared.close_stdout();
                }
                match records.blocking_recv() {
                    Some(finished) => finished,
                    None => break,
                }
            }
        };
        if shared.stdout_closed() {
            continue;
        }
        let ready: Vec<Vec<Record>> = if options.ordered {
            pending.insert(seq, host_records);
            let mut ready = Vec::new();
            while let Some(record) = pending.remove(&next) {
                ready.push(record);
                next += 1;
            }
            shared.window.add_permits(ready.len());
            ready
        } else {
            vec![host_records]
        };
        for record in ready.into_iter().flatten() {
            line.clear();
            serde_json::to_writer(&mut line, &record)?;
            line.push(b'\n');
            if let Err(err) = out.write_record(&line) {
                if err.kind() == ErrorKind::BrokenPipe {
                    shared.close_stdout();
                    break;
                }
                return Err(err);
            }
            count(shared, &record);
        }
    }
    if shared.stdout_closed() {
        return Ok(());
    }
    match out.finish() {
        Err(err) if err.kind() == ErrorKind::BrokenPipe => {
            shared.close_stdout();
            Ok(())
        }
        other => other,
    }
}

/// Counts a written record for the summary and the progress line.
fn count(shared: &RunShared, record: &Record) {
    shared
        .summary
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .count(record, sent_commands(record));
    shared.progress.done.fetch_add(1, Ordering::Relaxed);
    if record.status == Status::Ok {
        shared.progress.ok.fetch_add(1, Ordering::Relaxed);
    }
}

/// The commands the record says were sent (a dry run's planned ones are not).
fn sent_commands(record: &Record) -> usize {
    record.commands.iter().flatten().filter(|c| c.sent).count()
}
