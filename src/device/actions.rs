//! What sikprobe does on a radio once it is identified (reference §3.3): nothing (`scan`), the
//! per-type `show` commands, a list of commands (`script`), or setting the clock (`set-tod`).

use std::time::{Duration, Instant};

use super::session::{CliSession, PromptMatch, SessionError};
use crate::record::{CommandResult, RadioType};
use crate::transport::Shell;

/// The CLI error markers of reference §3.2; a line of output starting with one marks the command
/// failed. batchscanner searched the whole output, so a `show log` mentioning "Invalid" failed.
pub const CLI_ERROR_MARKERS: [&str; 5] = [
    "Ambiguous command",
    "CLI syntax error",
    "Validate failed",
    "Error:",
    "Invalid",
];

/// True when a line of the answer starts with a CLI error marker.
pub fn has_cli_error(output: &str) -> bool {
    output.lines().any(|line| {
        let line = line.trim_start();
        CLI_ERROR_MARKERS
            .iter()
            .any(|marker| line.starts_with(marker))
    })
}

/// Sends one command and records it.
pub async fn run_command<S: Shell>(
    session: &mut CliSession<S>,
    command: &str,
    limit: Duration,
) -> Result<CommandResult, SessionError> {
    let clock = Instant::now();
    let output = session.command(command, limit, PromptMatch::Known).await?;
    Ok(CommandResult {
        command: command.trim().to_owned(),
        ok: !has_cli_error(&output),
        output,
        elapsed_ms: u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX),
        exit_status: None,
        stderr: None,
    })
}

/// Reads a script: one command per line, blank lines and `#` comments skipped (batchscanner
/// sent them as empty commands).
pub fn script_commands(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// The wall-clock time to set, as the radio's CLI wants it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallClock {
    /// `YYYY`, `MM`, `DD`.
    pub date: (i32, u32, u32),
    /// `HH`, `MM`, `SS`.
    pub time: (u32, u32, u32),
}

/// The two commands that set a radio's clock (reference §3.3): EH and classic MultiHaul
/// `set system time HH:MM:SS` / `set system date YYYY.MM.DD`, TG `set time` / `set date
/// YYYY-MM-DD`; time first, as batchscanner sends them.
pub fn set_clock_commands(radio_type: RadioType, clock: WallClock) -> [String; 2] {
    let (year, month, day) = clock.date;
    let (hour, minute, second) = clock.time;
    let time = format!("{hour:02}:{minute:02}:{second:02}");
    match radio_type {
        RadioType::Tg => [
            format!("set time {time}"),
            format!("set date {year:04}-{month:02}-{day:02}"),
        ],
        RadioType::Eh | RadioType::Bu | RadioType::Tu => [
            format!("set system time {time}"),
            format!("set system date {year:04}.{month:02}.{day:02}"),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_count_only_at_a_line_start() {
        assert!(has_cli_error("Error: unknown command"));
        assert!(has_cli_error(
            "CLI syntax error in: \"shw\": Unknown command"
        ));
        assert!(has_cli_error("line one\n  Invalid input"));
        assert!(!has_cli_error(
            "Aug 16 06:21:37 sw cad: Invalid frame dropped"
        ));
        assert!(!has_cli_error("system location : Error:Street"));
    }

    #[test]
    fn scripts_skip_blanks_and_comments() {
        assert_eq!(
            script_commands("# set names\nset system name a\n\n  show system  \n"),
            ["set system name a", "show system"]
        );
    }

    #[test]
    fn clock_commands_per_radio_type() {
        let clock = WallClock {
            date: (2026, 11, 21),
            time: (7, 38, 19),
        };
        assert_eq!(
            set_clock_commands(RadioType::Eh, clock),
            ["set system time 07:38:19", "set system date 2026.11.21"]
        );
        assert_eq!(
            set_clock_commands(RadioType::Tg, clock),
            ["set time 07:38:19", "set date 2026-11-21"]
        );
    }
}
