//! The system OpenSSH client (through sshpass) against siksim, as a user at a terminal would
//! log in: the siksim tests check what a real client sees.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::Ipv4Addr;
use std::process::{Command, Output, Stdio};

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

    /// Runs the client through `sshpass -e`.
    pub fn run(self) -> Seen {
        let mut command = Command::new("timeout");
        command
            // Kill a little after ssh's own connect timeout, so that one can be observed.
            .arg((self.timeout_s + 2).to_string())
            .args(["sshpass", "-e", "ssh"])
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
            .env("SSHPASS", self.password)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sshpass and ssh are installed");
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
