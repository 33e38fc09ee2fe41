//! A new session to the host an action is running on: what a guarded change verifies from
//! (proof that management survived the change) and logs in with again after a revert. The
//! probe layer implements it for each transport; actions only ask for a session.

use std::future::Future;

use super::session::{CliSession, SessionError};
use crate::transport::Shell;

/// Why a new session could not be had.
#[derive(Debug, thiserror::Error)]
pub enum RedialError {
    /// The login failed (refused, timed out, rejected, …).
    #[error("no new session: {0}")]
    Login(String),
    /// Logged in, but the CLI gave no prompt.
    #[error("no prompt in the new session: {0}")]
    Prompt(#[from] SessionError),
    /// This host is reached in a way that cannot open a second session (a TG client node
    /// behind its DN).
    #[error("no second session can be opened to this host")]
    Unsupported,
}

/// Opens new CLI sessions to one host, with the run's logins, each with its prompt acquired.
pub trait Redial: Sync {
    /// The shell the sessions run on.
    type Shell: Shell;

    /// A new session, logged in and at the prompt.
    fn session(&self) -> impl Future<Output = Result<CliSession<Self::Shell>, RedialError>> + Send;
}

/// For a host no second session can be opened to (a TG client node, reached through its
/// DN's session): every [`Redial::session`] is [`RedialError::Unsupported`].
pub struct NoRedial<S>(std::marker::PhantomData<fn() -> S>);

impl<S> Default for NoRedial<S> {
    fn default() -> Self {
        NoRedial(std::marker::PhantomData)
    }
}

impl<S: Shell> Redial for NoRedial<S> {
    type Shell = S;

    async fn session(&self) -> Result<CliSession<S>, RedialError> {
        Err(RedialError::Unsupported)
    }
}
