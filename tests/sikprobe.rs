//! sikprobe against simulated fleets over real SSH on loopback: every status, the ground truth
//! of the demo fleet, scale, interruption, a closed stdout, deadlines and credentials files.

mod support;

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sikscan::record::{RadioType, Record, Status};
use support::fleet::{fleet, group};
use support::{
    Siksim, addresses, assert_all_ok, assert_matches_ground_truth, describe, parse_records,
    sikprobe, temp_file,
};

/// Every sikprobe test serves on this port; each test has its own address range.
const PORT: &str = "2301";

fn by_ip(records: &[Record]) -> HashMap<IpAddr, &Record> {
    records
        .iter()
        .map(|r| (r.ip.expect("probed records carry their ip"), r))
        .collect()
}

fn text(value: &serde_json::Value, key: &str) -> Option<String> {
    value[key].as_str().map(str::to_owned)
}

#[test]
fn the_demo_fleet_is_reported_as_its_ground_truth_says() {
    let _fleet = Siksim::start(&["--demo", "--port", PORT, "-q"]);
    let truth: Vec<serde_json::Value> = describe(&["--demo", "--port", PORT])
        .into_iter()
        .filter(|device| device["route"].is_null())
        .collect();
    let probe = sikprobe(
        &[
            "-p",
            PORT,
            "-j",
            "300",
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
    assert_matches_ground_truth(&probe.records, &truth, 2301);

    let legacy: Vec<&serde_json::Value> = truth
        .iter()
        .filter(|d| d["persona"] == "legacy-only")
        .collect();
    let input: String = legacy
        .iter()
        .filter_map(|d| text(d, "ip"))
        .map(|ip| format!("{ip}\n"))
        .collect();
    let widened = sikprobe(&["-p", PORT, "--legacy-algorithms", "-q"], &input);
    assert_eq!(widened.records.len(), legacy.len());
    let widened = by_ip(&widened.records);
    for device in legacy {
        let ip: IpAddr = text(device, "ip")
            .and_then(|s| s.parse().ok())
            .expect("an ip");
        let record = widened[&ip];
        assert_eq!(record.status, Status::Ok, "{:?}", record.error);
        assert_eq!(record.model, text(device, "model"));
    }
}

#[test]
fn every_status_is_reachable_and_explained() {
    let every_persona = fleet([
        group("127.104.0.1", "eh"),
        group("127.104.0.2", "bu"),
        group("127.104.0.3", "tu"),
        group("127.104.0.4", "tg"),
        group("127.104.0.5", "closed"),
        group("127.104.0.6", "black-hole"),
        group("127.104.0.7", "silent"),
        group("127.104.0.8", "garbage"),
        group("127.104.0.9", "legacy-only"),
        group("127.104.0.10", "wrong-password"),
        group("127.104.0.11", "linux"),
        group("127.104.0.12", "router"),
        group("127.104.0.13", "hang").with("model", "EH-8010FX"),
        group("127.104.0.14", "kbd-interactive"),
    ])
    .user("admin")
    .password("admin");
    let sim = Siksim::serve(&every_persona, &["--port", PORT, "-q"]);
    let truth = sim.describe();
    let input = format!("{}not-an-address\n", addresses("127.104.0.1-127.104.0.14"));
    let probe = sikprobe(
        &[
            "-p",
            PORT,
            "--connect-timeout",
            "1s",
            "--handshake-timeout",
            "2s",
            "--command-timeout",
            "1s",
            "--deadline",
            "15s",
        ],
        &input,
    );
    assert!(probe.status.success(), "{}", probe.stderr);
    assert_eq!(probe.records.len(), 15);
    let probed: Vec<Record> = probe
        .records
        .iter()
        .filter(|r| r.ip.is_some())
        .cloned()
        .collect();
    let got = by_ip(&probed);
    let expect = |last: u8, status: Status, radio_type: Option<RadioType>| {
        let ip: IpAddr = format!("127.104.0.{last}").parse().expect("ip");
        let record = got[&ip];
        assert_eq!(record.status, status, "{ip}: {:?}", record.error);
        assert_eq!(record.radio_type, radio_type, "{ip}");
        if status != Status::Ok {
            assert!(record.error.is_some(), "{ip}: a failure explains itself");
        }
        record
    };
    expect(1, Status::Ok, Some(RadioType::Eh));
    expect(2, Status::Ok, Some(RadioType::Bu));
    expect(3, Status::Ok, Some(RadioType::Tu));
    let tg = expect(4, Status::Ok, Some(RadioType::Tg));
    assert!(
        tg.sn.is_some() && tg.sw.is_some(),
        "TG serial and software from inventory"
    );
    expect(5, Status::Refused, None);
    expect(6, Status::ConnectTimeout, None);
    let silent = expect(7, Status::NoSsh, None);
    assert_eq!(silent.server_id, None);
    let garbage = expect(8, Status::NoSsh, None);
    assert!(
        garbage
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("220 ProFTPD"),
        "{:?}",
        garbage.error
    );
    let legacy = expect(9, Status::HandshakeFailed, None);
    assert!(
        legacy.server_id.is_some(),
        "the ident is known before key exchange fails"
    );
    let denied = expect(10, Status::AuthFailed, Some(RadioType::Eh));
    let denied_truth = truth
        .iter()
        .find(|d| d["ip"] == "127.104.0.10")
        .expect("described");
    assert_eq!(
        denied.model,
        text(denied_truth, "model"),
        "model from the banner"
    );
    assert_eq!(denied.sn, text(denied_truth, "sn"));
    assert_eq!(denied.sw, text(denied_truth, "sw"));
    assert!(denied.banner.is_some() && denied.host_key.is_some());
    expect(11, Status::NotSiklu, None);
    expect(12, Status::NotSiklu, None);
    let hung = expect(13, Status::PromptTimeout, None);
    assert!(
        hung.prompt.is_some(),
        "the prompt came, the command's answer did not"
    );
    expect(14, Status::Ok, Some(RadioType::Eh));
    let invalid = probe
        .records
        .iter()
        .find(|r| r.status == Status::InvalidInput)
        .expect("the bad line has a record");
    assert_eq!(invalid.input.as_deref(), Some("not-an-address"));
    assert!(
        !probe.stderr.contains("admin\""),
        "no credentials on stderr: {}",
        probe.stderr
    );
}

#[test]
fn a_hanging_radio_is_cut_at_the_deadline_with_what_it_had() {
    let hang = fleet([group("127.105.0.1", "hang").with("model", "EH-8010FX")]);
    let _fleet = Siksim::serve(&hang, &["--port", PORT, "-q"]);
    let clock = Instant::now();
    let probe = sikprobe(&["-p", PORT, "--deadline", "2s", "-q"], "127.105.0.1\n");
    assert!(clock.elapsed() < Duration::from_secs(10));
    let record = &probe.records[0];
    assert_eq!(record.status, Status::Deadline, "{:?}", record.error);
    assert!(
        record
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("identifying"),
        "{:?}",
        record.error
    );
    assert_eq!(record.prompt.as_deref(), Some("EH-8010FX>"));
    assert!(record.server_id.is_some() && record.user.is_some());
    let elapsed = record.elapsed_ms.expect("timed");
    assert!((2000..5000).contains(&elapsed), "elapsed {elapsed} ms");
}

#[test]
fn four_thousand_radios_give_one_record_each() {
    let _fleet = Siksim::start(&["127.101.0.0/20", "--persona", "eh", "--port", PORT, "-q"]);
    let input = addresses("127.101.0.0/20");
    let probe = sikprobe(&["-p", PORT, "-j", "500", "-q"], &input);
    assert!(probe.status.success(), "{}", probe.stderr);
    let expected: BTreeSet<IpAddr> = input.lines().map(|l| l.parse().expect("ip")).collect();
    let got: Vec<IpAddr> = probe.records.iter().filter_map(|r| r.ip).collect();
    let unique: BTreeSet<IpAddr> = got.iter().copied().collect();
    assert_eq!(got.len(), 4094);
    assert_eq!(unique.len(), got.len(), "no duplicates");
    assert_eq!(unique, expected);
    assert_all_ok(&probe.records);
}

#[test]
fn ctrl_c_stops_dispatching_and_keeps_every_finished_record() {
    let _fleet = Siksim::start(&["127.102.0.0/24", "--persona", "slow", "--port", PORT, "-q"]);
    let mut child =
        support::start_sikprobe(&["-p", PORT, "-j", "20"], &[], &addresses("127.102.0.0/24"));
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("a first record");
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).expect("the rest");
    let status = child.wait().expect("exits");
    assert_eq!(status.code(), Some(130));
    let mut all = first.into_bytes();
    all.extend_from_slice(&rest);
    let records = parse_records(&all);
    assert!(records.len() < 254, "dispatching stopped early");
    // The hosts in flight finished; the lines read behind them were not started, and say so.
    let (not_started, finished): (Vec<Record>, Vec<Record>) = records
        .into_iter()
        .partition(|r| r.status == Status::Skipped);
    assert!(
        finished.len() >= 20,
        "the hosts in flight finished: {}",
        finished.len()
    );
    assert_all_ok(&finished);
    for record in &not_started {
        let why = record.error.as_deref().unwrap_or_default();
        assert!(why.starts_with("not started"), "{why}");
    }
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("stderr");
    assert!(stderr.contains("interrupted"), "{stderr}");
}

#[test]
fn a_closed_stdout_stops_the_run_cleanly() {
    let _fleet = Siksim::start(&["127.106.0.0/24", "--persona", "eh", "--port", PORT, "-q"]);
    let mut child = Command::new(support::SIKPROBE)
        .args(["-p", PORT, "-j", "10"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sikprobe starts");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(addresses("127.106.0.0/24").as_bytes())
        .expect("input");
    drop(stdin);
    let stdout = child.stdout.take().expect("stdout");
    let lines: Vec<String> = BufReader::new(stdout)
        .lines()
        .take(3)
        .map(|l| l.expect("a line"))
        .collect();
    assert_eq!(lines.len(), 3);
    // The reader is gone now, as after `| head -3`.
    let clock = Instant::now();
    let out = child.wait_with_output().expect("exits");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(clock.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_credentials_file_logs_into_radios_with_different_passwords() {
    let two_passwords = fleet([
        group("127.107.0.1-127.107.0.4", "eh").with("password", "alpha-secret"),
        group("127.107.0.5-127.107.0.8", "tg").with("password", "bravo-secret"),
    ])
    .user("admin");
    let _fleet = Siksim::serve(&two_passwords, &["--port", PORT, "-q"]);
    let (_dir, credentials) = temp_file(
        "network.txt",
        "# both sets cover .5-.8; they are tried in order\n\
         username = admin\npassword = alpha-secret\n127.107.0.1 - 127.107.0.8\n\
         password = bravo-secret\n127.107.0.5-127.107.0.8\n",
    );
    let probe = sikprobe(
        &[
            "-p",
            PORT,
            "--credentials",
            credentials.to_str().expect("UTF-8"),
        ],
        &addresses("127.107.0.1-127.107.0.8"),
    );
    assert!(probe.status.success(), "{}", probe.stderr);
    assert_eq!(probe.records.len(), 8);
    assert_all_ok(&probe.records);
    for record in &probe.records {
        assert_eq!(record.user.as_deref(), Some("admin"));
    }
    let types: BTreeSet<&str> = probe
        .records
        .iter()
        .filter_map(|r| r.radio_type.map(|t| t.as_str()))
        .collect();
    assert_eq!(types, BTreeSet::from(["EH", "TG"]));
    let everything = format!(
        "{}{}",
        serde_json::to_string(&probe.records).expect("serialises"),
        probe.stderr
    );
    assert!(!everything.contains("secret"), "no password in any output");
}

#[test]
fn skip_done_resumes_and_ordered_keeps_input_order() {
    let _fleet = Siksim::start(&["127.108.0.0/27", "--persona", "tu", "--port", PORT, "-q"]);
    let input = addresses("127.108.0.0/27");
    let (dir, first_half) = temp_file("done.ndjson", "");
    let first = sikprobe(
        &["-p", PORT, "-q"],
        &input
            .lines()
            .take(10)
            .map(|l| format!("{l}\n"))
            .collect::<String>(),
    );
    let lines: Vec<String> = first
        .records
        .iter()
        .map(|r| serde_json::to_string(r).expect("serialises"))
        .collect();
    std::fs::write(&first_half, lines.join("\n") + "\n").expect("write done file");
    let resumed = sikprobe(
        &[
            "-p",
            PORT,
            "--ordered",
            "-j",
            "8",
            "--skip-done",
            dir.path().to_str().expect("UTF-8"),
            "--summary",
            dir.path().join("summary.json").to_str().expect("UTF-8"),
        ],
        &input,
    );
    assert!(resumed.status.success(), "{}", resumed.stderr);
    let expected: Vec<IpAddr> = input
        .lines()
        .skip(10)
        .map(|l| l.parse().expect("ip"))
        .collect();
    let got: Vec<IpAddr> = resumed.records.iter().filter_map(|r| r.ip).collect();
    assert_eq!(
        got, expected,
        "the rest, in input order, without the done ones"
    );
    let summary: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("summary.json")).expect("summary written"),
    )
    .expect("summary is JSON");
    assert_eq!(summary["skipped"], 10);
    assert_eq!(summary["statuses"]["ok"], 20);
}

#[test]
fn host_key_policies_learn_accept_and_reject() {
    let dir = tempfile::tempdir().expect("temp dir");
    let known = dir.path().join("known_hosts");
    let known_path = known.to_str().expect("UTF-8");
    let input = addresses("127.109.0.1-127.109.0.3");
    let records_of = |args: &[&str]| -> Vec<Record> {
        let probe = sikprobe(args, &input);
        assert!(probe.status.success(), "{}", probe.stderr);
        probe.records
    };
    {
        let _fleet = Siksim::start(&["127.109.0.1-127.109.0.3", "--port", PORT, "-q"]);
        let strict = [
            "-p",
            PORT,
            "-q",
            "--host-keys",
            "strict",
            "--known-hosts",
            known_path,
        ];
        for record in records_of(&strict) {
            assert_eq!(record.status, Status::HandshakeFailed);
            assert!(
                record
                    .error
                    .unwrap_or_default()
                    .contains("host key unknown")
            );
        }
        let tofu = [
            "-p",
            PORT,
            "-q",
            "--host-keys",
            "tofu",
            "--known-hosts",
            known_path,
        ];
        assert_all_ok(&records_of(&tofu));
        let learnt = std::fs::read_to_string(&known).expect("keys recorded");
        assert_eq!(learnt.lines().count(), 3);
        assert!(
            learnt.lines().all(|l| l.starts_with("[127.109.0.")),
            "{learnt}"
        );
        assert_all_ok(&records_of(&strict));
    }
    // The same addresses with other host keys: a man in the middle, as far as tofu knows.
    let _other = Siksim::start(&[
        "127.109.0.1-127.109.0.3",
        "--port",
        PORT,
        "--seed",
        "99",
        "-q",
    ]);
    let tofu = [
        "-p",
        PORT,
        "-q",
        "--host-keys",
        "tofu",
        "--known-hosts",
        known_path,
    ];
    for record in records_of(&tofu) {
        assert_eq!(record.status, Status::HandshakeFailed);
        assert!(
            record
                .error
                .unwrap_or_default()
                .contains("host key changed")
        );
    }
}

#[test]
fn rate_caps_new_connections_per_second() {
    let _fleet = Siksim::start(&["127.110.0.1-127.110.0.12", "--port", PORT, "-q"]);
    let clock = Instant::now();
    let probe = sikprobe(
        &["-p", PORT, "-q", "-j", "50", "--rate", "10"],
        &addresses("127.110.0.1-127.110.0.12"),
    );
    assert_eq!(probe.records.len(), 12);
    // 12 starts at 10 per second cannot all happen within the first second.
    assert!(
        clock.elapsed() >= Duration::from_millis(1000),
        "{:?}",
        clock.elapsed()
    );
}

#[test]
fn a_second_ctrl_c_gives_every_line_read_its_record() {
    // Five quick radios, then radios that hang after their prompt: once the quick ones are
    // written, the ten slots hold hung hosts, and the reader has queued lines behind them.
    let _fleet = Siksim::serve(
        &fleet([
            group("127.205.0.1-127.205.0.5", "eh"),
            group("127.205.0.6-127.205.0.200", "hang").with("model", "EH-8010FX"),
        ]),
        &["--port", PORT, "-q"],
    );
    let input = addresses("127.205.0.1-127.205.0.200");
    let mut child =
        support::start_sikprobe(&["-p", PORT, "-j", "10", "--deadline", "120s"], &[], &input);
    let notes = support::lines_of(child.stderr.take().expect("stderr"));
    let written = support::lines_of(child.stdout.take().expect("stdout"));
    let mut records = Vec::new();
    while records.len() < 5 {
        let line = written
            .recv_timeout(Duration::from_secs(20))
            .expect("the quick radios' records");
        records.extend(parse_records(line.as_bytes()));
    }
    let pid = child.id() as libc::pid_t;
    // SAFETY: signalling our own child, not yet reaped.
    unsafe { libc::kill(pid, libc::SIGINT) };
    // The second signal only once the first was taken (two at once may arrive as one).
    loop {
        let note = notes
            .recv_timeout(Duration::from_secs(10))
            .expect("sikprobe takes the first Ctrl-C");
        if note.contains("interrupted: finishing the hosts in flight") {
            break;
        }
    }
    let second = Instant::now();
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let status = child.wait().expect("sikprobe exits");
    assert_eq!(status.code(), Some(130));
    assert!(
        second.elapsed() < Duration::from_secs(5),
        "the hung hosts were abandoned, not waited for: {:?}",
        second.elapsed()
    );
    records.extend(
        written
            .iter()
            .flat_map(|line| parse_records(line.as_bytes())),
    );

    // The records are those of the lines read, which came first in the input: a prefix of it,
    // each address once.
    let order: HashMap<IpAddr, usize> = input
        .lines()
        .enumerate()
        .map(|(at, line)| (line.parse().expect("an address"), at))
        .collect();
    let mut positions: Vec<usize> = records
        .iter()
        .map(|r| order[&r.ip.expect("every record has its address")])
        .collect();
    positions.sort_unstable();
    assert_eq!(positions, (0..records.len()).collect::<Vec<_>>());
    assert!(records.len() < 195, "reading stopped at the first Ctrl-C");
    let count = |status| records.iter().filter(|r| r.status == status).count();
    assert_eq!(count(Status::Ok), 5);
    assert_eq!(count(Status::Interrupted), 10, "the ten hosts in flight");
    assert_eq!(
        count(Status::Skipped),
        records.len() - 15,
        "the lines read but not started"
    );
    for record in &records {
        if record.status != Status::Ok {
            assert!(record.error.is_some(), "says why: {record:?}");
        }
    }
}

#[test]
fn addresses_come_as_arguments_and_a_terminal_is_not_input() {
    let _fleet = Siksim::serve(
        &fleet([group("127.205.1.1-127.205.1.3", "eh")]),
        &["--port", PORT, "-q"],
    );
    let out = Command::new(support::SIKPROBE)
        .args([
            "-p",
            PORT,
            "-q",
            "--ordered",
            "127.205.1.1",
            "127.205.1.3:2301",
            "radio-7",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("sikprobe runs");
    assert!(out.status.success());
    let records = parse_records(&out.stdout);
    let got: Vec<(Option<IpAddr>, Status)> = records.iter().map(|r| (r.ip, r.status)).collect();
    assert_eq!(
        got,
        [
            (Some("127.205.1.1".parse().expect("ip")), Status::Ok),
            (Some("127.205.1.3".parse().expect("ip")), Status::Ok),
            (None, Status::InvalidInput),
        ]
    );
    let both = Command::new(support::SIKPROBE)
        .args(["-f", "-", "127.205.1.1"])
        .stdin(Stdio::null())
        .output()
        .expect("sikprobe runs");
    assert_eq!(
        both.status.code(),
        Some(2),
        "addresses and -f are one or the other"
    );
    assert!(both.stdout.is_empty());

    // Nothing piped in, on a terminal: a refusal at once, not a wait behind a progress line.
    let terminal = support::Terminal::open();
    let mut child = Command::new(support::SIKPROBE)
        .args(["-p", PORT])
        .stdin(terminal.stdin())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sikprobe starts");
    let by = Instant::now() + Duration::from_secs(5);
    while child.try_wait().expect("waits").is_none() {
        if Instant::now() > by {
            let _ = child.kill();
            panic!("sikprobe waited for input on a terminal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let refused = child.wait_with_output().expect("sikprobe's output");
    assert_eq!(refused.status.code(), Some(2));
    assert!(refused.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("no input:"), "{stderr}");
}

/// A host that drops its first `drops` connections without a word, then passes every next one
/// through to `upstream`: a radio whose management network flapped.
fn flaky_host(listen: &str, upstream: &str, drops: usize) -> std::thread::JoinHandle<()> {
    let listener = std::net::TcpListener::bind(listen).expect("the flaky host listens");
    let upstream = upstream.to_owned();
    std::thread::spawn(move || {
        for (n, client) in listener.incoming().enumerate() {
            let Ok(client) = client else { return };
            if n < drops {
                drop(client);
                continue;
            }
            let Ok(server) = std::net::TcpStream::connect(&upstream) else {
                return;
            };
            let pipe = |mut from: std::net::TcpStream, mut to: std::net::TcpStream| {
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from, &mut to);
                    let _ = to.shutdown(std::net::Shutdown::Write);
                })
            };
            let (client_side, server_side) = (
                client.try_clone().expect("clone"),
                server.try_clone().expect("clone"),
            );
            pipe(client, server);
            pipe(server_side, client_side);
        }
    })
}

#[test]
fn a_host_that_failed_transiently_is_tried_again_and_a_refused_login_never() {
    let _fleet = Siksim::serve(
        &fleet([
            group("127.205.2.1", "eh"),
            group("127.205.2.2", "wrong-password"),
            group("127.205.2.3", "black-hole"),
        ]),
        &["--port", PORT, "-q"],
    );
    let _flaky = flaky_host("127.205.2.10:2301", "127.205.2.1:2301", 1);
    let probe = sikprobe(
        &[
            "-p",
            PORT,
            "-q",
            "--ordered",
            "--connect-timeout",
            "1s",
            "--retries",
            "2",
            "--retry-backoff",
            "100ms",
        ],
        "127.205.2.1\n127.205.2.2\n127.205.2.3\n127.205.2.10\n",
    );
    assert!(probe.status.success(), "{}", probe.stderr);
    let earlier = |record: &Record| -> Vec<Status> {
        record
            .attempts
            .iter()
            .flatten()
            .map(|attempt| attempt.status)
            .collect()
    };
    let [radio, denied, dark, flaky] = &probe.records[..] else {
        panic!("one record per line: {:?}", probe.records);
    };
    assert_eq!((radio.status, earlier(radio)), (Status::Ok, vec![]));
    // A refused password is never tried again: lockouts count every attempt.
    assert_eq!(
        (denied.status, earlier(denied)),
        (Status::AuthFailed, vec![])
    );
    assert_eq!(
        (dark.status, earlier(dark)),
        (
            Status::ConnectTimeout,
            vec![Status::ConnectTimeout, Status::ConnectTimeout]
        )
    );
    // The dropped connection was one bad moment: the second attempt logged in.
    assert_eq!(flaky.status, Status::Ok, "{:?}", flaky.error);
    assert_eq!(flaky.sn, radio.sn, "the radio behind the flaky link");
    let [first] = flaky
        .attempts
        .as_deref()
        .expect("the first attempt is listed")
    else {
        panic!("one earlier attempt: {:?}", flaky.attempts);
    };
    assert!(
        matches!(first.status, Status::NoSsh | Status::IoError),
        "{first:?}"
    );
    assert!(first.error.is_some() && first.elapsed_ms.is_some());

    let once = sikprobe(
        &[
            "-p",
            PORT,
            "-q",
            "--retries",
            "0",
            "--connect-timeout",
            "1s",
        ],
        &addresses("127.205.2.3"),
    );
    assert_eq!(once.records.len(), 1);
    assert_eq!(once.records[0].attempts, None, "--retries 0 tries once");
}
