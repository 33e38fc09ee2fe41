//! Transports: how sikprobe reaches a device's command line. Every transport yields a [`Shell`]
//! (bytes in, bytes out) plus the facts it learnt about the server, and classifies its failures
//! by phase so the record's status says where a host stopped.

pub mod askpass;
pub mod known_hosts;
pub mod native;
pub mod openssh;
pub mod telnet;

use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::secret::Secret;

/// An interactive shell on the device: what the CLI session reads and writes.
pub trait Shell: Send {
    /// Sends bytes as typed input.
    fn send(&mut self, data: &[u8]) -> impl Future<Output = io::Result<()>> + Send;

    /// The next chunk of output, or `None` once the device has closed the session.
    fn recv(&mut self) -> impl Future<Output = Option<Vec<u8>>> + Send;

    /// Closes the session politely; errors are of no interest by then.
    fn close(self) -> impl Future<Output = ()> + Send;

    /// Whether the device sees a terminal, and so echoes what is typed. Without one the echo
    /// is up to the device.
    fn has_terminal(&self) -> bool {
        true
    }
}

/// An authenticated SSH connection, before any channel is opened.
pub trait Connection: Execute + Send + Sized {
    /// The interactive shell this connection opens.
    type Shell: Shell + Execute;

    /// Opens the interactive shell the CLI session runs in.
    fn open_shell(self) -> impl Future<Output = Result<Self::Shell, ConnectError>> + Send;

    /// Ends the connection.
    fn close(self) -> impl Future<Output = ()> + Send;
}

/// What the server revealed about itself, kept even when the connection fails.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerFacts {
    /// Every SSH userauth banner, in the order they came, each trimmed, joined with a newline
    /// (OpenSSH with PAM sends its `Banner` file, then PAM's own messages).
    pub banner: Option<String>,
    /// The server's identification line, e.g. `SSH-2.0-OpenSSH_9.2p1`.
    pub server_id: Option<String>,
    /// The host key as `ALGORITHM SHA256:…`.
    pub host_key: Option<String>,
}

impl ServerFacts {
    /// Keeps one more userauth banner after those already received; a blank one adds nothing.
    pub fn add_banner(&mut self, banner: &str) {
        let banner = banner.trim();
        if banner.is_empty() {
            return;
        }
        match &mut self.banner {
            Some(earlier) => {
                earlier.push('\n');
                earlier.push_str(banner);
            }
            None => self.banner = Some(banner.to_owned()),
        }
    }
}

/// Facts shared between the caller and the connection's callbacks.
pub type SharedFacts = Arc<Mutex<ServerFacts>>;

/// One username and password to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// The username.
    pub user: String,
    /// The password (also answers keyboard-interactive prompts).
    pub password: Secret,
}

/// How a key exchange that ran out of time begins its error, the one `handshake-failed` worth
/// trying again (see [`ConnectError::is_transient`]).
const KEY_EXCHANGE_TIMEOUT: &str = "key exchange unfinished after";

/// How a connection failed, by phase.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// The host answered the TCP connection with a reset.
    #[error("connection refused")]
    Refused,
    /// No route to the host or its network.
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// The TCP connection was not established in time.
    #[error("no TCP connection within {}", humantime::format_duration(*.0))]
    ConnectTimeout(Duration),
    /// TCP is open but no SSH server answered.
    #[error("{0}")]
    NoSsh(String),
    /// SSH identification was exchanged but key exchange failed.
    #[error("{0}")]
    HandshakeFailed(String),
    /// The host key was rejected by the host-key policy.
    #[error("{0}")]
    HostKeyRejected(String),
    /// Every credential was refused.
    #[error("{0}")]
    AuthFailed(String),
    /// Any other I/O or protocol failure.
    #[error("{0}")]
    Io(String),
}

impl ConnectError {
    /// The key exchange did not finish within `limit`.
    pub fn key_exchange_timeout(limit: Duration) -> ConnectError {
        ConnectError::HandshakeFailed(format!(
            "{KEY_EXCHANGE_TIMEOUT} {}",
            humantime::format_duration(limit)
        ))
    }

    /// Whether the same login may succeed if tried again later: the host did not answer in
    /// time or the connection broke, before any credential was judged. A key exchange that
    /// failed for want of a common algorithm fails the same way every time.
    pub fn is_transient(&self) -> bool {
        match self {
            ConnectError::ConnectTimeout(_) | ConnectError::NoSsh(_) | ConnectError::Io(_) => true,
            ConnectError::HandshakeFailed(why) => why.starts_with(KEY_EXCHANGE_TIMEOUT),
            ConnectError::Refused
            | ConnectError::Unreachable(_)
            | ConnectError::HostKeyRejected(_)
            | ConnectError::AuthFailed(_) => false,
        }
    }

    /// Whether another SSH client might succeed where this one failed: the server spoke a
    /// protocol or offered algorithms this client could not handle. Never after the server
    /// judged the credentials, and not for a host key rejected by policy.
    pub fn worth_another_client(&self) -> bool {
        matches!(
            self,
            ConnectError::HandshakeFailed(_) | ConnectError::NoSsh(_)
        )
    }

    /// This error, mentioning the first client's failure that led to it.
    pub fn after(self, first: &ConnectError) -> ConnectError {
        self.explained(|why| format!("{why} (after the native client: {first})"))
    }

    /// This error with more detail from elsewhere (a proxy command's own words).
    pub fn with_detail(self, detail: &str) -> ConnectError {
        let detail = detail.replace(['\r', '\n'], " ");
        self.explained(|why| format!("{why} ({detail})"))
    }

    fn explained(self, explain: impl Fn(String) -> String) -> ConnectError {
        match self {
            ConnectError::NoSsh(why) => ConnectError::NoSsh(explain(why)),
            ConnectError::HandshakeFailed(why) => ConnectError::HandshakeFailed(explain(why)),
            ConnectError::HostKeyRejected(why) => ConnectError::HostKeyRejected(explain(why)),
            ConnectError::AuthFailed(why) => ConnectError::AuthFailed(explain(why)),
            ConnectError::Unreachable(why) => ConnectError::Unreachable(explain(why)),
            ConnectError::Io(why) => ConnectError::Io(explain(why)),
            other @ (ConnectError::Refused | ConnectError::ConnectTimeout(_)) => other,
        }
    }
}

/// The most output kept from one exec channel (per stream), whichever client ran it.
pub(crate) const MAX_EXEC_OUTPUT: usize = 16 * 1024 * 1024;

/// Appends what fits of `data` under `most` bytes; the rest is dropped.
pub(crate) fn keep_bounded(kept: &mut Vec<u8>, data: &[u8], most: usize) {
    let room = most.saturating_sub(kept.len());
    kept.extend_from_slice(&data[..data.len().min(room)]);
}

/// Anything that runs commands on exec channels: a bare connection, or one with a shell open.
pub trait Execute: Sync {
    /// Runs one command on its own exec channel (no PTY) and collects its output and exit
    /// status.
    fn exec(&self, command: &str) -> impl Future<Output = Result<ExecOutput, ConnectError>> + Send;
}

/// What a command run on an exec channel returned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    /// The remote exit status, when the server sent one.
    pub exit_status: Option<u32>,
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error.
    pub stderr: Vec<u8>,
}

/// The failure class of a TCP connect error.
pub(crate) fn classify_connect(err: &std::io::Error) -> ConnectError {
    use std::io::ErrorKind;
    match err.kind() {
        ErrorKind::ConnectionRefused => ConnectError::Refused,
        ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => {
            ConnectError::Unreachable(err.to_string())
        }
        ErrorKind::TimedOut => ConnectError::ConnectTimeout(Duration::ZERO),
        _ => ConnectError::Io(format!("connecting: {err}")),
    }
}

/// The complete `SSH-…` line among the first bytes, if it has arrived.
pub(crate) fn ident_line(seen: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(seen);
    let mut lines = text.split('\n');
    let last_is_partial = !text.ends_with('\n');
    let complete = text.matches('\n').count() + usize::from(!last_is_partial);
    lines
        .by_ref()
        .take(complete)
        .map(|line| line.trim_end_matches('\r'))
        .find(|line| line.starts_with("SSH-"))
        .map(str::to_owned)
}

/// A short, printable description of what a non-SSH server said.
pub(crate) fn describe_non_ssh(seen: &[u8]) -> String {
    if seen.is_empty() {
        return "the server sent no SSH identification".to_owned();
    }
    let text = String::from_utf8_lossy(seen);
    let first: String = text
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(80)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    format!("not an SSH server: it sent '{first}'")
}

/// Whether a login conversation (keyboard-interactive prompts, or what a shell prints before
/// its first prompt) demands a new password: PAM's `pam_unix` says "You are required to change
/// your password immediately" or "Your password has expired", then asks for the current and a
/// new password.
pub(crate) fn password_change_demanded(said: &str) -> bool {
    const DEMANDS: [&str; 5] = [
        "password has expired",
        "required to change your password",
        "must change your password",
        "new password",
        "changing password for",
    ];
    let said = said.to_lowercase();
    DEMANDS.iter().any(|demand| said.contains(demand))
}

/// The non-blank lines of `text` on one line, joined with ` / `, control characters dropped,
/// cut to a length an error message can carry.
pub(crate) fn one_line(text: &str) -> String {
    const MOST: usize = 240;
    let joined = text
        .lines()
        .map(|line| line.trim())
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" / ");
    let mut shown: String = joined.chars().filter(|c| !c.is_control()).collect();
    if shown.chars().count() > MOST {
        shown = shown.chars().take(MOST).collect();
        shown.push('…');
    }
    shown
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
