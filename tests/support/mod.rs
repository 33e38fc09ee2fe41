//! Test support: a simulated fleet (the real `siksim` binary), the real `sikprobe`, a real
//! OpenSSH `sshd`, and the checks many tests share.
//!
//! Every test serves its own loopback range (127.1xx.y.0/24 …) on a high port, so tests run in
//! parallel without fighting over addresses; only the ones with an `sshd` need root.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sikscan::record::{Record, Status};

pub mod accounts;
pub mod archive;
pub mod banner;
pub mod dropbear;
pub mod events;
pub mod fleet;
pub mod openssh_client;
pub mod processes;
pub mod require;
pub mod served;

use fleet::Fleet;
pub use require::{require, require_root};

pub const SIKSIM: &str = env!("CARGO_BIN_EXE_siksim");
pub const SIKPROBE: &str = env!("CARGO_BIN_EXE_sikprobe");
pub const IPGEN: &str = env!("CARGO_BIN_EXE_ipgen");

/// A running siksim, stopped (SIGTERM) when dropped.
pub struct Siksim {
    child: Child,
    args: Vec<String>,
    ready: String,
    stderr: mpsc::Receiver<String>,
    /// The directory of the fleet file [`Siksim::serve`] wrote, kept while siksim serves it.
    _fleet_dir: Option<tempfile::TempDir>,
}

impl Siksim {
    /// Writes `fleet` to a file of its own and serves it: `siksim --fleet FILE ARGS…`.
    pub fn serve(fleet: &Fleet, args: &[&str]) -> Siksim {
        let (dir, path) = temp_file("fleet.toml", &fleet.toml());
        let path = path.to_str().expect("a UTF-8 temporary path");
        let mut all = vec!["--fleet", path];
        all.extend_from_slice(args);
        let mut siksim = Siksim::start(&all);
        siksim._fleet_dir = Some(dir);
        siksim
    }

    /// Starts siksim with `args` and waits for its ready line (never a fixed sleep).
    pub fn start(args: &[&str]) -> Siksim {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let mut child = Command::new(SIKSIM)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("siksim starts");
        let stderr = child.stderr.take().expect("stderr piped");
        let (lines_tx, lines) = mpsc::channel();
        // Keeps draining, so siksim never blocks on a full stderr pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = Vec::new();
        let ready = loop {
            match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) if line.contains(": ready: ") => break line,
                Ok(line) => seen.push(line),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("siksim {args:?} exited before ready:\n{}", seen.join("\n"))
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    panic!("siksim {args:?} not ready within 60s:\n{}", seen.join("\n"));
                }
            }
        };
        Siksim {
            child,
            args,
            ready,
            stderr: lines,
            _fleet_dir: None,
        }
    }

    /// The ready line, as siksim printed it.
    pub fn ready(&self) -> &str {
        &self.ready
    }

    /// The port served, as the ready line says.
    pub fn port(&self) -> u16 {
        self.ready
            .split_once(" on port ")
            .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|digits| digits.parse().ok())
            .unwrap_or_else(|| panic!("no port in the ready line: {}", self.ready))
    }

    /// The process id, for signals.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `siksim --describe` of the fleet served: one JSON object per device.
    pub fn describe(&self) -> Vec<serde_json::Value> {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        describe(&args)
    }

    /// The ground truth of the fleet served, keyed by address (TG client nodes by route).
    pub fn ground_truth(&self) -> BTreeMap<String, serde_json::Value> {
        self.describe()
            .into_iter()
            .map(|record| {
                let key = record["route"].as_str().map_or_else(
                    || record["ip"].as_str().expect("ip").to_owned(),
                    str::to_owned,
                );
                (key, record)
            })
            .collect()
    }

    /// Stops siksim (SIGTERM) and returns its exit status and what it wrote on stderr after
    /// the ready line.
    pub fn stop(mut self) -> (ExitStatus, Vec<String>) {
        self.terminate();
        let status = self.child.wait().expect("siksim exits");
        let rest = self.stderr.try_iter().collect();
        (status, rest)
    }

    fn terminate(&self) {
        // SAFETY: kill(2) on our own child's pid; a failure means it is already gone.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
    }
}

impl Drop for Siksim {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return; // stopped already: its pid may belong to another process by now
        }
        self.terminate();
        let _ = self.child.wait();
    }
}

/// siksim's ground truth for a fleet: one JSON object per device.
pub fn describe(args: &[&str]) -> Vec<serde_json::Value> {
    let mut full = vec!["--describe"];
    full.extend_from_slice(args);
    let out = Command::new(SIKSIM)
        .args(&full)
        .output()
        .expect("siksim --describe runs");
    assert!(
        out.status.success(),
        "siksim --describe failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("describe prints JSON lines"))
        .collect()
}

/// The outcome of a sikprobe run.
pub struct Probe {
    pub records: Vec<Record>,
    pub stderr: String,
    pub status: ExitStatus,
}

/// Runs sikprobe with `args`, feeding `input` on stdin, and parses every record.
pub fn sikprobe(args: &[&str], input: &str) -> Probe {
    sikprobe_with_env(args, &[], input)
}

/// Runs sikprobe with `args` and the environment variables `env` (`SIKPROBE_PASSWORD`, a
/// `TMPDIR`), feeding `input` on stdin, and parses every record.
pub fn sikprobe_with_env(args: &[&str], env: &[(&str, &OsStr)], input: &str) -> Probe {
    let out = spawn_sikprobe(args, env, input)
        .wait_with_output()
        .expect("sikprobe finishes");
    Probe {
        records: parse_records(&out.stdout),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: out.status,
    }
}

/// Starts sikprobe with `args` and the environment variables `env` (stdout and stderr piped),
/// feeding `input` on stdin from a thread, so a long input cannot deadlock against the output
/// nobody reads yet; stdin is closed after it.
pub fn start_sikprobe(args: &[&str], env: &[(&str, &Path)], input: &str) -> Child {
    let env: Vec<(&str, &OsStr)> = env.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
    spawn_sikprobe(args, &env, input)
}

/// [`start_sikprobe`] with environment values that need not be paths (a password).
pub fn spawn_sikprobe(args: &[&str], env: &[(&str, &OsStr)], input: &str) -> Child {
    let mut child = Command::new(SIKPROBE)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sikprobe starts");
    let mut stdin = child.stdin.take().expect("stdin piped");
    let input = input.to_owned();
    std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    child
}

/// Parses NDJSON records; panics on any line that is not one.
pub fn parse_records(stdout: &[u8]) -> Vec<Record> {
    String::from_utf8(stdout.to_vec())
        .expect("records are UTF-8")
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a record ({e}): {line}"))
        })
        .collect()
}

/// The addresses of a spec, one per line, as ipgen prints them.
pub fn addresses(spec: &str) -> String {
    let out = Command::new(IPGEN).arg(spec).output().expect("ipgen runs");
    assert!(out.status.success());
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// Writes a file in a fresh temporary directory and returns both (the directory keeps it).
pub fn temp_file(name: &str, contents: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, contents).expect("write temp file");
    (dir, path)
}

/// Asserts that every record is `ok`; the message lists each one that is not (its address,
/// route or input line, status and error), so a failure says which hosts failed and why.
#[track_caller]
pub fn assert_all_ok(records: &[Record]) {
    const SHOWN: usize = 20;
    let not_ok: Vec<&Record> = records.iter().filter(|r| r.status != Status::Ok).collect();
    if not_ok.is_empty() {
        return;
    }
    let mut lines: Vec<String> = not_ok
        .iter()
        .take(SHOWN)
        .map(|r| {
            let host = r
                .route
                .clone()
                .or_else(|| r.ip.map(|ip| ip.to_string()))
                .or_else(|| r.input.clone())
                .unwrap_or_default();
            let error = r.error.as_deref().unwrap_or("no error given");
            format!("  {host}: {}: {error}", r.status.as_str())
        })
        .collect();
    if not_ok.len() > SHOWN {
        lines.push(format!("  … and {} more", not_ok.len() - SHOWN));
    }
    panic!(
        "{} of {} records are not ok:\n{}",
        not_ok.len(),
        records.len(),
        lines.join("\n")
    );
}

/// Asserts that a record came from a [`Sshd`]: OpenSSH's identification and its ed25519 host
/// key, recorded as `ALG SHA256:…`.
pub fn assert_from_the_test_sshd(record: &Record) {
    assert!(
        record
            .server_id
            .as_deref()
            .is_some_and(|id| id.starts_with("SSH-2.0-OpenSSH")),
        "{:?}",
        record.server_id
    );
    assert!(
        record
            .host_key
            .as_deref()
            .is_some_and(|k| k.starts_with("ssh-ed25519 SHA256:")),
        "{:?}",
        record.host_key
    );
}

/// A real OpenSSH sshd on 127.0.0.1, with its own host key and one authorised user key, stopped
/// when dropped. Needs root (privilege separation, logins as root) and openssh-server.
pub struct Sshd {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Sshd {
    /// Starts sshd on `port` accepting `user_key.pub` for any user, keys only.
    #[track_caller]
    pub fn start(port: u16) -> Sshd {
        Sshd::start_with(port, "")
    }

    /// Starts sshd on `port` with `settings` (sshd_config lines) before the defaults of
    /// [`Sshd::start`]: sshd keeps the first value of a keyword, so they win (`UsePAM yes`,
    /// `PasswordAuthentication yes`, `Banner FILE`), and repeatable ones add (`HostKey FILE`).
    #[track_caller]
    pub fn start_with(port: u16, settings: &str) -> Sshd {
        require_root("a real sshd: privilege separation, logins as root");
        let keygen = require("ssh-keygen");
        let sshd = require("/usr/sbin/sshd");
        let dir = tempfile::tempdir().expect("temp dir");
        let path = |name: &str| dir.path().join(name);
        for key in ["host_key", "user_key", "other_key"] {
            let status = Command::new(&keygen)
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(path(key))
                .status()
                .expect("ssh-keygen runs");
            assert!(status.success());
        }
        std::fs::copy(path("user_key.pub"), path("authorized_keys")).expect("authorized_keys");
        let config = format!(
            "{settings}\nPort {port}\nListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
             PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\nPidFile {}\n",
            path("host_key").display(),
            path("authorized_keys").display(),
            path("sshd.pid").display(),
        );
        std::fs::write(path("sshd_config"), config).expect("sshd_config");
        // sshd's privilege separation wants its empty directory.
        std::fs::create_dir_all("/run/sshd").expect("/run/sshd");
        let mut child = Command::new(sshd)
            .args(["-D", "-e", "-f"])
            .arg(path("sshd_config"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sshd starts");
        let stderr = child.stderr.take().expect("stderr piped");
        let (lines_tx, lines) = mpsc::channel();
        // Keeps draining after the lines stop mattering, so sshd never blocks on (or dies of)
        // its stderr.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = lines_tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen = Vec::new();
        loop {
            match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) if line.contains("Server listening on") => break,
                Ok(line) => seen.push(line),
                Err(failed) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "sshd on port {port} not listening ({failed:?}):\n{}",
                        seen.join("\n")
                    );
                }
            }
        }
        Sshd { child, port, dir }
    }

    /// A key file in the fixture's directory (`user_key` is authorised, `other_key` is not).
    pub fn key(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
}

/// Asserts that sikprobe's records of a fleet say what `siksim --describe` says of each device
/// (status; identity fields, except where key exchange failed; name, user, type and prompt of
/// the radios that logged in; banner), one record per described device.
pub fn assert_matches_ground_truth(records: &[Record], truth: &[serde_json::Value], port: u16) {
    let text = |value: &serde_json::Value, key: &str| value[key].as_str().map(str::to_owned);
    let got: std::collections::HashMap<std::net::IpAddr, &Record> =
        records.iter().filter_map(|r| Some((r.ip?, r))).collect();
    for device in truth {
        let ip: std::net::IpAddr = text(device, "ip")
            .and_then(|s| s.parse().ok())
            .expect("an ip");
        let persona = text(device, "persona").unwrap_or_default();
        let record = got
            .get(&ip)
            .unwrap_or_else(|| panic!("{ip} ({persona}) has a record"));
        let expected: Status = text(device, "status")
            .and_then(|s| s.parse().ok())
            .expect("a status");
        assert_eq!(
            record.status, expected,
            "{ip} ({persona}): {:?}",
            record.error
        );
        assert_eq!(record.port, Some(port));
        if expected == Status::HandshakeFailed {
            continue;
        }
        let same = |field: &str, got: &Option<String>| {
            assert_eq!(*got, text(device, field), "{ip} ({persona}) {field}");
        };
        same("model", &record.model);
        same("sw", &record.sw);
        same("sn", &record.sn);
        if record.status == Status::Ok {
            same("name", &record.name);
            same("user", &record.user);
            assert_eq!(
                record.radio_type.map(|t| t.as_str().to_owned()),
                text(device, "radio_type"),
                "{ip} radio_type"
            );
            assert_eq!(
                record.prompt.as_deref(),
                text(device, "prompt").as_deref().map(str::trim_end),
                "{ip} prompt"
            );
        }
        assert_eq!(record.banner, text(device, "banner"), "{ip} banner");
    }
}

/// The lines of a child's output as they come, from a thread that reads it to the end.
pub fn lines_of(output: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(output).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    lines
}

/// A pseudo-terminal, for a child whose standard input must be a terminal nobody types on.
pub struct Terminal {
    /// Held open, so that the device side stays a live terminal (not one that hung up).
    controller: std::os::fd::OwnedFd,
    device: std::os::fd::OwnedFd,
}

impl Terminal {
    /// Opens a new pseudo-terminal pair.
    pub fn open() -> Terminal {
        use std::os::fd::FromRawFd;
        let (mut controller, mut device) = (-1, -1);
        // SAFETY: openpty(3) writes two new descriptors into the pointers given; the name,
        // termios and window size are optional and passed as null.
        let done = unsafe {
            libc::openpty(
                &mut controller,
                &mut device,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(done, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both descriptors were just opened by openpty and are owned by nobody else.
        unsafe {
            Terminal {
                controller: std::os::fd::OwnedFd::from_raw_fd(controller),
                device: std::os::fd::OwnedFd::from_raw_fd(device),
            }
        }
    }

    /// The terminal's device side, as a child's standard input.
    pub fn stdin(&self) -> Stdio {
        Stdio::from(self.device.try_clone().expect("dup the terminal"))
    }
}

/// The ground truth (`siksim --describe`) of one device, a TG client node by its route.
pub fn truth_for<'a>(
    truth: &'a [serde_json::Value],
    ip: &str,
    route: Option<&str>,
) -> &'a serde_json::Value {
    truth
        .iter()
        .find(|d| d["ip"] == ip && d["route"].as_str() == route)
        .unwrap_or_else(|| panic!("no ground truth for {ip} {route:?}"))
}

/// The commands the record lists, in order (sent or, under `--dry-run`, planned).
pub fn command_names(record: &Record) -> Vec<&str> {
    record
        .commands
        .iter()
        .flatten()
        .map(|c| c.command.as_str())
        .collect()
}

/// The one record of `ip` (of its TG client node at `route`, when given); panics unless there
/// is exactly one.
#[track_caller]
pub fn record_for<'a>(records: &'a [Record], ip: &str, route: Option<&str>) -> &'a Record {
    let matching: Vec<&Record> = records
        .iter()
        .filter(|r| r.ip.map(|a| a.to_string()).as_deref() == Some(ip))
        .filter(|r| r.route.as_deref() == route)
        .collect();
    assert_eq!(matching.len(), 1, "one record for {ip} {route:?}");
    matching[0]
}
