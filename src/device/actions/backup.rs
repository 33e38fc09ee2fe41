//! `backup`: the radio's configuration text, as the radio prints it. EH, BU and TU print their
//! running and startup configurations (`copy running-configuration display`, `copy
//! startup-configuration display`); TG prints its `show startup` through the pager.
//!
//! The texts go to `config` and `startup_config` only once every backup command answered, so a
//! radio that hangs or closes midway keeps its error and no partial configuration. The
//! commands are listed in `commands` like any action's, their `output` left empty when the
//! text went to `config` or `startup_config` (a configuration is stored once per record); a
//! command that answered a CLI error keeps that answer there.

use std::time::Instant;

use sha2::{Digest, Sha256};

use super::{ActionOptions, has_cli_error, millis};
use crate::device::session::{CliSession, SessionError};
use crate::record::{CommandResult, RadioType, Record};
use crate::transport::Shell;

/// EH/BU/TU: the running configuration.
pub const RUNNING: &str = "copy running-configuration display";
/// EH/BU/TU: the saved configuration.
pub const STARTUP: &str = "copy startup-configuration display";
/// TG: the node's configuration.
pub const TG_STARTUP: &str = "show startup";

/// Reads the configuration texts of `radio_type` into the record.
pub async fn run<S: Shell>(
    session: &mut CliSession<S>,
    options: &ActionOptions,
    record: &mut Record,
    radio_type: RadioType,
) -> Result<(), SessionError> {
    let commands: &[&str] = match radio_type {
        RadioType::Tg => &[TG_STARTUP],
        RadioType::Eh | RadioType::Bu | RadioType::Tu => &[RUNNING, STARTUP],
    };
    let mut texts = Vec::with_capacity(commands.len());
    for command in commands {
        let clock = Instant::now();
        let text = session
            .command_text(command, options.command_timeout)
            .await?;
        let ok = !has_cli_error(&text);
        let (output, text) = if ok {
            (String::new(), Some(text))
        } else {
            (text, None)
        };
        record.push_command(CommandResult {
            command: (*command).to_owned(),
            ok,
            output,
            elapsed_ms: millis(clock.elapsed()),
            exit_status: None,
            stderr: None,
            sent: true,
        });
        texts.push(text);
    }
    let texts: Option<Vec<String>> = texts.into_iter().collect();
    let Some(mut texts) = texts else {
        return Ok(());
    };
    let startup = (texts.len() == 2).then(|| texts.remove(1));
    let running = texts.remove(0);
    record.config_sha256 = Some(sha256_hex(&running));
    record.config_saved = startup.as_ref().map(|startup| *startup == running);
    record.startup_config = startup;
    record.config = Some(running);
    Ok(())
}

/// The SHA-256 of a text, lowercase hex.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_lowercase_hex_sha256() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
