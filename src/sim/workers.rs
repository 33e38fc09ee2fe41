//! Serving a fleet larger than one process may hold sockets for.
//!
//! Every simulated address has its own listening socket (see [`super::server`]), and the
//! open-file limit is per process. When the hard limit is too low for the whole fleet (a /16
//! needs 65,534 sockets; containers often cap the hard limit at 20,000 and deny raising it),
//! siksim runs itself again as worker processes, each serving one contiguous slice of the
//! fleet's addresses, and reports ready once every worker is. Each address belongs to exactly
//! one worker, so what sessions change on a radio stays consistent.

use std::ffi::OsString;
use std::io;
use std::ops::Range;
use std::path::Path;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStderr, Command};

use super::server::FD_HEADROOM;

/// The line a worker prints once its listeners are up, followed by its listening count.
pub const WORKER_READY: &str = "siksim: worker ready: ";

/// The hidden flag that makes siksim a worker: `--worker K/N`.
pub const WORKER_FLAG: &str = "--worker";

/// How many processes serve `addresses` when each may hold `limit` descriptors.
pub fn worker_count(addresses: usize, limit: u64) -> usize {
    let per_process = (limit.saturating_sub(FD_HEADROOM)).max(1) as usize;
    addresses.div_ceil(per_process).max(1)
}

/// The slice of the fleet (positions in address order) worker `k` of `n` serves (1-based).
pub fn slice(addresses: usize, k: usize, n: usize) -> Range<usize> {
    let chunk = addresses.div_ceil(n.max(1));
    let start = (k.saturating_sub(1) * chunk).min(addresses);
    start..(start + chunk).min(addresses)
}

/// Parses `K/N` (1 ≤ K ≤ N).
pub fn parse_worker(text: &str) -> Result<(usize, usize), String> {
    let bad = || format!("'{text}' is not K/N with 1 <= K <= N");
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (k.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
    if k == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

/// Why the workers could not serve.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// A worker could not be started.
    #[error("cannot start worker {k}/{n}")]
    Spawn {
        /// Which worker.
        k: usize,
        /// Of how many.
        n: usize,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A worker exited before it was ready.
    #[error("worker {k}/{n} failed: {message}")]
    Failed {
        /// Which worker.
        k: usize,
        /// Of how many.
        n: usize,
        /// What it printed.
        message: String,
    },
}

/// Worker processes serving the fleet together.
pub struct Workers {
    children: Vec<Child>,
    listening: usize,
}

impl Workers {
    /// Starts `n` workers (`exe ARGS --worker K/N`) and waits until every one is ready.
    pub async fn start(exe: &Path, args: &[OsString], n: usize) -> Result<Workers, WorkerError> {
        let mut children = Vec::with_capacity(n);
        let mut pending = Vec::with_capacity(n);
        for k in 1..=n {
            let mut child = Command::new(exe)
                .args(args)
                .arg(WORKER_FLAG)
                .arg(format!("{k}/{n}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .map_err(|source| WorkerError::Spawn { k, n, source })?;
            let stderr = child.stderr.take();
            children.push(child);
            pending.push(async move { ready(stderr, k, n).await });
        }
        let mut listening = 0;
        for result in futures::future::join_all(pending).await {
            listening += result?;
        }
        Ok(Workers {
            children,
            listening,
        })
    }

    /// Listening sockets across all workers.
    pub fn listening(&self) -> usize {
        self.listening
    }

    /// How many workers there are.
    pub fn len(&self) -> usize {
        self.children.len()
    }

    /// True when there is no worker.
    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }

    /// Resolves when any worker exits (which it should only do when told to).
    pub async fn any_exit(&mut self) -> io::Result<std::process::ExitStatus> {
        let waits = self.children.iter_mut().map(|child| Box::pin(child.wait()));
        let (status, _, _) = futures::future::select_all(waits).await;
        status
    }

    /// Sends SIGTERM to every worker and waits for them.
    pub async fn stop(mut self) {
        for child in &self.children {
            if let Some(pid) = child.id() {
                // SAFETY: kill(2) on a child we spawned and have not yet reaped.
                unsafe {
                    libc::kill(pid as libc::pid_t, libc::SIGTERM);
                }
            }
        }
        for child in &mut self.children {
            let _ = child.wait().await;
        }
    }
}

/// Reads a worker's stderr until its ready line; then forwards the rest to ours.
async fn ready(stderr: Option<ChildStderr>, k: usize, n: usize) -> Result<usize, WorkerError> {
    let Some(stderr) = stderr else {
        return Err(WorkerError::Failed {
            k,
            n,
            message: "no stderr".to_owned(),
        });
    };
    let mut lines = BufReader::new(stderr).lines();
    let mut said = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(count) = line.strip_prefix(WORKER_READY) {
            let listening = count
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            tokio::spawn(async move {
                while let Ok(Some(line)) = lines.next_line().await {
                    eprintln!("{line}");
                }
            });
            return Ok(listening);
        }
        said.push(line);
    }
    Err(WorkerError::Failed {
        k,
        n,
        message: said.join("; "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_cover_the_fleet_once() {
        let n = worker_count(65_534, 20_000);
        assert_eq!(n, 5);
        let mut next = 0;
        for k in 1..=n {
            let range = slice(65_534, k, n);
            assert_eq!(range.start, next);
            next = range.end;
        }
        assert_eq!(next, 65_534);
        assert_eq!(worker_count(254, 20_000), 1);
        assert_eq!(parse_worker("2/5"), Ok((2, 5)));
        assert!(parse_worker("0/5").is_err() && parse_worker("6/5").is_err());
    }
}
