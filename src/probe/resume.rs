//! `--skip-done`: the hosts an earlier run already finished, read from its NDJSON output
//! (files, or a batchsave output directory: see [`crate::snapshot`]).

use std::collections::HashSet;
use std::io::BufRead;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use serde::Deserialize;

use crate::record::Status;
use crate::snapshot::{self, RecordLines};

/// The statuses that count as done unless `--retry` names them. `unconfirmed` is one: a
/// radio a guarded change left in doubt waits for a person, not for the next run's change.
pub const FINAL_BY_DEFAULT: [Status; 5] = [
    Status::Ok,
    Status::AuthFailed,
    Status::NotSiklu,
    Status::Refused,
    Status::Unconfirmed,
];

/// The finished hosts, by address and port.
#[derive(Debug, Default)]
pub struct DoneSet {
    done: HashSet<SocketAddr>,
    /// Lines that were not records (reported once as a warning).
    pub unreadable_lines: u64,
    /// Files read.
    pub files: usize,
    /// Paths that do not exist: nothing was done there yet (a first run of the resume
    /// command, whose output directory batchsave has not made yet).
    pub missing: Vec<PathBuf>,
}

/// A `--skip-done` path that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("--skip-done {path}")]
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
            if matches!(std::fs::symlink_metadata(path), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
            {
                set.missing.push(path.clone());
                continue;
            }
            let files = snapshot::ndjson_files(path).map_err(|source| ResumeError {
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
        let mut lines = RecordLines::new(reader);
        while let Some(line) = lines.next_line()? {
            if line.is_blank() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Record;

    #[test]
    fn a_path_not_made_yet_is_nothing_done_and_is_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("out");
        let set = DoneSet::load(std::slice::from_ref(&missing), &FINAL_BY_DEFAULT, 22)
            .expect("a missing path is not an error");
        assert_eq!(set.len(), 0);
        assert_eq!(set.missing, vec![missing]);
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, "").expect("written");
        let unreadable = DoneSet::load(&[file.join("x")], &FINAL_BY_DEFAULT, 22)
            .expect_err("a path under a file is an error");
        assert!(
            unreadable.to_string().ends_with("not-a-dir/x"),
            "{unreadable}"
        );
    }

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

    fn finished() -> impl proptest::strategy::Strategy<Value = (IpAddr, Option<u16>, Status, bool)>
    {
        use proptest::prelude::*;
        (
            // Few addresses, so that hosts repeat with different statuses.
            (0u8..8).prop_map(|n| IpAddr::from([10, 0, 0, n])),
            proptest::option::of(prop_oneof![Just(22u16), Just(2222)]),
            proptest::sample::select(Status::ALL.to_vec()),
            any::<bool>(),
        )
    }

    proptest::proptest! {
        /// Arbitrary bytes never fail or panic the reader; each line counts at most once.
        #[test]
        fn any_bytes_are_read_or_counted_unreadable(
            data in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::arbitrary::any::<u8>(),
                    proptest::strategy::Just(b'\n'),
                    proptest::strategy::Just(b'{'),
                ],
                0..2048,
            ),
        ) {
            let mut set = DoneSet::default();
            set.read(&data[..], &FINAL_BY_DEFAULT, 22).expect("reading a slice cannot fail");
            let lines = data.split(|&b| b == b'\n').count() as u64;
            proptest::prop_assert!(set.unreadable_lines <= lines);
            proptest::prop_assert!(set.len() as u64 <= lines);
        }

        /// Records written as sikprobe writes them, mixed with lines that are not records,
        /// give exactly the hosts with a final status (client nodes aside), and count the rest
        /// as unreadable.
        #[test]
        fn done_hosts_round_trip(
            records in proptest::collection::vec((finished(), 0u8..3), 0..40),
        ) {
            let mut text = String::new();
            let mut expected = HashSet::new();
            let mut garbage = 0;
            for ((ip, port, status, cn), extra) in &records {
                let mut record = Record::new(Some(*ip), *port, *status);
                if *cn {
                    record.route = Some(format!("{ip}: dn -> cn1"));
                }
                text.push_str(&serde_json::to_string(&record).expect("serialises"));
                text.push_str(if *extra == 1 { "\r\n" } else { "\n" });
                if *extra == 2 {
                    text.push_str("not a record\n\n");
                    garbage += 1;
                }
                if FINAL_BY_DEFAULT.contains(status) && !cn {
                    expected.insert(SocketAddr::new(*ip, port.unwrap_or(22)));
                }
            }
            let mut set = DoneSet::default();
            set.read(text.as_bytes(), &FINAL_BY_DEFAULT, 22).expect("reads");
            proptest::prop_assert_eq!(&set.done, &expected);
            proptest::prop_assert_eq!(set.unreadable_lines, garbage);
        }
    }
}
