//! `script` on a host that is not a radio: each command on its own exec channel (no PTY, no
//! prompt), judged by its exit status.

use std::time::Instant;

use super::{Action, ActionOptions, mark_failed_commands, millis, record_plan, script};
use crate::record::{CommandResult, Record};
use crate::transport::Execute;

/// Runs the script's commands on exec channels; sets `ok` or `command-failed` (any other
/// action only checks the login, which succeeded). Under `--dry-run` the commands are
/// recorded unsent, and none runs.
pub async fn run<E: Execute>(
    target: &E,
    action: &Action,
    options: &ActionOptions,
    record: &mut Record,
) {
    record.succeed();
    let Action::Script(commands) = action else {
        return;
    };
    if options.dry_run {
        record_plan(record, script::plan(commands));
        return;
    }
    for command in commands {
        let clock = Instant::now();
        let ran = tokio::time::timeout(options.command_timeout, target.exec(command)).await;
        let (exit_status, output, stderr) = match ran {
            Ok(Ok(out)) => (
                out.exit_status.and_then(|s| i32::try_from(s).ok()),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ),
            Ok(Err(err)) => (None, String::new(), err.to_string()),
            Err(_) => (
                None,
                String::new(),
                format!(
                    "no exit within {}",
                    humantime::format_duration(options.command_timeout)
                ),
            ),
        };
        let ok = exit_status == Some(0);
        record.push_command(CommandResult {
            command: command.clone(),
            ok,
            output,
            elapsed_ms: millis(clock.elapsed()),
            exit_status,
            stderr: Some(stderr),
            sent: true,
        });
        if !ok && options.stop_on_error {
            break;
        }
    }
    mark_failed_commands(options, record);
}
