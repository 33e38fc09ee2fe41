//! `--format text`: the report a person reads in a mail or a cron log. The counts come first,
//! on one line, then one block per radio:
//!
//! ```text
//! 2 changed, 1 moved, 0 appeared, 1 vanished (OLD old.ndjson: 120 radios; NEW new/: 119 radios)
//!
//! changed 127.0.0.5 Roof-North (sn F12345)
//!   sw: 7.7.10 -> 7.7.12
//!   config:
//!     --- old.ndjson 127.0.0.5 Roof-North config
//!     ...
//! ```

use std::fmt::Write as _;

use serde_json::Value;

use super::event::Event;
use super::matcher::{Change, Counts};

/// How many events of each kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// `changed` events.
    pub changed: u64,
    /// `moved` events.
    pub moved: u64,
    /// `appeared` events.
    pub appeared: u64,
    /// `vanished` events.
    pub vanished: u64,
}

impl Tally {
    /// Counts one event.
    pub fn add(&mut self, change: Change) {
        match change {
            Change::Changed => self.changed += 1,
            Change::Moved => self.moved += 1,
            Change::Appeared => self.appeared += 1,
            Change::Vanished => self.vanished += 1,
        }
    }

    /// Every event.
    pub fn total(&self) -> u64 {
        self.changed + self.moved + self.appeared + self.vanished
    }

    /// `2 changed, 1 moved, 0 appeared, 1 vanished (OLD …: N radios; NEW …: M radios)`.
    pub fn line(&self, counts: &Counts, old: &str, new: &str) -> String {
        format!(
            "{} changed, {} moved, {} appeared, {} vanished (OLD {old}: {} radios; NEW {new}: {} radios)",
            self.changed,
            self.moved,
            self.appeared,
            self.vanished,
            counts.old_radios,
            counts.new_radios
        )
    }
}

/// The text report: the counts line, then a block per event.
pub fn render(events: &[Event], tally: &Tally, counts: &Counts, old: &str, new: &str) -> String {
    let mut text = tally.line(counts, old, new);
    text.push('\n');
    for event in events {
        text.push('\n');
        block(&mut text, event);
    }
    text
}

fn block(text: &mut String, event: &Event) {
    let _ = write!(text, "{}", event.change.as_str());
    match (&event.route, event.ip) {
        (Some(route), _) => {
            let _ = write!(text, " {route}");
        }
        (None, Some(ip)) => {
            let _ = write!(text, " {ip}");
            if let Some(port) = event.port.filter(|&port| port != 22) {
                let _ = write!(text, ":{port}");
            }
        }
        (None, None) => {}
    }
    if let Some(name) = &event.name {
        let _ = write!(text, " {name}");
    }
    if let Some(sn) = &event.sn {
        let _ = write!(text, " (sn {sn})");
    }
    text.push('\n');
    for (field, pair) in &event.fields {
        let side = |i: usize| shown(pair.get(i).unwrap_or(&Value::Null));
        let _ = writeln!(text, "  {field}: {} -> {}", side(0), side(1));
    }
    for (field, side) in &event.config_missing {
        let side = side.as_str().unwrap_or("?").to_uppercase();
        let _ = writeln!(text, "  {field}: not read in {side}, not compared");
    }
    for (field, diff) in [
        ("config", &event.config_diff),
        ("startup_config", &event.startup_config_diff),
    ] {
        if let Some(diff) = diff {
            let _ = writeln!(text, "  {field}:");
            for line in diff.lines() {
                let _ = writeln!(text, "    {line}");
            }
        }
    }
}

/// A value as a person reads it: text without quotes, nothing as `(none)`, the rest as JSON.
fn shown(value: &Value) -> String {
    match value {
        Value::Null => "(none)".to_owned(),
        Value::String(text) if text.is_empty() => "\"\"".to_owned(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
