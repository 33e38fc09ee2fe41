//! The Telnet side of a simulated device: a few option negotiations, a `login:` / `Password:`
//! exchange (`Login incorrect` and the login prompt again on bad credentials, as `login`
//! does), then the very terminal session the SSH shell gets ([`session::shell`]).

use std::collections::VecDeque;
use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc::{self, UnboundedReceiver};
use tokio::sync::oneshot;

use super::device::Device;
use super::events::{SessionLog, Visit};
use super::session::{self, Behaviour, Output};
use super::state::Registry;

/// Telnet's command escape and the commands siksim sends or skips (RFC 854).
const IAC: u8 = 255;
const DONT: u8 = 254;
const WILL: u8 = 251;
const SB: u8 = 250;
const SE: u8 = 240;
/// The options siksim offers: it echoes, and it never sends go-ahead.
const ECHO: u8 = 1;
const SUPPRESS_GO_AHEAD: u8 = 3;

/// The prompt for the username.
pub const LOGIN_PROMPT: &str = "login: ";
/// The prompt for the password.
pub const PASSWORD_PROMPT: &str = "Password: ";
/// What a failed login prints before the login prompt comes back.
pub const LOGIN_INCORRECT: &str = "Login incorrect";
/// Failed logins before the connection is closed, as `login` does.
const ATTEMPTS: usize = 3;
/// The longest username or password line kept.
const MAX_LINE: usize = 256;

/// Serves one Telnet connection to `device` until the client leaves or logs out; its login
/// and disconnect go to `log`.
pub async fn serve(
    stream: TcpStream,
    device: &Device,
    seed: u64,
    registry: &Registry,
    log: SessionLog,
) -> io::Result<()> {
    let mut visit = Visit::new(log);
    let Some(cli) = device.cli(seed, registry, visit.log()) else {
        return Ok(());
    };
    stream.set_nodelay(true)?;
    let (mut reader, writer) = stream.into_split();
    let (tx, rx) = mpsc::unbounded_channel();
    let (gone, closed) = oneshot::channel::<()>();
    tokio::spawn(async move {
        // Dropped when the client leaves: a hung command then lets go of the session.
        let _gone = gone;
        let mut filter = InputFilter::default();
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = reader.read(&mut buf).await {
            let data = filter.push(&buf[..n]);
            if !data.is_empty() && tx.send(data).is_err() {
                break;
            }
        }
    });
    let mut out = TelnetOut { writer };
    let mut input = LineInput {
        rx,
        pending: VecDeque::new(),
    };
    if !out
        .raw(&[IAC, WILL, ECHO, IAC, WILL, SUPPRESS_GO_AHEAD])
        .await
    {
        return Ok(());
    }
    let profile = &device.profile;
    for _ in 0..ATTEMPTS {
        if !out.write(LOGIN_PROMPT.into()).await {
            return Ok(());
        }
        let Some(user) = input.line(&mut out, true).await else {
            return Ok(());
        };
        if !out.write(PASSWORD_PROMPT.into()).await {
            return Ok(());
        }
        let Some(password) = input.line(&mut out, false).await else {
            return Ok(());
        };
        if !profile.login_delay.is_zero() {
            tokio::time::sleep(profile.login_delay).await;
        }
        if user == profile.user && password == profile.password {
            visit.login();
            let behaviour = Behaviour::from(profile);
            // Bytes typed ahead of the prompt (a line end's `\n`) are dropped, as a
            // terminal flushes its input when the shell starts.
            session::shell(cli, behaviour, input.rx, closed, &mut out).await;
            return out.writer.shutdown().await;
        }
        if !out.write(format!("{LOGIN_INCORRECT}\r\n\r\n").into()).await {
            return Ok(());
        }
    }
    out.writer.shutdown().await
}

/// The client's data with its negotiation removed, byte by byte across reads.
#[derive(Debug, Default)]
struct InputFilter {
    state: FilterState,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum FilterState {
    #[default]
    Data,
    Iac,
    /// After WILL, WONT, DO or DONT: the option byte follows.
    Option,
    Subnegotiation,
    SubnegotiationIac,
}

impl InputFilter {
    /// The data bytes of `chunk`. The client's own offers (terminal type, window size) are
    /// left unanswered: a client does not wait for the answer, and siksim needs none of them.
    fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        let mut data = Vec::with_capacity(chunk.len());
        for &byte in chunk {
            self.state = match (self.state, byte) {
                (FilterState::Data, IAC) => FilterState::Iac,
                (FilterState::Data, byte) => {
                    data.push(byte);
                    FilterState::Data
                }
                (FilterState::Iac, IAC) => {
                    data.push(IAC);
                    FilterState::Data
                }
                (FilterState::Iac, WILL..=DONT) => FilterState::Option,
                (FilterState::Iac, SB) => FilterState::Subnegotiation,
                (FilterState::Iac, _) | (FilterState::Option, _) => FilterState::Data,
                (FilterState::Subnegotiation, IAC) => FilterState::SubnegotiationIac,
                (FilterState::Subnegotiation, _) => FilterState::Subnegotiation,
                (FilterState::SubnegotiationIac, SE) => FilterState::Data,
                (FilterState::SubnegotiationIac, _) => FilterState::Subnegotiation,
            };
        }
        data
    }
}

/// Input read a line at a time, for the login exchange.
struct LineInput {
    rx: UnboundedReceiver<Vec<u8>>,
    pending: VecDeque<u8>,
}

impl LineInput {
    /// The next line, echoed when `echo` (not the password); `None` once the client left.
    async fn line(&mut self, out: &mut TelnetOut, echo: bool) -> Option<String> {
        let mut line = Vec::new();
        loop {
            let byte = match self.pending.pop_front() {
                Some(byte) => byte,
                None => {
                    self.pending.extend(self.rx.recv().await?);
                    continue;
                }
            };
            match byte {
                b'\r' | b'\n' => {
                    // `\r\n` and `\r\0` are one line end.
                    if byte == b'\r' && matches!(self.pending.front(), Some(b'\n' | 0)) {
                        self.pending.pop_front();
                    }
                    if line.is_empty() && byte == b'\n' {
                        continue;
                    }
                    out.write(b"\r\n".to_vec()).await;
                    return Some(String::from_utf8_lossy(&line).into_owned());
                }
                0x7f | 0x08 => {
                    if line.pop().is_some() && echo {
                        out.write(b"\x08 \x08".to_vec()).await;
                    }
                }
                byte if byte < 0x20 => {}
                byte => {
                    if line.len() < MAX_LINE {
                        line.push(byte);
                        if echo {
                            out.write(vec![byte]).await;
                        }
                    }
                }
            }
        }
    }
}

/// Output to the Telnet connection, with data bytes 255 doubled as the protocol wants.
struct TelnetOut {
    writer: OwnedWriteHalf,
}

impl TelnetOut {
    /// Writes protocol bytes (negotiation), or data already escaped.
    async fn raw(&mut self, data: &[u8]) -> bool {
        self.writer.write_all(data).await.is_ok()
    }
}

impl Output for TelnetOut {
    async fn write(&mut self, data: Vec<u8>) -> bool {
        if !data.contains(&IAC) {
            return self.raw(&data).await;
        }
        let mut escaped = Vec::with_capacity(data.len() + 16);
        for byte in data {
            if byte == IAC {
                escaped.push(IAC);
            }
            escaped.push(byte);
        }
        self.raw(&escaped).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_is_stripped_across_reads_and_doubled_255_kept() {
        let mut filter = InputFilter::default();
        let mut data = filter.push(&[b'a', IAC, 253]);
        data.extend(filter.push(&[ECHO, b'b', IAC, SB, 24, 0, IAC]));
        data.extend(filter.push(&[SE, IAC, IAC, b'c']));
        assert_eq!(data, vec![b'a', b'b', IAC, b'c']);
    }
}
