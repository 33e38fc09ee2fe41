//! The commit message of a run: counts a person reads in `git log --oneline`, then which
//! radios, section by section.
//!
//! ```text
//! 2 changed, 1 appeared, 1 could not be read, 1 with unsaved changes (5 radios read)
//!
//! changed:
//!   10.0.0.6.cfg  radio-6  F06
//! ...
//! ```

use std::fmt::Write as _;

/// Radios listed in one section at most; `git show --stat` lists every file anyway.
const LISTED: usize = 1000;

/// A radio as a message names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// Its file in the archive.
    pub file: String,
    /// System name.
    pub name: Option<String>,
    /// Serial number.
    pub sn: Option<String>,
}

/// What a run did to the archive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Radios whose archived configuration changed.
    pub changed: Vec<Named>,
    /// Radios archived for the first time.
    pub appeared: Vec<Named>,
    /// Radios whose record has no configuration, and why (status: error); true when their
    /// last file was kept.
    pub unreadable: Vec<(Named, String, bool)>,
    /// Radios read with unsaved changes (running differs from startup).
    pub unsaved: Vec<Named>,
    /// Radios whose index line changed but not their configuration, and which columns.
    pub updated: Vec<(Named, Vec<&'static str>)>,
    /// Radios read in the run (with or without a configuration).
    pub radios: usize,
    /// The run was stopped by a signal before its input ended.
    pub interrupted: bool,
}

impl Summary {
    /// The first line: the counts.
    pub fn subject(&self) -> String {
        let mut subject = format!(
            "{} changed, {} appeared, {} could not be read, {} with unsaved changes",
            self.changed.len(),
            self.appeared.len(),
            self.unreadable.len(),
            self.unsaved.len()
        );
        if !self.updated.is_empty() {
            let _ = write!(subject, ", {} details changed", self.updated.len());
        }
        let _ = write!(
            subject,
            " ({} {} read{})",
            self.radios,
            if self.radios == 1 { "radio" } else { "radios" },
            if self.interrupted {
                ", interrupted"
            } else {
                ""
            }
        );
        subject
    }

    /// The whole message: the subject, a blank line, one section per kind of change.
    pub fn message(&self) -> String {
        let mut text = self.subject();
        text.push('\n');
        if self.interrupted {
            text.push_str("\nThe run was interrupted: radios it did not reach keep their files.\n");
        }
        section(&mut text, "changed", &self.changed, |_| String::new());
        section(&mut text, "appeared", &self.appeared, |_| String::new());
        let unreadable: Vec<Named> = self.unreadable.iter().map(|(n, _, _)| n.clone()).collect();
        section(
            &mut text,
            "could not be read (their last files are kept)",
            &unreadable,
            |i| {
                let (_, why, kept) = &self.unreadable[i];
                format!(": {why}{}", if *kept { "" } else { " (no file yet)" })
            },
        );
        section(
            &mut text,
            "with unsaved changes (running differs from startup)",
            &self.unsaved,
            |_| String::new(),
        );
        let updated: Vec<Named> = self.updated.iter().map(|(n, _)| n.clone()).collect();
        section(
            &mut text,
            "details changed (same configuration)",
            &updated,
            |i| format!(": {}", self.updated[i].1.join(", ")),
        );
        text
    }
}

fn section(text: &mut String, title: &str, radios: &[Named], extra: impl Fn(usize) -> String) {
    if radios.is_empty() {
        return;
    }
    let _ = write!(text, "\n{title}:\n");
    for (i, radio) in radios.iter().enumerate().take(LISTED) {
        let _ = write!(text, "  {}", radio.file);
        for value in [&radio.name, &radio.sn].into_iter().flatten() {
            let _ = write!(text, "  {value}");
        }
        text.push_str(&extra(i));
        text.push('\n');
    }
    if radios.len() > LISTED {
        let _ = writeln!(
            text,
            "  ... and {} more (git show --stat lists every file)",
            radios.len() - LISTED
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(file: &str) -> Named {
        Named {
            file: file.into(),
            name: Some(format!("name-{file}")),
            sn: None,
        }
    }

    #[test]
    fn the_message_counts_then_lists() {
        let summary = Summary {
            changed: vec![named("10.0.0.6.cfg")],
            appeared: vec![named("10.0.0.7.cfg"), named("10.0.0.8.cfg")],
            unreadable: vec![(named("10.0.0.9.cfg"), "auth-failed: denied".into(), true)],
            unsaved: vec![named("10.0.0.6.cfg")],
            updated: vec![],
            radios: 5,
            interrupted: false,
        };
        let message = summary.message();
        let lines: Vec<&str> = message.lines().collect();
        assert_eq!(
            lines[0],
            "1 changed, 2 appeared, 1 could not be read, 1 with unsaved changes (5 radios read)"
        );
        assert_eq!(lines[1], "");
        assert_eq!(lines[2], "changed:");
        assert_eq!(lines[3], "  10.0.0.6.cfg  name-10.0.0.6.cfg");
        assert!(lines.contains(&"  10.0.0.9.cfg  name-10.0.0.9.cfg: auth-failed: denied"));
        assert!(!message.contains("details changed"));
    }
}
