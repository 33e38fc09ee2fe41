//! The system OpenSSH client against siksim, logging in with a password as a user at a terminal
//! would (ssh asks an askpass program the test writes): the siksim tests check what a real
//! client sees.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::Ipv4Addr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use super::require;

/// The options every test login uses: no host key checks, no keys, no config surprises.
fn base_options(port: u16, timeout_s: u32) -> Vec<String> {
    [
        "-F",
        "/dev/null",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "PubkeyAuthentication=no",
        "-o",
        "NumberOfPasswordPrompts=1",
        "-o",
        "LogLevel=INFO",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain([
        "-o".to_owned(),
        format!("ConnectTimeout={timeout_s}"),
        "-p".to_owned(),
        port.to_string(),
    ])
    .collect()
}

/// One OpenSSH client run.
pub struct Login<'a> {
    ip: Ipv4Addr,
    port: u16,
    password: &'a str,
    extra: Vec<String>,
    tty: bool,
    command: Option<String>,
    input: String,
    timeout_s: u32,
}

/// What the client printed and how it ended.
#[derive(Debug)]
pub struct Seen {
    /// Standard output, with `\r` kept.
    pub stdout: String,
    /// Standard error (banner, errors).
    pub stderr: String,
    /// Exit code (`None` when killed by the timeout).
    pub code: Option<i32>,
}

impl<'a> Login<'a> {
    /// An `admin` login to `ip:port` with `password`.
    pub fn new(ip: Ipv4Addr, port: u16, password: &'a str) -> Login<'a> {
        Login {
            ip,
            port,
            password,
            extra: Vec::new(),
            tty: false,
            command: None,
            input: String::new(),
            timeout_s: 5,
        }
    }

    /// Adds `-o OPTION`.
    pub fn option(mut self, option: &str) -> Self {
        self.extra.extend(["-o".to_owned(), option.to_owned()]);
        self
    }

    /// An interactive shell (`ssh -tt`) fed `input`.
    pub fn shell(mut self, input: &str) -> Self {
        self.tty = true;
        self.input = input.to_owned();
        self
    }

    /// An exec channel running `command`.
    pub fn exec(mut self, command: &str) -> Self {
        self.command = Some(command.to_owned());
        self
    }

    /// ssh's connect timeout; the client is killed 2 s after it.
    pub fn timeout(mut self, seconds: u32) -> Self {
        self.timeout_s = seconds;
        self
    }

    /// Runs the client; ssh reads the password from an askpass program written for this run.
    #[track_caller]
    pub fn run(self) -> Seen {
        let ssh = require("ssh");
        let askpass = Askpass::new(self.password);
        let mut command = Command::new("timeout");
        command
            // Kill a little after ssh's own connect timeout, so that one can be observed.
            .arg((self.timeout_s + 2).to_string())
            .arg(ssh)
            // For ssh the first value of an option wins: the test's own options go first.
            .args(&self.extra)
            .args(base_options(self.port, self.timeout_s));
        if self.tty {
            command.arg("-tt");
        }
        command.arg(format!("admin@{}", self.ip));
        if let Some(remote) = &self.command {
            command.arg(remote);
        }
        let mut child = command
            .env("SSH_ASKPASS", askpass.program())
            // The askpass even when a terminal is at hand; DISPLAY because OpenSSH before 8.4
            // (no SSH_ASKPASS_REQUIRE) uses an askpass only with one.
            .env("SSH_ASKPASS_REQUIRE", "force")
            .env("DISPLAY", ":0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("timeout and ssh start");
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let input = self.input.clone();
        // Feed input from a thread so a large reply cannot deadlock against our write.
        let feeder = std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });
        let output: Output = child.wait_with_output().expect("ssh runs");
        let _ = feeder.join();
        Seen {
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            code: output.status.code().filter(|&code| code != 124),
        }
    }
}

/// An askpass program for one login, in a directory of its own (removed when dropped): it
/// prints the password, which it reads from a file beside it (mode 0600), so the password is
/// in no process's argv or environment.
struct Askpass {
    dir: tempfile::TempDir,
}

impl Askpass {
    fn new(password: &str) -> Askpass {
        let dir = tempfile::tempdir().expect("temp dir");
        let secret = dir.path().join("password");
        write_with_mode(&secret, &format!("{password}\n"), 0o600);
        let script = format!("#!/bin/sh\nexec cat '{}'\n", secret.display());
        write_with_mode(&dir.path().join("askpass"), &script, 0o700);
        Askpass { dir }
    }

    fn program(&self) -> std::path::PathBuf {
        self.dir.path().join("askpass")
    }
}

/// Creates `path` with `mode` from the start, so the password is never readable by others.
fn write_with_mode(path: &Path, text: &str, mode: u32) {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// `key : value` lines of a flat Siklu output, as a client reads them: key trimmed, value
/// the text after the first colon, trimmed.
pub fn fields(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| line.split_once(" : ").or_else(|| line.split_once(':')))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// The reference's `time_to_days` of a `DDDD:HH:MM:SS` uptime, printed as Python prints it.
pub fn days(uptime: &str) -> String {
    let parts: Vec<f64> = uptime
        .split(':')
        .map(|p| p.parse().expect("numeric uptime part"))
        .collect();
    assert_eq!(parts.len(), 4, "uptime {uptime}");
    let value = ((parts[0] + parts[1] / 24.0 + parts[2] / 1440.0) * 100.0).round() / 100.0;
    let text = value.to_string();
    if text.contains('.') {
        text
    } else {
        format!("{text}.0")
    }
}
