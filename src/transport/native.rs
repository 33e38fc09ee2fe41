//! The native transport: russh in process, one TCP connection per host.
//!
//! Each phase has its own timeout and its own failure class: TCP connect, SSH identification
//! and key exchange, authentication. The server's identification line is read off the socket
//! as it passes (so it is known even when key exchange fails), the userauth banner and the host
//! key come from russh's callbacks, and all three are kept in [`ServerFacts`] that the caller
//! owns, so they survive any failure or a deadline cut.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use russh::client::{self, AuthResult, Handle, KeyboardInteractiveAuthResponse};
use russh::keys::{
    Algorithm, HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate,
};
use russh::{AlgorithmKind, ChannelMsg, MethodKind, MethodSet, cipher, kex, mac};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::known_hosts::HostKeyPolicy;
use super::{
    ConnectError, Connection, ExecOutput, Execute, Login, MAX_EXEC_OUTPUT, SharedFacts, Shell,
    classify_connect, describe_non_ssh, ident_line, keep_bounded, lock, one_line,
    password_change_demanded,
};

/// Everything the native transport needs besides the target and credentials.
#[derive(Debug)]
pub struct NativeOptions {
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Identification plus key exchange timeout.
    pub handshake_timeout: Duration,
    /// Timeout for each authentication attempt.
    pub auth_timeout: Duration,
    /// Host-key policy.
    pub host_keys: Arc<HostKeyPolicy>,
    /// Private keys to offer before passwords.
    pub keys: Vec<Arc<PrivateKey>>,
    /// Offer the identities of the agent at `SSH_AUTH_SOCK`.
    pub use_agent: bool,
    legacy_algorithms: bool,
    config: Arc<client::Config>,
}

/// What `--legacy-algorithms` adds after the modern lists: SHA-1 key exchanges.
const LEGACY_KEX: [kex::Name; 3] = [kex::DH_G14_SHA1, kex::DH_G1_SHA1, kex::DH_GEX_SHA1];
/// SHA-1 host-key signatures (`ssh-rsa`), which russh's default list offers last.
const LEGACY_HOST_KEYS: [Algorithm; 1] = [Algorithm::Rsa { hash: None }];
/// CBC ciphers.
const LEGACY_CIPHERS: [cipher::Name; 4] = [
    cipher::AES_128_CBC,
    cipher::AES_192_CBC,
    cipher::AES_256_CBC,
    cipher::TRIPLE_DES_CBC,
];
/// SHA-1 MACs.
const LEGACY_MACS: [mac::Name; 2] = [mac::HMAC_SHA1, mac::HMAC_SHA1_ETM];

impl NativeOptions {
    /// Options with russh's modern algorithms, widened with the legacy ones (appended after
    /// the modern lists, so a modern server still negotiates modern ones) when asked.
    pub fn new(
        connect_timeout: Duration,
        handshake_timeout: Duration,
        auth_timeout: Duration,
        legacy_algorithms: bool,
        host_keys: Arc<HostKeyPolicy>,
    ) -> Self {
        let mut preferred = russh::Preferred::default();
        // curve25519-sha256 before russh's first choice, the ML-KEM hybrid: it costs a third
        // less CPU per login, and radio firmware offers no ML-KEM anyway, so only simulators
        // and modern servers ever saw the difference.
        preferred.kex = prefer_first(&preferred.kex, &kex::CURVE25519);
        // russh offers ssh-rsa (SHA-1) host-key signatures by default; like every other SHA-1
        // algorithm they come only with --legacy-algorithms, as with the OpenSSH transport.
        preferred.key = without(&preferred.key, &LEGACY_HOST_KEYS);
        if legacy_algorithms {
            preferred.kex = widen(&preferred.kex, &LEGACY_KEX);
            preferred.key = widen(&preferred.key, &LEGACY_HOST_KEYS);
            preferred.cipher = widen(&preferred.cipher, &LEGACY_CIPHERS);
            preferred.mac = widen(&preferred.mac, &LEGACY_MACS);
        }
        let config = client::Config {
            client_id: russh::SshId::Standard(Cow::Borrowed(concat!(
                "SSH-2.0-sikprobe_",
                env!("CARGO_PKG_VERSION")
            ))),
            preferred,
            nodelay: true,
            ..client::Config::default()
        };
        NativeOptions {
            connect_timeout,
            handshake_timeout,
            auth_timeout,
            host_keys,
            keys: Vec::new(),
            use_agent: false,
            legacy_algorithms,
            config: Arc::new(config),
        }
    }
}

/// Moves `first` to the front of a preference list.
fn prefer_first<T: Clone + PartialEq>(list: &[T], first: &T) -> Cow<'static, [T]> {
    let rest = list.iter().filter(|item| *item != first).cloned();
    Cow::Owned(std::iter::once(first.clone()).chain(rest).collect())
}

fn widen<T: Clone>(modern: &[T], legacy: &[T]) -> Cow<'static, [T]> {
    Cow::Owned(modern.iter().chain(legacy).cloned().collect())
}

fn without<T: Clone + PartialEq>(list: &[T], dropped: &[T]) -> Cow<'static, [T]> {
    Cow::Owned(
        list.iter()
            .filter(|item| !dropped.contains(item))
            .cloned()
            .collect(),
    )
}

/// The algorithms of one kind that `--legacy-algorithms` adds, and what makes them legacy.
fn legacy_of(kind: &AlgorithmKind) -> (Vec<String>, &'static str) {
    fn names<T: AsRef<str>>(list: &[T]) -> Vec<String> {
        list.iter().map(|name| name.as_ref().to_owned()).collect()
    }
    match kind {
        AlgorithmKind::Kex => (names(&LEGACY_KEX), "SHA-1"),
        AlgorithmKind::Key => (
            LEGACY_HOST_KEYS.iter().map(ToString::to_string).collect(),
            "SHA-1",
        ),
        AlgorithmKind::Cipher => (names(&LEGACY_CIPHERS), "CBC"),
        AlgorithmKind::Mac => (names(&LEGACY_MACS), "SHA-1"),
        AlgorithmKind::Compression => (Vec::new(), ""),
    }
}

/// An open PTY shell over russh.
pub struct NativeShell {
    channel: russh::Channel<client::Msg>,
    handle: Handle<Observer>,
}

impl Execute for NativeConnection {
    async fn exec(&self, command: &str) -> Result<ExecOutput, ConnectError> {
        exec(&self.handle, command).await
    }
}

impl Execute for NativeShell {
    async fn exec(&self, command: &str) -> Result<ExecOutput, ConnectError> {
        exec(&self.handle, command).await
    }
}

impl Shell for NativeShell {
    async fn send(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.channel
            .data_bytes(data.to_vec())
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))
    }

    async fn recv(&mut self) -> Option<Vec<u8>> {
        loop {
            match self.channel.wait().await? {
                ChannelMsg::Data { data } | ChannelMsg::ExtendedData { data, .. } => {
                    return Some(data.to_vec());
                }
                ChannelMsg::Eof | ChannelMsg::Close => return None,
                _ => {}
            }
        }
    }

    async fn close(self) {
        // The device may already be gone; closing is best effort.
        let _ = self.channel.close().await;
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}

/// The russh callbacks: record the banner and host key, apply the host-key policy.
struct Observer {
    addr: SocketAddr,
    facts: SharedFacts,
    options: Arc<NativeOptions>,
    rejected: Arc<Mutex<Option<String>>>,
}

impl client::Handler for Observer {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let key = match server_key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            PublicKeyOrCertificate::Certificate(cert) => PublicKey::from(cert.public_key().clone()),
        };
        let fingerprint = format!(
            "{} {}",
            key.algorithm().as_str(),
            key.fingerprint(HashAlg::Sha256)
        );
        lock(&self.facts).host_key = Some(fingerprint);
        let verdict = self.options.host_keys.verify(self.addr, &key);
        match verdict {
            Ok(()) => Ok(true),
            Err(reason) => {
                *lock(&self.rejected) = Some(reason);
                Ok(false)
            }
        }
    }

    async fn auth_banner(
        &mut self,
        banner: &str,
        _session: &mut client::Session,
    ) -> Result<(), Self::Error> {
        lock(&self.facts).add_banner(banner);
        Ok(())
    }
}

/// Copies the first bytes the server sends, so its identification line is known even when
/// russh fails before handing it over.
struct Sniffed {
    inner: TcpStream,
    seen: Arc<Mutex<Vec<u8>>>,
    done: bool,
}

/// How much of the server's first output is kept: RFC 4253 allows lines before the ident.
const SNIFF: usize = 1024;

impl AsyncRead for Sniffed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if !self.done {
            let fresh = &buf.filled()[before..];
            let mut seen = lock(&self.seen);
            let room = SNIFF.saturating_sub(seen.len());
            seen.extend_from_slice(&fresh[..fresh.len().min(room)]);
            let finished = seen.len() >= SNIFF || ident_line(&seen).is_some();
            drop(seen);
            self.done = finished;
        }
        polled
    }
}

impl AsyncWrite for Sniffed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// An authenticated SSH connection, before any channel is opened.
pub struct NativeConnection {
    handle: Handle<Observer>,
}

impl Connection for NativeConnection {
    type Shell = NativeShell;

    /// Opens a PTY shell: 80x5000 as batchscanner asks, a tall terminal keeps radios from
    /// paging.
    async fn open_shell(self) -> Result<NativeShell, ConnectError> {
        let channel = self
            .handle
            .channel_open_session()
            .await
            .map_err(|e| ConnectError::Io(format!("opening a session channel: {e}")))?;
        channel
            .request_pty(false, "vt100", 80, 5000, 0, 0, &[])
            .await
            .map_err(|e| ConnectError::Io(format!("requesting a PTY: {e}")))?;
        channel
            .request_shell(false)
            .await
            .map_err(|e| ConnectError::Io(format!("requesting a shell: {e}")))?;
        Ok(NativeShell {
            channel,
            handle: self.handle,
        })
    }

    async fn close(self) {
        // The server may already be gone; closing is best effort.
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}

async fn exec(handle: &Handle<Observer>, command: &str) -> Result<ExecOutput, ConnectError> {
    let mut channel = handle
        .channel_open_session()
        .await
        .map_err(|e| ConnectError::Io(format!("opening an exec channel: {e}")))?;
    channel
        .exec(true, command)
        .await
        .map_err(|e| ConnectError::Io(format!("starting '{command}': {e}")))?;
    let mut output = ExecOutput::default();
    let keep = |buffer: &mut Vec<u8>, data: &[u8]| keep_bounded(buffer, data, MAX_EXEC_OUTPUT);
    while let Some(message) = channel.wait().await {
        match message {
            ChannelMsg::Data { data } => keep(&mut output.stdout, &data),
            ChannelMsg::ExtendedData { data, .. } => keep(&mut output.stderr, &data),
            ChannelMsg::ExitStatus { exit_status } => output.exit_status = Some(exit_status),
            ChannelMsg::Close => break,
            _ => {}
        }
    }
    Ok(output)
}

/// Connects and authenticates with the first login the server accepts (keys and agent
/// first). Returns the connection and the username that logged in.
pub async fn connect(
    addr: SocketAddr,
    logins: &[Login],
    options: &Arc<NativeOptions>,
    facts: &SharedFacts,
) -> Result<(NativeConnection, String), ConnectError> {
    let stream = match timeout(options.connect_timeout, TcpStream::connect(addr)).await {
        Err(_) => return Err(ConnectError::ConnectTimeout(options.connect_timeout)),
        Ok(Err(err)) => return Err(classify_connect(&err)),
        Ok(Ok(stream)) => stream,
    };
    // Small writes are the whole exchange; waiting to coalesce them only adds latency.
    let _ = stream.set_nodelay(true);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let rejected = Arc::new(Mutex::new(None));
    let observer = Observer {
        addr,
        facts: facts.clone(),
        options: options.clone(),
        rejected: rejected.clone(),
    };
    let sniffed = Sniffed {
        inner: stream,
        seen: seen.clone(),
        done: false,
    };
    let connected = timeout(
        options.handshake_timeout,
        client::connect_stream(options.config.clone(), sniffed, observer),
    )
    .await;
    let server_id = ident_line(&lock(&seen));
    lock(facts).server_id = server_id.clone();
    let mut handle = match connected {
        Ok(Ok(handle)) => handle,
        Ok(Err(err)) => {
            if let Some(reason) = lock(&rejected).take() {
                return Err(ConnectError::HostKeyRejected(reason));
            }
            return Err(match server_id {
                None => ConnectError::NoSsh(describe_non_ssh(&lock(&seen))),
                Some(_) => classify_handshake(err, options.legacy_algorithms),
            });
        }
        Err(_) => {
            let limit = humantime::format_duration(options.handshake_timeout);
            return Err(match server_id {
                None if lock(&seen).is_empty() => {
                    ConnectError::NoSsh(format!("no SSH identification within {limit}"))
                }
                None => ConnectError::NoSsh(describe_non_ssh(&lock(&seen))),
                Some(_) => ConnectError::key_exchange_timeout(options.handshake_timeout),
            });
        }
    };

    let user = authenticate(&mut handle, logins, options).await?;
    Ok((NativeConnection { handle }, user))
}

fn classify_handshake(err: russh::Error, legacy_algorithms: bool) -> ConnectError {
    match err {
        russh::Error::NoCommonAlgo { kind, theirs, .. } => {
            ConnectError::HandshakeFailed(no_common_algorithm(&kind, &theirs, legacy_algorithms))
        }
        russh::Error::IO(io) => ConnectError::HandshakeFailed(format!("during key exchange: {io}")),
        other => ConnectError::HandshakeFailed(format!("key exchange failed: {other}")),
    }
}

/// Names what the server insisted on, and whether `--legacy-algorithms` would meet it.
fn no_common_algorithm(kind: &AlgorithmKind, theirs: &[String], legacy_algorithms: bool) -> String {
    let what = match kind {
        AlgorithmKind::Kex => "key-exchange",
        AlgorithmKind::Key => "host-key",
        AlgorithmKind::Cipher => "cipher",
        AlgorithmKind::Mac => "MAC",
        AlgorithmKind::Compression => "compression",
    };
    let offers = theirs.join(",");
    let (legacy, why_legacy) = legacy_of(kind);
    let allowed: Vec<&str> = theirs
        .iter()
        .filter(|name| legacy.contains(name))
        .map(String::as_str)
        .collect();
    let hint = if legacy_algorithms || allowed.is_empty() {
        let even = if legacy_algorithms {
            " even with --legacy-algorithms"
        } else {
            ""
        };
        format!("; the native client supports none of them{even} (--transport openssh may)")
    } else if allowed.len() < theirs.len() {
        format!(
            " ({why_legacy}; --legacy-algorithms allows {})",
            allowed.join(",")
        )
    } else {
        let them = if allowed.len() == 1 { "it" } else { "them" };
        format!(" ({why_legacy}; --legacy-algorithms allows {them})")
    };
    format!("no common {what} algorithm: the server offers only {offers}{hint}")
}

async fn authenticate(
    handle: &mut Handle<Observer>,
    logins: &[Login],
    options: &NativeOptions,
) -> Result<String, ConnectError> {
    let limit = options.auth_timeout;
    let timed_out = || {
        ConnectError::AuthFailed(format!(
            "no answer to authentication within {}",
            humantime::format_duration(limit)
        ))
    };
    let failed = |err: russh::Error| ConnectError::Io(format!("authenticating: {err}"));
    let rsa_hash = match timeout(limit, handle.best_supported_rsa_hash()).await {
        Ok(Ok(hash)) => hash.flatten(),
        _ => None,
    };
    let mut tried = Tried::default();
    for login in logins {
        for key in &options.keys {
            let offer = PrivateKeyWithHashAlg::new(key.clone(), rsa_hash);
            tried.keys += 1;
            match timeout(limit, handle.authenticate_publickey(&login.user, offer)).await {
                Ok(Ok(AuthResult::Success)) => return Ok(login.user.clone()),
                Ok(Ok(AuthResult::Failure {
                    remaining_methods, ..
                })) => tried.methods = Some(remaining_methods),
                Ok(Err(err)) => return Err(failed(err)),
                Err(_) => return Err(timed_out()),
            }
        }
        if options.use_agent && try_agent(handle, &login.user, rsa_hash, limit, &mut tried).await {
            return Ok(login.user.clone());
        }
        let password = login.password.expose();
        // A server that said it takes no passwords is not sent one.
        if tried.accepts(MethodKind::Password) {
            let answer =
                match timeout(limit, handle.authenticate_password(&login.user, password)).await {
                    Ok(Ok(answer)) => answer,
                    Ok(Err(err)) => return Err(failed(err)),
                    Err(_) => return Err(timed_out()),
                };
            match answer {
                AuthResult::Success => return Ok(login.user.clone()),
                AuthResult::Failure {
                    remaining_methods, ..
                } => tried.methods = Some(remaining_methods),
            }
        }
        if tried.accepts_known(MethodKind::KeyboardInteractive) {
            match timeout(limit, keyboard_interactive(handle, &login.user, password)).await {
                Ok(Ok(Prompted::Accepted)) => return Ok(login.user.clone()),
                Ok(Ok(Prompted::Refused)) => {}
                Ok(Ok(Prompted::ChangeDemanded(said))) => {
                    // The password was right, but the server wants a new one: answering its
                    // prompts with the old password would only count as failed changes.
                    return Err(ConnectError::AuthFailed(format!(
                        "the password of {} has expired: the server demands a new one ('{said}')",
                        login.user
                    )));
                }
                Ok(Err(err)) => return Err(failed(err)),
                Err(_) => return Err(timed_out()),
            }
        }
        if handle.is_closed() {
            break;
        }
    }
    let users: Vec<&str> = logins.iter().map(|l| l.user.as_str()).collect();
    Err(ConnectError::AuthFailed(tried.explain(&users.join(", "))))
}

/// What the authentication attempts of one connection learnt.
#[derive(Default)]
struct Tried {
    /// Keys and agent identities offered.
    keys: usize,
    /// The methods the server said it accepts, once it said so.
    methods: Option<MethodSet>,
}

impl Tried {
    /// Whether the server accepts the method, as far as it has said.
    fn accepts(&self, method: MethodKind) -> bool {
        self.methods
            .as_ref()
            .is_none_or(|set| set.contains(&method))
    }

    /// Whether the server said it accepts the method.
    fn accepts_known(&self, method: MethodKind) -> bool {
        self.methods
            .as_ref()
            .is_some_and(|set| set.contains(&method))
    }

    /// Why nothing worked: which methods the server takes when that explains it.
    fn explain(&self, users: &str) -> String {
        let Some(methods) = &self.methods else {
            return format!("authentication failed for {users}");
        };
        let names: Vec<&str> = methods.iter().map(<&str>::from).collect();
        let passwords = methods.contains(&MethodKind::Password)
            || methods.contains(&MethodKind::KeyboardInteractive);
        if passwords || names.is_empty() {
            return format!("authentication failed for {users}");
        }
        let only = format!("the server accepts only {}", names.join(","));
        match self.keys {
            0 if methods.contains(&MethodKind::PublicKey) => {
                format!("{only}; no key was offered (-i KEY or an agent)")
            }
            0 => format!("{only}, which sikprobe does not offer"),
            1 => format!("{only}; the key offered for {users} was refused"),
            offered => format!("{only}; the {offered} keys offered for {users} were refused"),
        }
    }
}

/// How a keyboard-interactive exchange ended.
enum Prompted {
    Accepted,
    Refused,
    /// The server asks for a new password; what it said.
    ChangeDemanded(String),
}

/// Answers every keyboard-interactive prompt with the password (radios ask `Password:`), unless
/// the server asks for a new password.
async fn keyboard_interactive(
    handle: &mut Handle<Observer>,
    user: &str,
    password: &str,
) -> Result<Prompted, russh::Error> {
    let mut reply = handle
        .authenticate_keyboard_interactive_start(user, None)
        .await?;
    // A server may send several rounds (or empty ones); a few are plenty for a password.
    for _ in 0..5 {
        match reply {
            KeyboardInteractiveAuthResponse::Success => return Ok(Prompted::Accepted),
            KeyboardInteractiveAuthResponse::Failure { .. } => return Ok(Prompted::Refused),
            KeyboardInteractiveAuthResponse::InfoRequest {
                instructions,
                prompts,
                ..
            } => {
                let said = std::iter::once(instructions.as_str())
                    .chain(prompts.iter().map(|p| p.prompt.as_str()))
                    .collect::<Vec<_>>()
                    .join("\n");
                if password_change_demanded(&said) {
                    return Ok(Prompted::ChangeDemanded(one_line(&said)));
                }
                let answers = vec![password.to_owned(); prompts.len()];
                reply = handle
                    .authenticate_keyboard_interactive_respond(answers)
                    .await?;
            }
        }
    }
    Ok(Prompted::Refused)
}

/// Offers each identity of the SSH agent; false when none is accepted or there is no agent.
async fn try_agent(
    handle: &mut Handle<Observer>,
    user: &str,
    rsa_hash: Option<HashAlg>,
    limit: Duration,
    tried: &mut Tried,
) -> bool {
    let Ok(mut agent) = russh::keys::agent::client::AgentClient::connect_env().await else {
        return false;
    };
    let Ok(identities) = agent.request_identities().await else {
        return false;
    };
    for identity in identities {
        let russh::keys::agent::AgentIdentity::PublicKey { key, .. } = identity else {
            continue;
        };
        let hash = if key.algorithm().is_rsa() {
            rsa_hash
        } else {
            None
        };
        tried.keys += 1;
        match timeout(
            limit,
            handle.authenticate_publickey_with(user, key, hash, &mut agent),
        )
        .await
        {
            Ok(Ok(AuthResult::Success)) => return true,
            Ok(Ok(AuthResult::Failure {
                remaining_methods, ..
            })) => tried.methods = Some(remaining_methods),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_rsa_host_keys_come_only_with_legacy_algorithms_and_last() {
        let policy = Arc::new(HostKeyPolicy::Record);
        let offer = |legacy| {
            let options = NativeOptions::new(
                Duration::from_secs(1),
                Duration::from_secs(1),
                Duration::from_secs(1),
                legacy,
                policy.clone(),
            );
            options.config.preferred.key.to_vec()
        };
        let sha1 = Algorithm::Rsa { hash: None };
        assert!(!offer(false).contains(&sha1));
        let widened = offer(true);
        assert_eq!(widened.last(), Some(&sha1));
        assert_eq!(widened[..widened.len() - 1], offer(false)[..]);
    }

    #[test]
    fn a_negotiation_failure_names_what_the_server_insisted_on() {
        let names = |list: &[&str]| list.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            no_common_algorithm(&AlgorithmKind::Key, &names(&["ssh-rsa", "ssh-dss"]), false),
            "no common host-key algorithm: the server offers only ssh-rsa,ssh-dss \
             (SHA-1; --legacy-algorithms allows ssh-rsa)"
        );
        assert_eq!(
            no_common_algorithm(&AlgorithmKind::Cipher, &names(&["arcfour256"]), true),
            "no common cipher algorithm: the server offers only arcfour256; the native client \
             supports none of them even with --legacy-algorithms (--transport openssh may)"
        );
    }

    #[test]
    fn the_ident_line_is_found_among_earlier_lines() {
        assert_eq!(
            ident_line(b"hello\r\nSSH-2.0-OpenSSH_9.2\r\n"),
            Some("SSH-2.0-OpenSSH_9.2".into())
        );
        assert_eq!(ident_line(b"SSH-2.0-Open"), None);
        assert_eq!(
            describe_non_ssh(b"220 ProFTPD ready\r\n"),
            "not an SSH server: it sent '220 ProFTPD ready'"
        );
    }
}
