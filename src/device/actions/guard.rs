//! `script --guard`: a change that cannot strand a radio, in the order the vendor recommends
//! (`../shared/reference/fleet-operations.md` §1): read the running configuration (the
//! "before"), arm the rollback timer, send the script, verify from a new session, and only
//! then clear the timer and, with `--save`, save. A change that is not verified is left to the
//! timer, which reboots the radio to its startup configuration; the radio is then waited for,
//! logged in to again and compared with the "before" (`reverted`, or `unconfirmed` for a
//! person to look at).
//!
//! Every command restarts an armed timer, in whatever session it is sent, so the timer runs
//! out `timeout` after the last command sent to the radio: verification is tried again until
//! half the guard has passed since the script's last command ([`VERIFY_SHARE`]), which leaves
//! the other half for `clear rollback`; the revert is looked for only once the timer has run out, as a login
//! before the reboot would read the changed configuration and start the timer over.

use std::time::Duration;

use regex::Regex;
use tokio::time::{Instant, sleep, sleep_until};

use super::backup::{RUNNING, sha256_hex};
use super::{ActionOptions, has_cli_error, millis, run_command};
use crate::device::redial::Redial;
use crate::device::session::{CliSession, SessionError};
use crate::record::{
    CommandResult, GuardOutcome, GuardReport, RadioType, Record, Status, VerifyResult,
};
use crate::transport::Shell;

/// Disarms the timer: the change is confirmed.
pub const CLEAR: &str = "clear rollback";
/// What [`CLEAR`] answers when it worked.
pub const CLEARED: &str = "rollback cleared";
/// Saves the running configuration as the startup one (`--save`).
pub const SAVE: &str = "copy running-configuration startup-configuration";
/// The share of the guard, from the last command sent, within which verification is tried.
pub const VERIFY_SHARE: f64 = 0.5;
/// The pause between two verification attempts, and between two logins while waiting for a
/// reverted radio.
pub const RETRY_EVERY: Duration = Duration::from_secs(1);

/// The rollback timeout's range, in seconds, as the radio accepts it.
pub const TIMEOUT_RANGE: std::ops::RangeInclusive<u64> = 1..=86_400;

/// One `--verify` command and the `--expect` pattern its answer must match.
#[derive(Debug, Clone)]
pub struct Check {
    /// The command, sent in a new session.
    pub command: String,
    /// The pattern its answer must match.
    pub expect: Regex,
}

impl PartialEq for Check {
    fn eq(&self, other: &Check) -> bool {
        self.command == other.command && self.expect.as_str() == other.expect.as_str()
    }
}

impl Eq for Check {}

/// A guarded change: the script and how it is armed, verified, saved and waited for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guard {
    /// The change's commands, in order.
    pub commands: Vec<String>,
    /// The rollback timeout armed before them.
    pub timeout: Duration,
    /// What a new session must see for the change to be confirmed.
    pub checks: Vec<Check>,
    /// Save the confirmed change as the startup configuration.
    pub save: bool,
    /// How long after the timer ran out an unconfirmed radio may take to come back.
    pub revert_wait: Duration,
}

impl Guard {
    /// The command that arms the timer.
    pub fn arm(&self) -> String {
        format!("set rollback timeout {}", self.timeout.as_secs())
    }

    /// What the radio answers to [`Guard::arm`] when the timer is armed.
    pub fn armed(&self) -> String {
        format!("Set done: rollbacktimeout: {}", self.timeout.as_secs())
    }

    /// The longest one radio's guarded change may wait, logins and commands aside: the whole
    /// timer and then the revert wait.
    pub fn longest_wait(&self) -> Duration {
        self.timeout + self.revert_wait
    }

    /// The commands a guarded change sends, in order, verification included, as if every
    /// step went well (`--dry-run`).
    pub fn plan(&self) -> Vec<String> {
        let mut plan = vec![RUNNING.to_owned(), self.arm()];
        plan.extend(self.commands.iter().cloned());
        plan.extend(self.checks.iter().map(|check| check.command.clone()));
        plan.push(CLEAR.to_owned());
        if self.save {
            plan.push(SAVE.to_owned());
        }
        plan
    }
}

/// A TG radio gets no guarded change: it has no rollback timer.
pub fn refuse_tg(record: &mut Record) {
    record.fail(
        Status::Skipped,
        "TG radios have no rollback timer: --guard sends them no command",
    );
}

/// Runs a guarded change on an identified EH, BU or TU radio (see the module's comment).
/// The record's status and `guard` say how it ended; a session error of the first session
/// after the change was sent (a management cut drops it) is part of the change, not a
/// failure of the run.
pub async fn run<S: Shell, R: Redial>(
    guard: &Guard,
    session: &mut CliSession<S>,
    options: &ActionOptions,
    record: &mut Record,
    redial: &R,
) -> Result<(), SessionError> {
    if record.radio_type == Some(RadioType::Tg) {
        refuse_tg(record);
        return Ok(());
    }
    record.guard = Some(GuardReport::armed(guard.timeout.as_secs()));
    let Some(before) = read_running(session, options, record).await? else {
        record.fail(
            Status::CommandFailed,
            format!("'{RUNNING}' answered a CLI error: no change sent"),
        );
        return Ok(());
    };
    let before_sha256 = sha256_hex(&before);
    report(record).before_sha256 = Some(before_sha256.clone());

    let arm = run_command(session, &guard.arm(), options.command_timeout).await?;
    let mut last_sent = Instant::now();
    let armed = arm.output.lines().any(|line| line.trim() == guard.armed());
    let answer = first_line(&arm.output);
    record.push_command(CommandResult { ok: armed, ..arm });
    if !armed {
        record.fail(
            Status::CommandFailed,
            format!(
                "'{}' answered '{answer}', not '{}': no change sent",
                guard.arm(),
                guard.armed()
            ),
        );
        return Ok(());
    }

    let mut not_confirmed = None;
    for command in &guard.commands {
        match run_command(session, command, options.command_timeout).await {
            Ok(result) => {
                last_sent = Instant::now();
                let (ok, answer) = (result.ok, first_line(&result.output));
                record.push_command(result);
                if !ok {
                    not_confirmed = Some(format!("'{command}' answered '{answer}'"));
                    break;
                }
            }
            // The change may have cut this session (a new management address): whether the
            // radio is still managed is for the new session to tell.
            Err(err) => {
                last_sent = Instant::now();
                record.push_command(CommandResult {
                    command: command.clone(),
                    ok: false,
                    output: err.to_string(),
                    elapsed_ms: 0,
                    exit_status: None,
                    stderr: None,
                    sent: true,
                });
                break;
            }
        }
    }

    let why = match not_confirmed {
        Some(why) => why,
        None => match verify_and_confirm(guard, options, record, redial, &mut last_sent).await {
            Confirmation::Confirmed => return Ok(()),
            Confirmation::Not(why) => why,
        },
    };
    wait_for_revert(
        guard,
        options,
        record,
        redial,
        last_sent,
        &before_sha256,
        &why,
    )
    .await;
    Ok(())
}

/// How verification ended.
enum Confirmation {
    /// Verified, cleared (and saved, or the save's failure recorded).
    Confirmed,
    /// Not confirmed, and why.
    Not(String),
}

/// Verifies from new sessions until the verify share of the guard has passed since the last
/// command; verified, clears the timer and saves.
async fn verify_and_confirm<R: Redial>(
    guard: &Guard,
    options: &ActionOptions,
    record: &mut Record,
    redial: &R,
    last_sent: &mut Instant,
) -> Confirmation {
    // From the end of the script: the verify commands restart the timer, not this window.
    let until = *last_sent + guard.timeout.mul_f64(VERIFY_SHARE);
    let mut why;
    loop {
        match redial.session().await {
            Ok(mut session) => {
                let outcome = verify_once(guard, options, record, &mut session, last_sent).await;
                match outcome {
                    Ok(true) => {
                        let confirmed = confirm(guard, options, record, &mut session, last_sent);
                        let confirmed = confirmed.await;
                        session.close().await;
                        match confirmed {
                            Ok(()) => return Confirmation::Confirmed,
                            Err(failed) => why = failed,
                        }
                    }
                    Ok(false) => {
                        session.close().await;
                        why = "verification failed: an answer did not match --expect".to_owned();
                    }
                    Err(err) => why = format!("verification failed: {err}"),
                }
            }
            Err(err) => why = format!("verification failed: {err}"),
        }
        if Instant::now() + RETRY_EVERY >= until {
            return Confirmation::Not(why);
        }
        sleep(RETRY_EVERY).await;
    }
}

/// Runs every check in `session`: true when all matched. The report keeps this attempt's.
async fn verify_once<S: Shell>(
    guard: &Guard,
    options: &ActionOptions,
    record: &mut Record,
    session: &mut CliSession<S>,
    last_sent: &mut Instant,
) -> Result<bool, SessionError> {
    let mut results = Vec::with_capacity(guard.checks.len());
    let mut all = true;
    for check in &guard.checks {
        let answer = run_command(session, &check.command, options.command_timeout).await;
        *last_sent = Instant::now();
        let answer = answer?;
        let ok = check.expect.is_match(&answer.output);
        all &= ok;
        results.push(VerifyResult {
            command: check.command.clone(),
            ok,
            output: answer.output,
        });
    }
    report(record).verify = results;
    Ok(all)
}

/// Clears the timer in the verifying session and, with `--save`, saves: the change is
/// confirmed once the timer is cleared. Err: the timer was not cleared, and why.
async fn confirm<S: Shell>(
    guard: &Guard,
    options: &ActionOptions,
    record: &mut Record,
    session: &mut CliSession<S>,
    last_sent: &mut Instant,
) -> Result<(), String> {
    let cleared = run_command(session, CLEAR, options.command_timeout).await;
    *last_sent = Instant::now();
    let cleared = cleared.map_err(|err| format!("'{CLEAR}' got no answer: {err}"))?;
    let ok = cleared.output.lines().any(|line| line.trim() == CLEARED);
    let answer = first_line(&cleared.output);
    record.push_command(CommandResult { ok, ..cleared });
    if !ok {
        return Err(format!("'{CLEAR}' answered '{answer}', not '{CLEARED}'"));
    }
    let report = report(record);
    report.verified = true;
    report.outcome = Some(GuardOutcome::Confirmed);
    record.succeed();
    if guard.save {
        match run_command(session, SAVE, options.command_timeout).await {
            Ok(saved) => {
                let (ok, answer) = (saved.ok, first_line(&saved.output));
                record.push_command(saved);
                if !ok {
                    record.fail(
                        Status::CommandFailed,
                        format!("confirmed, but '{SAVE}' answered '{answer}': not saved"),
                    );
                }
            }
            Err(err) => record.fail(
                Status::CommandFailed,
                format!("confirmed, but '{SAVE}' got no answer: {err}"),
            ),
        }
    }
    Ok(())
}

/// Waits for the timer to run out and the radio to come back, and compares its running
/// configuration with the one before: `reverted` when they match, else `unconfirmed`.
async fn wait_for_revert<R: Redial>(
    guard: &Guard,
    options: &ActionOptions,
    record: &mut Record,
    redial: &R,
    last_sent: Instant,
    before_sha256: &str,
    why: &str,
) {
    let first_expiry = last_sent + guard.timeout;
    let give_up = first_expiry + guard.revert_wait;
    let mut expiry = first_expiry;
    let mut last_seen;
    loop {
        sleep_until(expiry.max(Instant::now())).await;
        match redial.session().await {
            Ok(mut session) => {
                let read = read_running_text(&mut session, options).await;
                session.close().await;
                match read {
                    Ok(Some(text)) if sha256_hex(&text) == before_sha256 => {
                        let report = report(record);
                        report.outcome = Some(GuardOutcome::Reverted);
                        report.back_after_ms = Some(millis(Instant::now() - first_expiry));
                        record.fail(
                            Status::Reverted,
                            format!("{why}; the radio rolled back to its configuration before"),
                        );
                        return;
                    }
                    // Logged in before the reboot, or back with another configuration: the
                    // read started a still-armed timer over.
                    Ok(_) => {
                        last_seen = "it came back with another configuration".to_owned();
                        expiry = Instant::now() + guard.timeout;
                    }
                    Err(err) => last_seen = format!("reading its configuration: {err}"),
                }
            }
            Err(err) => last_seen = err.to_string(),
        }
        if Instant::now() >= give_up || expiry > give_up {
            report(record).outcome = Some(GuardOutcome::Unconfirmed);
            let wait = humantime::format_duration(guard.revert_wait);
            record.fail(
                Status::Unconfirmed,
                format!("{why}; not back as before within --revert-wait {wait}: {last_seen}"),
            );
            return;
        }
        expiry = expiry.max(Instant::now() + RETRY_EVERY);
    }
}

/// Reads the running configuration into the record's commands: the text, or `None` when the
/// radio answered a CLI error.
async fn read_running<S: Shell>(
    session: &mut CliSession<S>,
    options: &ActionOptions,
    record: &mut Record,
) -> Result<Option<String>, SessionError> {
    let clock = std::time::Instant::now();
    let text = session
        .command_text(RUNNING, options.command_timeout)
        .await?;
    let ok = !has_cli_error(&text);
    record.push_command(CommandResult {
        command: RUNNING.to_owned(),
        ok,
        // The text is stored once, as its digest in `guard`; an error is kept as answered.
        output: if ok { String::new() } else { text.clone() },
        elapsed_ms: millis(clock.elapsed()),
        exit_status: None,
        stderr: None,
        sent: true,
    });
    Ok(ok.then_some(text))
}

/// The running configuration's text, or `None` on a CLI error.
async fn read_running_text<S: Shell>(
    session: &mut CliSession<S>,
    options: &ActionOptions,
) -> Result<Option<String>, SessionError> {
    let text = session
        .command_text(RUNNING, options.command_timeout)
        .await?;
    Ok((!has_cli_error(&text)).then_some(text))
}

/// The record's guard report, set when the guarded change started.
fn report(record: &mut Record) -> &mut GuardReport {
    record.guard.get_or_insert_with(|| GuardReport::armed(0))
}

/// The first line of an answer, for an error message.
fn first_line(output: &str) -> String {
    output.lines().next().unwrap_or_default().trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(save: bool) -> Guard {
        Guard {
            commands: vec!["set system name a".to_owned()],
            timeout: Duration::from_secs(300),
            checks: vec![Check {
                command: "show rf".to_owned(),
                expect: Regex::new("up").expect("a regex"),
            }],
            save,
            revert_wait: Duration::from_secs(120),
        }
    }

    #[test]
    fn the_plan_reads_arms_changes_verifies_clears_and_saves_last() {
        assert_eq!(
            guard(true).plan(),
            [
                RUNNING,
                "set rollback timeout 300",
                "set system name a",
                "show rf",
                CLEAR,
                SAVE
            ]
        );
        assert_eq!(guard(false).plan().last().map(String::as_str), Some(CLEAR));
        assert_eq!(guard(true).armed(), "Set done: rollbacktimeout: 300");
        assert_eq!(guard(true).longest_wait(), Duration::from_secs(420));
    }
}
