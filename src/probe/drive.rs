//! Everything after the login, whichever transport made it: commands on exec channels for a
//! generic host, or the radio's CLI session (prompt, identification, the action, TG client
//! nodes), each step entering its phase so a deadline cut says where it struck.

use std::sync::PoisonError;

use super::client_nodes;
use super::context::{Platform, ProbeContext};
use super::records::{HostRecords, Phase};
use crate::device::actions::{self, Action};
use crate::device::identify;
use crate::device::redial::Redial;
use crate::device::session::{CliSession, SessionError};
use crate::record::{RadioType, Status};
use crate::transport::{ConnectError, Connection, SharedFacts, Shell};

/// Takes the login attempt's outcome on: a generic host runs its commands on exec channels, a
/// radio gets its CLI session; a host that turns out not to be a radio under `--platform
/// auto` runs a script as a generic host.
pub(crate) async fn after_login<C: Connection, R: Redial>(
    opened: Result<(C, String), ConnectError>,
    context: &ProbeContext,
    facts: &SharedFacts,
    work: &mut HostRecords,
    redial: &R,
) {
    let (connection, user) = match opened {
        Ok(opened) => opened,
        Err(err) => {
            work.login_failed(&err);
            return;
        }
    };
    work.host().user = Some(user);
    if context.platform == Platform::Generic {
        work.enter(Phase::Acting);
        actions::exec::run(
            &connection,
            &context.action,
            &context.action_options,
            work.host(),
        )
        .await;
        work.enter(Phase::Closing);
        connection.close().await;
        return;
    }
    let shell = match connection.open_shell().await {
        Ok(shell) => shell,
        Err(err) => {
            work.login_failed(&err);
            return;
        }
    };
    let banner = facts
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .banner
        .clone();
    let mut session = CliSession::new(shell);
    if let Err(err) = drive(&mut session, banner.as_deref(), context, work, redial).await {
        work.current().fail(err.status(), err.to_string());
        return;
    }
    if work.host().status == Status::NotSiklu
        && context.platform == Platform::Auto
        && matches!(context.action, Action::Script(_))
    {
        // Not a radio, but a host all the same: run the commands as on any SSH host.
        work.enter(Phase::Acting);
        actions::exec::run(
            session.shell(),
            &context.action,
            &context.action_options,
            work.host(),
        )
        .await;
    }
    work.enter(Phase::Closing);
    session.close().await;
}

/// A radio's CLI session on a shell already open (SSH, or Telnet with no banner), closed at
/// the end.
pub(crate) async fn cli<S: Shell, R: Redial>(
    shell: S,
    banner: Option<&str>,
    context: &ProbeContext,
    work: &mut HostRecords,
    redial: &R,
) {
    let mut session = CliSession::new(shell);
    if let Err(err) = drive(&mut session, banner, context, work, redial).await {
        work.current().fail(err.status(), err.to_string());
        return;
    }
    work.enter(Phase::Closing);
    session.close().await;
}

/// The CLI session of an identified radio: prompt, identification, the action (with new
/// sessions from `redial` when it needs them), and the TG client nodes when asked.
async fn drive<S: Shell, R: Redial>(
    session: &mut CliSession<S>,
    banner: Option<&str>,
    context: &ProbeContext,
    work: &mut HostRecords,
    redial: &R,
) -> Result<(), SessionError> {
    work.enter(Phase::Prompt);
    let prompt = match session.acquire_prompt(context.prompt_timeout).await {
        Ok(prompt) => prompt,
        Err(err @ SessionError::PromptlessShell) => {
            identify::unix_shell(work.host(), err.to_string(), banner);
            return Ok(());
        }
        Err(err) => return Err(err),
    };
    work.host().prompt = Some(prompt.clone());
    work.enter(Phase::Identifying);
    let command_timeout = context.action_options.command_timeout;
    identify::identify(session, &prompt, banner, command_timeout, work.host()).await?;
    if work.host().status != Status::Ok {
        return Ok(());
    }
    work.enter(Phase::Acting);
    let options = &context.action_options;
    actions::run(&context.action, session, options, work.host(), redial).await?;
    if context.client_nodes && work.host().radio_type == Some(RadioType::Tg) {
        work.enter(Phase::ClientNodes);
        client_nodes::visit(session, context, work).await?;
    }
    Ok(())
}
