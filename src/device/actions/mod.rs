//! What sikprobe does on a radio once it is identified: one [`Action`] variant per action,
//! each run by the function of its own file here, and what every action shares (sending a
//! command, telling a CLI error, judging the commands sent).
//!
//! Adding an action means a variant, a file with its function, and a line in [`run`]: the
//! probe engine does not change. An action that changes a radio also has a `plan` function
//! beside its `run`: the commands it would send, which `--dry-run` records unsent in their
//! place (see [`plan`]).

pub mod backup;
pub mod exec;
pub mod guard;
pub mod script;
pub mod set_tod;
pub mod show;

use std::time::{Duration, Instant};

use super::identify;
use super::redial::Redial;
use super::session::{CliSession, PromptMatch, SessionError};
use crate::record::{CommandResult, RadioType, Record, Status};
use crate::transport::Shell;

pub use guard::{Check, Guard};
pub use set_tod::{ClockSource, WallClock};

/// What to do on each radio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Identify and report.
    Scan,
    /// Send the per-type `show` commands and parse them into `show`.
    Show,
    /// Send these commands in order.
    Script(Vec<String>),
    /// Set the radio's clock and read it back.
    SetTod(ClockSource),
    /// Read the radio's configuration texts into `config` and `startup_config`.
    Backup,
    /// Send these commands under the rollback timer, verify from a new session, then confirm
    /// (`--guard`).
    GuardedScript(Box<Guard>),
}

/// How every action sends its commands and judges their answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionOptions {
    /// How long to wait for each command's answer.
    pub command_timeout: Duration,
    /// Stop a script at its first failed command.
    pub stop_on_error: bool,
    /// A failed command does not make the status `command-failed`.
    pub allow_errors: bool,
    /// Send nothing that changes a radio: record the commands the action would send, unsent
    /// (`--dry-run`).
    pub dry_run: bool,
}

impl Action {
    /// True for the actions that change a radio, the ones `--dry-run` can plan.
    pub fn changes_radios(&self) -> bool {
        match self {
            Action::Scan | Action::Show | Action::Backup => false,
            Action::Script(_) | Action::SetTod(_) | Action::GuardedScript(_) => true,
        }
    }
}

/// The commands `action` would send to a radio of `radio_type`, in order; `None` for an
/// action that changes nothing and has nothing to plan.
pub fn plan(action: &Action, radio_type: RadioType) -> Option<Vec<String>> {
    match action {
        Action::Scan | Action::Show | Action::Backup => None,
        Action::Script(commands) => Some(script::plan(commands)),
        Action::SetTod(source) => Some(set_tod::plan(radio_type, source)),
        Action::GuardedScript(guard) => Some(guard.plan()),
    }
}

/// Appends `commands` to the record, each unsent (`--dry-run`).
pub fn record_plan(record: &mut Record, commands: Vec<String>) {
    for command in commands {
        record.push_command(CommandResult::unsent(command));
    }
}

/// Runs `action` on an identified radio, and follows a prompt the action changed (a renamed
/// radio). Commands are recorded as they complete, so a deadline cut keeps them; a radio of
/// unknown type is left as it is. Under `--dry-run` the action's plan is recorded instead, and
/// nothing is sent. `redial` opens new sessions to the same radio, for the actions that need
/// one.
pub async fn run<S: Shell, R: Redial>(
    action: &Action,
    session: &mut CliSession<S>,
    options: &ActionOptions,
    record: &mut Record,
    redial: &R,
) -> Result<(), SessionError> {
    let acted = act(action, session, options, record, redial).await;
    identify::follow_prompt(record, session.prompt());
    acted
}

async fn act<S: Shell, R: Redial>(
    action: &Action,
    session: &mut CliSession<S>,
    options: &ActionOptions,
    record: &mut Record,
    redial: &R,
) -> Result<(), SessionError> {
    let Some(radio_type) = record.radio_type else {
        return Ok(());
    };
    if matches!(action, Action::GuardedScript(_)) && radio_type == RadioType::Tg {
        guard::refuse_tg(record);
        return Ok(());
    }
    if options.dry_run {
        record_plan(record, plan(action, radio_type).unwrap_or_default());
        return Ok(());
    }
    match action {
        Action::Scan => {}
        Action::Show => show::run(session, options, record, radio_type).await?,
        Action::Script(commands) => script::run(session, options, record, commands).await?,
        Action::SetTod(source) => {
            set_tod::run(session, options, record, radio_type, source).await?;
        }
        Action::Backup => backup::run(session, options, record, radio_type).await?,
        // The guard judges its own commands: a failed one is a change left to the timer.
        Action::GuardedScript(guard) => {
            return guard::run(guard, session, options, record, redial).await;
        }
    }
    mark_failed_commands(options, record);
    Ok(())
}

/// The CLI error markers batchscanner knew (`Ambiguous command`, `CLI syntax error`, …); a line
/// of output starting with one marks the command failed. batchscanner searched the whole
/// output, so a `show log` mentioning "Invalid" failed.
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

/// Sends one command and returns what it answered, judged.
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
        elapsed_ms: millis(clock.elapsed()),
        exit_status: None,
        stderr: None,
        sent: true,
    })
}

/// Sends one command and appends it to the record; returns whether it succeeded.
pub async fn send<S: Shell>(
    session: &mut CliSession<S>,
    options: &ActionOptions,
    record: &mut Record,
    command: &str,
) -> Result<bool, SessionError> {
    let result = run_command(session, command, options.command_timeout).await?;
    let ok = result.ok;
    record.push_command(result);
    Ok(ok)
}

/// `command-failed` when a command failed, unless `--allow-errors`.
pub fn mark_failed_commands(options: &ActionOptions, record: &mut Record) {
    if options.allow_errors {
        return;
    }
    let Some(failed) = record
        .commands
        .iter()
        .flatten()
        .find(|command| command.sent && !command.ok)
    else {
        return;
    };
    let why = match failed.exit_status {
        Some(code) if code != 0 => format!("exited {code}"),
        _ => format!(
            "answered: {}",
            failed
                .output
                .lines()
                .chain(failed.stderr.iter().flat_map(|e| e.lines()))
                .next()
                .unwrap_or_default()
        ),
    };
    let error = format!("'{}' {why}", failed.command);
    record.fail(Status::CommandFailed, error);
}

/// Milliseconds, saturating.
pub(crate) fn millis(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
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
}
