//! What every simulated command line has in common: a prompt, and commands that answer with
//! lines of output. The byte-level terminal behaviour (echo, CRLF, pager) lives in
//! [`super::session`]; the dialects live in [`super::eh`], [`super::tgcli`] and [`super::host`].

/// A command's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Output lines, without terminators; empty for commands that print nothing.
    pub lines: Vec<String>,
    /// The exit status an exec channel reports (0: success).
    pub status: u32,
    /// True when the session ends after this reply (`exit`, `logout`).
    pub close: bool,
    /// True when an exec channel sends the lines as standard error.
    pub stderr: bool,
    /// Lines per page when the command pages its answer whatever the terminal's pager
    /// setting (TG `show startup`).
    pub page_lines: Option<u32>,
}

impl Reply {
    /// A successful answer.
    pub fn ok(lines: Vec<String>) -> Reply {
        Reply {
            lines,
            status: 0,
            close: false,
            stderr: false,
            page_lines: None,
        }
    }

    /// A successful answer of one line.
    pub fn line(text: impl Into<String>) -> Reply {
        Reply::ok(vec![text.into()])
    }

    /// A successful answer with no output.
    pub fn empty() -> Reply {
        Reply::ok(Vec::new())
    }

    /// An error message with a non-zero exit status.
    pub fn error(text: impl Into<String>, status: u32) -> Reply {
        Reply {
            lines: vec![text.into()],
            status,
            close: false,
            stderr: true,
            page_lines: None,
        }
    }

    /// The end of the session.
    pub fn close() -> Reply {
        Reply {
            lines: Vec::new(),
            status: 0,
            close: true,
            stderr: false,
            page_lines: None,
        }
    }
}

/// A device's command interpreter.
pub trait Cli: Send {
    /// The prompt printed when the shell opens and after every command.
    fn prompt(&self) -> String;

    /// Runs one command line (already stripped of its terminator, not empty).
    fn execute(&mut self, line: &str) -> Reply;

    /// Whether a shell opened without a terminal still prompts and echoes. Radios do; a Unix
    /// shell reads its input as a script then (bash: no prompt, no echo, errors on stderr).
    fn prompts_without_terminal(&self) -> bool {
        true
    }

    /// Runs line `number` (from 1) of input read as a script; as [`Cli::execute`] unless the
    /// dialect's messages name the line, as bash's do.
    fn execute_script_line(&mut self, line: &str, number: usize) -> Reply {
        let _ = number;
        self.execute(line)
    }

    /// What the pager prints to erase `--More--` once a key is pressed.
    fn pager_erase(&self) -> &'static [u8] {
        b"\r        \r"
    }

    /// Called once the answer to the last command (and the prompt after it) has been handed
    /// to the client: what a command sets off after answering (a radio applying a new
    /// management address) happens here, so that the answer goes out first.
    fn answered(&mut self) {}

    /// The node the session is on when it is not the address's own device (a TG client node
    /// reached with `connect`), for the events log.
    fn node_name(&self) -> Option<String> {
        None
    }
}

/// The words of a command, whitespace-normalised.
pub fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// The words of a command, a single- or double-quoted value being one word without its
/// quotes (`set ip 1 ip-addr 'static 10.0.0.5'`); `None` when a quote is not closed.
pub fn quoted_words(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut word = String::new();
        if c == '\'' || c == '"' {
            chars.next();
            loop {
                match chars.next() {
                    Some(end) if end == c => break,
                    Some(other) => word.push(other),
                    None => return None,
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                word.push(c);
                chars.next();
            }
        }
        words.push(word);
    }
    Some(words)
}

/// `key : value` padded as the Siklu CLI prints it: the key left-aligned in `width` columns,
/// one space before the colon at least, exactly one after it.
pub fn field(key: &str, width: usize, value: impl std::fmt::Display) -> String {
    let width = width.max(key.len() + 1);
    format!("{key:<width$}: {value}")
}

/// A value as the EH CLI prints it: quoted when it holds a space.
pub fn quoted(value: &str) -> String {
    if value.contains(char::is_whitespace) {
        format!("\"{value}\"")
    } else {
        value.to_owned()
    }
}

/// The text after the first `n` words of a line, surrounding quotes removed
/// (`set system location "Roof North"` → `Roof North`).
pub fn rest_after(line: &str, n: usize) -> Option<String> {
    let mut rest = line.trim_start();
    for _ in 0..n {
        let end = rest.find(char::is_whitespace)?;
        rest = rest[end..].trim_start();
    }
    let rest = rest.trim_end();
    let rest = rest
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(rest);
    (!rest.is_empty()).then(|| rest.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_have_one_space_after_the_colon() {
        assert_eq!(
            field("system name", 26, "x"),
            "system name               : x"
        );
        assert_eq!(
            field("system heartbeat-trap-interval", 26, 0),
            "system heartbeat-trap-interval : 0"
        );
    }

    #[test]
    fn quoted_values_are_one_word() {
        assert_eq!(
            quoted_words("set ip 1  ip-addr 'static 10.0.0.5' vlan \"1 2\"").as_deref(),
            Some(
                [
                    "set",
                    "ip",
                    "1",
                    "ip-addr",
                    "static 10.0.0.5",
                    "vlan",
                    "1 2"
                ]
                .map(str::to_owned)
                .as_slice()
            )
        );
        assert_eq!(quoted_words("set rf mode 'adaptive"), None);
    }

    #[test]
    fn rest_after_strips_words_and_quotes() {
        assert_eq!(
            rest_after("set system location  \"Roof North\" ", 3).as_deref(),
            Some("Roof North")
        );
        assert_eq!(rest_after("set system location", 3), None);
    }
}
