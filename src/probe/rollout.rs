//! Staged rollout: which probed host may start next, judged only from the statuses of the hosts
//! that ended — the first `--canary N` alone, the rest once all of them ended `ok`, and no new
//! host once more than `--max-failures` of them failed.
//!
//! What counts: a host is an input line that was probed. Invalid lines and lines `--skip-done`
//! skipped are not hosts. A host ended `ok` when every record it wrote is `ok` (a TG DN's
//! client nodes included, with `--cns`). A host whose own record is `skipped` (it was not
//! attempted) is neither finished nor failed for `--max-failures`; as a canary it proved
//! nothing, so it fails the canary stage.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;
use tokio::sync::futures::Notified;

use crate::record::{Record, Status};

/// Until this many hosts have finished, a `--max-failures P%` share is taken of this many: the
/// hosts that fail fastest (refused, unreachable) finish first, so a share of the first one or
/// two finished would stop nearly every run at its first dead radio.
pub const SHARE_MIN_FINISHED: u64 = 10;

/// How many failed canaries the stop reason names; the rest are counted.
const CANARIES_NAMED: usize = 10;

/// `--max-failures`: how many failed hosts a run tolerates before it starts no new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureLimit {
    /// More than this many failed hosts stop the run.
    Hosts(u64),
    /// More than this percentage of the finished hosts (of at least [`SHARE_MIN_FINISHED`])
    /// failed stops the run.
    Percent(u8),
}

impl FailureLimit {
    /// True once `failed` of `finished` hosts are more than the limit allows.
    pub fn passed(self, failed: u64, finished: u64) -> bool {
        match self {
            FailureLimit::Hosts(most) => failed > most,
            FailureLimit::Percent(share) => {
                u128::from(failed) * 100
                    > u128::from(share) * u128::from(finished.max(SHARE_MIN_FINISHED))
            }
        }
    }
}

impl fmt::Display for FailureLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureLimit::Hosts(most) => write!(f, "{most}"),
            FailureLimit::Percent(share) => write!(f, "{share}%"),
        }
    }
}

/// A `--max-failures` value that is neither a number of hosts nor a percentage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FailureLimitError {
    /// Not a number at all.
    #[error(
        "'{0}' is neither a number of hosts (e.g. 2) nor a share of the finished hosts \
         (e.g. 10%)"
    )]
    NotANumber(String),
    /// A percentage above 100.
    #[error("'{0}' is more than 100% of the finished hosts")]
    OverAHundred(String),
}

impl FromStr for FailureLimit {
    type Err = FailureLimitError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        let not_a_number = || FailureLimitError::NotANumber(text.to_owned());
        match trimmed.strip_suffix('%') {
            Some(share) => {
                let share: u64 = share.trim().parse().map_err(|_| not_a_number())?;
                u8::try_from(share)
                    .ok()
                    .filter(|share| *share <= 100)
                    .map(FailureLimit::Percent)
                    .ok_or_else(|| FailureLimitError::OverAHundred(text.to_owned()))
            }
            None => trimmed
                .parse()
                .map(FailureLimit::Hosts)
                .map_err(|_| not_a_number()),
        }
    }
}

/// How a run is staged (`--canary`, `--max-failures`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RolloutOptions {
    /// The first this many probed hosts run alone (0: no canary stage).
    pub canary: u64,
    /// No new host starts once more than this many failed.
    pub max_failures: Option<FailureLimit>,
}

/// What the dispatcher may do with the next host to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Start it (`canary`: as one of the canaries).
    Start {
        /// The host is a canary: its outcome opens or closes the gate for the rest.
        canary: bool,
    },
    /// Not yet: canaries are still running.
    Wait,
    /// Never: the rollout stopped, for this reason.
    Stop(Arc<str>),
}

/// The rollout's state while the run goes, shared by the dispatcher and the hosts' tasks.
#[derive(Debug, Default)]
pub(crate) struct Rollout {
    options: RolloutOptions,
    state: Mutex<State>,
    changed: Notify,
}

#[derive(Debug, Default)]
struct State {
    /// Hosts given a start.
    started: u64,
    /// Canaries that ended.
    canaries_ended: u64,
    /// The canaries that did not end `ok`: input position, address, status.
    canary_failures: Vec<(u64, SocketAddr, Status)>,
    /// Hosts that ended, `skipped` ones aside.
    finished: u64,
    /// Of which not `ok`.
    failed: u64,
    /// Why no new host starts, once that is so.
    stop: Option<Arc<str>>,
}

impl Rollout {
    /// A rollout staged as `options` says.
    pub(crate) fn new(options: RolloutOptions) -> Self {
        Rollout {
            options,
            ..Rollout::default()
        }
    }

    /// Whether the next host may start; a start is counted.
    pub(crate) fn admit(&self) -> Admission {
        let mut state = self.lock();
        if let Some(stop) = &state.stop {
            return Admission::Stop(stop.clone());
        }
        let canary = state.started < self.options.canary;
        if !canary && state.canaries_ended < self.options.canary {
            return Admission::Wait;
        }
        state.started += 1;
        Admission::Start { canary }
    }

    /// A future that completes at the next change of the rollout's state; create it before
    /// [`Rollout::admit`] answers `Wait`, so that no change between the two is missed.
    pub(crate) fn changed(&self) -> Notified<'_> {
        self.changed.notified()
    }

    /// Why no new host starts, once that is so.
    pub(crate) fn stopped(&self) -> Option<Arc<str>> {
        self.lock().stop.clone()
    }

    /// Host number `seq` at `addr`, started as [`Admission::Start`] said, ended with this
    /// [`outcome`].
    pub(crate) fn ended(&self, seq: u64, addr: SocketAddr, canary: bool, outcome: Status) {
        let mut state = self.lock();
        if canary {
            state.canaries_ended += 1;
            if outcome != Status::Ok {
                state.canary_failures.push((seq, addr, outcome));
            }
        }
        if outcome != Status::Skipped {
            state.finished += 1;
            state.failed += u64::from(outcome != Status::Ok);
        }
        if state.stop.is_none() {
            if state.canaries_ended == self.options.canary && !state.canary_failures.is_empty() {
                state.stop = Some(canary_failed(&mut state).into());
            } else if let Some(limit) = self.options.max_failures
                && limit.passed(state.failed, state.finished)
            {
                state.stop = Some(
                    format!(
                        "stopped after {} of {} finished hosts failed (--max-failures {limit})",
                        state.failed, state.finished
                    )
                    .into(),
                );
            }
        }
        drop(state);
        self.changed.notify_waiters();
    }

    /// The run is over (every host started has ended): why the rollout stopped, if it did. A
    /// canary that failed stops it even when the input held no host beyond the canaries.
    pub(crate) fn finish(&self) -> Option<Arc<str>> {
        let mut state = self.lock();
        if state.stop.is_none() && !state.canary_failures.is_empty() {
            state.stop = Some(canary_failed(&mut state).into());
        }
        state.stop.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A host's outcome: `ok` when every record it wrote is, else the first status that is not
/// (its own record's first).
pub(crate) fn outcome(records: &[Record]) -> Status {
    records
        .iter()
        .map(|record| record.status)
        .find(|status| *status != Status::Ok)
        .unwrap_or(Status::Ok)
}

/// "canary failed: ADDR STATUS, …", the failed canaries in input order.
fn canary_failed(state: &mut State) -> String {
    state
        .canary_failures
        .sort_unstable_by_key(|(seq, _, _)| *seq);
    let named: Vec<String> = state
        .canary_failures
        .iter()
        .take(CANARIES_NAMED)
        .map(|(_, addr, status)| format!("{addr} {status}"))
        .collect();
    let more = state.canary_failures.len().saturating_sub(CANARIES_NAMED);
    let mut reason = format!("canary failed: {}", named.join(", "));
    if more > 0 {
        reason.push_str(&format!(" and {more} more"));
    }
    reason
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(status: Status) -> Record {
        Record::new(None, None, status)
    }

    fn addr(last: u8) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, last], 22))
    }

    #[test]
    fn limits_parse_as_hosts_or_a_share() {
        assert_eq!("2".parse(), Ok(FailureLimit::Hosts(2)));
        assert_eq!("0".parse(), Ok(FailureLimit::Hosts(0)));
        assert_eq!("10%".parse(), Ok(FailureLimit::Percent(10)));
        assert_eq!(" 100% ".parse(), Ok(FailureLimit::Percent(100)));
        for bad in ["", "two", "-1", "1.5", "%", "x%", "-5%"] {
            assert_eq!(
                bad.parse::<FailureLimit>(),
                Err(FailureLimitError::NotANumber(bad.to_owned())),
                "{bad:?}"
            );
        }
        assert_eq!(
            "101%".parse::<FailureLimit>(),
            Err(FailureLimitError::OverAHundred("101%".to_owned()))
        );
        assert_eq!(FailureLimit::Percent(10).to_string(), "10%");
        assert_eq!(FailureLimit::Hosts(3).to_string(), "3");
    }

    #[test]
    fn a_share_counts_at_least_the_minimum_of_finished_hosts() {
        let ten = FailureLimit::Percent(10);
        // The first failure of the first host is 1 of 10 at most: not more than 10%.
        assert!(!ten.passed(1, 1));
        assert!(ten.passed(2, 2));
        assert!(!ten.passed(2, 20));
        assert!(ten.passed(3, 20));
        assert!(FailureLimit::Percent(0).passed(1, 1));
        assert!(!FailureLimit::Percent(100).passed(50, 50));
        assert!(!FailureLimit::Hosts(2).passed(2, 2));
        assert!(FailureLimit::Hosts(2).passed(3, 100));
    }

    #[test]
    fn the_rest_wait_for_the_canaries_and_start_when_all_are_ok() {
        let rollout = Rollout::new(RolloutOptions {
            canary: 2,
            max_failures: None,
        });
        assert_eq!(rollout.admit(), Admission::Start { canary: true });
        assert_eq!(rollout.admit(), Admission::Start { canary: true });
        assert_eq!(rollout.admit(), Admission::Wait);
        rollout.ended(0, addr(1), true, Status::Ok);
        assert_eq!(rollout.admit(), Admission::Wait);
        rollout.ended(1, addr(2), true, Status::Ok);
        assert_eq!(rollout.admit(), Admission::Start { canary: false });
        assert_eq!(rollout.finish(), None);
    }

    #[test]
    fn a_failed_canary_stops_the_rest_and_is_named() {
        let rollout = Rollout::new(RolloutOptions {
            canary: 3,
            max_failures: None,
        });
        for _ in 0..3 {
            assert_eq!(rollout.admit(), Admission::Start { canary: true });
        }
        rollout.ended(2, addr(3), true, Status::AuthFailed);
        rollout.ended(1, addr(2), true, Status::Ok);
        assert_eq!(rollout.admit(), Admission::Wait, "one canary still runs");
        // A client node that failed fails its DN.
        rollout.ended(
            0,
            addr(1),
            true,
            outcome(&[record(Status::Ok), record(Status::Unreachable)]),
        );
        let why = "canary failed: 127.0.0.1:22 unreachable, 127.0.0.3:22 auth-failed";
        assert_eq!(rollout.admit(), Admission::Stop(why.into()));
        assert_eq!(rollout.finish().as_deref(), Some(why));
    }

    #[test]
    fn a_failed_canary_stops_a_run_with_no_other_host() {
        let rollout = Rollout::new(RolloutOptions {
            canary: 5,
            max_failures: None,
        });
        assert_eq!(rollout.admit(), Admission::Start { canary: true });
        rollout.ended(0, addr(1), true, Status::IoError);
        assert_eq!(rollout.stopped(), None, "four canaries may still come");
        assert_eq!(
            rollout.finish().as_deref(),
            Some("canary failed: 127.0.0.1:22 io-error")
        );
    }

    #[test]
    fn max_failures_stops_once_passed_and_skipped_hosts_do_not_count() {
        let rollout = Rollout::new(RolloutOptions {
            canary: 0,
            max_failures: Some(FailureLimit::Hosts(1)),
        });
        let statuses = [
            Status::Refused,
            Status::Skipped,
            Status::Ok,
            Status::Deadline,
        ];
        for (seq, status) in (0u64..).zip(statuses) {
            assert_eq!(rollout.admit(), Admission::Start { canary: false });
            rollout.ended(seq, addr(1), false, status);
        }
        let why = "stopped after 2 of 3 finished hosts failed (--max-failures 1)";
        assert_eq!(rollout.admit(), Admission::Stop(why.into()));
        // Hosts still in flight end after the stop; the reason keeps the count that made it.
        rollout.ended(9, addr(9), false, Status::Refused);
        assert_eq!(rollout.finish().as_deref(), Some(why));
    }
}
