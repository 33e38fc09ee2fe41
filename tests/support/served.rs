//! A fleet served by the real siksim with its events log (`--events`), and what tests of
//! changes ask of it: one sikprobe record of an address, a backup, the address's events.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use sikscan::record::{Record, Status};

use super::events::{self, Event};
use super::fleet::Fleet;
use super::{Probe, Siksim, sikprobe};

/// Long enough for any wait on an event, on a loaded machine.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A fleet served on `port` with its events log, and the log's path.
pub struct Served {
    pub siksim: Siksim,
    pub port: u16,
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

/// Serves `fleet` on `port` with an events log, and siksim flags `extra`.
pub fn serve(fleet: &Fleet, port: u16, extra: &[&str]) -> Served {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("events.ndjson");
    let port_text = port.to_string();
    let log_text = log.to_str().expect("a UTF-8 path");
    let mut args = vec!["--port", &port_text, "-q", "--events", log_text];
    args.extend_from_slice(extra);
    Served {
        siksim: Siksim::serve(fleet, &args),
        port,
        log,
        _dir: dir,
    }
}

impl Served {
    /// sikprobe on `ip` sending `commands` (none: identification only), one record.
    pub fn probe(&self, ip: Ipv4Addr, extra: &[&str], commands: &[&str]) -> Record {
        let port = self.port.to_string();
        let mut args = vec!["-p", port.as_str(), "-q"];
        args.extend_from_slice(extra);
        for command in commands {
            args.extend(["-c", command]);
        }
        let Probe {
            mut records,
            stderr,
            status,
        } = sikprobe(&args, &format!("{ip}\n"));
        assert!(status.success(), "{stderr}");
        assert_eq!(records.len(), 1, "one record per input line");
        records.remove(0)
    }

    /// `-a backup` of `ip`, which must succeed.
    pub fn backup(&self, ip: Ipv4Addr) -> Record {
        let record = self.probe(ip, &["-a", "backup"], &[]);
        assert_eq!(record.status, Status::Ok, "{ip}: {:?}", record.error);
        record
    }

    /// The events `ip` logged so far.
    pub fn events(&self, ip: Ipv4Addr) -> Vec<Event> {
        events::of(&events::read(&self.log), ip)
    }

    /// Waits until `ip` logged `event`; returns its events so far.
    #[track_caller]
    pub fn wait_for(&self, ip: Ipv4Addr, event: &str) -> Vec<Event> {
        events::wait_for(&self.log, ip, event, PATIENCE)
    }

    /// Waits until `ip` logged the command `command`; returns its events so far.
    #[track_caller]
    pub fn wait_for_command(&self, ip: Ipv4Addr, command: &str) -> Vec<Event> {
        events::wait_for_command(&self.log, ip, command, PATIENCE)
    }

    /// What siksim says `ip` is now (`--describe` of the running fleet).
    pub fn truth(&self, ip: Ipv4Addr) -> serde_json::Value {
        let truth = self.siksim.describe();
        super::truth_for(&truth, &ip.to_string(), None).clone()
    }
}
