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

use std::collections::HashSet;
use std::ffi::OsString;
use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use openssh::Session;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};

use super::askpass::Askpass;
use super::known_hosts::HostKeyPolicy;
use super::{
    ConnectError, Connection, ExecOutput, Execute, Login, MAX_EXEC_OUTPUT, SharedFacts, Shell,
    classify_connect, describe_non_ssh, ident_line, keep_bounded, lock,
};

/// Key exchanges put before OpenSSH's own first choice (the sntrup761 hybrid costs the client
/// about six times the CPU per login, and radio firmware does not offer it).
const PREFERRED_KEX: [&str; 2] = ["curve25519-sha256", "curve25519-sha256@libssh.org"];
/// What `--legacy-algorithms` adds, per ssh option, after OpenSSH's defaults.
const LEGACY: [(&str, &str, &[&str]); 4] = [
    (
        "KexAlgorithms",
        "kex",
        &[
            "diffie-hellman-group14-sha1",
            "diffie-hellman-group1-sha1",
            "diffie-hellman-group-exchange-sha1",
        ],
    ),
    ("HostKeyAlgorithms", "key", &["ssh-rsa"]),
    (
        "Ciphers",
        "cipher",
        &["aes128-cbc", "aes192-cbc", "aes256-cbc", "3des-cbc"],
    ),
    ("MACs", "mac", &["hmac-sha1", "hmac-sha1-etm@openssh.com"]),
];
/// How long a closing shell may take before the master is told to stop anyway.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// What the user asked of the OpenSSH transport.
#[derive(Debug, Clone)]
pub struct OpensshSettings {
    /// The ssh program (`ssh` on PATH by default).
    pub program: Option<PathBuf>,
    /// `-F FILE`: an ssh_config instead of the user's.
    pub config: Option<PathBuf>,
    /// `-o OPTION` values, passed before sikprobe's own defaults so they take precedence
    /// (OpenSSH keeps the first value it sees).
    pub options: Vec<String>,
    /// Private keys (`-o IdentityFile=`), besides those of the config and the agent.
    pub identities: Vec<PathBuf>,
    /// TCP connect timeout (the pre-check's, and ssh's `ConnectTimeout` without it).
    pub connect_timeout: Duration,
    /// Identification and key exchange timeout.
    pub handshake_timeout: Duration,
    /// Authentication timeout.
    pub auth_timeout: Duration,
    /// Append the legacy algorithms after OpenSSH's defaults.
    pub legacy_algorithms: bool,
    /// A master left behind by a crash exits after idling this long.
    pub deadline: Duration,
    /// The host-key policy (shared with the native transport).
    pub host_keys: Arc<HostKeyPolicy>,
}

/// Everything the OpenSSH transport needs for a run: the settings, the probed client, the
/// private run directory and the askpass listener.
#[derive(Debug)]
pub struct OpensshOptions {
    program: PathBuf,
    config: Option<PathBuf>,
    options: Vec<String>,
    identities: Vec<PathBuf>,
    connect_timeout: Duration,
    handshake_timeout: Duration,
    auth_timeout: Duration,
    defaults: Vec<String>,
    precheck: bool,
    persist_seconds: u64,
    host_keys: Arc<HostKeyPolicy>,
    run_dir: tempfile::TempDir,
    askpass: Askpass,
    logins_in_flight: Mutex<HashSet<i32>>,
}

/// The OpenSSH transport cannot start.
#[derive(Debug, thiserror::Error)]
pub enum OpensshError {
    /// The ssh program does not run.
    #[error("--transport openssh: cannot run '{program}': {source}")]
    Program {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// ssh rejected the configuration or options.
    #[error("--transport openssh: '{program} -G' rejects the ssh options: {message}")]
    Options {
        /// The program.
        program: String,
        /// ssh's complaint.
        message: String,
    },
    /// The run directory or the askpass socket cannot be made.
    #[error("--transport openssh: setting up a private directory for control sockets: {0}")]
    RunDir(#[source] io::Error),
}

impl OpensshOptions {
    /// Checks the ssh client and the options once, and starts the askpass listener. Needs a
    /// tokio runtime.
    pub fn new(settings: OpensshSettings) -> Result<Self, OpensshError> {
        let program = settings.program.unwrap_or_else(|| PathBuf::from("ssh"));
        let run = |command: &mut std::process::Command| {
            command
                .stdin(Stdio::null())
                .output()
                .map_err(|source| OpensshError::Program {
                    program: program.display().to_string(),
                    source,
                })
        };
        let query = |what: &str| -> Result<Vec<String>, OpensshError> {
            let out = run(std::process::Command::new(&program).args(["-Q", what]))?;
            Ok(String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_owned)
                .collect())
        };
        // The effective configuration of a sample host: validates -F and -o, and tells
        // whether the user chose key exchanges or a proxy themselves.
        let mut probe = std::process::Command::new(&program);
        probe.arg("-G");
        if let Some(config) = &settings.config {
            probe.arg("-F").arg(config);
        }
        for option in &settings.options {
            probe.arg("-o").arg(option);
        }
        let effective = run(probe.arg("sikprobe.invalid"))?;
        if !effective.status.success() {
            return Err(OpensshError::Options {
                program: program.display().to_string(),
                message: String::from_utf8_lossy(&effective.stderr).trim().to_owned(),
            });
        }
        let effective = String::from_utf8_lossy(&effective.stdout).into_owned();
        let setting = |name: &str| {
            effective
                .lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
                .map(str::to_owned)
        };
        let user_chose = |name: &str| {
            let lower = name.to_ascii_lowercase();
            let in_options = settings
                .options
                .iter()
                .any(|o| o.to_ascii_lowercase().starts_with(&lower));
            in_options || config_mentions(settings.config.as_deref(), &lower)
        };
        // A proxy means the target is reached through another host: a direct TCP pre-check
        // would test the wrong path.
        let precheck = !(user_chose("proxyjump") || user_chose("proxycommand"))
            && setting("proxyjump").is_none()
            && setting("proxycommand").is_none();
        let mut defaults = Vec::new();
        if !user_chose("kexalgorithms")
            && let Some(kex) = setting("kexalgorithms")
        {
            let supported = query("kex")?;
            let mut list: Vec<String> = PREFERRED_KEX
                .iter()
                .filter(|k| supported.iter().any(|s| s == *k))
                .map(|k| (*k).to_owned())
                .collect();
            list.extend(
                kex.split(',')
                    .filter(|k| !PREFERRED_KEX.contains(k))
                    .map(str::to_owned),
            );
            if settings.legacy_algorithms {
                list.extend(legacy_supported(&supported, LEGACY[0].2));
            }
            defaults.push(format!("KexAlgorithms={}", list.join(",")));
        }
        if settings.legacy_algorithms {
            for (index, (option, kind, names)) in LEGACY.iter().enumerate() {
                if index == 0 && defaults.iter().any(|d| d.starts_with("KexAlgorithms=")) {
                    continue;
                }
                let extra = legacy_supported(&query(kind)?, names);
                if !extra.is_empty() {
                    defaults.push(format!("{option}=+{}", extra.join(",")));
                    if *option == "HostKeyAlgorithms" {
                        defaults.push(format!("PubkeyAcceptedAlgorithms=+{}", extra.join(",")));
                    }
                }
            }
        }
        let run_dir = tempfile::Builder::new()
            .prefix("sikprobe-")
            .tempdir()
            .map_err(OpensshError::RunDir)?;
        let askpass = Askpass::start(run_dir.path()).map_err(OpensshError::RunDir)?;
        Ok(OpensshOptions {
            program,
            config: settings.config,
            options: settings.options,
            identities: settings.identities,
            connect_timeout: settings.connect_timeout,
            handshake_timeout: settings.handshake_timeout,
            auth_timeout: settings.auth_timeout,
            defaults,
            precheck,
            persist_seconds: settings.deadline.as_secs().max(1) + 5,
            host_keys: settings.host_keys,
            run_dir,
            askpass,
            logins_in_flight: Mutex::default(),
        })
    }

    /// Stops every ssh process of the run at once, for a process that is about to exit without
    /// draining (a second Ctrl-C): login processes are killed with their process groups (their
    /// askpass too), each listening master is told to stop (it exits as soon as this process's
    /// channels close), and the run directory is removed. Without it, masters would idle until
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
        let _ = std::fs::remove_dir_all(self.run_dir.path());
    }

    /// Whether hosts are pre-checked with a plain TCP connection before ssh is started (not
    /// when the configuration sends them through a proxy).
    pub fn prechecks(&self) -> bool {
        self.precheck
    }
}

fn legacy_supported(supported: &[String], names: &[&str]) -> Vec<String> {
    names
        .iter()
        .filter(|name| supported.iter().any(|s| s == *name))
        .map(|name| (*name).to_owned())
        .collect()
}

/// Whether an ssh_config file in effect sets `keyword` anywhere (the user's config and the
/// system one, or the `-F` file alone). Host-specific settings cannot be told apart here, so
/// any mention counts.
fn config_mentions(config: Option<&Path>, keyword: &str) -> bool {
    let mut files: Vec<PathBuf> = Vec::new();
    match config {
        Some(path) => files.push(path.to_owned()),
        None => {
            if let Some(home) = std::env::var_os("HOME") {
                files.push(Path::new(&home).join(".ssh/config"));
            }
            files.push(PathBuf::from("/etc/ssh/ssh_config"));
            if let Ok(entries) = std::fs::read_dir("/etc/ssh/ssh_config.d") {
                files.extend(entries.flatten().map(|e| e.path()));
            }
        }
    }
    files.iter().any(|path| {
        std::fs::read_to_string(path).is_ok_and(|text| {
            text.lines().any(|line| {
                let line = line.trim_start().to_ascii_lowercase();
                !line.starts_with('#') && line.starts_with(keyword)
            })
        })
    })
}

/// An authenticated OpenSSH control master.
pub struct OpensshConnection {
    session: Arc<Session>,
}

/// A shell channel through the master (no PTY: the mux protocol has none to give).
pub struct OpensshShell {
    session: Arc<Session>,
    child: Option<openssh::Child<Arc<Session>>>,
    stdin: Option<openssh::ChildStdin>,
    output: tokio::net::unix::pipe::Receiver,
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
        })
    }

    async fn close(self) {
        stop_master(self.session).await;
    }
}

/// Tells the master to stop listening, upon which it exits (no channel is left); if the
/// session is still shared, its last owner's drop does the same.
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

/// Connects and authenticates with the first login the server accepts (ssh tries the keys of
/// the config, `-i` and the agent first). Returns the connection and the username.
pub async fn connect(
    addr: SocketAddr,
    logins: &[Login],
    options: &OpensshOptions,
    facts: &SharedFacts,
) -> Result<(OpensshConnection, String), ConnectError> {
    if options.precheck {
        lock(facts).server_id = Some(precheck(addr, options).await?);
    }
    let mut last = None;
    for login in logins {
        match start_master(addr, login, options, facts).await {
            Ok(session) => {
                let connection = OpensshConnection {
                    session: Arc::new(session),
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

/// The cheap check before a process is spent on a host: TCP connect and the server's `SSH-`
/// line, so dead, refused and non-SSH hosts cost no ssh process. Returns the line.
async fn precheck(addr: SocketAddr, options: &OpensshOptions) -> Result<String, ConnectError> {
    let mut stream = match timeout(options.connect_timeout, TcpStream::connect(addr)).await {
        Err(_) => return Err(ConnectError::ConnectTimeout(options.connect_timeout)),
        Ok(Err(err)) => return Err(classify_connect(&err)),
        Ok(Ok(stream)) => stream,
    };
    let limit = Instant::now() + options.handshake_timeout;
    let mut seen = Vec::new();
    let mut chunk = [0u8; 512];
    loop {
        if let Some(line) = ident_line(&seen) {
            return Ok(line);
        }
        match timeout_at(limit, stream.read(&mut chunk)).await {
            Err(_) if seen.is_empty() => {
                return Err(ConnectError::NoSsh(format!(
                    "no SSH identification within {}",
                    humantime::format_duration(options.handshake_timeout)
                )));
            }
            Err(_) | Ok(Ok(0)) | Ok(Err(_)) => {
                return Err(ConnectError::NoSsh(describe_non_ssh(&seen)));
            }
            Ok(Ok(n)) => {
                seen.extend_from_slice(&chunk[..n]);
                // RFC 4253 allows lines before the identification, not pages of them.
                if seen.len() > 1024 {
                    return Err(ConnectError::NoSsh(describe_non_ssh(&seen)));
                }
            }
        }
    }
}

/// Starts an authenticated control master for one login, or says why not.
async fn start_master(
    addr: SocketAddr,
    login: &Login,
    options: &OpensshOptions,
    facts: &SharedFacts,
) -> Result<Session, ConnectError> {
    let host_keys = &*options.host_keys;
    let io_error = |what: &str, e: io::Error| ConnectError::Io(format!("{what}: {e}"));
    let dir = tempfile::Builder::new()
        .prefix("h")
        .tempdir_in(options.run_dir.path())
        .map_err(|e| io_error("making the control directory", e))?;
    let log = dir.path().join("log");
    let known = KnownHostsFile::prepare(dir.path(), addr, host_keys)
        .map_err(|e| io_error("writing the per-host known_hosts file", e))?;
    let ticket = options.askpass.ticket(&login.password);
    let mut command = tokio::process::Command::new(&options.program);
    // sikprobe's own control options come first, where nothing can override them; then the
    // user's -o, then sikprobe's defaults, which the user's options and config can beat.
    let control = dir.path().join("master");
    let mut args: Vec<OsString> = vec!["-E".into(), log.clone().into()];
    if let Some(config) = &options.config {
        args.extend(["-F".into(), config.clone().into()]);
    }
    let mut first = vec![
        // The log level as an option, not -v: a ProxyJump's ssh inherits -v and would write
        // its debug output where the banner is read.
        "LogLevel=DEBUG1".to_owned(),
        "BatchMode=no".to_owned(),
        "ControlMaster=yes".to_owned(),
        format!("ControlPath={}", control.display()),
        format!("ControlPersist={}s", options.persist_seconds),
        "NumberOfPasswordPrompts=1".to_owned(),
        "ClearAllForwardings=yes".to_owned(),
    ];
    first.extend(known.options());
    let timeout_secs = if options.precheck {
        options.handshake_timeout
    } else {
        options.connect_timeout + options.handshake_timeout
    };
    let mut last = vec![
        format!("ConnectTimeout={}", timeout_secs.as_secs().max(1)),
        "PreferredAuthentications=publickey,keyboard-interactive,password".to_owned(),
    ];
    last.extend(options.defaults.iter().cloned());
    last.extend(
        options
            .identities
            .iter()
            .map(|key| format!("IdentityFile={}", key.display())),
    );
    for option in first.iter().chain(&options.options).chain(&last) {
        args.extend(["-o".into(), option.into()]);
    }
    args.extend([
        "-f".into(),
        "-N".into(),
        "-p".into(),
        addr.port().to_string().into(),
        "-l".into(),
        login.user.clone().into(),
        "--".into(),
        addr.ip().to_string().into(),
    ]);
    command
        .args(&args)
        .envs(options.askpass.environment(&ticket))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // Its own process group: a Ctrl-C at the terminal must not kill logins in flight,
        // sikprobe drains them itself.
        .process_group(0)
        .kill_on_drop(true);
    let mut child = command
        .spawn()
        .map_err(|e| io_error(&format!("starting {}", options.program.display()), e))?;
    let _in_flight = child
        .id()
        .and_then(|pid| i32::try_from(pid).ok())
        .map(|group| LoginInFlight::register(&options.logins_in_flight, group));
    let stderr = child.stderr.take();
    let limit = timeout_secs + options.auth_timeout;
    let finished = timeout(limit, login_output(&mut child, stderr)).await;
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    let report = LogReport::read(&log_text);
    {
        let mut facts = lock(facts);
        if facts.server_id.is_none() {
            facts.server_id = report.server_id.clone();
        }
        if report.host_key.is_some() {
            facts.host_key = report.host_key.clone();
        }
    }
    let (banner, status) = match finished {
        Ok((banner, status)) => (banner, status),
        Err(_) => {
            // The whole group: ssh and the askpass it may be waiting for.
            if let Some(pid) = child.id().and_then(|pid| i32::try_from(pid).ok()) {
                // SAFETY: kill has no memory preconditions; the group is ssh's own.
                unsafe { libc::kill(-pid, libc::SIGKILL) };
            }
            return Err(report.timed_out(limit));
        }
    };
    let stderr = String::from_utf8_lossy(&banner).trim().to_owned();
    // A banner comes with authentication, after key exchange; anything on stderr before that
    // is a proxy command's complaint.
    let complaint = (!report.kex_done && !stderr.is_empty()).then_some(stderr.clone());
    if report.kex_done && !stderr.is_empty() {
        lock(facts).banner = Some(stderr);
    }
    match status {
        Ok(status) if status.success() => {
            known.learn(addr, host_keys);
            Ok(Session::new_native_mux(dir))
        }
        Ok(_) => Err(match complaint {
            Some(complaint) => report.failure(addr, host_keys).with_detail(&complaint),
            None => report.failure(addr, host_keys),
        }),
        Err(e) => Err(io_error("waiting for ssh", e)),
    }
}

/// A login process group listed for [`OpensshOptions::abandon`] while its login runs; dropped
/// when the login ends, however it ends (a host cut at its deadline drops it too).
struct LoginInFlight<'a> {
    logins: &'a Mutex<HashSet<i32>>,
    group: i32,
}

impl<'a> LoginInFlight<'a> {
    fn register(logins: &'a Mutex<HashSet<i32>>, group: i32) -> Self {
        lock(logins).insert(group);
        LoginInFlight { logins, group }
    }
}

impl Drop for LoginInFlight<'_> {
    fn drop(&mut self) {
        lock(self.logins).remove(&self.group);
    }
}

/// Waits for the login process to exit (once the master is authenticated and detached, or on
/// failure) and collects its standard error, which holds the banner. A proxy command (a
/// ProxyJump's ssh) keeps stderr open for the whole connection, so the end of the stream is not
/// awaited: what the process wrote before it exited is in the pipe already.
async fn login_output(
    child: &mut tokio::process::Child,
    stderr: Option<tokio::process::ChildStderr>,
) -> (Vec<u8>, io::Result<std::process::ExitStatus>) {
    const MOST: usize = 64 * 1024;
    let mut banner = Vec::new();
    let Some(mut stderr) = stderr else {
        return (banner, child.wait().await);
    };
    let mut chunk = [0u8; 4096];
    let mut open = true;
    let status = loop {
        tokio::select! {
            biased;
            read = stderr.read(&mut chunk), if open => match read {
                Ok(0) | Err(_) => open = false,
                Ok(n) => keep_bounded(&mut banner, &chunk[..n], MOST),
            },
            status = child.wait() => break status,
        }
    };
    while open {
        match timeout(Duration::from_millis(5), stderr.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => keep_bounded(&mut banner, &chunk[..n], MOST),
            _ => open = false,
        }
    }
    (banner, status)
}

/// The per-host known_hosts file that maps sikprobe's host-key policy onto ssh's options, so
/// concurrent sessions never write one shared file: under `tofu` a key learnt by ssh is read
/// back and recorded by sikprobe, under its lock.
struct KnownHostsFile {
    path: Option<PathBuf>,
    strict: &'static str,
}

impl KnownHostsFile {
    fn prepare(dir: &Path, addr: SocketAddr, policy: &HostKeyPolicy) -> io::Result<Self> {
        let (known, unknown_allowed) = match policy {
            HostKeyPolicy::Record => {
                return Ok(KnownHostsFile {
                    path: None,
                    strict: "no",
                });
            }
            HostKeyPolicy::Tofu(known) => (known, true),
            HostKeyPolicy::Strict(known) => (known, false),
        };
        let lines = known.lines_for(addr);
        let path = dir.join("known_hosts");
        let mut text = lines.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        std::fs::write(&path, text)?;
        let strict = if unknown_allowed && lines.is_empty() {
            "accept-new"
        } else {
            "yes"
        };
        Ok(KnownHostsFile {
            path: Some(path),
            strict,
        })
    }

    fn options(&self) -> Vec<String> {
        let file = self
            .path
            .as_ref()
            .map_or_else(|| "/dev/null".to_owned(), |p| p.display().to_string());
        vec![
            format!("StrictHostKeyChecking={}", self.strict),
            format!("UserKnownHostsFile={file}"),
            "GlobalKnownHostsFile=/dev/null".to_owned(),
            "CheckHostIP=no".to_owned(),
            "HashKnownHosts=no".to_owned(),
            "UpdateHostKeys=no".to_owned(),
        ]
    }

    /// Under `tofu`, records the key ssh accepted for a new host.
    fn learn(&self, addr: SocketAddr, policy: &HostKeyPolicy) {
        let (HostKeyPolicy::Tofu(_), Some(path), "accept-new") = (policy, &self.path, self.strict)
        else {
            return;
        };
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        for line in text.lines() {
            let mut fields = line.split_whitespace().skip(1);
            let (Some(algorithm), Some(blob)) = (fields.next(), fields.next()) else {
                continue;
            };
            if let Ok(key) = russh::keys::PublicKey::from_openssh(&format!("{algorithm} {blob}")) {
                // A failure to append was ssh's success all the same; the key is verified
                // again at the next run.
                let _ = policy.verify(addr, &key);
            }
        }
    }
}

/// What ssh's `-v` log says about a login attempt.
#[derive(Debug, Default, PartialEq, Eq)]
struct LogReport {
    server_id: Option<String>,
    host_key: Option<String>,
    kex_done: bool,
    /// The proxy command ssh went through (ProxyJump, ProxyCommand).
    proxy: Option<String>,
    /// The log's error lines (not debug output), in order.
    errors: Vec<String>,
}

impl LogReport {
    fn read(text: &str) -> Self {
        let mut report = LogReport::default();
        for line in text.lines().map(str::trim_end) {
            if let Some(rest) = line.strip_prefix("debug1: ") {
                if let Some(version) = rest.strip_prefix("Remote protocol version ") {
                    // "2.0, remote software version OpenSSH_9.2p1 Debian-2"
                    if let Some((protocol, software)) =
                        version.split_once(", remote software version ")
                    {
                        report.server_id = Some(format!("SSH-{protocol}-{software}"));
                    }
                } else if let Some(key) = rest.strip_prefix("Server host key: ") {
                    report.host_key = Some(key.to_owned());
                } else if rest.starts_with("SSH2_MSG_NEWKEYS received") {
                    report.kex_done = true;
                } else if let Some(command) = rest.strip_prefix("Executing proxy command: ") {
                    report.proxy = Some(command.trim_start_matches("exec ").to_owned());
                }
            } else if !line.starts_with("debug") && !line.is_empty() {
                report.errors.push(line.to_owned());
            }
        }
        report
    }

    /// The failure class of an ssh run that exited unsuccessfully.
    fn failure(&self, addr: SocketAddr, host_keys: &HostKeyPolicy) -> ConnectError {
        let text = self.errors.join("\n");
        let said = self
            .errors
            .iter()
            .rev()
            .find(|line| !line.starts_with("Warning:") && !line.starts_with("@@@"))
            .cloned()
            .unwrap_or_else(|| "ssh exited without saying why".to_owned());
        let file = match host_keys {
            HostKeyPolicy::Record => None,
            HostKeyPolicy::Tofu(known) | HostKeyPolicy::Strict(known) => {
                Some(known.path().display().to_string())
            }
        };
        let has = |needle: &str| text.contains(needle);
        if has("REMOTE HOST IDENTIFICATION HAS CHANGED") {
            ConnectError::HostKeyRejected(format!(
                "host key changed: {} holds another key for {addr}",
                file.unwrap_or_default()
            ))
        } else if has("Host key verification failed") || has("host key is known for") {
            ConnectError::HostKeyRejected(format!(
                "host key unknown: {} has no key for {addr}",
                file.unwrap_or_default()
            ))
        } else if let (Some(proxy), None) = (&self.proxy, &self.server_id) {
            // The proxy's own complaint went to /dev/null (ssh silences it under
            // ControlPersist): the jump host or the target behind it is out of reach.
            ConnectError::Unreachable(format!(
                "through the proxy command '{proxy}', no SSH server answered: {said}"
            ))
        } else if has("Connection refused") {
            ConnectError::Refused
        } else if has("No route to host") || has("Network is unreachable") {
            ConnectError::Unreachable(said)
        } else if has("Permission denied") || has("Too many authentication failures") {
            ConnectError::AuthFailed(said)
        } else if has("Connection timed out during banner exchange")
            || has("kex_exchange_identification")
            || self.server_id.is_none() && !has("Connection timed out")
        {
            ConnectError::NoSsh(said)
        } else if has("Connection timed out") || has("Operation timed out") {
            ConnectError::ConnectTimeout(Duration::ZERO)
        } else if !self.kex_done {
            ConnectError::HandshakeFailed(said)
        } else {
            ConnectError::Io(said)
        }
    }

    /// The failure class of an ssh run cut by sikprobe's own timeout, by the phase it reached.
    fn timed_out(&self, limit: Duration) -> ConnectError {
        let limit = humantime::format_duration(limit);
        if self.server_id.is_none() {
            ConnectError::NoSsh(format!("no SSH identification within {limit}"))
        } else if !self.kex_done {
            ConnectError::HandshakeFailed(format!("key exchange unfinished after {limit}"))
        } else {
            ConnectError::AuthFailed(format!("no answer to authentication within {limit}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr() -> SocketAddr {
        "127.0.0.1:2222".parse().unwrap()
    }

    #[test]
    fn reads_the_server_and_its_key_from_the_log() {
        let report = LogReport::read(
            "debug1: Connecting to 127.0.0.1 [127.0.0.1] port 2222.\n\
             debug1: Remote protocol version 2.0, remote software version OpenSSH_9.2p1 Debian-2\n\
             debug1: Server host key: ssh-ed25519 SHA256:abc\n\
             debug1: SSH2_MSG_NEWKEYS received\n\
             admin@127.0.0.1: Permission denied (publickey,password).\n",
        );
        assert_eq!(
            report.server_id.as_deref(),
            Some("SSH-2.0-OpenSSH_9.2p1 Debian-2")
        );
        assert_eq!(report.host_key.as_deref(), Some("ssh-ed25519 SHA256:abc"));
        assert!(report.kex_done);
        assert_eq!(
            report.failure(addr(), &HostKeyPolicy::Record),
            ConnectError::AuthFailed(
                "admin@127.0.0.1: Permission denied (publickey,password).".into()
            )
        );
    }

    #[test]
    fn classifies_each_phase() {
        let classify = |log: &str| LogReport::read(log).failure(addr(), &HostKeyPolicy::Record);
        assert!(matches!(
            classify("ssh: connect to host 127.0.0.1 port 2222: Connection refused\n"),
            ConnectError::Refused
        ));
        assert!(matches!(
            classify("kex_exchange_identification: read: Connection reset by peer\n"),
            ConnectError::NoSsh(_)
        ));
        assert!(matches!(
            classify(
                "debug1: Remote protocol version 2.0, remote software version X\n\
                 Unable to negotiate with 127.0.0.1 port 2222: no matching key exchange method \
                 found. Their offer: diffie-hellman-group1-sha1\n"
            ),
            ConnectError::HandshakeFailed(_)
        ));
        assert!(matches!(
            classify(
                "debug1: Remote protocol version 2.0, remote software version X\n\
                 No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict \
                 checking.\nHost key verification failed.\n"
            ),
            ConnectError::HostKeyRejected(_)
        ));
        let report = LogReport::read(
            "debug1: Remote protocol version 2.0, remote software version X\n\
             debug1: SSH2_MSG_NEWKEYS received\n",
        );
        assert!(matches!(
            report.timed_out(Duration::from_secs(1)),
            ConnectError::AuthFailed(_)
        ));
        assert!(matches!(
            LogReport::default().timed_out(Duration::from_secs(1)),
            ConnectError::NoSsh(_)
        ));
    }
}
