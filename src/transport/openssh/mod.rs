//! The OpenSSH transport: the system `ssh` client, for radios that need the user's own SSH
//! setup (`~/.ssh/config`, bastions through `ProxyJump`, an agent, GSSAPI) or an SSH server odd
//! enough to defeat the native client.
//!
//! For each login attempt sikprobe starts an ssh control master itself (the `openssh` crate's
//! builder forces `BatchMode`, which forbids passwords): `ssh -f -N -M` with sikprobe as its
//! askpass program ([`super::askpass`]), a log file (`-E`, `-v`) from which the server's
//! identification, host key and any failure are read, and standard error, which after `-E`
//! carries only the userauth banner. Once the master is authenticated the original process
//! exits, and the crate's native mux client opens channels on the control socket.
//!
//! The mux protocol cannot allocate a PTY, so the CLI session runs on a plain shell channel:
//! devices that echo without a terminal (siksim, radios) frame as usual, and the session does
//! not depend on the echo (see [`crate::device::session`]).

mod channels;
mod client_options;
mod known_hosts_file;
mod log;
mod master;
mod master_process;
mod precheck;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub use channels::{OpensshConnection, OpensshShell};
use client_options::ClientSetup;
pub use client_options::{OpensshError, OpensshSettings};
use master::start_master;
use master_process::LiveMasters;
use precheck::precheck;

use super::askpass::Askpass;
use super::known_hosts::HostKeyPolicy;
use super::{ConnectError, Login, SharedFacts, lock};

/// Everything the OpenSSH transport needs for a run: the client as set up, the host-key
/// policy, the private run directory and the askpass listener.
#[derive(Debug)]
pub struct OpensshOptions {
    setup: ClientSetup,
    host_keys: Arc<HostKeyPolicy>,
    run_dir: tempfile::TempDir,
    askpass: Askpass,
    logins_in_flight: Mutex<HashSet<i32>>,
    masters: LiveMasters,
}

impl OpensshOptions {
    /// Checks the ssh client and the options once, and starts the askpass listener. Needs a
    /// tokio runtime.
    pub fn new(settings: OpensshSettings) -> Result<Self, OpensshError> {
        let setup = ClientSetup::probe(&settings)?;
        let run_dir = tempfile::Builder::new()
            .prefix("sikprobe-")
            .tempdir()
            .map_err(OpensshError::RunDir)?;
        let askpass = Askpass::start(run_dir.path()).map_err(OpensshError::RunDir)?;
        Ok(OpensshOptions {
            setup,
            host_keys: settings.host_keys,
            run_dir,
            askpass,
            logins_in_flight: Mutex::default(),
            masters: LiveMasters::default(),
        })
    }

    /// Stops every ssh process of the run at once, for a process that is about to exit without
    /// draining (a second Ctrl-C): login processes are killed with their process groups (their
    /// askpass too), each master is told to stop listening and terminated (a master would
    /// otherwise wait for its open channels), and the run directory is removed. Without it, masters would idle until
    /// `ControlPersist` and a login finishing later could leave a master with no socket.
    pub fn abandon(&self) {
        let logins = std::mem::take(&mut *lock(&self.logins_in_flight));
        for group in logins {
            // SAFETY: kill has no memory preconditions; the group is one of our ssh logins.
            unsafe { libc::kill(-group, libc::SIGKILL) };
        }
        for entry in std::fs::read_dir(self.run_dir.path()).into_iter().flatten() {
            let Ok(entry) = entry else { continue };
            let socket = entry.path().join("master");
            if socket.exists() {
                let _ = openssh_mux_client::shutdown_mux_master(&socket);
            }
        }
        for pid in std::mem::take(&mut *lock(&self.masters)) {
            master_process::terminate(pid);
        }
        let _ = std::fs::remove_dir_all(self.run_dir.path());
    }

    /// Whether hosts are pre-checked with a plain TCP connection before ssh is started (not
    /// when the configuration sends them through a proxy).
    pub fn prechecks(&self) -> bool {
        self.setup.precheck
    }
}

/// Connects and authenticates with the first login the server accepts (ssh tries the keys of
/// the config, `-i` and the agent first). Returns the connection and the username.
pub async fn connect(
    addr: SocketAddr,
    logins: &[Login],
    options: &OpensshOptions,
    facts: &SharedFacts,
) -> Result<(OpensshConnection, String), ConnectError> {
    if options.setup.precheck {
        let line = precheck(
            addr,
            options.setup.connect_timeout,
            options.setup.handshake_timeout,
        )
        .await?;
        lock(facts).server_id = Some(line);
    }
    let mut last = None;
    for login in logins {
        match start_master(addr, login, options, facts).await {
            Ok((session, process)) => {
                let connection = OpensshConnection {
                    session: Arc::new(session),
                    process,
                };
                return Ok((connection, login.user.clone()));
            }
            Err(ConnectError::AuthFailed(reason)) => last = Some(reason),
            Err(other) => return Err(other),
        }
    }
    let users: Vec<&str> = logins.iter().map(|l| l.user.as_str()).collect();
    Err(ConnectError::AuthFailed(last.map_or_else(
        || format!("authentication failed for {}", users.join(", ")),
        |reason| format!("authentication failed for {}: {reason}", users.join(", ")),
    )))
}
