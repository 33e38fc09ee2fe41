//! sikprobe as its own `SSH_ASKPASS` program, so the OpenSSH client gets passwords without
//! argv, environment or files.
//!
//! ssh runs its askpass program with the prompt as the only argument and reads the answer from
//! its standard output. sikprobe listens on a unix socket in its private run directory (mode
//! 0700); each ssh child gets the socket's path and a one-off random token in its environment.
//! The askpass process (sikprobe again, recognised by [`answer_if_asked`] before anything else
//! runs) sends the token and the prompt and prints what comes back. So the password only ever
//! exists in sikprobe's memory, on that socket, in the short-lived askpass process and in ssh
//! itself; a token is worth nothing once its login attempt is over.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;

use super::lock;
use crate::secret::Secret;

/// The environment variable that holds the socket's path (and marks an askpass run).
pub const SOCKET_ENV: &str = "SIKPROBE_ASKPASS";
/// The environment variable that holds the login attempt's token.
pub const TOKEN_ENV: &str = "SIKPROBE_ASKPASS_TOKEN";

/// How many prompts one login attempt may have answered (keyboard-interactive, then password).
const MOST_ANSWERS: u8 = 3;
/// The longest request accepted: a token and a prompt.
const MOST_REQUEST: u64 = 4096;
/// How long a request or an answer may take on the socket.
const SOCKET_TIMEOUT: Duration = Duration::from_secs(10);

/// When this process was started by ssh as its askpass program, answers the prompt in
/// `argv[1]` and returns the exit status (0: answer printed; 1: no answer, so ssh gives up on
/// the method). `None` when this is not an askpass run.
pub fn answer_if_asked() -> Option<u8> {
    let socket = std::env::var_os(SOCKET_ENV)?;
    let token = std::env::var(TOKEN_ENV).unwrap_or_default();
    let prompt = std::env::args_os()
        .nth(1)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Nothing may go to stderr: ssh shares it with its own, and it would read as the banner.
    match ask(Path::new(&socket), &token, &prompt) {
        Ok(Some(answer)) => {
            let mut out = io::stdout().lock();
            let written = out
                .write_all(&answer)
                .and_then(|()| out.write_all(b"\n"))
                .and_then(|()| out.flush());
            Some(if written.is_ok() { 0 } else { 1 })
        }
        _ => Some(1),
    }
}

fn ask(socket: &Path, token: &str, prompt: &str) -> io::Result<Option<Vec<u8>>> {
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(SOCKET_TIMEOUT))?;
    stream.set_write_timeout(Some(SOCKET_TIMEOUT))?;
    let prompt = prompt.replace(['\r', '\n'], " ");
    stream.write_all(format!("{token}\n{prompt}").as_bytes())?;
    stream.shutdown(std::net::Shutdown::Write)?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply)?;
    Ok(match reply.split_first() {
        Some((b'+', answer)) => Some(answer.to_vec()),
        _ => None,
    })
}

/// The listener that answers askpass processes, one per run.
#[derive(Debug)]
pub struct Askpass {
    socket: PathBuf,
    pending: Arc<Mutex<HashMap<String, Pending>>>,
    listener: tokio::task::JoinHandle<()>,
}

#[derive(Debug)]
struct Pending {
    password: Secret,
    answered: u8,
}

/// One login attempt's right to the password; dropping it withdraws the right.
#[derive(Debug)]
pub struct Ticket {
    token: String,
    pending: Arc<Mutex<HashMap<String, Pending>>>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        lock(&self.pending).remove(&self.token);
    }
}

impl Askpass {
    /// Listens on `dir/askpass` (the directory must be private to this user). Needs a tokio
    /// runtime.
    pub fn start(dir: &Path) -> io::Result<Askpass> {
        let socket = dir.join("askpass");
        let listener = UnixListener::bind(&socket)?;
        let pending: Arc<Mutex<HashMap<String, Pending>>> = Arc::default();
        let table = pending.clone();
        let listener = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let table = table.clone();
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(SOCKET_TIMEOUT, serve(stream, &table)).await;
                });
            }
        });
        Ok(Askpass {
            socket,
            pending,
            listener,
        })
    }

    /// A ticket for one login attempt with this password.
    pub fn ticket(&self, password: &Secret) -> Ticket {
        let token = format!("{:032x}", rand::random::<u128>());
        lock(&self.pending).insert(
            token.clone(),
            Pending {
                password: password.clone(),
                answered: 0,
            },
        );
        Ticket {
            token,
            pending: self.pending.clone(),
        }
    }

    /// The environment an ssh child needs to use this program as its askpass with `ticket`.
    pub fn environment(&self, ticket: &Ticket) -> Vec<(&'static str, std::ffi::OsString)> {
        let program = std::env::current_exe().map_or_else(
            |_| std::ffi::OsString::from("sikprobe"),
            PathBuf::into_os_string,
        );
        vec![
            ("SSH_ASKPASS", program),
            ("SSH_ASKPASS_REQUIRE", "force".into()),
            (SOCKET_ENV, self.socket.clone().into_os_string()),
            (TOKEN_ENV, ticket.token.clone().into()),
        ]
    }
}

impl Drop for Askpass {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

/// Answers one askpass request: the password for a live ticket's password prompt; nothing for
/// a key passphrase or a yes/no question, which are not ours to answer.
async fn serve(
    mut stream: tokio::net::UnixStream,
    pending: &Mutex<HashMap<String, Pending>>,
) -> io::Result<()> {
    // The directory is private already; checking the peer's user costs nothing more.
    let ours = stream
        .peer_cred()
        .is_ok_and(|peer| peer.uid() == current_uid());
    let mut request = Vec::new();
    (&mut stream)
        .take(MOST_REQUEST)
        .read_to_end(&mut request)
        .await?;
    let request = String::from_utf8_lossy(&request);
    let (token, prompt) = request.split_once('\n').unwrap_or((&request, ""));
    let prompt = prompt.to_ascii_lowercase();
    let not_a_password = prompt.contains("passphrase") || prompt.contains("yes/no");
    let answer = if ours && !not_a_password {
        let mut table = lock(pending);
        table.get_mut(token).and_then(|entry| {
            (entry.answered < MOST_ANSWERS).then(|| {
                entry.answered += 1;
                entry.password.expose().as_bytes().to_vec()
            })
        })
    } else {
        None
    };
    let mut reply = Vec::new();
    match answer {
        Some(password) => {
            reply.push(b'+');
            reply.extend_from_slice(&password);
        }
        None => reply.push(b'-'),
    }
    stream.write_all(&reply).await?;
    stream.shutdown().await
}

fn current_uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}
