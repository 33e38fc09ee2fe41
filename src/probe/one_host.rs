//! One host, start to finish, within its deadline: reach it, let the work run, and always come
//! back with its records, however the device misbehaves.

use std::net::SocketAddr;
use std::sync::{Arc, PoisonError};

use super::context::{ProbeContext, Reach, SshClient};
use super::reach;
use super::records::HostRecords;
use crate::record::{Record, Status, Transport};
use crate::transport::{ServerFacts, SharedFacts};

/// Probes one host and returns its records (one, plus one per visited TG client node). Never
/// fails and never outlives the deadline: a cut host reports `deadline` with everything learnt
/// until then.
pub async fn probe(addr: SocketAddr, input: Option<String>, context: &ProbeContext) -> Vec<Record> {
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
    if tokio::time::timeout(context.deadline, work_done)
        .await
        .is_err()
    {
        work.cut_by_deadline(context.deadline);
    }
    let facts: ServerFacts = facts.lock().unwrap_or_else(PoisonError::into_inner).clone();
    work.finish(facts)
}
