//! Counting what happened, for the progress line, the final summary and `--summary FILE`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::record::Status;

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
}

impl Summary {
    /// Counts one record and the commands it sent.
    pub fn count(&mut self, status: Status, commands: usize) {
        self.hosts += 1;
        self.commands += commands as u64;
        *self.statuses.entry(status).or_default() += 1;
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
        if self.interrupted {
            line.push_str("; interrupted");
        }
        line
    }
}
