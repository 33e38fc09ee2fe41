//! A TG DN's client nodes: discovered from the DN's `show radio-common` / `show radio-dn`,
//! each visited through `connect <cn>` / `quit`, identified and given the action, with one
//! record per node. A node that cannot be reached gets its own record; it never stops the DN
//! or the others.

use std::time::Instant;

use super::context::ProbeContext;
use super::records::HostRecords;
use crate::device::actions::{self, millis};
use crate::device::identify::{self, PromptKind};
use crate::device::redial::NoRedial;
use crate::device::session::{CliSession, PromptMatch, SessionError};
use crate::parse;
use crate::record::{Record, Status};
use crate::transport::Shell;

/// Visits the DN's active client nodes (those of `--cn` only, when given).
pub(crate) async fn visit<S: Shell>(
    session: &mut CliSession<S>,
    context: &ProbeContext,
    work: &mut HostRecords,
) -> Result<(), SessionError> {
    let command_timeout = context.action_options.command_timeout;
    let dn = work.host().clone();
    let dn_prompt = session.prompt().unwrap_or_default().to_owned();
    let mut answers = Vec::new();
    for command in ["show radio-common", "show radio-dn"] {
        let result = actions::run_command(session, command, command_timeout).await?;
        answers.push(result.output.clone());
        work.host().push_command(result);
    }
    let parsed = parse::tg::parse(&answers.join("\n"));
    let nodes: Vec<String> = parse::tg::active_cns(&parsed)
        .into_iter()
        .filter(|cn| context.only_cns.is_empty() || context.only_cns.contains(cn))
        .collect();
    let dn_ip = dn.ip.map(|ip| ip.to_string()).unwrap_or_default();
    let dn_name = dn.name.clone().unwrap_or_default();
    for cn in nodes {
        let clock = Instant::now();
        let mut record = Record::new(dn.ip, dn.port, Status::IoError);
        record.transport = dn.transport;
        record.user = dn.user.clone();
        record.route = Some(format!("{dn_ip}: {dn_name} -> {cn}"));
        record.parent = dn.ip;
        let record = work.start_client_node(record);
        let answer = session
            .command(&format!("connect {cn}"), command_timeout, PromptMatch::Any)
            .await?;
        let prompt = session.prompt().unwrap_or_default().to_owned();
        match identify::parse_prompt(&prompt) {
            PromptKind::Tg { model, name } if name == cn => {
                record.prompt = Some(prompt);
                identify::identify_tg(session, command_timeout, record, model, name).await?;
                let options = &context.action_options;
                let redial = NoRedial::<S>::default();
                actions::run(&context.action, session, options, record, &redial).await?;
                let back = session
                    .command("quit", command_timeout, PromptMatch::Any)
                    .await?;
                if session.prompt() != Some(dn_prompt.as_str()) {
                    record.fail(
                        Status::IoError,
                        format!("'quit' from {cn} did not return to {dn_prompt}: {back}"),
                    );
                    record.elapsed_ms = Some(millis(clock.elapsed()));
                    return Ok(());
                }
            }
            _ => record.fail(
                Status::Unreachable,
                format!(
                    "the DN could not reach it: 'connect {cn}' answered '{}'",
                    answer.lines().next().unwrap_or_default()
                ),
            ),
        }
        record.elapsed_ms = Some(millis(clock.elapsed()));
    }
    work.back_to_host();
    Ok(())
}
