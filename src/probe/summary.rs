//! Counting what happened, for the progress line, the final summary and `--summary FILE`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::record::{Record, Status};

/// The most `unconfirmed` radios the stderr line names; `--summary FILE` names them all.
const NAMED_ON_THE_LINE: usize = 50;

/// Counts per status and the run's timing.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Records written (every status, `skipped` ones included when emitted).
    pub hosts: u64,
    /// Records per status.
    pub statuses: BTreeMap<Status, u64>,
    /// Commands sent, over every record.
    pub commands: u64,
    /// Addresses skipped as already done (not written unless `--emit-skipped`).
    pub skipped: u64,
    /// Wall time of the run, in seconds.
    pub elapsed_s: f64,
    /// Hosts probed per second (skipped ones excluded).
    pub hosts_per_s: f64,
    /// True when the run was stopped by SIGINT/SIGTERM.
    pub interrupted: bool,
    /// Why a staged rollout (`--canary`, `--max-failures`) stopped starting hosts, when it did.
    pub stopped: Option<String>,
    /// The radios a guarded change left `unconfirmed`, for a person to look at: `ip:port`, and
    /// the radio's name when known (`ip:port (name)`), in the order they were written.
    pub unconfirmed: Vec<String>,
}

impl Summary {
    /// Counts one record and the commands it sent, and names it when it is `unconfirmed`.
    pub fn count(&mut self, record: &Record, commands: usize) {
        self.hosts += 1;
        self.commands += commands as u64;
        *self.statuses.entry(record.status).or_default() += 1;
        if record.status == Status::Unconfirmed {
            let mut named = match (record.ip, record.port) {
                (Some(ip), Some(port)) => std::net::SocketAddr::new(ip, port).to_string(),
                _ => record.input.clone().unwrap_or_default(),
            };
            if let Some(name) = &record.name {
                named.push_str(&format!(" ({name})"));
            }
            self.unconfirmed.push(named);
        }
    }

    /// Records that finished with `ok`.
    pub fn ok(&self) -> u64 {
        self.statuses.get(&Status::Ok).copied().unwrap_or(0)
    }

    /// Sets the timing fields.
    pub fn finish(&mut self, elapsed: Duration) {
        self.elapsed_s = (elapsed.as_secs_f64() * 1000.0).round() / 1000.0;
        let probed = self.hosts - self.statuses.get(&Status::Skipped).copied().unwrap_or(0);
        self.hosts_per_s = if elapsed.as_secs_f64() > 0.0 {
            (probed as f64 / elapsed.as_secs_f64() * 10.0).round() / 10.0
        } else {
            0.0
        };
    }

    /// The one-line summary printed on stderr.
    pub fn line(&self) -> String {
        let counts: Vec<String> = self
            .statuses
            .iter()
            .map(|(status, n)| format!("{status} {n}"))
            .collect();
        let ran = if self.commands > 0 {
            format!("ran {} commands across ", self.commands)
        } else {
            String::new()
        };
        let mut line = format!(
            "{ran}{} hosts in {:.1}s ({} hosts/s): {}",
            self.hosts,
            self.elapsed_s,
            self.hosts_per_s,
            if counts.is_empty() {
                "nothing to do".to_owned()
            } else {
                counts.join(", ")
            }
        );
        if self.skipped > 0 {
            line.push_str(&format!("; {} skipped as done", self.skipped));
        }
        if let Some(why) = &self.stopped {
            line.push_str(&format!("; {why}"));
        }
        if !self.unconfirmed.is_empty() {
            let named = &self.unconfirmed[..self.unconfirmed.len().min(NAMED_ON_THE_LINE)];
            line.push_str(&format!(
                "; unconfirmed, look at them: {}",
                named.join(", ")
            ));
            let more = self.unconfirmed.len() - named.len();
            if more > 0 {
                line.push_str(&format!(" and {more} more (--summary FILE names them all)"));
            }
        }
        if self.interrupted {
            line.push_str("; interrupted");
        }
        line
    }
}
