//! One host, start to finish, within its deadline: reach it, let the work run, and always come
//! back with its records, however the device misbehaves; a host that failed before anything was
//! sent to it, in a way that may pass, is tried again (`--retries`).

use std::net::SocketAddr;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use super::context::{ProbeContext, Reach, SshClient};
use super::reach;
use super::records::HostRecords;
use crate::record::{Attempt, Record, Status, Transport};
use crate::transport::{ServerFacts, SharedFacts};

/// Probes one host and returns its records (one, plus one per visited TG client node). Never
/// fails and never outlives the deadline, its retries included: a cut host reports `deadline`
/// with everything learnt until then. The earlier attempts of a host tried again are in its
/// record's `attempts`.
pub async fn probe(addr: SocketAddr, input: Option<String>, context: &ProbeContext) -> Vec<Record> {
    let until = Instant::now() + context.deadline;
    let mut earlier = Vec::new();
    loop {
        let left = until.saturating_duration_since(Instant::now());
        let (mut records, worth_retrying) = attempt(addr, input.clone(), context, left).await;
        let retry = earlier.len() as u32 + 1;
        let wait = context.retries.wait_before(retry);
        // A retry without the time to say more than `deadline` would only hide what the
        // host did; half an attempt more leaves room for a loaded machine's late timers.
        let room = context.retries.least_attempt.mul_f64(1.5);
        let time_for_it = Instant::now() + wait + room <= until;
        if !worth_retrying || retry > context.retries.retries || !time_for_it {
            if !earlier.is_empty()
                && let Some(host) = records.first_mut()
            {
                host.attempts = Some(earlier);
            }
            return records;
        }
        if let Some(host) = records.first() {
            earlier.push(Attempt {
                status: host.status,
                error: host.error.clone(),
                started: host.started.clone(),
                elapsed_ms: host.elapsed_ms,
            });
        }
        tokio::time::sleep(wait).await;
    }
}

/// One attempt at a host, cut after `left` (what its deadline leaves): its records, and
/// whether it failed in a way worth another attempt.
async fn attempt(
    addr: SocketAddr,
    input: Option<String>,
    context: &ProbeContext,
    left: Duration,
) -> (Vec<Record>, bool) {
    let mut record = Record::new(Some(addr.ip()), Some(addr.port()), Status::IoError);
    record.transport = match context.reach {
        Reach::Ssh(SshClient::Native | SshClient::Auto) => Some(Transport::Native),
        Reach::Ssh(SshClient::Openssh) => Some(Transport::Openssh),
        Reach::Telnet => Some(Transport::Telnet),
        // Both transports speak for a check record.
        Reach::Check { .. } => None,
    };
    record.input = input;
    let facts: SharedFacts = Arc::default();
    let mut work = HostRecords::start(record);
    // Each way of reaching a host is boxed: a future is as large as its largest path (a check
    // runs two logins at once), and every live host would pay for it; boxed, it pays for its own.
    let work_done = async {
        match context.reach {
            Reach::Ssh(client) => {
                Box::pin(reach::ssh(addr, client, context, &facts, &mut work)).await;
            }
            Reach::Telnet => Box::pin(reach::telnet(addr, context, &mut work)).await,
            Reach::Check {
                ssh,
                telnet,
                telnet_port,
            } => {
                let telnet_addr = telnet.then(|| SocketAddr::new(addr.ip(), telnet_port));
                Box::pin(reach::check(
                    addr,
                    ssh,
                    telnet_addr,
                    context,
                    &facts,
                    work.host(),
                ))
                .await;
            }
        }
    };
    if tokio::time::timeout(left, work_done).await.is_err() {
        work.cut_by_deadline(context.deadline);
    }
    let facts: ServerFacts = facts.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let worth_retrying = work.worth_retrying();
    (work.finish(facts), worth_retrying)
}
