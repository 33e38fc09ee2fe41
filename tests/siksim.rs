//! siksim served to the system OpenSSH client: every radio persona answers as `--describe`
//! predicts, and every failure persona fails the way it says.
//!
//! Each test has its own range 127.180+N.0.0/24 and port 22180+N.

mod support;

use std::io::Read;
use std::net::{Ipv4Addr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use support::fleet::{Fleet, fleet, group};
use support::openssh_client::{Login, days, fields};
use support::{SIKSIM, Siksim, temp_file};

/// Serves `args` on `port`.
fn serve(args: &[&str], port: u16) -> Siksim {
    let port = port.to_string();
    let mut all = args.to_vec();
    all.extend(["--port", port.as_str()]);
    Siksim::start(&all)
}

fn ip(n: u8, host: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 180 + n, 0, host)
}

/// Serves the fleet file of `fleet` on `port`.
fn serve_fleet(fleet: &Fleet, port: u16) -> Siksim {
    Siksim::serve(fleet, &["--port", &port.to_string()])
}

/// The radios of test 0: an EH of each banner kind, a quoted name, a BU, a TU.
fn radios() -> Fleet {
    fleet([
        group("127.180.0.1-127.180.0.3", "eh"),
        group("127.180.0.4", "eh").with("model", "EH-8010FX"),
        group("127.180.0.5", "eh")
            .with("name", "Roof North")
            .with("location", "Main St"),
        group("127.180.0.6", "bu"),
        group("127.180.0.7", "tu"),
    ])
}

#[test]
fn show_output_over_openssh_matches_describe() {
    let sim = serve_fleet(&radios(), 22180);
    let truth = sim.ground_truth();
    assert_eq!(truth.len(), 7);
    for host in 1..=7 {
        let record = &truth[&ip(0, host).to_string()];
        let show = &record["show"];
        // batchscanner's framing: command, empty line, so the prompt comes twice.
        let seen = Login::new(ip(0, host), sim.port(), "admin")
            .shell("show system\n\nshow inventory 1\n\nshow sw\n\nexit\n")
            .run();
        let prompt = record["prompt"].as_str().expect("radios have a prompt");
        assert!(
            seen.stdout.starts_with(&format!("{prompt}show system\r\n")),
            "the shell opens with the prompt alone, then echoes: {:?}",
            seen.stdout
        );
        assert!(
            seen.stdout
                .contains(&format!("\r\n{prompt}\r\n{prompt}show inventory 1\r\n")),
            "double prompt after the empty line: {:?}",
            seen.stdout
        );
        let got = fields(&seen.stdout);
        assert_eq!(got["system description"], show["system_descrip"], "{host}");
        assert_eq!(got["system name"], show["system_name"], "{host}");
        assert_eq!(got["system location"], show["system_location"], "{host}");
        assert_eq!(
            days(&got["system uptime"]),
            show["system_up_days"],
            "{host}"
        );
        assert_eq!(got["inventory 1 serial"], show["inventory_sn"], "{host}");
        assert_eq!(got["inventory 1 desc"], record["model"], "{host}");
        assert_eq!(got["inventory 1 sw-rev"], record["sw"], "{host}");
        let running = seen
            .stdout
            .lines()
            .find(|line| line.trim_end().ends_with("yes        no"))
            .expect("a running bank");
        assert!(
            running.contains(record["sw"].as_str().expect("sw")),
            "{running}"
        );
        let fingerprint = Login::new(ip(0, host), sim.port(), "admin")
            .option("LogLevel=DEBUG1")
            .exec("show sw")
            .run();
        let host_key = record["host_key"].as_str().expect("a host key");
        assert!(host_key.starts_with("ssh-ed25519 SHA256:"), "{host_key}");
        assert!(
            fingerprint
                .stderr
                .contains(&format!("Server host key: {host_key}")),
            "{host}: {}",
            fingerprint.stderr
        );
        // The userauth banner, as OpenSSH prints it on stderr.
        match record["banner"].as_str() {
            Some(banner) => assert!(seen.stderr.contains(banner), "{host}: {}", seen.stderr),
            None => assert_eq!(record["model"], "EH-8010FX"),
        }
    }
    assert_eq!(truth[&ip(0, 5).to_string()]["prompt"], "\"Roof North\">");
}

#[test]
fn every_show_command_answers_and_unknown_commands_fail_as_the_reference_says() {
    let sim = serve(&["127.181.0.1", "--persona", "eh"], 22181);
    let record = &sim.ground_truth()[&ip(1, 1).to_string()];
    let show = &record["show"];
    let commands = [
        "show rf",
        "show rf-debug",
        "show eth eth1",
        "show eth eth4",
        "show lldp-remote",
        "show log",
        "show user-activity-log",
    ];
    for command in commands {
        let seen = Login::new(ip(1, 1), sim.port(), "admin")
            .exec(command)
            .run();
        assert_eq!(seen.code, Some(0), "{command}: {seen:?}");
        let got = fields(&seen.stdout);
        match command {
            "show rf" => {
                assert_eq!(got["rf operational"], show["rf_oper"]);
                assert_eq!(got["rf cinr"], show["rf_cinr"]);
                assert_eq!(got["rf rssi"], show["rf_rssi"]);
                let mode = got["rf mode"].split(' ').next().expect("a mode");
                assert_eq!(mode, show["rf_mode"]);
            }
            "show rf-debug" => assert_eq!(got["rf-debug link-length"], show["rfdebug_distance"]),
            "show eth eth1" => assert_eq!(got["eth eth1 eth-act-type"], show["eth1_speed"]),
            "show eth eth4" => assert_eq!(got["eth eth4 operational"], show["eth4_oper"]),
            "show lldp-remote" => {
                assert_eq!(got["lldp-remote eth0 0 chassis-id"], show["lldp_remote"]);
            }
            _ => {
                let lines: Vec<&str> = seen.stdout.lines().collect();
                let tail = lines[lines.len() - 2..].join("; ");
                let field = if command == "show log" {
                    "events_log"
                } else {
                    "user_activity_log"
                };
                assert_eq!(tail, show[field], "{command}");
            }
        }
    }
    let bad = Login::new(ip(1, 1), sim.port(), "admin")
        .exec("show bogus")
        .run();
    assert_eq!(bad.code, Some(1));
    assert!(bad.stderr.contains("Error: unknown command"), "{bad:?}");
}

#[test]
fn set_commands_change_later_show_output_in_every_session() {
    let sim = serve(&["127.182.0.1", "--persona", "eh"], 22182);
    let seen = Login::new(ip(2, 1), sim.port(), "admin")
        .shell("set system location Roof North\n\nset system time 07:38:19\n\nset system date 2031.02.03\n\nexit\n")
        .run();
    assert_eq!(
        seen.stdout.matches("Set done: system").count(),
        3,
        "{seen:?}"
    );
    let later = Login::new(ip(2, 1), sim.port(), "admin")
        .exec("show system")
        .run();
    let got = fields(&later.stdout);
    assert_eq!(got["system location"], "\"Roof North\"");
    assert_eq!(got["system date"], "2031.02.03");
    assert!(got["system time"].as_str() >= "07:38:19" && got["system time"].as_str() < "07:39:19");
    let bad = Login::new(ip(2, 1), sim.port(), "admin")
        .exec("set system time 25:00:00")
        .run();
    assert!(bad.stderr.contains("Error:"), "{bad:?}");
}

#[test]
fn a_tg_dn_tunnels_into_its_reachable_client_nodes() {
    let tg = fleet([group("127.183.0.1", "tg")
        .with("cns", 3)
        .with("unreachable_cns", 1)]);
    let sim = serve_fleet(&tg, 22183);
    let truth = sim.ground_truth();
    let dn = &truth[&ip(3, 1).to_string()];
    assert!(dn["banner"].is_null(), "TG radios send no banner");
    let dn_prompt = dn["prompt"].as_str().expect("prompt");
    let cn1 = &truth[&format!(
        "{}: {} -> cn1",
        ip(3, 1),
        dn["name"].as_str().expect("name")
    )];
    let cn3 = &truth[&format!(
        "{}: {} -> cn3",
        ip(3, 1),
        dn["name"].as_str().expect("name")
    )];
    assert_eq!(
        (cn1["reachable"].as_bool(), cn3["reachable"].as_bool()),
        (Some(true), Some(false))
    );
    let seen = Login::new(ip(3, 1), sim.port(), "admin")
        .shell("show system\n\nconnect cn1\n\nshow inventory\n\nquit\n\nconnect cn3\n\nbogus\n\nquit\n")
        .run();
    let out = seen.stdout.replace('\r', "");
    assert!(
        out.starts_with(&format!("{dn_prompt}show system\n")),
        "{out}"
    );
    assert!(out.contains(&format!("   name {};", dn["name"].as_str().expect("name"))));
    let cn_prompt = cn1["prompt"].as_str().expect("prompt");
    assert!(
        out.contains(&format!("{cn_prompt}show inventory\n")),
        "{out}"
    );
    assert!(out.contains(&format!("serial-num {};", cn1["sn"].as_str().expect("sn"))));
    assert!(
        out.contains(&format!("{cn_prompt}quit\n{dn_prompt}")),
        "{out}"
    );
    assert!(out.contains("connection to cn3 failed"), "{out}");
    assert!(
        out.contains("CLI syntax error in: \"bogus\": Unknown command"),
        "{out}"
    );
    // TG set commands print nothing and change later output, in this and other sessions.
    let set = Login::new(ip(3, 1), sim.port(), "admin")
        .shell("set time 07:38:19\n\nset date 2031-02-03\n\nset system location Oslo, Pier 4\n\nquit\n")
        .run();
    assert!(!set.stdout.contains("error"), "{set:?}");
    let later = Login::new(ip(3, 1), sim.port(), "admin")
        .exec("show system")
        .run();
    assert!(
        later.stdout.contains("date-and-time 2031-02-03 07:3"),
        "{later:?}"
    );
    assert!(
        later.stdout.contains("location \"Oslo, Pier 4\";"),
        "{later:?}"
    );
    let system = &dn["show"]["system"][0];
    assert!(out.contains(&format!(
        "location \"{}\";",
        system["location"].as_str().expect("location").replace(';', ",")
    )));
}

#[test]
fn legacy_only_radios_need_legacy_algorithms() {
    let sim = serve(&["127.184.0.1", "--persona", "legacy-only"], 22184);
    let modern = Login::new(ip(4, 1), sim.port(), "admin")
        .exec("show sw")
        .run();
    assert_eq!(modern.code, Some(255));
    assert!(
        modern.stderr.contains("no matching key exchange method"),
        "{modern:?}"
    );
    let legacy = Login::new(ip(4, 1), sim.port(), "admin")
        .option("LogLevel=DEBUG1")
        .option("KexAlgorithms=+diffie-hellman-group14-sha1")
        .option("HostKeyAlgorithms=+ssh-rsa")
        .option("Ciphers=+aes128-cbc")
        .option("MACs=+hmac-sha1")
        .exec("show sw")
        .run();
    assert_eq!(legacy.code, Some(0), "{legacy:?}");
    assert!(legacy.stdout.contains("Flash Bank"));
    let record = &sim.ground_truth()[&ip(4, 1).to_string()];
    let host_key = record["host_key"].as_str().expect("a host key");
    assert!(host_key.starts_with("ssh-rsa SHA256:"), "{host_key}");
    assert!(
        legacy
            .stderr
            .contains(&format!("Server host key: {host_key}")),
        "{}",
        legacy.stderr
    );
}

/// The failure personas of test 5, one address each.
fn failures() -> Fleet {
    fleet([
        group("127.185.0.1", "wrong-password"),
        group("127.185.0.2", "linux"),
        group("127.185.0.3", "router"),
        group("127.185.0.4", "closed"),
        group("127.185.0.5", "silent"),
        group("127.185.0.6", "black-hole"),
        group("127.185.0.7", "garbage"),
        group("127.185.0.8", "kbd-interactive"),
        group("127.185.0.9", "pager").with("page_lines", 5),
        group("127.185.0.10", "huge").with("log_bytes", 3_000_000),
        group("127.185.0.11", "hang"),
        group("127.185.0.12", "slow")
            .with("login_delay", "1s")
            .with("response_delay", "200ms"),
    ])
}

#[test]
fn failure_personas_fail_as_described() {
    let sim = serve_fleet(&failures(), 22185);
    let truth = sim.ground_truth();
    let status = |host: u8| {
        truth[&ip(5, host).to_string()]["status"]
            .as_str()
            .map(str::to_owned)
    };
    let port = sim.port();
    let login = |host: u8| Login::new(ip(5, host), port, "admin");

    // Wrong password: refused, yet the banner identifies the radio.
    let seen = login(1).exec("show system").run();
    assert_eq!(status(1).as_deref(), Some("auth-failed"));
    assert_ne!(seen.code, Some(0));
    let banner = truth[&ip(5, 1).to_string()]["banner"]
        .as_str()
        .expect("banner")
        .to_owned();
    assert!(seen.stderr.contains(&banner), "{seen:?}");

    // Linux: no banner, `$ ` prompt, deterministic exec output, failures with exit codes.
    let linux = &truth[&ip(5, 2).to_string()];
    assert_eq!(status(2).as_deref(), Some("not-siklu"));
    let uname = login(2).exec("uname -a").run();
    assert_eq!(uname.code, Some(0));
    assert!(uname.stdout.starts_with("Linux srv-"), "{uname:?}");
    assert_eq!(uname.stdout, login(2).exec("uname -a").run().stdout);
    assert_eq!(login(2).exec("whoami").run().stdout, "admin\n");
    assert_eq!(login(2).exec("pwd").run().stdout, "/home/admin\n");
    assert!(login(2).exec("ls -a").run().stdout.contains(".bashrc"));
    assert_eq!(login(2).exec("ls /nonexistent").run().code, Some(2));
    let shell = login(2).shell("show system\nexit\n").run();
    let prompt = linux["prompt"].as_str().expect("prompt");
    assert!(shell.stdout.starts_with(prompt), "{shell:?}");
    assert!(
        shell.stdout.contains("show: command not found"),
        "{shell:?}"
    );

    // Router: non-Siklu banner and prompt.
    let router = login(3).shell("show system\nexit\n").run();
    assert!(
        router.stderr.contains("Authorized access only"),
        "{router:?}"
    );
    assert!(router.stdout.starts_with("Router>"), "{router:?}");

    // Closed: refused at once.
    let closed = login(4).exec("x").run();
    assert!(closed.stderr.contains("Connection refused"), "{closed:?}");
    assert_eq!(status(4).as_deref(), Some("refused"));

    // Silent: TCP connects, no SSH identification ever.
    let silent = login(5).timeout(2).exec("x").run();
    assert!(silent.stderr.contains("banner exchange"), "{silent:?}");
    assert_eq!(status(5).as_deref(), Some("no-ssh"));

    // Black hole: the TCP connect itself times out.
    let started = Instant::now();
    let hole = TcpStream::connect_timeout(&(ip(5, 6), port).into(), Duration::from_millis(1500));
    let err = hole.expect_err("a black hole never completes a connect");
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
    assert!(started.elapsed() >= Duration::from_millis(1400));
    assert_eq!(status(6).as_deref(), Some("connect-timeout"));

    // Garbage: a non-SSH line, then the connection closes.
    let mut garbage = TcpStream::connect((ip(5, 7), port)).expect("garbage accepts");
    let mut text = String::new();
    garbage
        .read_to_string(&mut text)
        .expect("reads until close");
    assert!(
        text.starts_with("220 ") && !text.contains("SSH-"),
        "{text:?}"
    );

    // Keyboard-interactive only: password auth is not offered.
    let password_only = login(8)
        .option("PreferredAuthentications=password")
        .exec("show sw")
        .run();
    assert_eq!(password_only.code, Some(255), "{password_only:?}");
    let kbd = login(8)
        .option("PreferredAuthentications=keyboard-interactive")
        .exec("show sw")
        .run();
    assert_eq!(kbd.code, Some(0), "{kbd:?}");

    // Pager: `--More--` every 5 lines until a key.
    let paged = login(9).shell("show system\n   \nexit\n").run();
    assert_eq!(paged.stdout.matches("--More--").count(), 2, "{paged:?}");
    assert!(paged.stdout.contains("system heartbeat-trap-interval"));

    // Huge: megabytes of `show log`, ending with the radio's own events.
    let huge = login(10).timeout(30).exec("show log").run();
    // log_bytes counts CRLF line ends; an exec channel without a PTY sends LF only.
    assert!(huge.stdout.len() >= 2_800_000, "{}", huge.stdout.len());
    let tail: Vec<&str> = huge.stdout.lines().rev().take(2).collect();
    let expected = truth[&ip(5, 10).to_string()]["show"]["events_log"]
        .as_str()
        .expect("log")
        .to_owned();
    assert_eq!(format!("{}; {}", tail[1], tail[0]), expected);

    // Hang: half the output, then nothing until the client gives up.
    let hang = login(11).timeout(3).exec("show system").run();
    assert_eq!(hang.code, None, "killed by the timeout: {hang:?}");
    assert!(hang.stdout.contains("system description"));
    assert!(!hang.stdout.contains("heartbeat"));
    let hung = &truth[&ip(5, 11).to_string()];
    assert_eq!(
        (&hung["status"], &hung["show_status"]),
        (&"ok".into(), &"deadline".into())
    );

    // Slow: each login waits login_delay.
    let started = Instant::now();
    let slow = login(12).exec("show sw").run();
    assert_eq!(slow.code, Some(0), "{slow:?}");
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(
        truth[&ip(5, 12).to_string()]["behaviour"]["login_delay"],
        "1s"
    );
}

#[test]
fn describe_is_deterministic_per_seed_and_covers_the_demo_fleet() {
    let run = |extra: &[&str]| {
        let output = Command::new(SIKSIM)
            .args(["--demo", "--describe"])
            .args(extra)
            .output()
            .expect("siksim runs");
        assert!(output.status.success());
        String::from_utf8(output.stdout).expect("utf-8")
    };
    let first = run(&[]);
    assert_eq!(first, run(&[]));
    assert_ne!(first, run(&["--seed", "2"]));
    let records: Vec<serde_json::Value> = first
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let addresses = records.iter().filter(|r| r["route"].is_null()).count();
    assert_eq!(addresses, 254);
    for persona in [
        "eh",
        "bu",
        "tu",
        "tg",
        "wrong-password",
        "linux",
        "router",
        "closed",
        "silent",
        "black-hole",
        "garbage",
        "slow",
        "hang",
        "huge",
        "legacy-only",
        "kbd-interactive",
        "pager",
    ] {
        assert!(records.iter().any(|r| r["persona"] == persona), "{persona}");
    }
    assert!(records.iter().all(|r| r["port"] == 22));
    let cns = records.iter().filter(|r| !r["route"].is_null()).count();
    assert_eq!(cns, 40 * 3, "40 DNs with 3 CNs each");
}

#[test]
fn the_ready_line_pidfile_and_a_clean_stop() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pidfile = dir.path().join("siksim.pid");
    let sim = serve(
        &[
            "127.186.0.0/30",
            "--persona",
            "bu",
            "--pidfile",
            pidfile.to_str().expect("utf-8"),
        ],
        22186,
    );
    assert_eq!(
        sim.ready(),
        format!(
            "siksim: ready: 2 addresses, 2 listening on port 22186, pid {}",
            sim.pid()
        )
    );
    let written = std::fs::read_to_string(&pidfile).expect("pidfile exists while serving");
    assert_eq!(written.trim(), sim.pid().to_string());
    let (status, stderr) = sim.stop();
    assert!(status.success(), "{status:?} {stderr:?}");
    assert!(!pidfile.exists(), "pidfile removed on a clean stop");
    assert!(
        TcpStream::connect((ip(6, 1), 22186)).is_err(),
        "listeners are gone"
    );
}

#[test]
fn bad_fleets_are_usage_errors_naming_the_group() {
    let (_dir, fleet) = temp_file(
        "bad.toml",
        &fleet([group("127.187.0.1", "eh"), group("10.0.0.1", "eh")]).toml(),
    );
    let output = Command::new(SIKSIM)
        .args(["--fleet", fleet.to_str().expect("utf-8"), "--describe"])
        .output()
        .expect("siksim runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad.toml: group 2") && stderr.contains("loopback"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn worker_processes_share_a_fleet_and_stop_together() {
    let sim = serve(
        &["127.188.0.0/28", "--persona", "tu", "--workers", "3"],
        22188,
    );
    assert!(
        sim.ready()
            .starts_with("siksim: ready: 14 addresses, 14 listening on port 22188")
            && sim.ready().ends_with("(3 worker processes)"),
        "{}",
        sim.ready()
    );
    let truth = sim.ground_truth();
    // The first and last addresses live in different workers.
    for host in [1, 14] {
        let seen = Login::new(ip(8, host), sim.port(), "admin")
            .exec("show inventory 1")
            .run();
        let serial = &truth[&ip(8, host).to_string()]["sn"];
        assert_eq!(
            fields(&seen.stdout)["inventory 1 serial"],
            *serial,
            "{seen:?}"
        );
    }
    let (status, _) = sim.stop();
    assert!(status.success());
    for host in [1, 14] {
        assert!(
            TcpStream::connect((ip(8, host), 22188)).is_err(),
            "worker still serving"
        );
    }
}
