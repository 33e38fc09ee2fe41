//! The events log siksim appends to with `--events FILE` (src/sim/events.rs), read back: what
//! each radio saw (logins, commands, disconnects, the rollback timer, reboots, management
//! cuts, saves) and in which order.

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::Deserialize;

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// When, in milliseconds since the UNIX epoch.
    pub t_ms: u64,
    /// The address it happened at.
    pub ip: Ipv4Addr,
    /// A TG client node reached through the DN at `ip`, else null.
    pub node: Option<String>,
    /// The connection it belongs to; null for what happens to the radio itself (its rollback
    /// timer running out, a reboot, coming back up).
    pub session: Option<u64>,
    /// `login`, `command`, `disconnect`, `rollback-armed`, `rollback-cleared`,
    /// `rollback-expired`, `reboot`, `up`, `management-cut` or `saved`.
    pub event: String,
    /// The command line, for `command` events only.
    #[serde(default)]
    pub command: Option<String>,
}

/// Every event logged so far (none when the file does not exist yet); panics on a line that
/// is not an event.
pub fn read(path: &Path) -> Vec<Event> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(err) => panic!("{}: {err}", path.display()),
    };
    text.lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not an event ({e}): {line}"))
        })
        .collect()
}

/// The events of one address, in order.
pub fn of(events: &[Event], ip: Ipv4Addr) -> Vec<Event> {
    events.iter().filter(|e| e.ip == ip).cloned().collect()
}

/// Polls the log until `ip` has logged an event that `wanted` accepts, and returns every
/// event of `ip` so far; panics with them after `timeout`. `what` names the wait in the panic.
#[track_caller]
pub fn wait_until(
    path: &Path,
    ip: Ipv4Addr,
    what: &str,
    timeout: Duration,
    wanted: impl Fn(&Event) -> bool,
) -> Vec<Event> {
    let deadline = Instant::now() + timeout;
    loop {
        let seen = of(&read(path), ip);
        if seen.iter().any(&wanted) {
            return seen;
        }
        if Instant::now() >= deadline {
            panic!("{ip} logged no {what} within {timeout:?}: {seen:#?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// [`wait_until`] `ip` logs `event`.
#[track_caller]
pub fn wait_for(path: &Path, ip: Ipv4Addr, event: &str, timeout: Duration) -> Vec<Event> {
    wait_until(path, ip, event, timeout, |e| e.event == event)
}

/// [`wait_until`] `ip` logs the command `command`.
#[track_caller]
pub fn wait_for_command(path: &Path, ip: Ipv4Addr, command: &str, timeout: Duration) -> Vec<Event> {
    wait_until(path, ip, command, timeout, |e| {
        e.command.as_deref() == Some(command)
    })
}

/// The event names of `events`, in order.
pub fn names(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.event.as_str()).collect()
}
