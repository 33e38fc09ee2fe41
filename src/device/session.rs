//! A prompt-driven CLI session over any [`Shell`] (reference §2.5, §2.6, fixing §8.2).
//!
//! Unlike batchscanner, which waited for two prompts anywhere in the text (or for three seconds
//! of silence), a response here is framed by the echo of the command and the known prompt at
//! the start of a line, so no wall-clock silence is waited for while the device answers as
//! expected. Bytes are decoded only once a response is complete, so a UTF-8 character split
//! across packets is harmless, and a `--More--` pager is answered with a space.
//!
//! A command may change the prompt: on EtherHaul the prompt is the system name, so after
//! `set system name X` it is `X>`. When the known prompt does not come but the output ends in
//! a line shaped like it (see [`CliSession::command`]) and the device then stays quiet, that
//! line is the new prompt. Only then is silence waited for, and only briefly.
//!
//! A device that prints nothing at all, even after a nudge, is asked `echo sikprobe'-'shell`
//! once: a Unix shell opened without a terminal prints no prompt (bash reads its input as a
//! script then) but answers `sikprobe-shell`, quotes removed, on a line of its own, and no
//! prompt after it. A radio always prints a prompt, so it never gets this far unless it is
//! merely slow, and then it answers the line with an error and a prompt, which wins; a CLI
//! that echoes the line shows the quotes.
//!
//! Before the first prompt, a shell that asks for a password (an expired one being changed by
//! PAM) is not nudged with empty lines, which would count as failed attempts: the session
//! stops there and says why.

use std::time::Duration;

use tokio::time::{Instant, timeout_at};

use crate::record::Status;
use crate::transport::{Shell, one_line, password_change_demanded};

/// How long to wait for a first prompt before nudging the device with an empty line.
const NUDGE_AFTER: Duration = Duration::from_millis(1500);
/// The most output kept for one command; the rest is counted, not stored.
const MAX_OUTPUT: usize = 16 * 1024 * 1024;
/// The pager marker answered with a space.
const PAGER: &str = "--More--";
/// The most pages answered for one command (a device that pages forever is cut by its deadline
/// anyway; this bounds the work before that).
const MAX_PAGES: usize = 100_000;
/// A prompt is a short last line.
const MAX_PROMPT: usize = 128;
/// How long a command's output must stay quiet after a line shaped like the known prompt
/// before that line counts as the new prompt (at most a quarter of the command's time limit).
const NEW_PROMPT_QUIET: Duration = Duration::from_secs(1);
/// The probe for a Unix shell that prints no prompt, and the line only a shell answers with.
const SHELL_PROBE: &str = "echo sikprobe'-'shell";
const SHELL_ANSWER: &str = "sikprobe-shell";
/// How long a shell's answer to the probe must stay without a prompt after it.
const SHELL_QUIET: Duration = Duration::from_millis(500);
/// How many of the last lines printed before a password prompt an error quotes.
const QUOTED_LINES: usize = 6;

/// Why the session could not go on.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// No prompt appeared (after nudging) within the time allowed.
    #[error("no CLI prompt within {}", humantime::format_duration(*.0))]
    PromptTimeout(Duration),
    /// A command's answer did not end with the prompt within the time allowed.
    #[error("no prompt after '{command}' within {}", humantime::format_duration(*timeout))]
    CommandTimeout {
        /// The command sent.
        command: String,
        /// How long was waited.
        timeout: Duration,
        /// What the device had said by then.
        partial: String,
    },
    /// The device closed the session, after printing `last_words` (its last line, if any:
    /// `/usr/sbin/nologin` says "This account is currently not available.").
    #[error("the device closed the session{}", quoted_after(.last_words))]
    Closed {
        /// The last line the device printed, empty when it printed nothing.
        last_words: String,
    },
    /// Before any prompt, the shell demanded a new password: the password has expired.
    #[error("the password has expired: the device demands a new one before any prompt ('{said}')")]
    PasswordExpired {
        /// What the shell printed, up to its password prompt.
        said: String,
    },
    /// Before any prompt, the shell asked for a password again.
    #[error("the device asks for a password before any prompt ('{said}')")]
    PasswordPrompt {
        /// What the shell printed, up to its password prompt.
        said: String,
    },
    /// A Unix shell that prints no prompt answered the shell probe: not a radio.
    #[error("a Unix shell that prints no prompt (it answered \"{SHELL_PROBE}\"), not a radio CLI")]
    PromptlessShell,
    /// Writing to the session failed.
    #[error("writing to the session: {0}")]
    Io(#[from] std::io::Error),
}

impl SessionError {
    /// The record status this failure gives a host: a password demand is a refused login
    /// (`auth-failed`), a missing prompt or answer `prompt-timeout`, a Unix shell `not-siklu`,
    /// the rest `io-error`.
    pub fn status(&self) -> Status {
        match self {
            SessionError::PromptlessShell => Status::NotSiklu,
            SessionError::PromptTimeout(_) | SessionError::CommandTimeout { .. } => {
                Status::PromptTimeout
            }
            SessionError::PasswordExpired { .. } | SessionError::PasswordPrompt { .. } => {
                Status::AuthFailed
            }
            SessionError::Closed { .. } | SessionError::Io(_) => Status::IoError,
        }
    }
}

fn quoted_after(last_words: &str) -> String {
    if last_words.is_empty() {
        String::new()
    } else {
        format!(" after printing '{last_words}'")
    }
}

/// Which prompt ends a command's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptMatch {
    /// The prompt acquired at login (or after the last change), or a new prompt of the same
    /// shape once the output has gone quiet: for commands that rename the device.
    Known,
    /// Any prompt-looking line: for commands that move the session elsewhere (`connect cn1`).
    Any,
}

/// How an answer's text is made from the bytes between the echo and the prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// Lines as shown, trailing blank lines dropped: output to read or parse.
    Lines,
    /// Every line as shown, blank lines kept: text to store as the device holds it.
    Verbatim,
}

/// A CLI session: the shell, the prompt, and the bytes not yet consumed.
pub struct CliSession<S> {
    shell: S,
    prompt: Option<String>,
    buffer: Vec<u8>,
    /// A terminal echoes each command before its answer; without one the echo may be missing,
    /// so answers are framed by the prompt alone and an echo, when there is one, is dropped.
    echo_expected: bool,
}

impl<S: Shell> CliSession<S> {
    /// Wraps a freshly opened shell.
    pub fn new(shell: S) -> Self {
        CliSession {
            echo_expected: shell.has_terminal(),
            shell,
            prompt: None,
            buffer: Vec::new(),
        }
    }

    /// The shell underneath, for what the CLI does not do (exec channels beside it).
    pub fn shell(&self) -> &S {
        &self.shell
    }

    /// The prompt in use, once acquired.
    pub fn prompt(&self) -> Option<&str> {
        self.prompt.as_deref()
    }

    /// Waits for the first prompt: the last line of whatever the device prints when the shell
    /// opens (a MOTD before it is skipped). A device that stays silent is nudged with an empty
    /// line now and then, as batchscanner's retries did; one that has printed nothing by the
    /// second nudge gets the shell probe instead, and a Unix shell answering it is
    /// [`SessionError::PromptlessShell`].
    pub async fn acquire_prompt(&mut self, limit: Duration) -> Result<String, SessionError> {
        let deadline = Instant::now() + limit;
        let mut nudge_at = Instant::now() + NUDGE_AFTER;
        let mut nudges = 0;
        let mut heard = false;
        let mut probed = false;
        let mut shell_answered = false;
        loop {
            if let Some(prompt) = trailing_prompt(&self.buffer) {
                self.buffer.clear();
                self.prompt = Some(prompt.clone());
                return Ok(prompt);
            }
            if let Some(demand) = password_demand(&self.buffer) {
                return Err(demand);
            }
            if probed && !shell_answered && answers_the_probe(&self.buffer) {
                shell_answered = true;
                nudge_at = Instant::now() + SHELL_QUIET;
            }
            match timeout_at(deadline.min(nudge_at), self.shell.recv()).await {
                Ok(Some(chunk)) => {
                    heard |= !chunk.is_empty();
                    self.buffer.extend_from_slice(&chunk);
                    // A MOTD can be long; only its end matters here.
                    if self.buffer.len() > 64 * 1024 {
                        self.buffer.drain(..self.buffer.len() - 4096);
                    }
                }
                Ok(None) => {
                    return Err(SessionError::Closed {
                        last_words: last_words(&self.buffer),
                    });
                }
                Err(_) if Instant::now() >= deadline => {
                    return Err(SessionError::PromptTimeout(limit));
                }
                // No prompt after the shell's answer: nothing but a Unix shell answers so.
                Err(_) if shell_answered => return Err(SessionError::PromptlessShell),
                Err(_) => {
                    nudges += 1;
                    if nudges == 2 && !heard {
                        probed = true;
                        self.shell
                            .send(format!("{SHELL_PROBE}\n").as_bytes())
                            .await?;
                    } else {
                        self.shell.send(b"\n").await?;
                    }
                    nudge_at = Instant::now() + NUDGE_AFTER;
                }
            }
        }
    }

    /// Sends one command and returns exactly the device's answer: without the echo, without
    /// the prompt, lines joined with `\n`.
    ///
    /// With [`PromptMatch::Known`], a last line that is not the known prompt but has its shape
    /// (the same final character; no blank outside quotes when the known prompt has none, so
    /// `"Roof North">` may follow `EH-710TX>` but a question such as `Continue? (y/n)>` may
    /// not) ends the answer once nothing more has come for a short while, and becomes the
    /// known prompt. A line of output that merely looks like a prompt is followed by more
    /// output, or by the known prompt, before then.
    pub async fn command(
        &mut self,
        command: &str,
        limit: Duration,
        until: PromptMatch,
    ) -> Result<String, SessionError> {
        self.exchange(command, limit, until, Framing::Lines).await
    }

    /// Sends one command and returns the device's answer byte for byte but for what a
    /// terminal does not show: CRLF becomes LF, the pager's marker and its erasure are gone,
    /// and blank lines at either end are kept (a configuration's text, ending in a newline
    /// when the device's did). Framed like [`CliSession::command`] with [`PromptMatch::Known`].
    pub async fn command_text(
        &mut self,
        command: &str,
        limit: Duration,
    ) -> Result<String, SessionError> {
        self.exchange(command, limit, PromptMatch::Known, Framing::Verbatim)
            .await
    }

    async fn exchange(
        &mut self,
        command: &str,
        limit: Duration,
        until: PromptMatch,
        framing: Framing,
    ) -> Result<String, SessionError> {
        let command = command.trim();
        self.buffer.clear();
        self.shell.send(format!("{command}\n").as_bytes()).await?;
        let deadline = Instant::now() + limit;
        let quiet = NEW_PROMPT_QUIET.min(limit / 4);
        let mut body: Vec<u8> = Vec::new();
        let mut echo_seen = command.is_empty() || !self.echo_expected;
        let mut pages = 0;
        // A line shaped like the known prompt ending the output, and when it may be taken for
        // the new prompt if nothing follows it.
        let mut new_prompt: Option<(String, Instant)> = None;
        loop {
            if !echo_seen && let Some(end) = echo_end(&self.buffer, command) {
                self.buffer.drain(..end);
                echo_seen = true;
            }
            if echo_seen {
                if let Some((line_start, prompt)) = self.final_prompt(until) {
                    append_bounded(&mut body, &self.buffer[..line_start]);
                    self.buffer.clear();
                    if until == PromptMatch::Any {
                        self.prompt = Some(prompt);
                    }
                    return Ok(self.answer(&body, command, framing));
                }
                new_prompt = match (until, self.renamed_prompt(), new_prompt) {
                    (PromptMatch::Known, Some(line), Some((seen, at))) if line == seen => {
                        Some((seen, at))
                    }
                    (PromptMatch::Known, Some(line), _) => Some((line, Instant::now() + quiet)),
                    _ => None,
                };
                if pages < MAX_PAGES
                    && let Some(marker) = pager_line_start(&self.buffer)
                {
                    append_bounded(&mut body, &self.buffer[..marker]);
                    self.buffer.clear();
                    pages += 1;
                    self.shell.send(b" ").await?;
                }
                // Everything before the last line is settled output.
                if let Some(newline) = self.buffer.iter().rposition(|&b| b == b'\n') {
                    append_bounded(&mut body, &self.buffer[..=newline]);
                    self.buffer.drain(..=newline);
                }
            }
            let wake = new_prompt
                .as_ref()
                .map_or(deadline, |(_, at)| deadline.min(*at));
            match timeout_at(wake, self.shell.recv()).await {
                Ok(Some(chunk)) => self.buffer.extend_from_slice(&chunk),
                Ok(None) => {
                    append_bounded(&mut body, &self.buffer);
                    return Err(SessionError::Closed {
                        last_words: last_words(&body),
                    });
                }
                Err(_) if Instant::now() < deadline => {
                    // Quiet after a new prompt: the command renamed the device.
                    if let Some((prompt, _)) = new_prompt.take() {
                        let line_start = last_line_start(&self.buffer);
                        append_bounded(&mut body, &self.buffer[..line_start]);
                        self.buffer.clear();
                        self.prompt = Some(prompt);
                        return Ok(self.answer(&body, command, framing));
                    }
                }
                Err(_) => {
                    append_bounded(&mut body, &self.buffer);
                    return Err(SessionError::CommandTimeout {
                        command: command.to_owned(),
                        timeout: limit,
                        partial: clean_output(&body),
                    });
                }
            }
        }
    }

    /// The answer framed so far, decoded, without an echo a device without a terminal sent.
    fn answer(&self, body: &[u8], command: &str, framing: Framing) -> String {
        let answer = match framing {
            Framing::Lines => clean_output(body),
            Framing::Verbatim => verbatim_output(body),
        };
        if self.echo_expected {
            answer
        } else {
            drop_echo(answer, command)
        }
    }

    /// The unsettled last line when it could be the known prompt after a rename.
    fn renamed_prompt(&self) -> Option<String> {
        let known = self.prompt.as_deref()?;
        let last = line_text(&self.buffer[last_line_start(&self.buffer)..]);
        (last != known && looks_like_prompt(&last) && same_shape(known, &last)).then_some(last)
    }

    /// The final prompt, when the unsettled last line is one: its start and text.
    fn final_prompt(&self, until: PromptMatch) -> Option<(usize, String)> {
        let line_start = last_line_start(&self.buffer);
        let last = line_text(&self.buffer[line_start..]);
        let matched = match (until, &self.prompt) {
            (PromptMatch::Known, Some(prompt)) => last == *prompt,
            _ => looks_like_prompt(&last),
        };
        matched.then_some((line_start, last))
    }

    /// Ends the session.
    pub async fn close(self) {
        self.shell.close().await;
    }
}

/// Where the last (unfinished) line of the buffer starts.
fn last_line_start(buffer: &[u8]) -> usize {
    buffer
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1)
}

/// The end of the line that echoes `command`, once it has arrived.
fn echo_end(buffer: &[u8], command: &str) -> Option<usize> {
    let needle = command.as_bytes();
    let at = buffer
        .windows(needle.len())
        .position(|window| window == needle)?;
    let newline = buffer[at..].iter().position(|&b| b == b'\n')?;
    Some(at + newline + 1)
}

/// The answer without its first line when that line echoes the command.
fn drop_echo(answer: String, command: &str) -> String {
    match answer.split_once('\n') {
        Some((first, rest)) if first.trim_end() == command => rest.to_owned(),
        None if answer.trim_end() == command => String::new(),
        _ => answer,
    }
}

fn append_bounded(body: &mut Vec<u8>, bytes: &[u8]) {
    let room = MAX_OUTPUT.saturating_sub(body.len());
    body.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

/// The text of a line as a terminal shows it: a carriage return inside it starts over (pagers
/// erase their marker that way), trailing blanks dropped.
fn line_text(line: &[u8]) -> String {
    let text = strip_escapes(&String::from_utf8_lossy(line));
    let text = text.trim_end_matches(['\r', '\n']);
    let shown = text.rsplit('\r').next().unwrap_or_default();
    shown.trim_end().to_owned()
}

/// The prompt at the end of the buffer, if its last line looks like one.
fn trailing_prompt(buffer: &[u8]) -> Option<String> {
    let line_start = last_line_start(buffer);
    let last = line_text(&buffer[line_start..]);
    looks_like_prompt(&last).then_some(last)
}

/// A short line ending in `>` (Siklu, routers), `#` or `$` (Unix shells), without a pager
/// marker; spaces only inside a quoted name or before a shell's final character.
fn looks_like_prompt(line: &str) -> bool {
    let ends_right = line.ends_with('>') || line.ends_with('#') || line.ends_with('$');
    ends_right && line.len() <= MAX_PROMPT && !line.contains(PAGER)
}

/// Whether `line` could be `known` after a rename: the same final character, and no blank
/// outside double quotes unless the known prompt has one too.
fn same_shape(known: &str, line: &str) -> bool {
    fn blank_outside_quotes(text: &str) -> bool {
        let mut quoted = false;
        text.chars().any(|c| {
            if c == '"' {
                quoted = !quoted;
            }
            !quoted && c.is_whitespace()
        })
    }
    known.chars().last() == line.chars().last()
        && (blank_outside_quotes(known) || !blank_outside_quotes(line))
}

/// Whether a complete line of the buffer is the shell's answer to [`SHELL_PROBE`].
fn answers_the_probe(buffer: &[u8]) -> bool {
    let complete = &buffer[..last_line_start(buffer)];
    clean_output(complete)
        .lines()
        .any(|line| line.trim() == SHELL_ANSWER)
}

/// The last non-blank line of what the device printed, on one line.
fn last_words(printed: &[u8]) -> String {
    let text = clean_output(printed);
    let last = text.lines().rev().find(|line| !line.trim().is_empty());
    one_line(last.unwrap_or_default())
}

/// A shell asking for a password before any prompt: an expired password being changed when
/// what it printed says so, else a second password prompt.
fn password_demand(buffer: &[u8]) -> Option<SessionError> {
    let last = line_text(&buffer[last_line_start(buffer)..]);
    if !last.to_lowercase().ends_with("password:") {
        return None;
    }
    let text = clean_output(buffer);
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    let recent = &lines[lines.len().saturating_sub(QUOTED_LINES)..];
    // Quote from the first recent line about the password: the MOTD before it is noise.
    let from = recent
        .iter()
        .position(|line| line.to_lowercase().contains("password"))
        .unwrap_or_default();
    let said = one_line(&recent[from..].join("\n"));
    Some(if password_change_demanded(&text) {
        SessionError::PasswordExpired { said }
    } else {
        SessionError::PasswordPrompt { said }
    })
}

fn pager_line_start(buffer: &[u8]) -> Option<usize> {
    let line_start = last_line_start(buffer);
    String::from_utf8_lossy(&buffer[line_start..])
        .contains(PAGER)
        .then_some(line_start)
}

/// Removes terminal control sequences (CSI such as colours or bash's bracketed-paste switch
/// `ESC[?2004h`, and OSC such as window titles): a PTY shell sends them, they are not text.
fn strip_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.next() {
            // CSI: parameters and intermediates, then one final byte in @..~.
            Some('[') => {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            // OSC: up to BEL or ST (ESC \\).
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                        break;
                    }
                }
            }
            // Two-character sequences (ESC =, ESC >, ...).
            _ => {}
        }
    }
    out
}

/// Decodes a complete answer and normalises its lines.
fn clean_output(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let lines: Vec<String> = text
        .split('\n')
        .map(shown)
        .filter(|line| !line.contains(PAGER))
        .collect();
    lines.join("\n").trim_end_matches('\n').to_owned()
}

/// Decodes a complete answer line by line as [`shown`], keeping every line but a pager marker
/// left on one of its own, so the text ends as the device's did.
fn verbatim_output(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let lines: Vec<String> = text
        .split('\n')
        .map(shown)
        .filter(|line| line.trim() != PAGER)
        .collect();
    lines.join("\n")
}

/// A line (without its `\n`) as a terminal leaves it once the device rewrote it: a final
/// `\r` dropped, the text after any other `\r` (a pager erases its marker by returning to the
/// line start), a backspace taking back the character before it, `ESC[2K` clearing the line
/// and other control sequences removed (TG pagers erase with backspaces and `ESC[2K`).
fn shown(line: &str) -> String {
    let line = line.strip_suffix('\r').unwrap_or(line);
    // Returning to the line start or clearing the line both start the shown text over.
    let line = line.rsplit('\r').next().unwrap_or_default();
    let line = line.rsplit("\u{1b}[2K").next().unwrap_or_default();
    let text = strip_escapes(line);
    if !text.contains('\u{8}') {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\u{8}' {
            out.pop();
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// A scripted device: each input line is answered with the next canned reply, delivered in
    /// small chunks to exercise reassembly.
    struct Scripted {
        replies: VecDeque<Vec<Vec<u8>>>,
        pending: VecDeque<Vec<u8>>,
        sent: Vec<u8>,
    }

    impl Scripted {
        fn new(greeting: &[u8], replies: &[&[u8]]) -> Self {
            Scripted {
                replies: replies.iter().map(|r| chunks(r)).collect(),
                pending: chunks(greeting).into(),
                sent: Vec::new(),
            }
        }
    }

    fn chunks(bytes: &[u8]) -> Vec<Vec<u8>> {
        bytes.chunks(3).map(<[u8]>::to_vec).collect()
    }

    impl Shell for Scripted {
        async fn send(&mut self, data: &[u8]) -> std::io::Result<()> {
            self.sent.extend_from_slice(data);
            if (data.ends_with(b"\n") || data == b" ")
                && let Some(reply) = self.replies.pop_front()
            {
                self.pending.extend(reply);
            }
            Ok(())
        }

        async fn recv(&mut self) -> Option<Vec<u8>> {
            match self.pending.pop_front() {
                Some(chunk) => Some(chunk),
                None => std::future::pending().await,
            }
        }

        async fn close(self) {}
    }

    const SECOND: Duration = Duration::from_secs(1);

    /// A device that delivers its bytes cut at the given places.
    struct Split {
        chunks: VecDeque<Vec<u8>>,
        reply: Vec<Vec<u8>>,
    }

    impl Shell for Split {
        async fn send(&mut self, data: &[u8]) -> std::io::Result<()> {
            if data.ends_with(b"\n") {
                self.chunks.extend(std::mem::take(&mut self.reply));
            }
            Ok(())
        }

        async fn recv(&mut self) -> Option<Vec<u8>> {
            match self.chunks.pop_front() {
                Some(chunk) => Some(chunk),
                None => std::future::pending().await,
            }
        }

        async fn close(self) {}
    }

    fn cut(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        points.sort_unstable();
        points.dedup();
        let mut chunks = Vec::new();
        let mut start = 0;
        for point in points.into_iter().chain([bytes.len()]) {
            if point > start {
                chunks.push(bytes[start..point].to_vec());
                start = point;
            }
        }
        chunks
    }

    proptest::proptest! {
        /// However the device's bytes are split into packets (inside UTF-8 characters too),
        /// the answer is the same.
        #[test]
        fn packet_boundaries_do_not_change_the_answer(
            lines in proptest::collection::vec("[a-zé€ :0-9]{0,20}", 0..6),
            cuts in proptest::collection::vec(0usize..400, 0..12),
        ) {
            let body: String = lines.iter().map(|l| format!("{l}\r\n")).collect();
            let reply = format!("show x\r\n{body}R>").into_bytes();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("a runtime");
            let answer = runtime.block_on(async {
                let device = Split {
                    chunks: VecDeque::from(vec![b"R>".to_vec()]),
                    reply: cut(&reply, &cuts),
                };
                let mut session = CliSession::new(device);
                session.acquire_prompt(SECOND).await.expect("prompt");
                session.command("show x", SECOND, PromptMatch::Known).await
            });
            let expected = lines.join("\n").trim_end_matches('\n').to_owned();
            proptest::prop_assert_eq!(answer.expect("an answer"), expected);
        }
    }

    #[tokio::test]
    async fn frames_by_echo_and_prompt_and_skips_a_motd() {
        let device = Scripted::new(
            b"Welcome to the radio\r\nEH-710TX>",
            &[b"show system\r\nsystem name : EH-710TX\r\ncaf\xc3\xa9 > x\r\nEH-710TX>"],
        );
        let mut session = CliSession::new(device);
        assert_eq!(session.acquire_prompt(SECOND).await.unwrap(), "EH-710TX>");
        let answer = session
            .command("show system", SECOND, PromptMatch::Known)
            .await
            .unwrap();
        assert_eq!(answer, "system name : EH-710TX\ncafé > x");
    }

    #[test]
    fn terminal_escapes_are_not_text() {
        assert_eq!(
            strip_escapes("\u{1b}[?2004hroot@vm:~# \u{1b}[01;32mok\u{1b}[0m"),
            "root@vm:~# ok"
        );
        assert_eq!(strip_escapes("\u{1b}]0;title\u{7}$ "), "$ ");
        assert_eq!(strip_escapes("plain > text"), "plain > text");
    }

    #[tokio::test]
    async fn answers_the_pager_and_drops_its_marker() {
        let device = Scripted::new(
            b"R>",
            &[
                b"show log\r\nline 1\r\n--More--",
                b"\r        \rline 2\r\nR>",
            ],
        );
        let mut session = CliSession::new(device);
        session.acquire_prompt(SECOND).await.unwrap();
        let answer = session
            .command("show log", SECOND, PromptMatch::Known)
            .await
            .unwrap();
        assert_eq!(answer, "line 1\nline 2");
    }

    #[tokio::test]
    async fn text_keeps_blank_lines_and_loses_only_crlf_and_the_pager() {
        let device = Scripted::new(
            b"MH-N366@dn1>",
            &[
                b"show startup\r\n\r\na {\r\n   b;\r\n--More--",
                b"\x08\x08\x08\x08\x08\x08\x08\x08\x1b[2K}\r\n\r\nMH-N366@dn1>",
                b"copy running-configuration display\r\nset x  y 'z w'\r\n--More--",
                b"\r        \r\r\nMH-N366@dn1>",
            ],
        );
        let mut session = CliSession::new(device);
        session.acquire_prompt(SECOND).await.unwrap();
        let text = session.command_text("show startup", SECOND).await.unwrap();
        assert_eq!(text, "\na {\n   b;\n}\n\n");
        let text = session
            .command_text("copy running-configuration display", SECOND)
            .await
            .unwrap();
        assert_eq!(text, "set x  y 'z w'\n\n");
    }

    #[test]
    fn backspaces_and_line_clears_rewrite_a_line() {
        assert_eq!(
            shown(
                "--More--\x08\x08\x08\x08\x08\x08\x08\x08        \x08\x08\x08\x08\x08\x08\x08\x08line"
            ),
            "line"
        );
        assert_eq!(shown("\x1b[A\x1b[2Kline\r"), "line");
        assert_eq!(shown("ab\x08c"), "ac");
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_device_is_nudged_then_times_out() {
        let device = Scripted::new(b"", &[]);
        let mut session = CliSession::new(device);
        let err = session.acquire_prompt(Duration::from_secs(5)).await;
        assert!(matches!(err, Err(SessionError::PromptTimeout(_))));
        // An empty line, the shell probe (nothing was heard), then empty lines again.
        assert!(
            session
                .shell
                .sent
                .starts_with(b"\necho sikprobe'-'shell\n\n"),
            "{:?}",
            String::from_utf8_lossy(&session.shell.sent)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_command_times_out_with_its_partial_output() {
        let device = Scripted::new(b"R>", &[b"show rf\r\nrf operational : up\r\n"]);
        let mut session = CliSession::new(device);
        session.acquire_prompt(SECOND).await.unwrap();
        match session.command("show rf", SECOND, PromptMatch::Known).await {
            Err(SessionError::CommandTimeout { partial, .. }) => {
                assert_eq!(partial, "rf operational : up");
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn any_prompt_ends_a_command_that_moves_the_session() {
        let device = Scripted::new(b"MH-N366@dn1>", &[b"connect cn1\r\nMH-T265@cn1>"]);
        let mut session = CliSession::new(device);
        session.acquire_prompt(SECOND).await.unwrap();
        let answer = session
            .command("connect cn1", SECOND, PromptMatch::Any)
            .await
            .unwrap();
        assert_eq!(answer, "");
        assert_eq!(session.prompt(), Some("MH-T265@cn1>"));
    }

    /// Chunks of output, each after its delay in milliseconds.
    type Chunks = Vec<(u64, &'static [u8])>;

    /// A device that prints its greeting, then answers each input line with the next reply;
    /// once everything is printed, it closes the session when `closing`, else stays silent.
    struct Paced {
        replies: VecDeque<Chunks>,
        pending: VecDeque<(u64, &'static [u8])>,
        closing: bool,
        sent: Vec<u8>,
    }

    impl Paced {
        fn new(greeting: &'static [u8], replies: Vec<Chunks>) -> Self {
            Paced {
                replies: replies.into(),
                pending: VecDeque::from([(0, greeting)]),
                closing: false,
                sent: Vec::new(),
            }
        }
    }

    impl Shell for Paced {
        async fn send(&mut self, data: &[u8]) -> std::io::Result<()> {
            self.sent.extend_from_slice(data);
            if data.ends_with(b"\n")
                && let Some(reply) = self.replies.pop_front()
            {
                self.pending.extend(reply);
            }
            Ok(())
        }

        async fn recv(&mut self) -> Option<Vec<u8>> {
            match self.pending.pop_front() {
                Some((delay, chunk)) => {
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    Some(chunk.to_vec())
                }
                None if self.closing => None,
                None => std::future::pending().await,
            }
        }

        async fn close(self) {}
    }

    const COMMAND_LIMIT: Duration = Duration::from_secs(10);

    #[tokio::test(start_paused = true)]
    async fn a_command_that_renames_the_device_leaves_the_new_prompt_known() {
        let device = Paced::new(
            b"EH-710TX>",
            vec![
                vec![
                    (5, b"set system name X\r\nSet done: system\r\n"),
                    (5, b"X>"),
                ],
                vec![(5, b"show system\r\nsystem name : X\r\nX>")],
                vec![(5, b"set system name Roof North\r\n\"Roof North\">")],
            ],
        );
        let mut session = CliSession::new(device);
        session.acquire_prompt(SECOND).await.unwrap();
        let renamed = session
            .command("set system name X", COMMAND_LIMIT, PromptMatch::Known)
            .await
            .unwrap();
        assert_eq!(renamed, "Set done: system");
        assert_eq!(session.prompt(), Some("X>"));
        let answer = session
            .command("show system", COMMAND_LIMIT, PromptMatch::Known)
            .await
            .unwrap();
        assert_eq!(answer, "system name : X");
        session
            .command(
                "set system name Roof North",
                COMMAND_LIMIT,
                PromptMatch::Known,
            )
            .await
            .unwrap();
        assert_eq!(session.prompt(), Some("\"Roof North\">"));
    }

    #[tokio::test(start_paused = true)]
    async fn output_that_looks_like_a_prompt_is_not_taken_for_one() {
        let device = Paced::new(
            b"R>",
            vec![
                // A prompt-shaped piece of output, more output soon after, then the prompt.
                vec![
                    (5, b"show map\r\nport1->"),
                    (300, b"port2\r\nlast\r\n"),
                    (300, b"R>"),
                ],
                // A question is not a renamed prompt, however long the device waits.
                vec![(5, b"reset\r\nReset the radio? (y/n)>")],
            ],
        );
        let mut session = CliSession::new(device);
        session.acquire_prompt(SECOND).await.unwrap();
        let answer = session
            .command("show map", COMMAND_LIMIT, PromptMatch::Known)
            .await
            .unwrap();
        assert_eq!(answer, "port1->port2\nlast");
        assert_eq!(session.prompt(), Some("R>"));
        let question = session
            .command("reset", COMMAND_LIMIT, PromptMatch::Known)
            .await;
        assert!(
            matches!(question, Err(SessionError::CommandTimeout { .. })),
            "{question:?}"
        );
        assert_eq!(session.prompt(), Some("R>"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_password_change_before_the_prompt_is_not_nudged() {
        let device = Paced::new(
            b"Debian GNU/Linux comes with ABSOLUTELY NO WARRANTY.\r\n\
              WARNING: Your password has expired.\r\n\
              You must change your password now and login again!\r\n\
              Changing password for admin.\r\nCurrent password: ",
            vec![],
        );
        let mut session = CliSession::new(device);
        match session.acquire_prompt(Duration::from_secs(5)).await {
            Err(SessionError::PasswordExpired { said }) => assert_eq!(
                said,
                "WARNING: Your password has expired. / You must change your password now and \
                 login again! / Changing password for admin. / Current password:"
            ),
            other => panic!("expected an expired password, got {other:?}"),
        }
        assert!(
            session.shell.sent.is_empty(),
            "nothing typed at a password prompt"
        );
        assert_eq!(
            SessionError::PasswordExpired {
                said: String::new()
            }
            .status(),
            Status::AuthFailed
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_unix_shell_without_a_prompt_is_recognised_by_its_answer_to_the_probe() {
        // bash without a terminal: silent, the nudge answered by nothing, the probe by its
        // answer alone.
        let device = Paced::new(b"", vec![vec![], vec![(5, b"sikprobe-shell\n")]]);
        let mut session = CliSession::new(device);
        let err = session.acquire_prompt(Duration::from_secs(10)).await;
        assert!(matches!(err, Err(SessionError::PromptlessShell)), "{err:?}");
        assert_eq!(session.shell.sent, b"\necho sikprobe'-'shell\n");
        assert_eq!(SessionError::PromptlessShell.status(), Status::NotSiklu);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_radio_that_gets_the_probe_is_still_a_radio() {
        let answers: [&'static [u8]; 3] = [
            // Echoed on a terminal, then an error and the prompt.
            b"echo sikprobe'-'shell\r\n% Unknown command\r\nEH-710TX>",
            // No echo, the prompt alone.
            b"\r\nEH-710TX>",
            // A CLI that strips quotes and answers like a shell, but prompts after it.
            b"sikprobe-shell\r\n",
        ];
        for answer in answers {
            let mut reply: Chunks = vec![(5, answer)];
            if !answer.ends_with(b">") {
                reply.push((100, b"EH-710TX>"));
            }
            let device = Paced::new(b"", vec![vec![], reply]);
            let mut session = CliSession::new(device);
            let prompt = session.acquire_prompt(Duration::from_secs(10)).await;
            assert_eq!(prompt.ok().as_deref(), Some("EH-710TX>"), "{answer:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_device_that_printed_anything_is_never_probed() {
        let device = Paced::new(b"Welcome\r\n", vec![]);
        let mut session = CliSession::new(device);
        let err = session.acquire_prompt(Duration::from_secs(5)).await;
        assert!(
            matches!(err, Err(SessionError::PromptTimeout(_))),
            "{err:?}"
        );
        assert!(
            session.shell.sent.iter().all(|&b| b == b'\n'),
            "{:?}",
            String::from_utf8_lossy(&session.shell.sent)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_session_closed_before_the_prompt_quotes_its_last_words() {
        let device = Paced::new(
            b"Welcome\r\n\r\nThis account is currently not available.\r\n",
            vec![],
        );
        let mut session = CliSession::new(device);
        session.shell.closing = true;
        match session.acquire_prompt(Duration::from_secs(5)).await {
            Err(SessionError::Closed { last_words }) => {
                assert_eq!(last_words, "This account is currently not available.");
            }
            other => panic!("expected a closed session, got {other:?}"),
        }
    }
}
