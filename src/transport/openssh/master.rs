//! Starting an ssh control master for one login: the command line (sikprobe's control options
//! first, then the user's `-o`, then sikprobe's defaults), the process in its own group, its
//! standard error (the banner) and its log read once it has authenticated or failed.

use std::collections::HashSet;
use std::ffi::OsString;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use openssh::Session;
use tokio::io::AsyncReadExt;
use tokio::time::timeout;

use super::OpensshOptions;
use super::client_options::ClientSetup;
use super::known_hosts_file::KnownHostsFile;
use super::log::LogReport;
use super::master_process::MasterProcess;
use crate::transport::{ConnectError, Login, SharedFacts, keep_bounded, lock};

/// One master's own paths and target, besides the run's [`ClientSetup`].
#[derive(Debug, Clone, Copy)]
pub(super) struct MasterTarget<'a> {
    /// ssh's log file (`-E`).
    pub(super) log: &'a Path,
    /// The control socket.
    pub(super) control: &'a Path,
    /// The host-key options of the per-host known_hosts file.
    pub(super) known_hosts: &'a [String],
    /// Where to connect.
    pub(super) addr: SocketAddr,
    /// Who logs in.
    pub(super) user: &'a str,
}

/// The ssh command line of one control master. sikprobe's own control options come first,
/// where nothing can override them; then the user's `-o`, then sikprobe's defaults, which the
/// user's options and config can beat (OpenSSH keeps the first value it sees).
pub(super) fn master_args(setup: &ClientSetup, target: MasterTarget<'_>) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["-E".into(), target.log.into()];
    if let Some(config) = &setup.config {
        args.extend(["-F".into(), config.into()]);
    }
    let mut first = vec![
        // The log level as an option, not -v: a ProxyJump's ssh inherits -v and would write
        // its debug output where the banner is read.
        "LogLevel=DEBUG1".to_owned(),
        "BatchMode=no".to_owned(),
        "ControlMaster=yes".to_owned(),
        format!("ControlPath={}", target.control.display()),
        format!("ControlPersist={}s", setup.persist_seconds),
        "NumberOfPasswordPrompts=1".to_owned(),
        "ClearAllForwardings=yes".to_owned(),
    ];
    first.extend(target.known_hosts.iter().cloned());
    let mut last = vec![
        format!("ConnectTimeout={}", master_timeout(setup).as_secs().max(1)),
        "PreferredAuthentications=publickey,keyboard-interactive,password".to_owned(),
    ];
    last.extend(setup.defaults.iter().cloned());
    last.extend(
        setup
            .identities
            .iter()
            .map(|key| format!("IdentityFile={}", key.display())),
    );
    for option in first.iter().chain(&setup.options).chain(&last) {
        args.extend(["-o".into(), option.into()]);
    }
    args.extend([
        "-f".into(),
        "-N".into(),
        "-p".into(),
        target.addr.port().to_string().into(),
        "-l".into(),
        target.user.into(),
        "--".into(),
        target.addr.ip().to_string().into(),
    ]);
    args
}

/// ssh's own connect timeout, which covers the banner exchange: the pre-check already waited
/// for the TCP connection when there was one.
fn master_timeout(setup: &ClientSetup) -> Duration {
    if setup.precheck {
        setup.handshake_timeout
    } else {
        setup.connect_timeout + setup.handshake_timeout
    }
}

/// Starts an authenticated control master for one login, or says why not; the master's
/// process comes with it when the master tells its pid.
pub(super) async fn start_master(
    addr: SocketAddr,
    login: &Login,
    options: &OpensshOptions,
    facts: &SharedFacts,
) -> Result<(Session, Option<MasterProcess>), ConnectError> {
    let setup = &options.setup;
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
    let control = dir.path().join("master");
    let args = master_args(
        setup,
        MasterTarget {
            log: &log,
            control: &control,
            known_hosts: &known.options(),
            addr,
            user: &login.user,
        },
    );
    let mut command = tokio::process::Command::new(&setup.program);
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
        .map_err(|e| io_error(&format!("starting {}", setup.program.display()), e))?;
    let _in_flight = child
        .id()
        .and_then(|pid| i32::try_from(pid).ok())
        .map(|group| LoginInFlight::register(&options.logins_in_flight, group));
    let stderr = child.stderr.take();
    let limit = master_timeout(setup) + setup.auth_timeout;
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
            let process = MasterProcess::find(&control, &options.masters).await;
            Ok((Session::new_native_mux(dir), process))
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
pub(super) struct LoginInFlight<'a> {
    logins: &'a Mutex<HashSet<i32>>,
    group: i32,
}

impl<'a> LoginInFlight<'a> {
    pub(super) fn register(logins: &'a Mutex<HashSet<i32>>, group: i32) -> Self {
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn setup() -> ClientSetup {
        ClientSetup {
            program: PathBuf::from("ssh"),
            config: None,
            options: Vec::new(),
            identities: Vec::new(),
            connect_timeout: Duration::from_secs(5),
            handshake_timeout: Duration::from_secs(10),
            auth_timeout: Duration::from_secs(10),
            defaults: vec!["KexAlgorithms=curve25519-sha256".into()],
            precheck: true,
            persist_seconds: 65,
        }
    }

    fn args(setup: &ClientSetup) -> Vec<String> {
        let known = ["StrictHostKeyChecking=no".to_owned()];
        master_args(
            setup,
            MasterTarget {
                log: Path::new("/run/h1/log"),
                control: Path::new("/run/h1/master"),
                known_hosts: &known,
                addr: "127.0.0.9:2222".parse().expect("an address"),
                user: "admin",
            },
        )
        .into_iter()
        .map(|arg| arg.into_string().expect("UTF-8"))
        .collect()
    }

    /// The `-o` values, in order.
    fn options(args: &[String]) -> Vec<&str> {
        args.windows(2)
            .filter(|pair| pair[0] == "-o")
            .map(|pair| pair[1].as_str())
            .collect()
    }

    #[test]
    fn the_log_comes_first_and_the_target_last() {
        let args = args(&setup());
        assert_eq!(args[..2], ["-E", "/run/h1/log"]);
        assert_eq!(
            args[args.len() - 8..],
            ["-f", "-N", "-p", "2222", "-l", "admin", "--", "127.0.0.9"]
        );
    }

    #[test]
    fn control_options_come_before_the_users_and_defaults_after() {
        let mut setup = setup();
        setup.options = vec!["ControlPath=/elsewhere".into(), "KexAlgorithms=dh".into()];
        setup.identities = vec![PathBuf::from("/keys/radio")];
        let args = args(&setup);
        let options = options(&args);
        let at = |option: &str| {
            options
                .iter()
                .position(|o| *o == option)
                .unwrap_or_else(|| panic!("{option} missing from {options:?}"))
        };
        assert!(at("ControlPath=/run/h1/master") < at("ControlPath=/elsewhere"));
        assert!(at("StrictHostKeyChecking=no") < at("ControlPath=/elsewhere"));
        assert!(at("KexAlgorithms=dh") < at("KexAlgorithms=curve25519-sha256"));
        assert!(at("KexAlgorithms=dh") < at("IdentityFile=/keys/radio"));
        assert!(options.contains(&"ControlPersist=65s"));
        assert!(!args.contains(&"-F".to_owned()));
    }

    #[test]
    fn the_connect_timeout_covers_tcp_only_without_a_precheck() {
        let mut setup = setup();
        assert!(options(&args(&setup)).contains(&"ConnectTimeout=10"));
        setup.precheck = false;
        assert!(options(&args(&setup)).contains(&"ConnectTimeout=15"));
    }

    #[test]
    fn a_config_file_is_passed_with_f() {
        let mut setup = setup();
        setup.config = Some(PathBuf::from("/etc/radios.conf"));
        let args = args(&setup);
        assert_eq!(args[2..4], ["-F", "/etc/radios.conf"]);
    }
}
