//! Channels through an authenticated control master: the shell the CLI session runs in (no PTY:
//! the mux protocol has none to give) and exec channels, and stopping the master at the end.

use std::io::{self, ErrorKind};
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::Duration;

use openssh::Session;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;

use super::master_process::MasterProcess;
use crate::transport::{ConnectError, Connection, ExecOutput, Execute, MAX_EXEC_OUTPUT, Shell};

/// How long a closing shell may take before the master is told to stop anyway.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// An authenticated OpenSSH control master.
pub struct OpensshConnection {
    pub(super) session: Arc<Session>,
    /// Ends the master's process when the connection (or the shell it became) goes.
    pub(super) process: Option<MasterProcess>,
}

/// A shell channel through the master (no PTY: the mux protocol has none to give).
pub struct OpensshShell {
    session: Arc<Session>,
    child: Option<openssh::Child<Arc<Session>>>,
    stdin: Option<openssh::ChildStdin>,
    output: tokio::net::unix::pipe::Receiver,
    /// Held only to be dropped last: the master's process outlives nothing of this shell.
    _process: Option<MasterProcess>,
}

impl Execute for OpensshConnection {
    async fn exec(&self, command: &str) -> Result<ExecOutput, ConnectError> {
        exec(&self.session, command).await
    }
}

impl Execute for OpensshShell {
    async fn exec(&self, command: &str) -> Result<ExecOutput, ConnectError> {
        exec(&self.session, command).await
    }
}

async fn exec(session: &Arc<Session>, command: &str) -> Result<ExecOutput, ConnectError> {
    let failed = |e: openssh::Error| ConnectError::Io(format!("running '{command}': {e}"));
    let mut child = Session::to_raw_command(session.clone(), command)
        .stdin(openssh::Stdio::null())
        .stdout(openssh::Stdio::piped())
        .stderr(openssh::Stdio::piped())
        .spawn()
        .await
        .map_err(failed)?;
    let stdout = child.stdout().take();
    let stderr = child.stderr().take();
    let (stdout, stderr) = tokio::join!(read_bounded(stdout), read_bounded(stderr));
    let status = child.wait().await.map_err(failed)?;
    Ok(ExecOutput {
        exit_status: status.code().and_then(|code| u32::try_from(code).ok()),
        stdout,
        stderr,
    })
}

/// Reads a stream to its end, keeping at most [`MAX_EXEC_OUTPUT`] bytes.
async fn read_bounded<R: AsyncRead + Unpin>(stream: Option<R>) -> Vec<u8> {
    let mut kept = Vec::new();
    if let Some(mut stream) = stream {
        let _ = (&mut stream)
            .take(MAX_EXEC_OUTPUT as u64)
            .read_to_end(&mut kept)
            .await;
        // Drain the rest so the remote command is not blocked on a full pipe.
        let _ = tokio::io::copy(&mut stream, &mut tokio::io::sink()).await;
    }
    kept
}

impl Connection for OpensshConnection {
    type Shell = OpensshShell;

    async fn open_shell(self) -> Result<OpensshShell, ConnectError> {
        let failed = |what: &str, e: &dyn std::fmt::Display| {
            ConnectError::Io(format!(
                "opening a shell through the ssh master: {what}: {e}"
            ))
        };
        // stdout and stderr share one pipe, as a terminal would show them together.
        let (reader, writer) = io::pipe().map_err(|e| failed("pipe", &e))?;
        let writer = OwnedFd::from(writer);
        let writer_too = writer.try_clone().map_err(|e| failed("pipe", &e))?;
        let output = tokio::net::unix::pipe::Receiver::from_owned_fd(OwnedFd::from(reader))
            .map_err(|e| failed("pipe", &e))?;
        // An empty command makes the master ask for a shell.
        let mut child = Session::to_raw_command(self.session.clone(), "")
            .stdin(openssh::Stdio::piped())
            .stdout(openssh::Stdio::from(writer))
            .stderr(openssh::Stdio::from(writer_too))
            .spawn()
            .await
            .map_err(|e| failed("shell request", &e))?;
        let stdin = child.stdin().take();
        Ok(OpensshShell {
            session: self.session,
            child: Some(child),
            stdin,
            output,
            _process: self.process,
        })
    }

    async fn close(self) {
        stop_master(self.session).await;
    }
}

/// Tells the master to stop listening, upon which it exits once no channel is left; if the
/// session is still shared, its last owner's drop does the same. The [`MasterProcess`] guard
/// dropped after it ends the process in any case.
async fn stop_master(session: Arc<Session>) {
    if let Ok(session) = Arc::try_unwrap(session) {
        let _ = session.close().await;
    }
}

impl Shell for OpensshShell {
    async fn send(&mut self, data: &[u8]) -> io::Result<()> {
        match &mut self.stdin {
            Some(stdin) => stdin.write_all(data).await,
            None => Err(io::Error::new(ErrorKind::BrokenPipe, "the shell is closed")),
        }
    }

    async fn recv(&mut self) -> Option<Vec<u8>> {
        let mut buffer = vec![0; 16 * 1024];
        match self.output.read(&mut buffer).await {
            Ok(0) | Err(_) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some(buffer)
            }
        }
    }

    fn has_terminal(&self) -> bool {
        false
    }

    async fn close(mut self) {
        // End of input closes the device's shell; its exit is waited for briefly.
        drop(self.stdin.take());
        if let Some(child) = self.child.take() {
            let _ = timeout(CLOSE_GRACE, child.wait()).await;
        }
        stop_master(self.session).await;
    }
}
