//! New sessions to a host over the transport its first session used, with the run's logins:
//! what `crate::device::redial::Redial` asks of the probe. Each is a fresh login, as a person
//! checking that a changed radio is still managed would make.

use std::net::SocketAddr;

use super::context::ProbeContext;
use crate::device::redial::{Redial, RedialError};
use crate::device::session::CliSession;
use crate::transport::native::{self, NativeShell};
use crate::transport::openssh::{self, OpensshOptions, OpensshShell};
use crate::transport::telnet::{self, TelnetShell};
use crate::transport::{ConnectError, Connection, SharedFacts};

/// Again with the native SSH client.
pub(crate) struct NativeAgain<'a> {
    /// The host.
    pub addr: SocketAddr,
    /// The run's logins, options and prompt timeout.
    pub context: &'a ProbeContext,
}

/// Again with the OpenSSH client.
pub(crate) struct OpensshAgain<'a> {
    /// The host.
    pub addr: SocketAddr,
    /// The run's logins and prompt timeout.
    pub context: &'a ProbeContext,
    /// The OpenSSH transport's options.
    pub options: &'a OpensshOptions,
}

/// Again over Telnet.
pub(crate) struct TelnetAgain<'a> {
    /// The host.
    pub addr: SocketAddr,
    /// The run's logins, options and prompt timeout.
    pub context: &'a ProbeContext,
}

impl Redial for NativeAgain<'_> {
    type Shell = NativeShell;

    async fn session(&self) -> Result<CliSession<NativeShell>, RedialError> {
        let logins = self.context.credentials.logins_for(self.addr.ip());
        let facts = SharedFacts::default();
        let opened = native::connect(self.addr, &logins, &self.context.native, &facts).await;
        at_prompt(opened, self.context).await
    }
}

impl Redial for OpensshAgain<'_> {
    type Shell = OpensshShell;

    async fn session(&self) -> Result<CliSession<OpensshShell>, RedialError> {
        let logins = self.context.credentials.logins_for(self.addr.ip());
        let facts = SharedFacts::default();
        let opened = openssh::connect(self.addr, &logins, self.options, &facts).await;
        at_prompt(opened, self.context).await
    }
}

impl Redial for TelnetAgain<'_> {
    type Shell = TelnetShell;

    async fn session(&self) -> Result<CliSession<TelnetShell>, RedialError> {
        let logins = self.context.credentials.logins_for(self.addr.ip());
        let (shell, _user) = telnet::connect(self.addr, &logins, &self.context.telnet)
            .await
            .map_err(|err| RedialError::Login(err.to_string()))?;
        let mut session = CliSession::new(shell);
        session.acquire_prompt(self.context.prompt_timeout).await?;
        Ok(session)
    }
}

/// The CLI session of an SSH login, at its prompt.
async fn at_prompt<C: Connection>(
    opened: Result<(C, String), ConnectError>,
    context: &ProbeContext,
) -> Result<CliSession<C::Shell>, RedialError> {
    let (connection, _user) = opened.map_err(|err| RedialError::Login(err.to_string()))?;
    let shell = connection
        .open_shell()
        .await
        .map_err(|err| RedialError::Login(err.to_string()))?;
    let mut session = CliSession::new(shell);
    session.acquire_prompt(context.prompt_timeout).await?;
    Ok(session)
}
