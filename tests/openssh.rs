//! sikprobe `--transport openssh` and `auto`: the system OpenSSH client against siksim personas
//! and real OpenSSH sshd servers on loopback — every status, passwords through askpass (never in
//! argv or environment), host-key policies, key logins, generic commands and ProxyJump.

mod support;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sikscan::record::{Record, Status, Transport};
use support::fleet::{Fleet, fleet, group};
use support::processes::{
    processes_mentioning, processes_still_mentioning, ssh_connected_to, ssh_still_connected_to,
};
use support::require::require;
use support::{
    Siksim, Sshd, addresses, assert_all_ok, assert_matches_ground_truth, describe, parse_records,
    sikprobe, start_sikprobe, temp_file,
};

/// Every test of this file serves on this port; each has its own address range.
const PORT: &str = "2311";

fn by_ip(records: &[Record]) -> HashMap<IpAddr, &Record> {
    records.iter().filter_map(|r| Some((r.ip?, r))).collect()
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("an address")
}

/// Serves a fleet on PORT with `extra` arguments.
fn serve(fleet: &Fleet, extra: &[&str]) -> Siksim {
    let mut args = vec!["--port", PORT, "-q"];
    args.extend_from_slice(extra);
    Siksim::serve(fleet, &args)
}

#[test]
fn the_demo_fleet_over_openssh_is_reported_as_its_ground_truth_says() {
    require("ssh");
    let _fleet = Siksim::start(&["--demo", "--port", PORT, "-q"]);
    let truth: Vec<serde_json::Value> = describe(&["--demo", "--port", PORT])
        .into_iter()
        .filter(|device| device["route"].is_null())
        .collect();
    let probe = sikprobe(
        &[
            "--transport",
            "openssh",
            "-p",
            PORT,
            "-j",
            "100",
            "--connect-timeout",
            "1s",
            "--handshake-timeout",
            "2s",
            "--deadline",
            "20s",
        ],
        &addresses("127.77.0.0/24"),
    );
    assert!(probe.status.success(), "{}", probe.stderr);
    assert_eq!(probe.records.len(), truth.len(), "one record per address");
    assert!(
        probe
            .records
            .iter()
            .all(|r| r.transport == Some(Transport::Openssh))
    );
    assert_matches_ground_truth(&probe.records, &truth, 2311);

    // The legacy-only radios, with the algorithms widened either way.
    let legacy: Vec<&serde_json::Value> = truth
        .iter()
        .filter(|d| d["persona"] == "legacy-only")
        .collect();
    let input: String = legacy
        .iter()
        .map(|d| format!("{}\n", d["ip"].as_str().expect("ip")))
        .collect();
    for widen in [
        &[
            "-o",
            "KexAlgorithms=+diffie-hellman-group14-sha1",
            "-o",
            "HostKeyAlgorithms=+ssh-rsa",
            "-o",
            "Ciphers=+aes128-cbc",
        ][..],
        &["--legacy-algorithms"][..],
    ] {
        let mut args = vec!["--transport", "openssh", "-p", PORT, "-q"];
        args.extend_from_slice(widen);
        let widened = sikprobe(&args, &input);
        assert_eq!(widened.records.len(), legacy.len());
        let widened = by_ip(&widened.records);
        for device in &legacy {
            let record = widened[&ip(device["ip"].as_str().expect("ip"))];
            assert_eq!(record.status, Status::Ok, "{widen:?}: {:?}", record.error);
            assert_eq!(record.model.as_deref(), device["model"].as_str());
            assert!(
                record
                    .host_key
                    .as_deref()
                    .is_some_and(|k| k.starts_with("ssh-rsa SHA256:"))
            );
        }
    }
}

#[test]
fn hung_radios_time_out_or_are_cut_at_the_deadline_and_leave_no_ssh_behind() {
    require("ssh");
    let _fleet = serve(
        &fleet([
            group("127.160.1.1", "hang").with("model", "EH-8010FX"),
            group("127.160.1.2", "kbd-interactive"),
            group("127.160.1.3", "slow"),
        ]),
        &[],
    );
    // A TMPDIR of its own, so this test can find its own ssh masters among other tests'.
    let tmp = tempfile::tempdir().expect("temp dir");
    let run = |extra: &[&str]| {
        let mut args = vec!["--transport", "openssh", "-p", PORT, "-q"];
        args.extend_from_slice(extra);
        let output = start_sikprobe(
            &args,
            &[("TMPDIR", tmp.path())],
            &addresses("127.160.1.1-127.160.1.3"),
        )
        .wait_with_output()
        .expect("sikprobe runs");
        assert!(output.status.success());
        parse_records(&output.stdout)
    };

    let records = run(&["--command-timeout", "1s", "--deadline", "20s"]);
    let got = by_ip(&records);
    let hung = got[&ip("127.160.1.1")];
    assert_eq!(hung.status, Status::PromptTimeout, "{:?}", hung.error);
    assert_eq!(hung.prompt.as_deref(), Some("EH-8010FX>"));
    let kbd = got[&ip("127.160.1.2")];
    assert_eq!(kbd.status, Status::Ok, "{:?}", kbd.error);
    assert_eq!(kbd.user.as_deref(), Some("admin"));

    let started = Instant::now();
    let records = run(&["--command-timeout", "30s", "--deadline", "3s"]);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "cut at the deadline, not the command timeout: {:?}",
        started.elapsed()
    );
    let got = by_ip(&records);
    let cut = got[&ip("127.160.1.1")];
    assert_eq!(cut.status, Status::Deadline, "{:?}", cut.error);
    assert_eq!(cut.model.as_deref(), None, "nothing identified it yet");
    assert_eq!(
        cut.prompt.as_deref(),
        Some("EH-8010FX>"),
        "what it had is kept"
    );

    // Every master, cut or finished, is gone once sikprobe has exited (told to stop, a master
    // takes a moment to exit).
    let mine = tmp.path().to_str().expect("UTF-8").to_owned();
    let leftovers = processes_still_mentioning(&mine, Duration::from_secs(3));
    assert!(
        leftovers.is_empty(),
        "ssh masters left behind: {leftovers:?}"
    );
}

#[test]
fn a_second_ctrl_c_abandons_the_hosts_in_flight_and_takes_every_ssh_of_the_run_down() {
    // Five radios hang after their prompt (live masters) and three are still logging in (ssh
    // login processes waiting on a 30 s login), so both kinds are in flight at the signals.
    require("ssh");
    let _fleet = serve(
        &fleet([
            group("127.160.6.1-127.160.6.5", "hang").with("model", "EH-8010FX"),
            group("127.160.6.6-127.160.6.8", "slow").with("login_delay", "30s"),
        ]),
        &[],
    );
    let tmp = tempfile::tempdir().expect("temp dir");
    let mine = tmp.path().to_str().expect("UTF-8").to_owned();
    // Not -q: the note on stderr tells when the first Ctrl-C has been taken.
    let mut child = start_sikprobe(
        &[
            "--transport",
            "openssh",
            "-p",
            PORT,
            "--command-timeout",
            "60s",
            "--auth-timeout",
            "60s",
            "--deadline",
            "90s",
        ],
        &[("TMPDIR", tmp.path())],
        &addresses("127.160.6.1-127.160.6.8"),
    );
    let notes = support::lines_of(child.stderr.take().expect("stderr piped"));
    // All eight ssh processes are up: the masters of the five hung radios, detached from their
    // login once it succeeded, and the three slow radios' logins, still sikprobe's children.
    let up_by = Instant::now() + Duration::from_secs(20);
    while logins_and_masters(&mine, child.id()) != (3, 5) && Instant::now() < up_by {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        processes_mentioning(&mine).len(),
        8,
        "every radio has its ssh"
    );

    let pid = i32::try_from(child.id()).expect("a pid");
    let started = Instant::now();
    // SAFETY: kill(2) on a child we started and have not reaped yet.
    unsafe { libc::kill(pid, libc::SIGINT) };
    // The second signal only once sikprobe has taken the first (two at once may arrive as one).
    let taken_by = Instant::now() + Duration::from_secs(10);
    loop {
        match notes.recv_timeout(taken_by.saturating_duration_since(Instant::now())) {
            Ok(line) if line.contains("interrupted: finishing the hosts in flight") => break,
            Ok(_) => {}
            Err(e) => panic!("sikprobe did not take the first Ctrl-C within 10s: {e:?}"),
        }
    }
    // SAFETY: as above; sikprobe is still running, waiting for the hosts in flight.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let output = child.wait_with_output().expect("sikprobe exits");
    assert_eq!(output.status.code(), Some(130));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "quit at once, not after the hosts in flight: {:?}",
        started.elapsed()
    );
    // Every host was in flight: each has its record all the same, saying it was abandoned.
    let records = parse_records(&output.stdout);
    assert_eq!(records.len(), 8, "one record per input line");
    for record in &records {
        assert_eq!(record.status, Status::Interrupted, "{record:?}");
    }

    let leftovers = processes_still_mentioning(&mine, Duration::from_secs(3));
    assert!(leftovers.is_empty(), "ssh left behind: {leftovers:?}");
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .expect("the test's TMPDIR")
        .flatten()
        .map(|entry| entry.path())
        .collect();
    assert!(left.is_empty(), "the run directory is removed: {left:?}");
}

/// Of the live processes that mention `text`, how many are children of `parent` (ssh logins in
/// progress) and how many are not (control masters, which `ssh -f` detaches once logged in).
fn logins_and_masters(text: &str, parent: u32) -> (usize, usize) {
    let parent = parent.to_string();
    let (mut logins, mut masters) = (0, 0);
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let read = |name: &str| std::fs::read_to_string(entry.path().join(name));
        let (Ok(cmdline), Ok(status)) = (read("cmdline"), read("status")) else {
            continue;
        };
        if !cmdline.contains(text) {
            continue;
        }
        let ppid = status
            .lines()
            .find_map(|line| line.strip_prefix("PPid:"))
            .map(str::trim);
        if ppid == Some(parent.as_str()) {
            logins += 1;
        } else {
            masters += 1;
        }
    }
    (logins, masters)
}

#[test]
fn auto_tries_openssh_only_where_the_native_client_cannot_get_through() {
    require("ssh");
    let _fleet = serve(
        &fleet([
            group("127.160.2.1", "eh"),
            group("127.160.2.2", "legacy-only"),
            group("127.160.2.3", "wrong-password"),
            group("127.160.2.4", "garbage"),
        ]),
        &[],
    );
    let probe = sikprobe(
        &[
            "--transport",
            "auto",
            "-p",
            PORT,
            "-q",
            "-o",
            "KexAlgorithms=+diffie-hellman-group14-sha1",
            "-o",
            "HostKeyAlgorithms=+ssh-rsa",
            "-o",
            "Ciphers=+aes128-cbc",
        ],
        &addresses("127.160.2.1-127.160.2.4"),
    );
    assert!(probe.status.success(), "{}", probe.stderr);
    let got = by_ip(&probe.records);
    let expect = |last: u8, status: Status, transport: Transport| {
        let record = got[&ip(&format!("127.160.2.{last}"))];
        assert_eq!(record.status, status, "{last}: {:?}", record.error);
        assert_eq!(record.transport, Some(transport), "{last}");
        record
    };
    expect(1, Status::Ok, Transport::Native);
    let legacy = expect(2, Status::Ok, Transport::Openssh);
    assert!(legacy.model.is_some() && legacy.server_id.is_some());
    // The server judged the password: no second client may try it again.
    let denied = expect(3, Status::AuthFailed, Transport::Native);
    assert!(denied.model.is_some(), "model from the banner");
    let garbage = expect(4, Status::NoSsh, Transport::Openssh);
    let why = garbage.error.as_deref().unwrap_or_default();
    assert!(
        why.contains("220 ProFTPD") && why.contains("after the native client"),
        "{why}"
    );
}

#[test]
fn passwords_reach_ssh_through_askpass_never_argv_or_environment() {
    const PASSWORD: &str = "Tr0ub4dor-askpass-7731";
    require("ssh");
    let _fleet = serve(
        &fleet([
            group("127.160.3.1-127.160.3.4", "slow"),
            group("127.160.3.5", "kbd-interactive"),
        ])
        .user("admin")
        .password(PASSWORD),
        &[],
    );
    // Two password sets for every address: the first is wrong, the second logs in.
    let (_cred_dir, credentials) = temp_file(
        "network.txt",
        &format!(
            "username = admin\npassword = not-this-one\n127.160.3.0/24\n\
             username = admin\npassword = {PASSWORD}\n127.160.3.0/24\n"
        ),
    );

    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let (mut askpass_children, mut leaks) = (0, Vec::new());
            while !stop.load(Ordering::Relaxed) {
                for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
                    let read = |name: &str| std::fs::read(entry.path().join(name));
                    let (Ok(cmdline), Ok(environ)) = (read("cmdline"), read("environ")) else {
                        continue;
                    };
                    let contains = |hay: &[u8], needle: &[u8]| {
                        hay.windows(needle.len()).any(|window| window == needle)
                    };
                    if contains(&environ, b"SIKPROBE_ASKPASS=") {
                        askpass_children += 1;
                    }
                    if contains(&cmdline, PASSWORD.as_bytes())
                        || contains(&environ, PASSWORD.as_bytes())
                    {
                        leaks.push(String::from_utf8_lossy(&cmdline).replace('\0', " "));
                    }
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            (askpass_children, leaks)
        })
    };
    let probe = sikprobe(
        &[
            "--transport",
            "openssh",
            "-p",
            PORT,
            "--credentials",
            credentials.to_str().expect("UTF-8 path"),
        ],
        &addresses("127.160.3.1-127.160.3.5"),
    );
    stop.store(true, Ordering::Relaxed);
    let (askpass_children, leaks) = sampler.join().expect("sampler");
    assert!(probe.status.success(), "{}", probe.stderr);
    assert!(
        askpass_children > 0,
        "the sampler saw the ssh processes it checks"
    );
    assert!(leaks.is_empty(), "the password showed in: {leaks:?}");
    assert_eq!(probe.records.len(), 5);
    assert_all_ok(&probe.records);
    for record in &probe.records {
        assert_eq!(record.user.as_deref(), Some("admin"));
        assert_eq!(record.transport, Some(Transport::Openssh));
    }
    assert!(!probe.stderr.contains(PASSWORD));
}

#[test]
fn host_keys_are_learnt_checked_and_changes_rejected() {
    require("ssh");
    let radios = fleet([group("127.160.4.1-127.160.4.3", "eh")]);
    let (_keys_dir, known) = temp_file("known_hosts", "");
    let known = known.to_str().expect("UTF-8 path").to_owned();
    let input = addresses("127.160.4.1-127.160.4.3");
    let probe = |mode: &str| {
        sikprobe(
            &[
                "--transport",
                "openssh",
                "-p",
                PORT,
                "-q",
                "--host-keys",
                mode,
                "--known-hosts",
                &known,
            ],
            &input,
        )
        .records
    };
    {
        let _fleet = serve(&radios, &[]);
        let learnt = probe("tofu");
        assert_all_ok(&learnt);
        let lines = std::fs::read_to_string(&known).expect("known_hosts written");
        assert_eq!(lines.lines().count(), 3, "{lines}");
        assert!(lines.contains("[127.160.4.1]:2311 ssh-ed25519 "), "{lines}");
        assert_all_ok(&probe("strict"));
    }
    // The same addresses with other host keys.
    let _fleet = serve(&radios, &["--seed", "2"]);
    for mode in ["strict", "tofu"] {
        for record in probe(mode) {
            assert_eq!(record.status, Status::HandshakeFailed, "{mode}");
            let why = record.error.unwrap_or_default();
            assert!(why.contains("host key changed"), "{mode}: {why}");
        }
    }
    std::fs::write(&known, "").expect("emptied");
    for record in probe("strict") {
        let why = record.error.unwrap_or_default();
        assert!(why.contains("host key unknown"), "{why}");
    }
}

#[test]
fn a_key_logs_in_to_a_real_sshd_and_runs_generic_commands() {
    require("ssh");
    let sshd = Sshd::start(2396);
    let target = format!("127.0.0.1:{}\n", sshd.port);
    let probe = |key: &str| {
        sikprobe(
            &[
                "--transport",
                "openssh",
                "--platform",
                "generic",
                "-u",
                "root",
                "-i",
                &sshd.key(key),
                "-o",
                "IdentitiesOnly=yes",
                "-c",
                "echo out; echo err >&2",
                "-c",
                "exit 3",
            ],
            &target,
        )
    };
    let ran = probe("user_key");
    let record = &ran.records[0];
    assert_eq!(record.status, Status::CommandFailed, "{:?}", record.error);
    assert_eq!(record.user.as_deref(), Some("root"));
    assert_eq!(record.transport, Some(Transport::Openssh));
    let commands = record.commands.as_deref().expect("commands");
    assert_eq!(commands[0].output, "out\n");
    assert_eq!(commands[0].stderr.as_deref(), Some("err\n"));
    assert_eq!(commands[0].exit_status, Some(0));
    assert!(commands[0].ok);
    assert_eq!(commands[1].exit_status, Some(3));
    assert!(!commands[1].ok);
    support::assert_from_the_test_sshd(record);

    let refused = probe("other_key");
    let record = &refused.records[0];
    assert_eq!(record.status, Status::AuthFailed, "{:?}", record.error);
    assert_eq!(record.user, None);
}

#[test]
fn proxy_jump_reaches_a_radio_through_a_second_sshd() {
    require("ssh");
    let jump = Sshd::start(2395);
    let radio = serve(&fleet([group("127.160.5.1", "eh")]), &[]);
    let truth = radio.describe();
    // The jump host is reached with its key; the radio behind it with a password.
    let config = format!(
        "Host 127.0.0.1\n  User root\n  IdentityFile {}\n  IdentitiesOnly yes\n  \
         StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n",
        jump.key("user_key")
    );
    let (_config_dir, config) = temp_file("ssh_config", &config);
    let config = config.to_str().expect("UTF-8 path");
    let through = |jump_port: u16| {
        sikprobe(
            &[
                "--transport",
                "openssh",
                "-F",
                config,
                "-o",
                &format!("ProxyJump=127.0.0.1:{jump_port}"),
                "-p",
                PORT,
            ],
            "127.160.5.1\n",
        )
    };
    let probe = through(jump.port);
    assert!(probe.status.success(), "{}", probe.stderr);
    let record = &probe.records[0];
    assert_eq!(record.status, Status::Ok, "{:?}", record.error);
    assert_eq!(record.model.as_deref(), truth[0]["model"].as_str());
    assert_eq!(record.server_id.as_deref(), Some("SSH-2.0-siksim_0.1.0"));
    // Through a jump host that is not there, the radio is out of reach: the jump is used.
    let probe = through(2394);
    let record = &probe.records[0];
    assert_ne!(record.status, Status::Ok);
    assert!(
        record.error.as_deref().is_some_and(|e| e.contains("2394")),
        "{:?}",
        record.error
    );
}

#[test]
fn openssh_options_are_refused_without_the_openssh_transport() {
    require("ssh");
    let probe = sikprobe(&["-o", "ProxyJump=127.0.0.1"], "127.0.0.1\n");
    assert_eq!(probe.status.code(), Some(2), "{}", probe.stderr);
    assert!(
        probe.stderr.contains("--transport openssh"),
        "{}",
        probe.stderr
    );
    assert!(probe.records.is_empty());
    let missing = Path::new("/nonexistent/ssh_config");
    let probe = sikprobe(
        &[
            "--transport",
            "openssh",
            "-F",
            missing.to_str().expect("UTF-8"),
        ],
        "127.0.0.1\n",
    );
    assert_eq!(probe.status.code(), Some(2), "{}", probe.stderr);
    assert!(probe.stderr.contains("ssh_config"), "{}", probe.stderr);
}

#[test]
fn a_remote_command_cut_short_leaves_no_ssh_of_the_run_behind() {
    // A real sshd runs the command: a master told to stop listening waits for its open
    // channels, so a cut that only asks it to stop leaves it (and the remote session) alive.
    let sshd = Sshd::start(2394);
    let target = format!("127.0.0.1:{}\n", sshd.port);
    let tmp = tempfile::tempdir().expect("temp dir");
    for cut in [["--deadline", "3s"], ["--command-timeout", "2s"]] {
        let mut args = vec![
            "--transport",
            "openssh",
            "--platform",
            "generic",
            "-u",
            "root",
            "-o",
            "IdentitiesOnly=yes",
            "-c",
            "sleep 120",
            "-q",
        ];
        let key = sshd.key("user_key");
        args.extend(["-i", &key]);
        args.extend(cut);
        let output = start_sikprobe(&args, &[("TMPDIR", tmp.path())], &target)
            .wait_with_output()
            .expect("sikprobe runs");
        assert!(output.status.success(), "{cut:?}");
        let records = parse_records(&output.stdout);
        let expected = if cut[0] == "--deadline" {
            Status::Deadline
        } else {
            Status::CommandFailed
        };
        assert_eq!(
            records[0].status, expected,
            "{cut:?}: {:?}",
            records[0].error
        );
        // A master that stopped listening renames itself 'ssh: [stopped mux]' (no path left
        // to know it by) and clobbers its environment: it is found by its connection to the
        // test's sshd.
        let left = ssh_still_connected_to(sshd.port, Duration::from_secs(3));
        assert!(
            left.is_empty(),
            "{cut:?}: ssh left behind after sikprobe exited: {left:?}"
        );
    }

    // Two Ctrl-C while the command runs: sikprobe exits at once and takes its master along.
    let key = sshd.key("user_key");
    let mut child = start_sikprobe(
        &[
            "--transport",
            "openssh",
            "--platform",
            "generic",
            "-u",
            "root",
            "-i",
            &key,
            "-o",
            "IdentitiesOnly=yes",
            "-c",
            "sleep 120",
            "-q",
        ],
        &[("TMPDIR", tmp.path())],
        &target,
    );
    let logged_in_by = Instant::now() + Duration::from_secs(20);
    while ssh_connected_to(sshd.port).is_empty() {
        assert!(Instant::now() < logged_in_by, "no ssh master came up");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The master is up; give the command channel a moment to open on it.
    std::thread::sleep(Duration::from_millis(500));
    let pid = child.id() as libc::pid_t;
    for _ in 0..2 {
        // SAFETY: kill(2) on a child we started and have not reaped yet.
        unsafe { libc::kill(pid, libc::SIGINT) };
        std::thread::sleep(Duration::from_millis(200));
    }
    let status = child.wait().expect("sikprobe exits");
    assert_eq!(status.code(), Some(130));
    let left = ssh_still_connected_to(sshd.port, Duration::from_secs(3));
    assert!(left.is_empty(), "Ctrl-C twice: ssh left behind: {left:?}");
}
