//! siksim's rollback timer, reboots, management cuts and RF-down commands, driven with the real
//! sikprobe and checked against its records and siksim's events log (`--events`): what a
//! guarded change needs from the radios it runs against.
//!
//! Each test has its own range 127.228.N.0/24 and port 23200+N.

mod support;

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use sikscan::record::{Record, Status};
use support::events::{self, Event, names};
use support::fleet::{fleet, group};
use support::openssh_client::fields;
use support::served::serve;
use support::{sikprobe, start_sikprobe};

fn ip(n: u8, host: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 228, n, host)
}

/// True when a TCP connect to `ip:port` is refused (nothing listens).
fn refused(ip: Ipv4Addr, port: u16) -> bool {
    let addr = SocketAddr::from((ip, port));
    matches!(
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)),
        Err(err) if err.kind() == std::io::ErrorKind::ConnectionRefused
    )
}

/// The output of the record's command `command`.
#[track_caller]
fn output<'a>(record: &'a Record, command: &str) -> &'a str {
    record
        .commands
        .iter()
        .flatten()
        .find(|c| c.command == command)
        .map(|c| c.output.as_str())
        .unwrap_or_else(|| panic!("no {command} in {:?}", record.commands))
}

/// The events of one session, in order.
fn session(events: &[Event], id: Option<u64>) -> Vec<Event> {
    events.iter().filter(|e| e.session == id).cloned().collect()
}

/// The commands of `events`, in order.
fn commands(events: &[Event]) -> Vec<&str> {
    events.iter().filter_map(|e| e.command.as_deref()).collect()
}

/// A sikprobe started in the background on one address, for a session held open.
fn start_probe(port: u16, ip: Ipv4Addr, args: &[&str]) -> std::process::Child {
    let port = port.to_string();
    let mut all = vec!["-p", port.as_str(), "-q"];
    all.extend_from_slice(args);
    start_sikprobe(&all, &[], &format!("{ip}\n"))
}

fn finish_probe(child: std::process::Child) -> Record {
    let out = child.wait_with_output().expect("sikprobe finishes");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut records = support::parse_records(&out.stdout);
    assert_eq!(records.len(), 1);
    records.remove(0)
}

#[test]
fn an_expired_rollback_drops_the_sessions_refuses_and_comes_back_as_it_started() {
    let radio = ip(1, 1);
    let sim = serve(
        &fleet([group(&radio.to_string(), "eh")
            .with("model", "EH-710TX")
            .with("reboot_time", "2s")
            .with("hang_on", "show log")]),
        23201,
        &[],
    );
    let truth = sim.truth(radio);
    let before = sim.backup(radio);
    assert_eq!(before.config.as_deref(), truth["config"].as_str());

    let change = sim.probe(
        radio,
        &[],
        &[
            "set rollback timeout 2",
            "set system name Changed",
            "show rollback",
        ],
    );
    assert_eq!(change.status, Status::Ok, "{:?}", change.error);
    assert_eq!(
        output(&change, "set rollback timeout 2"),
        "Set done: rollbacktimeout: 2"
    );
    assert_eq!(
        output(&change, "show rollback"),
        "rollback timeout                   : 2"
    );
    // A session still open when the timer runs out: it hangs in `show log` (which, being a
    // command, starts the timer over) until the reboot ends it.
    let held = start_probe(
        sim.port,
        radio,
        &[
            "-c",
            "show log",
            "--deadline",
            "60s",
            "--command-timeout",
            "60s",
        ],
    );
    let seen = sim.wait_for(radio, "reboot");
    assert!(refused(radio, sim.port), "down during the reboot");
    let held = finish_probe(held);
    assert_eq!(
        held.status,
        Status::IoError,
        "dropped, not cut by its deadline: {:?}",
        held.error
    );

    let seen_up = sim.wait_for(radio, "up");
    let after = sim.backup(radio);
    assert_eq!(after.config, before.config, "the unsaved change is gone");
    assert_eq!(after.name, before.name);
    assert_eq!(after.startup_config, before.startup_config);
    let check = sim.probe(radio, &[], &["show rollback", "show system"]);
    assert_eq!(
        output(&check, "show rollback"),
        "rollback timeout                   : not started"
    );
    let uptime = fields(output(&check, "show system"))["system uptime"].clone();
    assert!(
        uptime.starts_with("0000:00:00:"),
        "uptime restarts: {uptime}"
    );

    // In order: the change's session, the held one, then the radio's own events.
    let changer = seen
        .iter()
        .find(|e| e.command.as_deref() == Some("set rollback timeout 2"))
        .expect("the arming command")
        .session;
    let change_events = session(&seen, changer);
    assert_eq!(
        names(&change_events),
        [
            "login",
            "command",
            "rollback-armed",
            "command",
            "command",
            "disconnect"
        ]
    );
    assert_eq!(
        commands(&change_events),
        [
            "set rollback timeout 2",
            "set system name Changed",
            "show rollback"
        ]
    );
    let radio_events: Vec<&str> = seen_up
        .iter()
        .filter(|e| e.session.is_none() || e.event == "disconnect")
        .map(|e| e.event.as_str())
        .collect();
    assert_eq!(
        radio_events,
        [
            "disconnect",
            "disconnect",
            "rollback-expired",
            "disconnect",
            "reboot",
            "up"
        ],
        "the backup's session, the change's, then the held one ends with the reboot"
    );
    let at = |name: &str| {
        seen_up
            .iter()
            .find(|e| e.event == name)
            .map(|e| e.t_ms)
            .expect(name)
    };
    assert!(at("up") >= at("reboot") + 2000, "down for reboot_time");
    let last_command = seen_up
        .iter()
        .filter(|e| e.event == "command")
        .map(|e| e.t_ms)
        .max()
        .expect("commands");
    assert!(at("rollback-expired") >= last_command + 2000);
}

#[test]
fn every_command_starts_the_timer_over_and_clear_rollback_stops_it() {
    let (restarted, cleared) = (ip(2, 1), ip(2, 2));
    let sim = serve(
        &fleet([group("127.228.2.1-127.228.2.2", "eh")
            .with("model", "EH-710TX")
            .with("reboot_time", "1s")]),
        23202,
        &[],
    );
    let armed = sim.probe(restarted, &[], &["set rollback timeout 3"]);
    assert_eq!(armed.status, Status::Ok, "{:?}", armed.error);
    let arm_ms = sim
        .wait_for(restarted, "rollback-armed")
        .iter()
        .find(|e| e.event == "rollback-armed")
        .expect("armed")
        .t_ms;
    // Well before the first expiry, from a new session.
    std::thread::sleep(Duration::from_millis(1500));
    let touch = sim.probe(restarted, &[], &["show system"]);
    assert_eq!(touch.status, Status::Ok, "{:?}", touch.error);
    let seen = sim.wait_for(restarted, "rollback-expired");
    let touched_ms = seen
        .iter()
        .filter(|e| e.command.as_deref() == Some("show system"))
        .map(|e| e.t_ms)
        .next()
        .expect("show system was logged");
    let expired_ms = seen
        .iter()
        .find(|e| e.event == "rollback-expired")
        .expect("expired")
        .t_ms;
    assert!(
        touched_ms < arm_ms + 3000,
        "the command came before the first expiry"
    );
    assert!(
        expired_ms >= touched_ms + 3000,
        "not at the old expiry ({} ms after arming) but 3 s after the last command",
        expired_ms - arm_ms
    );

    let disarm = sim.probe(
        cleared,
        &[],
        &[
            "set rollback timeout 2",
            "set system contact Kept",
            "clear rollback",
            "show rollback",
        ],
    );
    assert_eq!(disarm.status, Status::Ok, "{:?}", disarm.error);
    assert_eq!(output(&disarm, "clear rollback"), "rollback cleared");
    assert_eq!(
        output(&disarm, "show rollback"),
        "rollback timeout                   : not started"
    );
    // Longer than the timeout with no command: a disarmed radio stays up, change and all.
    std::thread::sleep(Duration::from_secs(3));
    let names_seen = names(&sim.events(cleared)).join(" ");
    assert!(
        !names_seen.contains("rollback-expired") && !names_seen.contains("reboot"),
        "{names_seen}"
    );
    assert!(names_seen.contains("rollback-armed") && names_seen.contains("rollback-cleared"));
    let kept = sim.backup(cleared).config.expect("a config");
    assert!(kept.contains("  contact Kept  "), "{kept}");
}

#[test]
fn a_change_saved_before_the_expiry_survives_the_reboot() {
    let radio = ip(3, 1);
    let sim = serve(
        &fleet([group(&radio.to_string(), "bu").with("reboot_time", "1s")]),
        23203,
        &[],
    );
    let truth = sim.truth(radio);
    let location = truth["show"]["system_location"]
        .as_str()
        .expect("a location")
        .to_owned();
    let change = sim.probe(
        radio,
        &[],
        &[
            "set rollback timeout 2",
            "set system contact Saved",
            "copy running-configuration startup-configuration",
            "set system location Unsaved",
        ],
    );
    assert_eq!(change.status, Status::Ok, "{:?}", change.error);
    let seen = sim.wait_for(radio, "up");
    assert!(names(&seen).contains(&"saved"));
    let after = sim.backup(radio);
    let config = after.config.as_deref().expect("a config");
    assert!(config.contains("  contact Saved  "), "{config}");
    assert!(
        config.contains(&format!("  location {location}  ")),
        "{config}"
    );
    assert_eq!(after.config, after.startup_config);
    assert_eq!(after.config_saved, Some(true));
}

#[test]
fn a_management_cut_drops_every_session_and_refuses_until_the_reboot() {
    let (armed, unarmed) = (ip(4, 1), ip(4, 2));
    let sim = serve(
        &fleet([group("127.228.4.1-127.228.4.2", "eh")
            .with("model", "EH-710TX")
            .with("telnet", true)
            .with("reboot_time", "1s")
            .with("hang_on", "show log")]),
        23204,
        &["--telnet-port", "23254"],
    );
    let before = sim.backup(armed);
    let held = start_probe(
        sim.port,
        armed,
        &[
            "-c",
            "show log",
            "--deadline",
            "60s",
            "--command-timeout",
            "60s",
        ],
    );
    sim.wait_for_command(armed, "show log");
    let cut = sim.probe(
        armed,
        &[],
        &[
            "set rollback timeout 3",
            "set ip 1 ip-addr 'static 127.228.4.99'",
            "show system",
        ],
    );
    // The radio answers, then stops answering at its address.
    assert_eq!(
        output(&cut, "set ip 1 ip-addr 'static 127.228.4.99'"),
        "Set done: ip 1"
    );
    assert_eq!(cut.status, Status::IoError, "{:?}", cut.error);
    let seen = sim.wait_for(armed, "management-cut");
    assert!(refused(armed, sim.port), "SSH refused after the cut");
    assert!(refused(armed, 23254), "Telnet refused after the cut");
    assert_eq!(
        finish_probe(held).status,
        Status::IoError,
        "the other session dropped too"
    );
    let cut_event = seen
        .iter()
        .find(|e| e.event == "management-cut")
        .expect("cut");
    let cutter = seen
        .iter()
        .find(|e| e.command.as_deref() == Some("set ip 1 ip-addr 'static 127.228.4.99'"))
        .expect("the set ip");
    assert_eq!(
        cut_event.session, cutter.session,
        "the cut names the session that set the address"
    );

    let lone = sim.probe(unarmed, &[], &["set ip 1 ip-addr 'static 127.228.4.98'"]);
    assert_eq!(
        output(&lone, "set ip 1 ip-addr 'static 127.228.4.98'"),
        "Set done: ip 1"
    );
    sim.wait_for(unarmed, "management-cut");

    sim.wait_for(armed, "up");
    let after = sim.backup(armed);
    assert_eq!(after.config, before.config, "back at its own address");
    // Unarmed, nothing brings it back.
    assert!(refused(unarmed, sim.port));
    let lone_events = names(&sim.events(unarmed)).join(" ");
    assert!(
        !lone_events.contains("reboot") && !lone_events.contains(" up"),
        "{lone_events}"
    );
}

#[test]
fn the_rf_down_command_takes_show_rf_down_until_the_reboot() {
    let sim = serve(
        &fleet([group("127.228.5.1-127.228.5.8", "eh")
            .with("model", "EH-710TX")
            .with("reboot_time", "1s")
            .with("rf_down_on", "set rf tx-power")]),
        23205,
        &[],
    );
    let truth = sim.siksim.describe();
    let up = truth
        .iter()
        .find(|d| d["show"]["rf_oper"] == "up")
        .expect("a radio whose link is up");
    let radio: Ipv4Addr = up["ip"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("an ip");
    assert_eq!(up["behaviour"]["rf_down_on"], "set rf tx-power");
    let down = sim.probe(
        radio,
        &[],
        &["set rollback timeout 1", "set rf tx-power 5", "show rf"],
    );
    assert_eq!(down.status, Status::Ok, "{:?}", down.error);
    assert_eq!(output(&down, "set rf tx-power 5"), "Set done: rf");
    let rf = fields(output(&down, "show rf"));
    assert_eq!(
        (
            rf["rf operational"].as_str(),
            rf["rf cinr"].as_str(),
            rf["rf rssi"].as_str()
        ),
        ("down", "-128", "-128")
    );
    sim.wait_for(radio, "up");
    let back = sim.probe(radio, &[], &["show rf"]);
    let rf = fields(output(&back, "show rf"));
    assert_eq!(rf["rf operational"], "up");
    assert_eq!(rf["rf cinr"], up["show"]["rf_cinr"].as_str().expect("cinr"));
    assert_eq!(rf["rf rssi"], up["show"]["rf_rssi"].as_str().expect("rssi"));
}

#[test]
fn describe_shows_the_rollback_state_and_the_new_behaviour_keys() {
    let radios = fleet([
        group("127.228.6.1", "eh")
            .with("reboot_time", "2s")
            .with("rf_down_on", "set rf"),
        group("127.228.6.2", "tu"),
        group("127.228.6.3", "tg"),
        group("127.228.6.4", "linux"),
    ]);
    let (_dir, path) = support::temp_file("fleet.toml", &radios.toml());
    let path = path.to_str().expect("a UTF-8 path");
    let truth = support::describe(&["--fleet", path]);
    let by_ip = |last: u8| {
        truth
            .iter()
            .find(|d| d["ip"] == format!("127.228.6.{last}") && d["route"].is_null())
            .expect("described")
    };
    for last in 1..=4 {
        assert!(
            by_ip(last)["rollback"].is_null(),
            "{last}: every radio starts disarmed"
        );
    }
    assert_eq!(by_ip(1)["behaviour"]["reboot_time"], "2s");
    assert_eq!(by_ip(1)["behaviour"]["rf_down_on"], "set rf");
    assert_eq!(by_ip(2)["behaviour"]["reboot_time"], "1m", "the default");
    assert!(by_ip(2)["behaviour"].get("rf_down_on").is_none());
    for last in [3, 4] {
        assert!(
            by_ip(last)["behaviour"].get("reboot_time").is_none(),
            "{last}: never reboots"
        );
    }
}

#[test]
fn a_tg_radio_has_no_rollback_timer() {
    let radio = ip(7, 1);
    let sim = serve(&fleet([group(&radio.to_string(), "tg")]), 23207, &[]);
    let record = sim.probe(radio, &[], &["set rollback timeout 60"]);
    assert_eq!(record.status, Status::CommandFailed, "{:?}", record.error);
    let answer = output(&record, "set rollback timeout 60");
    assert!(answer.starts_with("CLI syntax error"), "{answer}");
    let seen = names(&sim.events(radio)).join(" ");
    assert!(!seen.contains("rollback"), "{seen}");
    // Commands in a client node are logged with its name; `connect` itself ran on the DN.
    let port = sim.port.to_string();
    let scan = sikprobe(&["-p", &port, "-q", "--cns"], &format!("{radio}\n"));
    assert_eq!(scan.records.len(), 3, "the DN and its two client nodes");
    support::assert_all_ok(&scan.records);
    let seen = sim.events(radio);
    let connect = seen
        .iter()
        .position(|e| e.command.as_deref() == Some("connect cn1"))
        .expect("connect cn1 logged");
    assert_eq!(seen[connect].node, None);
    assert_eq!(seen[connect + 1].node.as_deref(), Some("cn1"), "{seen:#?}");
}

/// The events log of a fleet served by two worker processes: whole lines, distinct sessions
/// from both processes, and never a password.
#[test]
fn the_events_log_is_shared_by_workers_and_holds_no_secret() {
    const PASSWORD: &str = "Pw-7qX-secret";
    let radios = fleet([group("127.228.8.1-127.228.8.4", "eh").with("model", "EH-710TX")])
        .password(PASSWORD);
    let sim = serve(&radios, 23208, &["--workers", "2"]);
    // Secrets in files, never in argv: the login password, and a script that types it.
    let (_secret_dir, secret) = support::temp_file("password", PASSWORD);
    let (_script_dir, script) = support::temp_file(
        "script",
        &format!("show system\nset user admin password {PASSWORD}\n{PASSWORD}\n"),
    );
    let port = sim.port.to_string();
    let out = start_sikprobe(
        &[
            "-p",
            &port,
            "-q",
            "--password-file",
            secret.to_str().expect("a UTF-8 path"),
            "--allow-errors",
            "--script",
            script.to_str().expect("a UTF-8 path"),
        ],
        &[],
        &support::addresses("127.228.8.1-127.228.8.4"),
    )
    .wait_with_output()
    .expect("sikprobe finishes");
    assert_eq!(support::parse_records(&out.stdout).len(), 4);
    let text = std::fs::read_to_string(&sim.log).expect("the log");
    assert!(!text.contains(PASSWORD), "{text}");
    let all = events::read(&sim.log);
    let mut pids = std::collections::BTreeSet::new();
    for host in 1..=4 {
        let seen = events::of(&all, ip(8, host));
        assert_eq!(
            names(&seen),
            ["login", "command", "command", "command", "disconnect"],
            "{host}: {seen:?}"
        );
        let id = seen[0].session.expect("a session");
        assert!(
            seen.iter()
                .all(|e| e.session == Some(id) && e.node.is_none())
        );
        assert_eq!(
            commands(&seen),
            [
                "show system",
                "set user admin password ********",
                "********"
            ]
        );
        pids.insert(id >> 32);
    }
    assert_eq!(pids.len(), 2, "both workers wrote to the one log");
}

/// The events path is an error named before anything is served.
#[test]
fn an_events_log_that_cannot_be_opened_is_a_usage_error() {
    let missing = Path::new("/nonexistent-dir/events.ndjson");
    let out = std::process::Command::new(support::SIKSIM)
        .args(["127.228.9.1", "--port", "23209", "--events"])
        .arg(missing)
        .output()
        .expect("siksim runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("events log") && stderr.contains("/nonexistent-dir/events.ndjson"),
        "{stderr}"
    );
}
