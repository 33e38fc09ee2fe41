//! The per-host known_hosts file through which sikprobe's host-key policy reaches ssh.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::transport::known_hosts::HostKeyPolicy;

/// The per-host known_hosts file that maps sikprobe's host-key policy onto ssh's options, so
/// concurrent sessions never write one shared file: under `tofu` a key learnt by ssh is read
/// back and recorded by sikprobe, under its lock.
pub(super) struct KnownHostsFile {
    path: Option<PathBuf>,
    strict: &'static str,
}

impl KnownHostsFile {
    /// Writes the host's known keys into `dir` as `policy` asks.
    pub(super) fn prepare(
        dir: &Path,
        addr: SocketAddr,
        policy: &HostKeyPolicy,
    ) -> io::Result<Self> {
        let (known, unknown_allowed) = match policy {
            HostKeyPolicy::Record => {
                return Ok(KnownHostsFile {
                    path: None,
                    strict: "no",
                });
            }
            HostKeyPolicy::Tofu(known) => (known, true),
            HostKeyPolicy::Strict(known) => (known, false),
        };
        let lines = known.lines_for(addr);
        let path = dir.join("known_hosts");
        let mut text = lines.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        std::fs::write(&path, text)?;
        let strict = if unknown_allowed && lines.is_empty() {
            "accept-new"
        } else {
            "yes"
        };
        Ok(KnownHostsFile {
            path: Some(path),
            strict,
        })
    }

    /// The ssh options that make ssh use the file as the policy asks.
    pub(super) fn options(&self) -> Vec<String> {
        let file = self
            .path
            .as_ref()
            .map_or_else(|| "/dev/null".to_owned(), |p| p.display().to_string());
        vec![
            format!("StrictHostKeyChecking={}", self.strict),
            format!("UserKnownHostsFile={file}"),
            "GlobalKnownHostsFile=/dev/null".to_owned(),
            "CheckHostIP=no".to_owned(),
            "HashKnownHosts=no".to_owned(),
            "UpdateHostKeys=no".to_owned(),
        ]
    }

    /// Under `tofu`, records the key ssh accepted for a new host.
    pub(super) fn learn(&self, addr: SocketAddr, policy: &HostKeyPolicy) {
        let (HostKeyPolicy::Tofu(_), Some(path), "accept-new") = (policy, &self.path, self.strict)
        else {
            return;
        };
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        for line in text.lines() {
            let mut fields = line.split_whitespace().skip(1);
            let (Some(algorithm), Some(blob)) = (fields.next(), fields.next()) else {
                continue;
            };
            if let Ok(key) = russh::keys::PublicKey::from_openssh(&format!("{algorithm} {blob}")) {
                // A failure to append was ssh's success all the same; the key is verified
                // again at the next run.
                let _ = policy.verify(addr, &key);
            }
        }
    }
}
