//! A running control master's process, ended when its connection ends, however it ends.
//!
//! Telling a master to stop listening (what the `openssh` crate does when a session is closed
//! or dropped) is not enough: it then waits for its open channels, so a remote command that a
//! deadline or a command timeout cut short would keep it, and the remote session, alive for as
//! long as that command runs. The guard terminates the process itself.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::transport::lock;

/// The masters of a run that are alive, by process id, for the guards and for a run that has
/// to stop them all at once.
pub(super) type LiveMasters = Arc<Mutex<HashSet<i32>>>;

/// One master's process: terminated (SIGTERM) when the guard is dropped.
#[derive(Debug)]
pub(super) struct MasterProcess {
    pid: i32,
    live: LiveMasters,
}

impl MasterProcess {
    /// Asks the master listening on `socket` for its process id (the mux protocol's alive
    /// check) and lists it among the run's live masters; `None` when the master does not
    /// answer, which leaves only the crate's stop-listening request to end it.
    pub(super) async fn find(socket: &Path, live: &LiveMasters) -> Option<Self> {
        let mut connection = openssh_mux_client::Connection::connect(socket).await.ok()?;
        let pid = connection.send_alive_check().await.ok()?;
        let pid = i32::try_from(pid.get()).ok()?;
        lock(live).insert(pid);
        Some(MasterProcess {
            pid,
            live: live.clone(),
        })
    }
}

impl Drop for MasterProcess {
    fn drop(&mut self) {
        lock(&self.live).remove(&self.pid);
        terminate(self.pid);
    }
}

/// Sends SIGTERM to `pid` if it is still an ssh process (not one that took over a freed pid).
pub(super) fn terminate(pid: i32) {
    let still_ssh = std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .is_ok_and(|comm| comm.trim_end() == "ssh");
    if still_ssh {
        // SAFETY: kill has no memory preconditions; the pid is an ssh master of this run.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
}
