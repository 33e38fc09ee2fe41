//! Reaching a host: logging in over SSH with the client asked for (or native, then OpenSSH as
//! a fallback), over Telnet, or only checking which protocols accept a login (`--check`).
//! What happens after the login is `super::drive`'s.

use std::net::SocketAddr;

use super::context::{ProbeContext, SshClient};
use super::drive;
use super::records::HostRecords;
use super::redial::{NativeAgain, OpensshAgain, TelnetAgain};
use crate::record::{Reachable, Record, Status, Transport};
use crate::transport::native;
use crate::transport::openssh;
use crate::transport::telnet::{self, TelnetError};
use crate::transport::{ConnectError, Connection, SharedFacts, Shell};

/// One host over SSH, with the client asked for (or native, then OpenSSH as a fallback).
pub(crate) async fn ssh(
    addr: SocketAddr,
    client: SshClient,
    context: &ProbeContext,
    facts: &SharedFacts,
    work: &mut HostRecords,
) {
    let logins = context.credentials.logins_for(addr.ip());
    match (client, &context.openssh) {
        (SshClient::Openssh, Some(options)) => {
            let opened = openssh::connect(addr, &logins, options, facts).await;
            let again = OpensshAgain {
                addr,
                context,
                options,
            };
            drive::after_login(opened, context, facts, work, &again).await;
        }
        (SshClient::Auto, Some(options)) => {
            match native::connect(addr, &logins, &context.native, facts).await {
                Err(first) if first.worth_another_client() => {
                    work.host().transport = Some(Transport::Openssh);
                    let opened = openssh::connect(addr, &logins, options, facts)
                        .await
                        .map_err(|err| err.after(&first));
                    let again = OpensshAgain {
                        addr,
                        context,
                        options,
                    };
                    drive::after_login(opened, context, facts, work, &again).await;
                }
                opened => {
                    let again = NativeAgain { addr, context };
                    drive::after_login(opened, context, facts, work, &again).await;
                }
            }
        }
        (SshClient::Native, _) => {
            let opened = native::connect(addr, &logins, &context.native, facts).await;
            let again = NativeAgain { addr, context };
            drive::after_login(opened, context, facts, work, &again).await;
        }
        (SshClient::Openssh | SshClient::Auto, None) => {
            work.host().error = Some("the OpenSSH transport was not set up".to_owned());
        }
    }
}

/// One host over Telnet: log in, then the same CLI session as over SSH (no banner there, so
/// radios are identified by prompt and inventory).
pub(crate) async fn telnet(addr: SocketAddr, context: &ProbeContext, work: &mut HostRecords) {
    let logins = context.credentials.logins_for(addr.ip());
    match telnet::connect(addr, &logins, &context.telnet).await {
        Ok((shell, user)) => {
            work.host().user = Some(user);
            let again = TelnetAgain { addr, context };
            drive::cli(shell, None, context, work, &again).await;
        }
        Err(TelnetError::Connect(err)) => work.login_failed(&err),
        Err(err) => work.host().fail(telnet_status(&err), err.to_string()),
    }
}

/// `--check`: logs in over SSH and over Telnet at once (either may be skipped), closes at
/// once, and records which protocols accepted. `ok` when one did; otherwise the SSH
/// attempt's status (the Telnet one's when SSH was not checked), with both reasons.
pub(crate) async fn check(
    addr: SocketAddr,
    ssh: bool,
    telnet_addr: Option<SocketAddr>,
    context: &ProbeContext,
    facts: &SharedFacts,
    record: &mut Record,
) {
    let logins = context.credentials.logins_for(addr.ip());
    let over_ssh = async {
        if !ssh {
            return None;
        }
        Some(
            match native::connect(addr, &logins, &context.native, facts).await {
                Ok((connection, user)) => {
                    connection.close().await;
                    Ok(user)
                }
                Err(err) => Err((status_of(&err), err.to_string())),
            },
        )
    };
    let over_telnet = async {
        let telnet_addr = telnet_addr?;
        Some(
            match telnet::connect(telnet_addr, &logins, &context.telnet).await {
                Ok((shell, user)) => {
                    shell.close().await;
                    Ok(user)
                }
                Err(err) => Err((telnet_status(&err), err.to_string())),
            },
        )
    };
    let (ssh, telnet) = tokio::join!(over_ssh, over_telnet);
    record.reachable = Some(Reachable {
        ssh: matches!(ssh, Some(Ok(_))),
        telnet: matches!(telnet, Some(Ok(_))),
    });
    let accepted = [&ssh, &telnet]
        .into_iter()
        .flatten()
        .find_map(|result| result.as_ref().ok());
    if let Some(user) = accepted {
        record.user = Some(user.clone());
        record.succeed();
        return;
    }
    let failures: Vec<(Status, String)> = [("ssh", ssh), ("telnet", telnet)]
        .into_iter()
        .filter_map(|(protocol, result)| match result {
            Some(Err((status, why))) => Some((status, format!("{protocol}: {why}"))),
            _ => None,
        })
        .collect();
    if let Some((status, _)) = failures.first() {
        let reasons: Vec<&str> = failures.iter().map(|(_, why)| why.as_str()).collect();
        record.fail(*status, reasons.join("; "));
    }
}

/// The record status for a Telnet login failure.
fn telnet_status(err: &TelnetError) -> Status {
    match err {
        TelnetError::Connect(err) => status_of(err),
        TelnetError::NoPrompt(_) => Status::PromptTimeout,
        TelnetError::AuthFailed(_) => Status::AuthFailed,
        TelnetError::Io(_) => Status::IoError,
    }
}

/// The record status for a connection failure.
pub(crate) fn status_of(err: &ConnectError) -> Status {
    match err {
        ConnectError::Refused => Status::Refused,
        ConnectError::Unreachable(_) => Status::Unreachable,
        ConnectError::ConnectTimeout(_) => Status::ConnectTimeout,
        ConnectError::NoSsh(_) => Status::NoSsh,
        ConnectError::HandshakeFailed(_) | ConnectError::HostKeyRejected(_) => {
            Status::HandshakeFailed
        }
        ConnectError::AuthFailed(_) => Status::AuthFailed,
        ConnectError::Io(_) => Status::IoError,
    }
}
