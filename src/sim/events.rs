//! The events log (`siksim --events FILE`): one NDJSON line per thing that happens to a
//! simulated device (a login, each command, a disconnect, the rollback timer armed, cleared or
//! run out, a reboot, the address answering again, a management cut, a saved configuration),
//! appended as it happens, so a test can prove what a radio saw and in which order.
//!
//! The file is opened with `O_APPEND` and every line goes out in one `write`, so the worker
//! processes of one fleet (see [`super::workers`]) can share it without tearing lines.
//! Commands are logged with secrets masked ([`redact`]): never a password.

use std::fs::File;
use std::io::{self, Write};
use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::cli::{Cli, Reply};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Event {
    /// The credentials were accepted (SSH authentication, or the Telnet login).
    Login,
    /// A command line was run (its text is in the line's `command`).
    Command,
    /// A session that logged in ended, whoever ended it.
    Disconnect,
    /// `set rollback timeout N` with N > 0 armed the rollback timer.
    RollbackArmed,
    /// `clear rollback` (or `set rollback timeout 0`) disarmed it.
    RollbackCleared,
    /// The armed timer ran out with no command: the radio reboots.
    RollbackExpired,
    /// The radio is down: its sessions are gone and its address refuses connections.
    Reboot,
    /// The radio listens at its address again, running its startup configuration.
    Up,
    /// The management address moved away: sessions gone, the address refuses connections.
    ManagementCut,
    /// `copy running-configuration startup-configuration` saved the configuration.
    Saved,
}

/// The text that replaces a secret in a logged command.
pub const MASK: &str = "********";

/// Where events go: a shared append-only file, or nowhere.
#[derive(Debug, Clone, Default)]
pub struct Events {
    file: Option<Arc<File>>,
    /// Set once a write failed, so the warning is printed once, not per event.
    failed: Arc<AtomicBool>,
}

/// One line of the log, in the order its fields are printed.
#[derive(Serialize)]
struct Line<'a> {
    t_ms: u64,
    ip: Ipv4Addr,
    node: Option<&'a str>,
    session: Option<u64>,
    event: Event,
    #[serde(skip_serializing_if = "Option::is_none")]
    command: Option<&'a str>,
}

impl Events {
    /// Appends to `path` (created when missing).
    pub fn open(path: &Path) -> io::Result<Events> {
        let file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)?;
        Ok(Events {
            file: Some(Arc::new(file)),
            failed: Arc::default(),
        })
    }

    /// True when events are written somewhere.
    pub fn enabled(&self) -> bool {
        self.file.is_some()
    }

    /// Appends one event; a failed write is reported once on stderr and serving goes on.
    pub fn emit(
        &self,
        ip: Ipv4Addr,
        node: Option<&str>,
        session: Option<u64>,
        event: Event,
        command: Option<&str>,
    ) {
        let Some(file) = &self.file else {
            return;
        };
        let line = Line {
            t_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
            ip,
            node,
            session,
            event,
            command,
        };
        let Ok(mut text) = serde_json::to_vec(&line) else {
            return;
        };
        text.push(b'\n');
        // One write of the whole line: with O_APPEND, lines from several processes never
        // interleave.
        if let Err(err) = (&**file).write_all(&text)
            && !self.failed.swap(true, Ordering::Relaxed)
        {
            crate::pipe::warn(format!("cannot write the events log: {err}"));
        }
    }
}

/// A session id unique within the machine's running processes: the process id in the high 32
/// bits, a per-process count in the low ones.
pub fn next_session_id() -> u64 {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    (u64::from(std::process::id()) << 32) | u64::from(NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The events of one session (one SSH or Telnet connection) to one address.
#[derive(Debug, Clone)]
pub struct SessionLog {
    events: Events,
    ip: Ipv4Addr,
    id: u64,
}

impl SessionLog {
    /// A new session to `ip`, with a fresh id.
    pub fn new(events: Events, ip: Ipv4Addr) -> SessionLog {
        SessionLog {
            events,
            ip,
            id: next_session_id(),
        }
    }

    /// The session's id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// True when the session's events are written somewhere.
    pub fn logs(&self) -> bool {
        self.events.enabled()
    }

    /// Logs an event of this session on the radio itself (not a TG client node).
    pub fn emit(&self, event: Event) {
        self.events.emit(self.ip, None, Some(self.id), event, None);
    }

    /// Logs a command run on `node` (None: the address's own device).
    fn command(&self, node: Option<&str>, text: &str) {
        self.events
            .emit(self.ip, node, Some(self.id), Event::Command, Some(text));
    }
}

/// A session's login, logged once; its disconnect is logged when this is dropped (the
/// connection's end, however it came).
#[derive(Debug)]
pub struct Visit {
    log: SessionLog,
    logged_in: bool,
}

impl Visit {
    /// A connection not logged in yet.
    pub fn new(log: SessionLog) -> Visit {
        Visit {
            log,
            logged_in: false,
        }
    }

    /// The session's events.
    pub fn log(&self) -> &SessionLog {
        &self.log
    }

    /// The credentials were accepted.
    pub fn login(&mut self) {
        if !std::mem::replace(&mut self.logged_in, true) {
            self.log.emit(Event::Login);
        }
    }
}

impl Drop for Visit {
    fn drop(&mut self) {
        if self.logged_in {
            self.log.emit(Event::Disconnect);
        }
    }
}

/// A command line as the log keeps it: the text after a word naming a password or secret
/// (`set user x password S`) masked, and a line that is the login password itself (typed at
/// the prompt by a confused client) masked whole.
pub fn redact(line: &str, password: &str) -> String {
    if !password.is_empty() && line.trim() == password {
        return MASK.to_owned();
    }
    let mut rest = line;
    let mut kept = String::new();
    while let Some(start) = rest.find(|c: char| !c.is_whitespace()) {
        let end = rest[start..]
            .find(char::is_whitespace)
            .map_or(rest.len(), |n| start + n);
        let word = rest[start..end].to_ascii_lowercase();
        kept.push_str(&rest[..end]);
        rest = &rest[end..];
        if (word.contains("password") || word.contains("secret")) && !rest.trim().is_empty() {
            kept.push(' ');
            kept.push_str(MASK);
            return kept;
        }
    }
    kept.push_str(rest);
    kept
}

/// A command line whose every command is logged before it runs.
pub struct Logged {
    inner: Box<dyn Cli>,
    log: SessionLog,
    password: String,
}

impl Logged {
    /// Logs the commands of `inner` as commands of `log`'s session, masking `password`.
    pub fn new(inner: Box<dyn Cli>, log: SessionLog, password: &str) -> Logged {
        Logged {
            inner,
            log,
            password: password.to_owned(),
        }
    }

    fn record(&self, line: &str) {
        let node = self.inner.node_name();
        self.log
            .command(node.as_deref(), &redact(line, &self.password));
    }
}

impl Cli for Logged {
    fn prompt(&self) -> String {
        self.inner.prompt()
    }

    fn execute(&mut self, line: &str) -> Reply {
        self.record(line);
        self.inner.execute(line)
    }

    fn prompts_without_terminal(&self) -> bool {
        self.inner.prompts_without_terminal()
    }

    fn execute_script_line(&mut self, line: &str, number: usize) -> Reply {
        self.record(line);
        self.inner.execute_script_line(line, number)
    }

    fn pager_erase(&self) -> &'static [u8] {
        self.inner.pager_erase()
    }

    fn answered(&mut self) {
        self.inner.answered();
    }

    fn node_name(&self) -> Option<String> {
        self.inner.node_name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_and_other_commands_kept() {
        assert_eq!(redact("show system", "pw"), "show system");
        assert_eq!(
            redact("set user admin password S3cret x", "pw"),
            "set user admin password ********"
        );
        assert_eq!(
            redact("set base-unit  password 'a b'", "pw"),
            "set base-unit  password ********"
        );
        assert_eq!(redact("  pw ", "pw"), MASK);
        assert_eq!(
            redact("set system name pw-site", "pw"),
            "set system name pw-site"
        );
        assert_eq!(redact("show password", "pw"), "show password");
    }

    #[test]
    fn lines_are_appended_whole_with_the_fields_in_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("events.ndjson");
        let events = Events::open(&path).expect("opens");
        let ip = Ipv4Addr::new(127, 228, 0, 1);
        let log = SessionLog::new(events.clone(), ip);
        {
            let mut visit = Visit::new(log.clone());
            visit.login();
            visit.login();
            log.command(None, "show rf");
        }
        events.emit(ip, None, None, Event::Reboot, None);
        let text = std::fs::read_to_string(&path).expect("written");
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON"))
            .collect();
        let kinds: Vec<&str> = lines
            .iter()
            .map(|l| l["event"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(kinds, ["login", "command", "disconnect", "reboot"]);
        assert_eq!(lines[1]["command"], "show rf");
        assert!(lines[0].get("command").is_none());
        assert_eq!(lines[0]["session"], log.id());
        assert!(lines[3]["session"].is_null());
        assert_eq!(log.id() >> 32, u64::from(std::process::id()));
        let first = text.lines().next().expect("a line");
        assert!(
            first.starts_with("{\"t_ms\":")
                && first.contains(",\"ip\":\"127.228.0.1\",\"node\":null,\"session\":"),
            "{first}"
        );
    }
}
