//! `--skip-done`: the hosts an earlier run already finished, read from its NDJSON output
//! (files, or a batchsave output directory searched for `*.ndjson`).

use std::collections::HashSet;
use std::io::BufRead;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::pipe::BoundedLines;
use crate::record::Status;

/// The statuses that count as done unless `--retry` names them.
pub const FINAL_BY_DEFAULT: [Status; 4] = [
    Status::Ok,
    Status::AuthFailed,
    Status::NotSiklu,
    Status::Refused,
];

/// Longest record line read back (a record with a large command output can be long).
const MAX_RECORD: usize = 64 * 1024 * 1024;

/// The finished hosts, by address and port.
#[derive(Debug, Default)]
pub struct DoneSet {
    done: HashSet<SocketAddr>,
    /// Lines that were not records (reported once as a warning).
    pub unreadable_lines: u64,
    /// Files read.
    pub files: usize,
}

/// A `--skip-done` path that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("--skip-done {path}: {source}")]
pub struct ResumeError {
    path: String,
    #[source]
    source: std::io::Error,
}

#[derive(Deserialize)]
struct Finished {
    ip: Option<IpAddr>,
    port: Option<u16>,
    status: Status,
    /// Set on TG client-node records, which carry their DN's address: they say nothing about
    /// whether the DN itself is done.
    #[serde(default)]
    route: Option<String>,
}

impl DoneSet {
    /// Reads every path; `final_statuses` are the statuses that mark a host done.
    pub fn load(
        paths: &[PathBuf],
        final_statuses: &[Status],
        default_port: u16,
    ) -> Result<Self, ResumeError> {
        let mut set = DoneSet::default();
        for path in paths {
            let mut files = Vec::new();
            collect_ndjson(path, &mut files).map_err(|source| ResumeError {
                path: path.display().to_string(),
                source,
            })?;
            for file in files {
                let reader = std::fs::File::open(&file)
                    .map(std::io::BufReader::new)
                    .map_err(|source| ResumeError {
                        path: file.display().to_string(),
                        source,
                    })?;
                set.read(reader, final_statuses, default_port)
                    .map_err(|source| ResumeError {
                        path: file.display().to_string(),
                        source,
                    })?;
                set.files += 1;
            }
        }
        Ok(set)
    }

    fn read(
        &mut self,
        reader: impl BufRead,
        final_statuses: &[Status],
        default_port: u16,
    ) -> std::io::Result<()> {
        let mut lines = BoundedLines::new(reader, MAX_RECORD);
        while let Some(line) = lines.next_line()? {
            if line.bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Finished>(line.bytes) {
                Ok(Finished {
                    ip: Some(ip),
                    port,
                    status,
                    route: None,
                }) => {
                    if final_statuses.contains(&status) {
                        self.done
                            .insert(SocketAddr::new(ip, port.unwrap_or(default_port)));
                    }
                }
                Ok(_) => {}
                Err(_) => self.unreadable_lines += 1,
            }
        }
        Ok(())
    }

    /// True when the host already has a final record.
    pub fn contains(&self, addr: &SocketAddr) -> bool {
        self.done.contains(addr)
    }

    /// How many hosts are done.
    pub fn len(&self) -> usize {
        self.done.len()
    }

    /// True when no host is done.
    pub fn is_empty(&self) -> bool {
        self.done.is_empty()
    }
}

/// A file as given, or every `*.ndjson` file below a directory (batchsave's output).
fn collect_ndjson(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if !path.is_dir() {
        std::fs::metadata(path)?;
        out.push(path.to_owned());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect_ndjson(&entry, out)?;
        } else if entry.extension().is_some_and(|ext| ext == "ndjson") {
            out.push(entry);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_final_statuses_count_as_done() {
        let mut set = DoneSet::default();
        let input = concat!(
            "{\"ip\":\"10.0.0.1\",\"port\":22,\"status\":\"ok\"}\n",
            "{\"ip\":\"10.0.0.2\",\"port\":22,\"status\":\"deadline\"}\n",
            "{\"ip\":\"10.0.0.3\",\"status\":\"refused\"}\n",
            "{\"ip\":\"10.0.0.4\",\"status\":\"ok\",\"route\":\"10.0.0.4: dn -> cn1\"}\n",
            "not json\n",
        );
        set.read(input.as_bytes(), &FINAL_BY_DEFAULT, 22)
            .expect("reads");
        let addr = |s: &str| s.parse::<SocketAddr>().expect("addr");
        assert!(set.contains(&addr("10.0.0.1:22")));
        assert!(!set.contains(&addr("10.0.0.2:22")));
        assert!(set.contains(&addr("10.0.0.3:22")));
        assert!(
            !set.contains(&addr("10.0.0.4:22")),
            "a client node's record is not its DN's"
        );
        assert_eq!(set.unreadable_lines, 1);
    }
}
