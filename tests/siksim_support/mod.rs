//! Running siksim and the system OpenSSH client against it, for the siksim integration tests.
//!
//! Each test serves its own loopback range (127.180+N.0.0/24) on its own high port, waits for
//! the ready line (never a fixed sleep), and stops the simulator when the handle drops.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The siksim binary under test.
pub const SIKSIM: &str = env!("CARGO_BIN_EXE_siksim");

/// How long a simulator may take to report readiness.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A running siksim, stopped with SIGTERM on drop.
pub struct Sim {
    child: Child,
    /// The port it serves.
    pub port: u16,
    /// The arguments it was started with (reused for `--describe`).
    pub args: Vec<String>,
    /// The ready line.
    pub ready: String,
    stderr: mpsc::Receiver<String>,
}

impl Sim {
    /// Starts siksim with `args` plus `--port port` and waits for the ready line.
    pub fn start(args: &[&str], port: u16) -> Sim {
        let mut args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        args.extend(["--port".to_owned(), port.to_string()]);
        let mut child = Command::new(SIKSIM)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("siksim starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut seen = Vec::new();
        let ready = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line.starts_with("siksim: ready: ") => break line,
                Ok(line) => seen.push(line),
                Err(_) => panic!("siksim {args:?} never became ready; stderr: {seen:?}"),
            }
        };
        Sim {
            child,
            port,
            args,
            ready,
            stderr: rx,
        }
    }

    /// The ground truth for this fleet, keyed by address (radios; TG CN records are keyed
    /// by their route).
    pub fn describe(&self) -> BTreeMap<String, Value> {
        describe(&self.args)
    }

    /// Sends SIGTERM and returns the exit status and the rest of stderr.
    pub fn stop(mut self) -> (std::process::ExitStatus, Vec<String>) {
        terminate(&self.child);
        let status = self.child.wait().expect("siksim exits");
        let rest = self.stderr.try_iter().collect();
        (status, rest)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        terminate(&self.child);
        let _ = self.child.wait();
    }
}

fn terminate(child: &Child) {
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
}

/// Runs `siksim ARGS --describe` and indexes the records by address (CNs by route).
pub fn describe(args: &[String]) -> BTreeMap<String, Value> {
    let output = Command::new(SIKSIM)
        .args(args)
        .arg("--describe")
        .output()
        .expect("siksim --describe runs");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout)
        .expect("NDJSON is UTF-8")
        .lines()
        .map(|line| {
            let record: Value = serde_json::from_str(line).expect("each line is JSON");
            let key = record["route"].as_str().map_or_else(
                || record["ip"].as_str().expect("ip").to_owned(),
                str::to_owned,
            );
            (key, record)
        })
        .collect()
}

/// Writes a fleet file into a temporary directory.
pub fn fleet_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("fleet file written");
    path
}

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
