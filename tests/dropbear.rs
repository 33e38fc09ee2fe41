//! sikprobe against a real dropbear 2022.83 (Debian's dropbear-bin), the second real SSH
//! server issue 14 names, with local test accounts whose shell is bash, logged in to with a
//! password (`SIKPROBE_PASSWORD`, never argv):
//!
//! - whatever cuts a host short — a prompt timeout, `--deadline` or `--command-timeout` during a
//!   long remote command, two Ctrl-C — the record says so, and no ssh process of the run
//!   outlives sikprobe over `--transport openssh` (issue 14 §2; the native transport's records
//!   of the same cuts too);
//! - a real Linux host behind a Siklu-like userauth banner (`dropbear -b`) is `not-siklu` over
//!   both transports, with no identity taken from the banner (issue 14 §5).
//!
//! Every dropbear listens on 127.0.0.1, each test on its own port in 23001-23004. The tests
//! create local accounts and dropbear reads /etc/shadow, so they need root.

mod support;

use std::ffi::OsStr;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use sikscan::record::{Record, Status, Transport};
use support::accounts::{PASSWORD, TestUser};
use support::banner::{assert_a_linux_host_despite_the_banner, identity_banner};
use support::dropbear::Dropbear;
use support::processes::{processes_still_mentioning, ssh_still_connected_to};
use support::{parse_records, sikprobe_with_env, spawn_sikprobe};

/// How long an ssh told to stop may take to exit.
const GRACE: Duration = Duration::from_secs(3);

/// sikprobe's arguments to log in to `user` over `transport`, then `args`.
fn login<'a>(user: &'a TestUser, transport: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec![
        "-q",
        "--no-agent",
        "--transport",
        transport,
        "-u",
        user.name,
    ];
    all.extend_from_slice(args);
    all
}

/// The environment of a run: the password, and `tmp` as TMPDIR (where ssh's control paths go,
/// so this test finds its own ssh processes among other tests').
fn env(tmp: &Path) -> [(&'static str, &OsStr); 2] {
    [
        ("SIKPROBE_PASSWORD", OsStr::new(PASSWORD)),
        ("TMPDIR", tmp.as_os_str()),
    ]
}

/// Probes `server` as `user` over `transport` with `args`; returns its one record and how long
/// the run took.
fn probe(
    server: &Dropbear,
    user: &TestUser,
    transport: &str,
    args: &[&str],
    tmp: &Path,
) -> (Record, Duration) {
    let started = Instant::now();
    let probe = sikprobe_with_env(&login(user, transport, args), &env(tmp), &server.target());
    let took = started.elapsed();
    assert!(probe.status.success(), "{transport}: {}", probe.stderr);
    assert_eq!(probe.records.len(), 1, "{transport}: {}", probe.stderr);
    let record = probe.records.into_iter().next().expect("one record");
    let expected = match transport {
        "native" => Transport::Native,
        _ => Transport::Openssh,
    };
    assert_eq!(record.transport, Some(expected));
    (record, took)
}

/// Asserts that no ssh process of the run in `tmp` is left, by its command line or by its
/// connection to `server` (a master that stopped listening is known only by the latter).
#[track_caller]
fn assert_no_ssh_left(server: &Dropbear, tmp: &Path, what: &str) {
    let mine = tmp.to_str().expect("a UTF-8 TMPDIR");
    let named = processes_still_mentioning(mine, GRACE);
    assert!(named.is_empty(), "{what}: ssh left behind: {named:?}");
    let connected = ssh_still_connected_to(server.port, GRACE);
    assert!(
        connected.is_empty(),
        "{what}: ssh still connected to dropbear: {connected:?}\n{}",
        server.log()
    );
}

#[test]
fn a_prompt_timeout_over_openssh_leaves_no_ssh_behind() {
    // bash without a terminal prints no prompt; a prompt timeout shorter than the first nudge
    // cuts the session before the shell probe could tell it is a shell.
    let user = TestUser::create("sikt-db-prompt", "/bin/bash", false);
    let dropbear = Dropbear::start(23001, None);
    let tmp = tempfile::tempdir().expect("temp dir");
    let (record, _) = probe(
        &dropbear,
        &user,
        "openssh",
        &["--platform", "siklu", "--prompt-timeout", "1s"],
        tmp.path(),
    );
    assert_eq!(record.status, Status::PromptTimeout, "{:?}", record.error);
    assert_eq!(record.user.as_deref(), Some(user.name), "it logged in");
    assert!(
        record
            .server_id
            .as_deref()
            .is_some_and(|id| id.starts_with("SSH-2.0-dropbear")),
        "{:?}",
        record.server_id
    );
    assert_no_ssh_left(&dropbear, tmp.path(), "prompt timeout");
}

#[test]
fn a_long_remote_command_cut_short_leaves_no_ssh_behind() {
    let user = TestUser::create("sikt-db-cut", "/bin/bash", false);
    let dropbear = Dropbear::start(23002, None);
    let tmp = tempfile::tempdir().expect("temp dir");
    for (cut, expected) in [
        (["--deadline", "3s"], Status::Deadline),
        (["--command-timeout", "2s"], Status::CommandFailed),
    ] {
        for transport in ["native", "openssh"] {
            let mut args = vec!["--platform", "generic", "-c", "sleep 120"];
            args.extend(cut);
            let (record, took) = probe(&dropbear, &user, transport, &args, tmp.path());
            assert_eq!(
                record.status, expected,
                "{transport} {cut:?}: {:?}",
                record.error
            );
            assert!(
                took < Duration::from_secs(15),
                "{transport} {cut:?}: cut, not run to its end: {took:?}"
            );
            assert_no_ssh_left(&dropbear, tmp.path(), &format!("{transport} {cut:?}"));
        }
    }
}

#[test]
fn two_ctrl_c_during_a_remote_command_leave_it_interrupted_and_no_ssh_behind() {
    let user = TestUser::create("sikt-db-ctrlc", "/bin/bash", false);
    let dropbear = Dropbear::start(23003, None);
    let tmp = tempfile::tempdir().expect("temp dir");
    // Not -q: the note on stderr tells when the first Ctrl-C has been taken.
    let args: Vec<&str> = login(
        &user,
        "openssh",
        &[
            "--platform",
            "generic",
            "-c",
            "sleep 120",
            "--deadline",
            "90s",
        ],
    )
    .into_iter()
    .filter(|arg| *arg != "-q")
    .collect();
    let mut child = spawn_sikprobe(&args, &env(tmp.path()), &dropbear.target());
    let notes = support::lines_of(child.stderr.take().expect("stderr piped"));
    // The remote command runs: the host is in flight, its ssh up.
    let running_by = Instant::now() + Duration::from_secs(20);
    while !user.processes().iter().any(|p| p.contains("sleep 120")) {
        assert!(
            Instant::now() < running_by,
            "the remote command did not start within 20s:\n{}",
            dropbear.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let started = Instant::now();
    interrupt(&child);
    // The second signal only once sikprobe has taken the first (two at once may arrive as one).
    let taken_by = Instant::now() + Duration::from_secs(10);
    loop {
        match notes.recv_timeout(taken_by.saturating_duration_since(Instant::now())) {
            Ok(line) if line.contains("interrupted: finishing the hosts in flight") => break,
            Ok(_) => {}
            Err(e) => panic!("sikprobe did not take the first Ctrl-C within 10s: {e:?}"),
        }
    }
    interrupt(&child);
    let output = child.wait_with_output().expect("sikprobe exits");
    assert_eq!(output.status.code(), Some(130));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "quit at once, not after the command: {:?}",
        started.elapsed()
    );
    let records = parse_records(&output.stdout);
    assert_eq!(records.len(), 1, "one record per input line");
    assert_eq!(records[0].status, Status::Interrupted, "{:?}", records[0]);
    assert_no_ssh_left(&dropbear, tmp.path(), "Ctrl-C twice");
}

/// Sends SIGINT (Ctrl-C) to sikprobe.
fn interrupt(child: &Child) {
    let pid = libc::pid_t::try_from(child.id()).expect("a pid");
    // SAFETY: kill(2) on a child we started and have not reaped yet.
    unsafe { libc::kill(pid, libc::SIGINT) };
}

#[test]
fn a_linux_host_behind_a_siklu_banner_is_not_siklu_over_both_transports() {
    let user = TestUser::create("sikt-db-banner", "/bin/bash", false);
    let dir = tempfile::tempdir().expect("temp dir");
    let dropbear = Dropbear::start(23004, Some(&identity_banner(dir.path())));
    let tmp = tempfile::tempdir().expect("temp dir");
    for transport in ["native", "openssh"] {
        let (record, _) = probe(&dropbear, &user, transport, &[], tmp.path());
        assert_a_linux_host_despite_the_banner(&record, transport, user.name);
        assert_eq!(record.user.as_deref(), Some(user.name), "{transport}");
    }
}
