//! A host's records while they are being built: the host's own, then one per TG client node,
//! the one being worked on, and the phase the work is in, so that a deadline cut says where it
//! struck and keeps everything learnt until then.

use std::time::{Duration, Instant, SystemTime};

use crate::device::actions::millis;
use crate::device::identify;
use crate::record::{Record, Status};
use crate::transport::{ConnectError, ServerFacts};

use super::reach::status_of;

/// Which phase a host is in, to explain a deadline cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Connecting,
    Prompt,
    Identifying,
    Acting,
    ClientNodes,
    Closing,
}

impl Phase {
    fn describe(self) -> &'static str {
        match self {
            Phase::Connecting => "while connecting and logging in",
            Phase::Prompt => "while waiting for the CLI prompt",
            Phase::Identifying => "while identifying the device",
            Phase::Acting => "while running the action",
            Phase::ClientNodes => "while visiting client nodes",
            Phase::Closing => "while closing the session",
        }
    }
}

/// The records of one host: the host's own first, then one per client node visited.
pub(crate) struct HostRecords {
    records: Vec<Record>,
    current: usize,
    phase: Phase,
    clock: Instant,
    worth_retrying: bool,
}

impl HostRecords {
    /// The host's record, started now; `io-error` until something better is known.
    pub(crate) fn start(record: Record) -> Self {
        let mut record = record;
        record.started = Some(now_rfc3339());
        HostRecords {
            records: vec![record],
            current: 0,
            phase: Phase::Connecting,
            clock: Instant::now(),
            worth_retrying: false,
        }
    }

    /// The host's own record.
    pub(crate) fn host(&mut self) -> &mut Record {
        &mut self.records[0]
    }

    /// The login failed: the host's record says how, and whether trying again may help.
    pub(crate) fn login_failed(&mut self, err: &ConnectError) {
        self.worth_retrying = err.is_transient();
        self.host().fail(status_of(err), err.to_string());
    }

    /// True when the host failed before anything was sent to it, in a way that may pass.
    pub(crate) fn worth_retrying(&self) -> bool {
        self.worth_retrying
    }

    /// The record being worked on: the host's, or the client node's being visited.
    pub(crate) fn current(&mut self) -> &mut Record {
        &mut self.records[self.current]
    }

    /// The work moves on to `phase`.
    pub(crate) fn enter(&mut self, phase: Phase) {
        self.phase = phase;
    }

    /// A client node's record becomes the one being worked on.
    pub(crate) fn start_client_node(&mut self, record: Record) -> &mut Record {
        let mut record = record;
        record.started = Some(now_rfc3339());
        self.records.push(record);
        self.current = self.records.len() - 1;
        &mut self.records[self.current]
    }

    /// The client nodes are done: work is on the host's own record again.
    pub(crate) fn back_to_host(&mut self) {
        self.current = 0;
    }

    /// The deadline struck: the record being worked on says so and where, unless the host was
    /// merely closing its finished session (its results keep their status).
    pub(crate) fn cut_by_deadline(&mut self, deadline: Duration) {
        if self.phase == Phase::Closing {
            return;
        }
        let phase = self.phase;
        self.current().fail(
            Status::Deadline,
            format!(
                "deadline of {} reached {}",
                humantime::format_duration(deadline),
                phase.describe()
            ),
        );
    }

    /// The finished records, the host's own completed with what the server revealed of itself
    /// and the time it all took.
    pub(crate) fn finish(mut self, facts: ServerFacts) -> Vec<Record> {
        let elapsed = millis(self.clock.elapsed());
        let host = self.host();
        // The banner still names an EH or classic MH radio whose login failed; not a host whose
        // shell showed it is no radio.
        if host.model.is_none() && host.status != Status::NotSiklu {
            identify::apply_banner(host, facts.banner.as_deref());
        }
        host.banner = facts.banner;
        host.server_id = facts.server_id;
        host.host_key = facts.host_key;
        host.elapsed_ms = Some(elapsed);
        self.records
    }
}

/// Now, as an RFC 3339 time with milliseconds.
pub(crate) fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}
