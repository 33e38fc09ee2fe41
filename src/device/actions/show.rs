//! `show`: the radio type's `show` commands, parsed into the record's `show` fields.

use super::{ActionOptions, send};
use crate::device::session::{CliSession, SessionError};
use crate::parse;
use crate::record::{RadioType, Record};
use crate::transport::Shell;

/// Sends the `show` commands of `radio_type` and parses their answers into `show` (and
/// `parse_warnings` for values that could not be read).
pub async fn run<S: Shell>(
    session: &mut CliSession<S>,
    options: &ActionOptions,
    record: &mut Record,
    radio_type: RadioType,
) -> Result<(), SessionError> {
    for command in parse::eh::show_commands(radio_type) {
        send(session, options, record, command).await?;
    }
    let answers = record.commands.as_deref().unwrap_or_default();
    let parsed = match radio_type {
        RadioType::Tg => {
            let dump = answers.first().map_or("", |c| c.output.as_str());
            parse::tg::parse(dump)
        }
        RadioType::Eh | RadioType::Bu | RadioType::Tu => {
            let pairs: Vec<(&str, &str)> = answers
                .iter()
                .map(|c| (c.command.as_str(), c.output.as_str()))
                .collect();
            parse::eh::parse(radio_type, &pairs)
        }
    };
    record.show = Some(parsed.fields);
    record.parse_warnings = (!parsed.warnings.is_empty()).then_some(parsed.warnings);
    Ok(())
}
