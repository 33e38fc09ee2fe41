//! Telnet: TCP, the least option negotiation that works, a login at the `login:` /
//! `Username:` and `Password:` prompts, then a [`Shell`] for the same CLI session as over SSH.
//!
//! Negotiation (RFC 854/857/858): the server's offers to echo and to suppress go-ahead are
//! accepted, because the CLI session frames each answer by the echo of its command; every
//! other offer is refused (DONT), every request refused (WONT), and every IAC sequence is
//! removed from the data before the session sees it.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};

use super::{ConnectError, Login, Shell, classify_connect};

const IAC: u8 = 255;
const DONT: u8 = 254;
const DO: u8 = 253;
const WONT: u8 = 252;
const WILL: u8 = 251;
const SB: u8 = 250;
const SE: u8 = 240;
const ECHO: u8 = 1;
const SUPPRESS_GO_AHEAD: u8 = 3;

/// How much of the screen an error quotes.
const EXCERPT: usize = 80;

/// The Telnet transport's timeouts.
#[derive(Debug, Clone, Copy)]
pub struct TelnetOptions {
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Time allowed for each prompt of the login (login, password, and the verdict).
    pub auth_timeout: Duration,
}

/// How a Telnet login failed, by phase.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TelnetError {
    /// The TCP connection failed (refused, unreachable, timed out).
    #[error(transparent)]
    Connect(ConnectError),
    /// A login or password prompt did not come in time.
    #[error("{0}")]
    NoPrompt(String),
    /// Every login was answered with the login prompt again.
    #[error("{0}")]
    AuthFailed(String),
    /// The device closed the connection during the login, or a read or write failed.
    #[error("{0}")]
    Io(String),
}

/// An interactive Telnet session after login.
pub struct TelnetShell {
    stream: TcpStream,
    decoder: Decoder,
    /// Output read during the login that belongs to the session (the first prompt).
    pending: Vec<u8>,
}

/// Which login prompt the last line of the screen is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ask {
    User,
    Password,
}

/// The login prompt the screen ends with, if any (case-insensitive).
fn asks(screen: &[u8]) -> Option<Ask> {
    let start = screen
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let last = String::from_utf8_lossy(&screen[start..])
        .trim()
        .to_ascii_lowercase();
    if last.ends_with("password:") {
        Some(Ask::Password)
    } else if ["login:", "username:", "user name:"]
        .iter()
        .any(|p| last.ends_with(p))
    {
        Some(Ask::User)
    } else {
        None
    }
}

/// True when the screen ends with what looks like a CLI or shell prompt.
fn shows_prompt(screen: &[u8]) -> bool {
    let text = String::from_utf8_lossy(screen);
    let last = text.rsplit('\n').next().unwrap_or_default().trim();
    last.ends_with(['>', '#', '$', '%', ']']) && asks(screen).is_none()
}

/// The end of the screen, for error messages.
fn excerpt(screen: &[u8]) -> String {
    let text = String::from_utf8_lossy(screen);
    let text = text.trim();
    let cut = text.char_indices().rev().nth(EXCERPT).map_or(0, |(i, _)| i);
    text[cut..].replace(['\r', '\n'], " ")
}

/// Connects and logs in with the first login the device accepts. Returns the open session and
/// the username that logged in.
pub async fn connect(
    addr: SocketAddr,
    logins: &[Login],
    options: &TelnetOptions,
) -> Result<(TelnetShell, String), TelnetError> {
    let stream = match timeout(options.connect_timeout, TcpStream::connect(addr)).await {
        Err(_) => {
            return Err(TelnetError::Connect(ConnectError::ConnectTimeout(
                options.connect_timeout,
            )));
        }
        Ok(Err(err)) => return Err(TelnetError::Connect(classify_connect(&err))),
        Ok(Ok(stream)) => stream,
    };
    // The login is a handful of small writes; coalescing them only adds latency.
    let _ = stream.set_nodelay(true);
    let mut shell = TelnetShell {
        stream,
        decoder: Decoder::default(),
        pending: Vec::new(),
    };
    let limit = options.auth_timeout;
    let wait = humantime::format_duration(limit);
    let mut screen = Vec::new();
    let asked = shell
        .read_until(&mut screen, limit, |s| asks(s).is_some())
        .await;
    match asked {
        Some(true) => {}
        Some(false) => {
            return Err(TelnetError::NoPrompt(format!(
                "no telnet login prompt within {wait} (saw '{}')",
                excerpt(&screen)
            )));
        }
        None => {
            return Err(TelnetError::Io(
                "the device closed the telnet connection before a login prompt".into(),
            ));
        }
    }
    for login in logins {
        if asks(&screen) == Some(Ask::User) {
            screen.clear();
            shell.send_line(login.user.as_bytes()).await?;
            match shell
                .read_until(&mut screen, limit, |s| asks(s).is_some())
                .await
            {
                Some(true) => {}
                Some(false) => {
                    return Err(TelnetError::NoPrompt(format!(
                        "no telnet password prompt within {wait} after the username"
                    )));
                }
                None => {
                    return Err(TelnetError::Io(
                        "the device closed the telnet connection after the username".into(),
                    ));
                }
            }
        }
        if asks(&screen) == Some(Ask::User) {
            // Asked for the username again without a password: this one is not welcome.
            continue;
        }
        screen.clear();
        shell.send_line(login.password.expose().as_bytes()).await?;
        let verdict = shell
            .read_until(&mut screen, limit, |s| {
                asks(s) == Some(Ask::User) || shows_prompt(s)
            })
            .await;
        match verdict {
            Some(true) if asks(&screen) == Some(Ask::User) => continue,
            // A prompt, or silence (a long MOTD, an odd prompt): logged in, and the CLI
            // session decides whether a prompt ever comes.
            Some(_) => {
                shell.pending = screen;
                return Ok((shell, login.user.clone()));
            }
            None => break,
        }
    }
    let users: Vec<&str> = logins.iter().map(|l| l.user.as_str()).collect();
    Err(TelnetError::AuthFailed(format!(
        "telnet login refused for {}",
        users.join(", ")
    )))
}

impl TelnetShell {
    /// Reads into `screen` until `done` holds (`Some(true)`), `limit` passes
    /// (`Some(false)`), or the device closes the connection (`None`).
    async fn read_until(
        &mut self,
        screen: &mut Vec<u8>,
        limit: Duration,
        done: impl Fn(&[u8]) -> bool,
    ) -> Option<bool> {
        let deadline = Instant::now() + limit;
        loop {
            if done(screen) {
                return Some(true);
            }
            match timeout_at(deadline, self.read_data()).await {
                Err(_) => return Some(false),
                Ok(None) => return None,
                Ok(Some(data)) => screen.extend_from_slice(&data),
            }
        }
    }

    /// The next data from the device, negotiation answered and removed; `None` at the end.
    async fn read_data(&mut self) -> Option<Vec<u8>> {
        let mut buf = [0u8; 8192];
        loop {
            let n = match self.stream.read(&mut buf).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => n,
            };
            let (data, replies) = self.decoder.push(&buf[..n]);
            if !replies.is_empty() && self.stream.write_all(&replies).await.is_err() {
                return None;
            }
            if !data.is_empty() {
                return Some(data);
            }
        }
    }

    async fn send_line(&mut self, line: &[u8]) -> Result<(), TelnetError> {
        let mut data = line.to_vec();
        data.push(b'\n');
        self.send(&data)
            .await
            .map_err(|e| TelnetError::Io(format!("telnet: {e}")))
    }
}

impl Shell for TelnetShell {
    async fn send(&mut self, data: &[u8]) -> std::io::Result<()> {
        // NVT line ends are CR LF; a data byte 255 is doubled.
        let mut wire = Vec::with_capacity(data.len() + 8);
        for &byte in data {
            match byte {
                b'\n' => wire.extend_from_slice(b"\r\n"),
                IAC => wire.extend_from_slice(&[IAC, IAC]),
                byte => wire.push(byte),
            }
        }
        self.stream.write_all(&wire).await
    }

    async fn recv(&mut self) -> Option<Vec<u8>> {
        if !self.pending.is_empty() {
            return Some(std::mem::take(&mut self.pending));
        }
        self.read_data().await
    }

    async fn close(mut self) {
        // The device may already be gone; closing is best effort.
        let _ = self.stream.shutdown().await;
    }
}

/// Splits what the device sends into data and negotiation, across reads.
#[derive(Debug, Default)]
struct Decoder {
    state: State,
    /// Negotiations already answered, so a device repeating itself cannot start a loop.
    answered: HashSet<(u8, u8)>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    #[default]
    Data,
    Iac,
    /// After WILL, WONT, DO or DONT (the verb): the option byte follows.
    Option(u8),
    Subnegotiation,
    SubnegotiationIac,
}

impl Decoder {
    /// The data bytes of `chunk` (NULs after CR dropped) and the answers to send.
    fn push(&mut self, chunk: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let mut data = Vec::with_capacity(chunk.len());
        let mut replies = Vec::new();
        for &byte in chunk {
            self.state = match (self.state, byte) {
                (State::Data, IAC) => State::Iac,
                (State::Data, 0) => State::Data,
                (State::Data, byte) => {
                    data.push(byte);
                    State::Data
                }
                (State::Iac, IAC) => {
                    data.push(IAC);
                    State::Data
                }
                (State::Iac, verb @ WILL..=DONT) => State::Option(verb),
                (State::Iac, SB) => State::Subnegotiation,
                (State::Iac, _) => State::Data,
                (State::Option(verb), option) => {
                    let answer = match verb {
                        WILL if matches!(option, ECHO | SUPPRESS_GO_AHEAD) => Some(DO),
                        WILL => Some(DONT),
                        DO => Some(WONT),
                        // WONT and DONT confirm what is already so: nothing to say.
                        _ => None,
                    };
                    if let Some(answer) = answer
                        && self.answered.insert((verb, option))
                    {
                        replies.extend_from_slice(&[IAC, answer, option]);
                    }
                    State::Data
                }
                (State::Subnegotiation, IAC) => State::SubnegotiationIac,
                (State::Subnegotiation, _) => State::Subnegotiation,
                (State::SubnegotiationIac, SE) => State::Data,
                (State::SubnegotiationIac, _) => State::Subnegotiation,
            };
        }
        (data, replies)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_is_accepted_the_rest_refused_once_and_sequences_removed() {
        let mut decoder = Decoder::default();
        let (data, replies) = decoder.push(&[IAC, WILL, ECHO, b'l', IAC, DO, 24, IAC]);
        assert_eq!(data, b"l");
        assert_eq!(replies, vec![IAC, DO, ECHO, IAC, WONT, 24]);
        let (data, replies) = decoder.push(&[SB, 24, 1, IAC, SE, b'o', b'\r', 0, IAC, DO, 24]);
        assert_eq!(data, b"o\r");
        assert!(replies.is_empty(), "already answered");
        let (data, replies) = decoder.push(&[IAC, WILL, 31, IAC, IAC]);
        assert_eq!((data, replies), (vec![IAC], vec![IAC, DONT, 31]));
    }

    #[test]
    fn login_prompts_are_recognised_case_insensitively() {
        assert_eq!(asks(b"\r\nUsername: "), Some(Ask::User));
        assert_eq!(asks(b"Welcome\r\nrouter login: "), Some(Ask::User));
        assert_eq!(asks(b"admin\r\nPassword: "), Some(Ask::Password));
        assert_eq!(asks(b"\r\nRoof>"), None);
        assert!(shows_prompt(b"\r\n\"Roof North\">"));
        assert!(!shows_prompt(b"Login incorrect\r\n"));
    }
}
