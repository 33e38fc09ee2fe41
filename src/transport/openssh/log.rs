//! Reading ssh's `-v` log: the server's identification and host key, how far the login got,
//! and the failure class of an ssh run that did not log in.

use std::net::SocketAddr;
use std::time::Duration;

use crate::transport::ConnectError;
use crate::transport::known_hosts::HostKeyPolicy;

/// What ssh's `-v` log says about a login attempt.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct LogReport {
    pub(super) server_id: Option<String>,
    pub(super) host_key: Option<String>,
    pub(super) kex_done: bool,
    /// The proxy command ssh went through (ProxyJump, ProxyCommand).
    pub(super) proxy: Option<String>,
    /// The log's error lines (not debug output), in order.
    pub(super) errors: Vec<String>,
}

impl LogReport {
    /// Reads the log of one ssh run.
    pub(super) fn read(text: &str) -> Self {
        let mut report = LogReport::default();
        for line in text.lines().map(str::trim_end) {
            if let Some(rest) = line.strip_prefix("debug1: ") {
                if let Some(version) = rest.strip_prefix("Remote protocol version ") {
                    // "2.0, remote software version OpenSSH_9.2p1 Debian-2"
                    if let Some((protocol, software)) =
                        version.split_once(", remote software version ")
                    {
                        report.server_id = Some(format!("SSH-{protocol}-{software}"));
                    }
                } else if let Some(key) = rest.strip_prefix("Server host key: ") {
                    report.host_key = Some(key.to_owned());
                } else if rest.starts_with("SSH2_MSG_NEWKEYS received") {
                    report.kex_done = true;
                } else if let Some(command) = rest.strip_prefix("Executing proxy command: ") {
                    report.proxy = Some(command.trim_start_matches("exec ").to_owned());
                }
            } else if !line.starts_with("debug") && !line.is_empty() {
                report.errors.push(line.to_owned());
            }
        }
        report
    }

    /// The failure class of an ssh run that exited unsuccessfully.
    pub(super) fn failure(&self, addr: SocketAddr, host_keys: &HostKeyPolicy) -> ConnectError {
        let text = self.errors.join("\n");
        let said = self
            .errors
            .iter()
            .rev()
            .find(|line| !line.starts_with("Warning:") && !line.starts_with("@@@"))
            .cloned()
            .unwrap_or_else(|| "ssh exited without saying why".to_owned());
        let file = match host_keys {
            HostKeyPolicy::Record => None,
            HostKeyPolicy::Tofu(known) | HostKeyPolicy::Strict(known) => {
                Some(known.path().display().to_string())
            }
        };
        let has = |needle: &str| text.contains(needle);
        if has("REMOTE HOST IDENTIFICATION HAS CHANGED") {
            ConnectError::HostKeyRejected(format!(
                "host key changed: {} holds another key for {addr}",
                file.unwrap_or_default()
            ))
        } else if has("Host key verification failed") || has("host key is known for") {
            ConnectError::HostKeyRejected(format!(
                "host key unknown: {} has no key for {addr}",
                file.unwrap_or_default()
            ))
        } else if let (Some(proxy), None) = (&self.proxy, &self.server_id) {
            // The proxy's own complaint went to /dev/null (ssh silences it under
            // ControlPersist): the jump host or the target behind it is out of reach.
            ConnectError::Unreachable(format!(
                "through the proxy command '{proxy}', no SSH server answered: {said}"
            ))
        } else if has("Connection refused") {
            ConnectError::Refused
        } else if has("No route to host") || has("Network is unreachable") {
            ConnectError::Unreachable(said)
        } else if has("Permission denied") || has("Too many authentication failures") {
            ConnectError::AuthFailed(said)
        } else if has("Connection timed out during banner exchange")
            || has("kex_exchange_identification")
            || self.server_id.is_none() && !has("Connection timed out")
        {
            ConnectError::NoSsh(said)
        } else if has("Connection timed out") || has("Operation timed out") {
            ConnectError::ConnectTimeout(Duration::ZERO)
        } else if !self.kex_done {
            ConnectError::HandshakeFailed(said)
        } else {
            ConnectError::Io(said)
        }
    }

    /// The failure class of an ssh run cut by sikprobe's own timeout, by the phase it reached.
    pub(super) fn timed_out(&self, limit: Duration) -> ConnectError {
        let kex_timeout = ConnectError::key_exchange_timeout(limit);
        let limit = humantime::format_duration(limit);
        if self.server_id.is_none() {
            ConnectError::NoSsh(format!("no SSH identification within {limit}"))
        } else if !self.kex_done {
            kex_timeout
        } else {
            ConnectError::AuthFailed(format!("no answer to authentication within {limit}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr() -> SocketAddr {
        "127.0.0.1:2222".parse().unwrap()
    }

    #[test]
    fn reads_the_server_and_its_key_from_the_log() {
        let report = LogReport::read(
            "debug1: Connecting to 127.0.0.1 [127.0.0.1] port 2222.\n\
             debug1: Remote protocol version 2.0, remote software version OpenSSH_9.2p1 Debian-2\n\
             debug1: Server host key: ssh-ed25519 SHA256:abc\n\
             debug1: SSH2_MSG_NEWKEYS received\n\
             admin@127.0.0.1: Permission denied (publickey,password).\n",
        );
        assert_eq!(
            report.server_id.as_deref(),
            Some("SSH-2.0-OpenSSH_9.2p1 Debian-2")
        );
        assert_eq!(report.host_key.as_deref(), Some("ssh-ed25519 SHA256:abc"));
        assert!(report.kex_done);
        assert_eq!(
            report.failure(addr(), &HostKeyPolicy::Record),
            ConnectError::AuthFailed(
                "admin@127.0.0.1: Permission denied (publickey,password).".into()
            )
        );
    }

    #[test]
    fn classifies_each_phase() {
        let classify = |log: &str| LogReport::read(log).failure(addr(), &HostKeyPolicy::Record);
        assert!(matches!(
            classify("ssh: connect to host 127.0.0.1 port 2222: Connection refused\n"),
            ConnectError::Refused
        ));
        assert!(matches!(
            classify("kex_exchange_identification: read: Connection reset by peer\n"),
            ConnectError::NoSsh(_)
        ));
        assert!(matches!(
            classify(
                "debug1: Remote protocol version 2.0, remote software version X\n\
                 Unable to negotiate with 127.0.0.1 port 2222: no matching key exchange method \
                 found. Their offer: diffie-hellman-group1-sha1\n"
            ),
            ConnectError::HandshakeFailed(_)
        ));
        assert!(matches!(
            classify(
                "debug1: Remote protocol version 2.0, remote software version X\n\
                 No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict \
                 checking.\nHost key verification failed.\n"
            ),
            ConnectError::HostKeyRejected(_)
        ));
        let report = LogReport::read(
            "debug1: Remote protocol version 2.0, remote software version X\n\
             debug1: SSH2_MSG_NEWKEYS received\n",
        );
        assert!(matches!(
            report.timed_out(Duration::from_secs(1)),
            ConnectError::AuthFailed(_)
        ));
        assert!(matches!(
            LogReport::default().timed_out(Duration::from_secs(1)),
            ConnectError::NoSsh(_)
        ));
    }
}
