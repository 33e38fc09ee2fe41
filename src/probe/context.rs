//! What every host of a run shares: how hosts are reached, who logs in, the timeouts, and the
//! action to run.

use std::sync::Arc;
use std::time::Duration;

use crate::device::actions::{Action, ActionOptions};
use crate::probe::credentials::CredentialBook;
use crate::transport::native::NativeOptions;
use crate::transport::openssh::OpensshOptions;
use crate::transport::telnet::TelnetOptions;

/// Which kind of device to expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Siklu radios: PTY shell, prompt-driven CLI, identification.
    Siklu,
    /// Any SSH host: each command on its own exec channel, judged by its exit status.
    Generic,
    /// Siklu first; a host that turns out not to be a radio runs the commands as `generic`.
    Auto,
}

/// When a host that failed is tried again (`--retries`, `--retry-backoff`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts after the first, at most.
    pub retries: u32,
    /// The wait before the first retry; it doubles for each next one.
    pub backoff: Duration,
    /// The least time an attempt needs before the deadline: a connect timeout, so that a
    /// retry of a dark host ends `connect-timeout` again rather than `deadline`.
    pub least_attempt: Duration,
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 for the first): the backoff doubled per retry,
    /// varied by up to a quarter either way so that hosts failed together come back apart.
    pub fn wait_before(&self, retry: u32) -> Duration {
        let doubled = self
            .backoff
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        doubled.mul_f64(rand::random_range(0.75..=1.25))
    }
}

/// Which SSH client reaches the hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SshClient {
    /// The built-in client (russh).
    Native,
    /// The system OpenSSH client.
    Openssh,
    /// Native first; a host whose key exchange or identification fails is tried once more
    /// with OpenSSH (never after an authentication failure).
    Auto,
}

/// How each host is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// SSH, with this client.
    Ssh(SshClient),
    /// Telnet, on the address's port.
    Telnet,
    /// No action: check which protocols accept a login (`--check`), SSH on the address's
    /// port and Telnet on `telnet_port`, at once.
    Check {
        /// Check SSH.
        ssh: bool,
        /// Check Telnet.
        telnet: bool,
        /// The Telnet port.
        telnet_port: u16,
    },
}

/// Everything a probe needs that is the same for every host of a run.
#[derive(Debug)]
pub struct ProbeContext {
    /// How each host is reached.
    pub reach: Reach,
    /// The native transport's options.
    pub native: Arc<NativeOptions>,
    /// The OpenSSH transport's options, when it may be used.
    pub openssh: Option<OpensshOptions>,
    /// The Telnet transport's options.
    pub telnet: TelnetOptions,
    /// Which logins to try where.
    pub credentials: CredentialBook,
    /// How long to wait for the first prompt.
    pub prompt_timeout: Duration,
    /// The most time one host may take, whatever it does (its client nodes included).
    pub deadline: Duration,
    /// When a host that failed is tried again.
    pub retries: RetryPolicy,
    /// What to do on each radio.
    pub action: Action,
    /// How the action sends its commands and judges them.
    pub action_options: ActionOptions,
    /// Which kind of device to expect.
    pub platform: Platform,
    /// Visit the active client nodes of TG DNs.
    pub client_nodes: bool,
    /// Visit only these client nodes (all when empty).
    pub only_cns: Vec<String>,
}
