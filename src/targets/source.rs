//! Reading address specifications from arguments and network files, with locations for errors.
//!
//! A network file is batchscanner's (reference §1): one specification per line, blank lines and
//! `#` comments, and `username = …` / `password = …` lines that scope credentials over the
//! addresses below them. sikscan adds inline `# comments` after a specification.

use std::fmt;
use std::io::BufRead;

use super::set::{AddrRange, AddrSet};
use super::spec::{Hosts, Spec, SpecError, parse_checked};
use crate::pipe::{BoundedLines, InputName};

/// Longest line kept from a network file; longer lines are reported, not read whole.
pub const MAX_LINE: usize = 4096;

/// Where a specification came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Line `line` of a file or of standard input.
    Line(InputName, u64),
    /// The n-th (1-based) positional argument.
    Argument(usize),
    /// The n-th (1-based) `--exclude` value.
    ExcludeArgument(usize),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Line(name, line) => write!(f, "{name}:{line}"),
            Origin::Argument(n) => write!(f, "argument {n}"),
            Origin::ExcludeArgument(n) => write!(f, "--exclude {n}"),
        }
    }
}

/// What one line of a network file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind<'a> {
    /// Blank or a full-line comment.
    Blank,
    /// `username = NAME`: the user for the addresses below.
    Username(&'a str),
    /// `password = SECRET`: the password for the addresses below.
    Password(&'a str),
    /// An address specification, inline comment removed.
    Spec(&'a str),
}

/// Classifies a line by batchscanner's rules: comments first, then a `username =` anywhere in
/// the line, then `password =`, then a specification. Credential values are the first
/// non-blank token after `=`, taken before comments are stripped so a `#` may appear in them.
pub fn classify_line(line: &str) -> LineKind<'_> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return LineKind::Blank;
    }
    if let Some(user) = credential_value(line, "username") {
        return LineKind::Username(user);
    }
    if let Some(password) = credential_value(line, "password") {
        return LineKind::Password(password);
    }
    let spec = line.split_once('#').map_or(line, |(spec, _)| spec).trim();
    if spec.is_empty() {
        LineKind::Blank
    } else {
        LineKind::Spec(spec)
    }
}

/// Finds `[Uu]sername\s*=\s*(\S+)` (or the password form) anywhere in the line, as
/// batchscanner's regex search does: the initial in either case, the rest in lower case.
fn credential_value<'a>(line: &'a str, keyword: &str) -> Option<&'a str> {
    let (initial, rest) = keyword.split_at(1);
    let bytes = line.as_bytes();
    for (at, _) in line.match_indices(rest) {
        if at == 0 || !bytes[at - 1].eq_ignore_ascii_case(&initial.as_bytes()[0]) {
            continue;
        }
        let after = line[at + rest.len()..].trim_start();
        if let Some(token) = after
            .strip_prefix('=')
            .and_then(|value| value.split_whitespace().next())
        {
            return Some(token);
        }
    }
    None
}

/// A token that is not a valid specification, where it was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: '{}': {reason}", shown_token(.token))]
pub struct LocatedError {
    /// Where the token was.
    pub origin: Origin,
    /// The token as written (shown shortened and with anything after `=` hidden).
    pub token: String,
    /// Why it was refused.
    pub reason: LineFault,
}

/// Why a line could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineFault {
    /// The specification does not parse.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The line is not UTF-8 text (binary input?).
    #[error("not UTF-8 text")]
    NotText,
    /// The line is longer than [`MAX_LINE`].
    #[error("line longer than {MAX_LINE} bytes")]
    TooLong,
}

/// Tokens are quoted back to the user shortened, with control characters escaped (binary input
/// must not drive the terminal), and a token that looks like a misspelt credential line
/// (`passwd=…`) has its value hidden, so a secret never reaches the terminal.
fn shown_token(token: &str) -> String {
    const SHOWN: usize = 60;
    let (visible, suffix) = match token.split_once('=') {
        Some((key, _)) => (key, "=…"),
        None if token.chars().count() > SHOWN => (token, "…"),
        None => (token, ""),
    };
    let mut shown = String::with_capacity(visible.len() + suffix.len());
    for c in visible.chars().take(SHOWN) {
        if c.is_control() {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    shown.push_str(suffix);
    shown
}

/// Reads a network file line by line and hands each line to `visit`, classified, or with the
/// reason it cannot be read (too long, not UTF-8) and its text as far as it can be shown.
pub fn read_lines(
    name: &InputName,
    reader: impl BufRead,
    mut visit: impl FnMut(Origin, Result<LineKind<'_>, (String, LineFault)>),
) -> std::io::Result<()> {
    let mut lines = BoundedLines::new(reader, MAX_LINE);
    while let Some(line) = lines.next_line()? {
        let origin = Origin::Line(name.clone(), line.number);
        match std::str::from_utf8(line.bytes) {
            _ if line.truncated => visit(
                origin,
                Err((
                    String::from_utf8_lossy(line.bytes).into_owned(),
                    LineFault::TooLong,
                )),
            ),
            Ok(text) => visit(origin, Ok(classify_line(text))),
            Err(_) => visit(
                origin,
                Err((
                    String::from_utf8_lossy(line.bytes).into_owned(),
                    LineFault::NotText,
                )),
            ),
        }
    }
    Ok(())
}

/// Collects specifications from every input into ranges, gathering every error so they can
/// all be reported before anything is printed.
#[derive(Debug)]
pub struct Collector {
    hosts: Hosts,
    ranges: Vec<AddrRange>,
    errors: Vec<LocatedError>,
}

impl Collector {
    /// A collector expanding CIDR blocks as `hosts` says.
    pub fn new(hosts: Hosts) -> Self {
        Collector {
            hosts,
            ranges: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Adds one line of text (an argument, or a line of a file), as the network-file grammar
    /// reads it; credential lines are accepted and ignored here.
    pub fn add_line(&mut self, origin: Origin, text: &str) {
        if let LineKind::Spec(token) = classify_line(text) {
            match parse_checked(token) {
                Ok(spec) => self.add_spec(&spec),
                Err(err) => self.fail(origin, token, err.into()),
            }
        }
    }

    /// Adds a parsed specification.
    pub fn add_spec(&mut self, spec: &Spec) {
        spec.ranges(self.hosts, &mut self.ranges);
    }

    /// Reads every line of an input.
    pub fn add_reader(&mut self, name: &InputName, reader: impl BufRead) -> std::io::Result<()> {
        read_lines(name, reader, |origin, line| match line {
            Ok(LineKind::Spec(token)) => match parse_checked(token) {
                Ok(spec) => self.add_spec(&spec),
                Err(err) => self.fail(origin, token, err.into()),
            },
            Ok(_) => {}
            Err((text, fault)) => self.fail(origin, &text, fault),
        })
    }

    fn fail(&mut self, origin: Origin, token: &str, reason: LineFault) {
        self.errors.push(LocatedError {
            origin,
            token: token.trim().to_owned(),
            reason,
        });
    }

    /// The merged set, or every error found.
    pub fn finish(self) -> Result<AddrSet, Vec<LocatedError>> {
        if self.errors.is_empty() {
            Ok(AddrSet::from_ranges(self.ranges))
        } else {
            Err(self.errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_classify_like_batchscanner() {
        assert_eq!(classify_line("  # x"), LineKind::Blank);
        assert_eq!(classify_line("username = a"), LineKind::Username("a"));
        assert_eq!(
            classify_line("  Password=xyz extra"),
            LineKind::Password("xyz")
        );
        assert_eq!(
            classify_line("username=a password=b"),
            LineKind::Username("a")
        );
        assert_eq!(classify_line("password = p#ss"), LineKind::Password("p#ss"));
        assert_eq!(classify_line("10.0.0.1 # core"), LineKind::Spec("10.0.0.1"));
        assert_eq!(classify_line("USERNAME=x"), LineKind::Spec("USERNAME=x"));
    }

    #[test]
    fn errors_hide_credential_looking_values() {
        let mut collector = Collector::new(Hosts::Usable);
        collector.add_line(Origin::Argument(1), "passwd=hunter2");
        let errors = collector.finish().unwrap_err();
        let message = errors[0].to_string();
        assert!(!message.contains("hunter2"), "{message}");
        assert!(message.starts_with("argument 1: 'passwd=…': "), "{message}");
    }
}
