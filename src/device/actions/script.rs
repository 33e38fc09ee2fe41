//! `script`: the user's commands, sent in order on the radio's CLI.

use super::{ActionOptions, send};
use crate::device::session::{CliSession, SessionError};
use crate::record::Record;
use crate::transport::Shell;

/// Sends each command in order; with `--stop-on-error`, stops at the first that failed.
pub async fn run<S: Shell>(
    session: &mut CliSession<S>,
    options: &ActionOptions,
    record: &mut Record,
    commands: &[String],
) -> Result<(), SessionError> {
    for command in commands {
        let ok = send(session, options, record, command).await?;
        if !ok && options.stop_on_error {
            break;
        }
    }
    Ok(())
}

/// The commands [`run`] would send: every one, in order (a dry run cannot know where
/// `--stop-on-error` would stop).
pub fn plan(commands: &[String]) -> Vec<String> {
    commands.to_vec()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_skip_blanks_and_comments() {
        assert_eq!(
            script_commands("# set names\nset system name a\n\n  show system  \n"),
            ["set system name a", "show system"]
        );
    }
}
