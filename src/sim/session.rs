//! The terminal side of a session: echo, CRLF, the prompt, the double prompt after an empty
//! line, and the slow, hanging, closing and paging behaviours; or, for a Unix shell opened
//! without a terminal, input read as a script. Independent of SSH: input arrives as byte
//! chunks, output leaves through an [`Output`].

use std::collections::VecDeque;
use std::future::Future;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::oneshot;

use super::cli::{Cli, Reply};
use super::persona::Profile;

/// Where a session's output goes (an SSH channel, or a buffer in tests).
pub trait Output: Send {
    /// Sends bytes; false once the peer is gone.
    fn write(&mut self, data: Vec<u8>) -> impl Future<Output = bool> + Send;
}

/// Behaviour knobs of a device's terminal.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// Delay before each response.
    pub response_delay: Duration,
    /// Commands starting with this text print half their output and hang.
    pub hang_on: Option<String>,
    /// Commands starting with this text print half their output, then the session closes.
    pub close_on: Option<String>,
    /// Lines per page before `--More--`.
    pub page_lines: Option<u32>,
}

impl From<&Profile> for Behaviour {
    fn from(profile: &Profile) -> Behaviour {
        Behaviour {
            response_delay: profile.response_delay,
            hang_on: profile.hang_on.clone(),
            close_on: profile.close_on.clone(),
            page_lines: profile.page_lines,
        }
    }
}

/// The pager prompt.
pub const MORE: &[u8] = b"--More--";

/// Output is sent in pieces of this size, so a huge reply streams under flow control.
const PIECE: usize = 32 * 1024;

/// Input bytes not yet consumed, refilled from the channel.
struct Input {
    rx: UnboundedReceiver<Vec<u8>>,
    pending: VecDeque<u8>,
}

impl Input {
    /// The next byte, or `None` when the peer has gone.
    async fn byte(&mut self) -> Option<u8> {
        loop {
            if let Some(byte) = self.pending.pop_front() {
                return Some(byte);
            }
            let chunk = self.rx.recv().await?;
            self.pending.extend(chunk);
        }
    }
}

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The client closed its side or disconnected.
    Gone,
    /// `exit`/`logout`: the device closes, with this exit status.
    Closed(u32),
}

/// Resolves when the channel is closed (its sender is dropped), however the client ends.
pub type Closed = oneshot::Receiver<()>;

/// Runs an interactive shell until the client leaves or the CLI closes the session.
///
/// Input ends (EOF) like a shell reading end of file; a hung command ignores that and waits
/// for `closed`, as a device that stopped answering would.
pub async fn shell<O: Output>(
    mut cli: Box<dyn Cli>,
    behaviour: Behaviour,
    rx: UnboundedReceiver<Vec<u8>>,
    closed: Closed,
    out: &mut O,
) -> End {
    let mut input = Input {
        rx,
        pending: VecDeque::new(),
    };
    if !out.write(cli.prompt().into_bytes()).await {
        return End::Gone;
    }
    let mut line: Vec<u8> = Vec::new();
    let mut after_cr = false;
    let mut echo: Vec<u8> = Vec::new();
    loop {
        // Echo what has been typed so far before waiting for more.
        if input.pending.is_empty()
            && !echo.is_empty()
            && !out.write(std::mem::take(&mut echo)).await
        {
            return End::Gone;
        }
        let Some(byte) = input.byte().await else {
            return End::Gone;
        };
        let was_cr = std::mem::replace(&mut after_cr, byte == b'\r');
        match byte {
            // `\r\n` is one line end; `\n\n` (batchscanner's cmd\n\n) is two.
            b'\n' if was_cr => continue,
            b'\r' | b'\n' => {}
            0x7f | 0x08 => {
                if line.pop().is_some() {
                    echo.extend_from_slice(b"\x08 \x08");
                }
                continue;
            }
            0x03 => {
                line.clear();
                echo.extend_from_slice(b"^C\r\n");
                echo.extend_from_slice(cli.prompt().as_bytes());
                continue;
            }
            0x04 if line.is_empty() => {
                out.write(std::mem::take(&mut echo)).await;
                return End::Closed(0);
            }
            b'\t' => {
                line.push(b' ');
                echo.push(b' ');
                continue;
            }
            byte if byte < 0x20 => continue,
            byte => {
                line.push(byte);
                echo.push(byte);
                continue;
            }
        }
        echo.extend_from_slice(b"\r\n");
        if !out.write(std::mem::take(&mut echo)).await {
            return End::Gone;
        }
        let text = String::from_utf8_lossy(&std::mem::take(&mut line)).into_owned();
        if !text.trim().is_empty() {
            if !behaviour.response_delay.is_zero() {
                tokio::time::sleep(behaviour.response_delay).await;
            }
            let reply = cli.execute(text.trim());
            if starts(&behaviour.hang_on, &text) {
                let half = &reply.lines[..reply.lines.len() / 2];
                send_lines(out, half, b"\r\n").await;
                let _ = closed.await;
                return End::Gone;
            }
            if starts(&behaviour.close_on, &text) {
                let half = &reply.lines[..reply.lines.len() / 2];
                send_lines(out, half, b"\r\n").await;
                return End::Closed(1);
            }
            let page_lines = behaviour.page_lines.or(reply.page_lines);
            if !page(out, &mut input, &reply, page_lines, cli.pager_erase()).await {
                return End::Gone;
            }
            if reply.close {
                return End::Closed(reply.status);
            }
        }
        if !out.write(cli.prompt().into_bytes()).await {
            return End::Gone;
        }
        cli.answered();
    }
}

/// Runs a command line that reads its input as a script, as a Unix shell does on a channel
/// without a terminal: no prompt, no echo, `\n` line ends, errors on `err`. End of input ends
/// it with the last command's exit status, as it ends `bash`.
pub async fn script<O: Output>(
    mut cli: Box<dyn Cli>,
    behaviour: Behaviour,
    rx: UnboundedReceiver<Vec<u8>>,
    closed: Closed,
    out: &mut O,
    err: &mut O,
) -> End {
    let mut input = Input {
        rx,
        pending: VecDeque::new(),
    };
    let mut line: Vec<u8> = Vec::new();
    let mut number = 0;
    let mut status = 0;
    loop {
        let Some(byte) = input.byte().await else {
            return End::Closed(status);
        };
        if byte != b'\n' {
            line.push(byte);
            continue;
        }
        number += 1;
        let text = String::from_utf8_lossy(&std::mem::take(&mut line)).into_owned();
        if text.trim().is_empty() {
            continue;
        }
        if !behaviour.response_delay.is_zero() {
            tokio::time::sleep(behaviour.response_delay).await;
        }
        let reply = cli.execute_script_line(text.trim(), number);
        let target = if reply.stderr { &mut *err } else { &mut *out };
        if starts(&behaviour.hang_on, &text) {
            send_lines(target, &reply.lines[..reply.lines.len() / 2], b"\n").await;
            let _ = closed.await;
            return End::Gone;
        }
        if starts(&behaviour.close_on, &text) {
            send_lines(target, &reply.lines[..reply.lines.len() / 2], b"\n").await;
            return End::Closed(1);
        }
        if !send_lines(target, &reply.lines, b"\n").await {
            return End::Gone;
        }
        cli.answered();
        if reply.close {
            return End::Closed(reply.status);
        }
        status = reply.status;
    }
}

/// Runs one command on an exec channel; returns the reply's exit status, or `None` when the
/// device hung or the client left.
pub async fn exec<O: Output>(
    mut cli: Box<dyn Cli>,
    behaviour: Behaviour,
    command: &str,
    crlf: bool,
    closed: Closed,
    out: &mut O,
    err: &mut O,
) -> Option<u32> {
    if !behaviour.response_delay.is_zero() {
        tokio::time::sleep(behaviour.response_delay).await;
    }
    let reply = cli.execute(command.trim());
    let newline: &[u8] = if crlf { b"\r\n" } else { b"\n" };
    if starts(&behaviour.hang_on, command) {
        send_lines(out, &reply.lines[..reply.lines.len() / 2], newline).await;
        let _ = closed.await;
        return None;
    }
    if starts(&behaviour.close_on, command) {
        send_lines(out, &reply.lines[..reply.lines.len() / 2], newline).await;
        return None;
    }
    let target = if reply.stderr { err } else { out };
    let sent = send_lines(target, &reply.lines, newline).await;
    cli.answered();
    sent.then_some(reply.status)
}

/// True when the command line starts with the behaviour's prefix.
fn starts(prefix: &Option<String>, line: &str) -> bool {
    prefix
        .as_deref()
        .is_some_and(|prefix| line.trim().starts_with(prefix))
}

/// Sends a reply, stopping at `--More--` every `page_lines` lines until a key arrives, then
/// erasing the marker with `erase` (`q` skips the rest).
async fn page<O: Output>(
    out: &mut O,
    input: &mut Input,
    reply: &Reply,
    page_lines: Option<u32>,
    erase: &[u8],
) -> bool {
    let Some(size) = page_lines.map(|n| n.max(1) as usize) else {
        return send_lines(out, &reply.lines, b"\r\n").await;
    };
    let mut pages = reply.lines.chunks(size).peekable();
    while let Some(chunk) = pages.next() {
        if !send_lines(out, chunk, b"\r\n").await {
            return false;
        }
        if pages.peek().is_none() {
            break;
        }
        if !out.write(MORE.to_vec()).await {
            return false;
        }
        let Some(key) = input.byte().await else {
            return false;
        };
        if !out.write(erase.to_vec()).await {
            return false;
        }
        if key == b'q' {
            break;
        }
    }
    true
}

/// Sends lines, each followed by `newline`, in pieces of at most [`PIECE`] bytes.
async fn send_lines<O: Output>(out: &mut O, lines: &[String], newline: &[u8]) -> bool {
    let mut buffer = Vec::with_capacity(PIECE.min(lines.iter().map(|l| l.len() + 2).sum()));
    for line in lines {
        buffer.extend_from_slice(line.as_bytes());
        buffer.extend_from_slice(newline);
        if buffer.len() >= PIECE && !out.write(std::mem::take(&mut buffer)).await {
            return false;
        }
    }
    buffer.is_empty() || out.write(buffer).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc;

    struct Echo;

    impl Cli for Echo {
        fn prompt(&self) -> String {
            "R>".to_owned()
        }
        fn execute(&mut self, line: &str) -> Reply {
            match line {
                "exit" => Reply::close(),
                "many" => Reply::ok((1..=5).map(|n| format!("l{n}")).collect()),
                other => Reply::line(format!("<{other}>")),
            }
        }
    }

    struct Buffer(Vec<u8>);

    impl Output for Buffer {
        async fn write(&mut self, data: Vec<u8>) -> bool {
            self.0.extend(data);
            true
        }
    }

    async fn run(input: &[u8], behaviour: Behaviour) -> (String, End) {
        let (tx, rx) = mpsc::unbounded_channel();
        tx.send(input.to_vec()).expect("receiver alive");
        drop(tx);
        let (close, closed) = oneshot::channel();
        drop(close);
        let mut out = Buffer(Vec::new());
        let end = shell(Box::new(Echo), behaviour, rx, closed, &mut out).await;
        (String::from_utf8_lossy(&out.0).into_owned(), end)
    }

    #[tokio::test]
    async fn a_command_and_an_empty_line_give_the_double_prompt() {
        let (text, end) = run(b"cmd\n\n", Behaviour::default()).await;
        assert_eq!(text, "R>cmd\r\n<cmd>\r\nR>\r\nR>");
        assert_eq!(end, End::Gone);
        let (text, _) = run(b"cmd\r\n", Behaviour::default()).await;
        assert_eq!(text, "R>cmd\r\n<cmd>\r\nR>");
    }

    /// A CLI that reads a script without a terminal, as bash does.
    struct Bash;

    impl Cli for Bash {
        fn prompt(&self) -> String {
            "$ ".to_owned()
        }
        fn execute(&mut self, line: &str) -> Reply {
            Reply::line(line)
        }
        fn prompts_without_terminal(&self) -> bool {
            false
        }
        fn execute_script_line(&mut self, line: &str, number: usize) -> Reply {
            match line {
                "fail" => Reply::error(format!("line {number}: no"), 3),
                other => Reply::line(format!("{number}:{other}")),
            }
        }
    }

    #[tokio::test]
    async fn a_script_gets_no_prompt_no_echo_and_ends_with_the_last_status() {
        let (tx, rx) = mpsc::unbounded_channel();
        tx.send(b"one\n\nfail\n".to_vec()).expect("receiver alive");
        drop(tx);
        let (close, closed) = oneshot::channel();
        drop(close);
        let (mut out, mut err) = (Buffer(Vec::new()), Buffer(Vec::new()));
        let end = script(
            Box::new(Bash),
            Behaviour::default(),
            rx,
            closed,
            &mut out,
            &mut err,
        )
        .await;
        assert_eq!(String::from_utf8_lossy(&out.0), "1:one\n");
        assert_eq!(String::from_utf8_lossy(&err.0), "line 3: no\n");
        assert_eq!(end, End::Closed(3));
    }

    #[tokio::test]
    async fn backspace_edits_the_line_and_exit_closes() {
        let (text, end) = run(b"cmx\x7fd\rexit\r", Behaviour::default()).await;
        assert_eq!(text, "R>cmx\x08 \x08d\r\n<cmd>\r\nR>exit\r\n");
        assert_eq!(end, End::Closed(0));
    }

    #[tokio::test]
    async fn the_pager_waits_for_a_key_and_q_stops_it() {
        let paged = Behaviour {
            page_lines: Some(2),
            ..Behaviour::default()
        };
        let (text, _) = run(b"many\n q", paged).await;
        assert_eq!(
            text,
            "R>many\r\nl1\r\nl2\r\n--More--\r        \rl3\r\nl4\r\n--More--\r        \rR>"
        );
    }

    #[tokio::test]
    async fn a_closing_command_prints_half_and_ends_the_session() {
        let close = Behaviour {
            close_on: Some("many".into()),
            ..Behaviour::default()
        };
        let (text, end) = run(b"many\nmore\n", close).await;
        assert_eq!(text, "R>many\r\nl1\r\nl2\r\n");
        assert_eq!(end, End::Closed(1));
    }

    #[tokio::test]
    async fn a_hanging_command_prints_half_and_never_the_prompt() {
        let hang = Behaviour {
            hang_on: Some("many".into()),
            ..Behaviour::default()
        };
        let (text, end) = run(b"many\n\n", hang).await;
        assert_eq!(text, "R>many\r\nl1\r\nl2\r\n");
        assert_eq!(end, End::Gone);
    }
}
