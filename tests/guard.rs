//! Guarded changes (`sikprobe --guard`) against siksim's rollback timers, reboots and
//! management cuts, checked in the records, in later backups (running and startup
//! configurations) and in siksim's events log: which session sent what, in which order.
//!
//! Each test has its own range 127.236.N.0/24 and port 23400+N.

mod support;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use sikscan::record::{GuardOutcome, Record, Status};
use support::events::Event;
use support::fleet::{Fleet, fleet, group};
use support::served::{Served, serve};
use support::{Probe, sikprobe};

/// Short, so that a revert is seen within seconds; long enough for 50 logins on a loaded
/// machine to verify within half of it.
const GUARD: &str = "8s";

/// Lets a radio cut off by its change come back in 2 s; a waiting sikprobe gives it 30 s.
const REBOOT: &str = "2s";

/// A management cut: the radio's management address set to one it does not have (on
/// loopback, where nothing listens: nothing may ever connect off 127.0.0.0/8).
const CUT: &str = "set ip 1 ip-addr 'static 127.236.255.254'";

fn ip(n: u8, host: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 236, n, host)
}

fn ips(n: u8, hosts: std::ops::RangeInclusive<u8>) -> Vec<Ipv4Addr> {
    hosts.map(|host| ip(n, host)).collect()
}

fn lines(ips: &[Ipv4Addr]) -> String {
    ips.iter().map(|ip| format!("{ip}\n")).collect()
}

/// A fleet on 127.236.`n`.0/24 and port 23400+`n`.
fn served(n: u8, fleet: &Fleet) -> Served {
    serve(fleet, 23400 + u16::from(n), &[])
}

/// sikprobe on `ips` with `args` (quiet), one record per address expected.
fn probe(served: &Served, ips: &[Ipv4Addr], args: &[&str]) -> Probe {
    let port = served.port.to_string();
    let mut all = vec!["-p", port.as_str(), "-q"];
    all.extend_from_slice(args);
    let probe = sikprobe(&all, &lines(ips));
    assert_eq!(
        probe.records.len(),
        ips.len(),
        "one record per input line: {}",
        probe.stderr
    );
    probe
}

/// `-a backup` of every address, by address; each must succeed.
fn backups(served: &Served, ips: &[Ipv4Addr]) -> BTreeMap<Ipv4Addr, Record> {
    let probe = probe(served, ips, &["-a", "backup"]);
    assert!(probe.status.success(), "{}", probe.stderr);
    probe
        .records
        .into_iter()
        .map(|record| {
            assert_eq!(record.status, Status::Ok, "{record:?}");
            (v4(&record), record)
        })
        .collect()
}

fn v4(record: &Record) -> Ipv4Addr {
    match record.ip {
        Some(std::net::IpAddr::V4(ip)) => ip,
        other => panic!("not an IPv4 record: {other:?}"),
    }
}

/// The commands `ip` ran, with the session each ran in, in order.
fn commands_of(served: &Served, ip: Ipv4Addr) -> Vec<(Option<u64>, String)> {
    served
        .events(ip)
        .into_iter()
        .filter_map(
            |Event {
                 session, command, ..
             }| command.map(|c| (session, c)),
        )
        .collect()
}

/// The session that ran `command` on `ip` (the first time).
#[track_caller]
fn session_of(commands: &[(Option<u64>, String)], command: &str) -> Option<u64> {
    commands
        .iter()
        .find(|(_, sent)| sent == command)
        .unwrap_or_else(|| panic!("{command} was never run: {commands:?}"))
        .0
}

/// The record is `skipped`, for a reason `why` accepts.
#[track_caller]
fn assert_skipped(record: &Record, why: impl Fn(&str) -> bool) {
    assert_eq!(record.status, Status::Skipped, "{record:?}");
    assert!(record.error.as_deref().is_some_and(why), "{record:?}");
}

fn position(commands: &[(Option<u64>, String)], command: &str) -> Option<usize> {
    commands.iter().position(|(_, sent)| sent == command)
}

#[test]
fn fifty_radios_take_a_guarded_change_confirmed_from_a_new_session_and_five_cut_off_revert() {
    let served = served(
        1,
        &fleet([
            group("127.236.1.1-127.236.1.30", "eh").with("reboot_time", REBOOT),
            group("127.236.1.31-127.236.1.40", "bu").with("reboot_time", REBOOT),
            group("127.236.1.41-127.236.1.50", "tu").with("reboot_time", REBOOT),
        ]),
    );
    let all = ips(1, 1..=50);
    let (changed, cut) = all.split_at(45);
    let before = backups(&served, &all);

    // The 45: a new location, confirmed and saved.
    let location = "set system location guarded-site";
    let run = probe(
        &served,
        changed,
        &["-j", "50", "--guard", GUARD, "--save", "-c", location],
    );
    assert!(run.status.success(), "{}", run.stderr);
    for record in &run.records {
        assert_eq!(record.status, Status::Ok, "{record:?}");
        let guard = record.guard.as_ref().expect("a guard report");
        assert_eq!(guard.outcome, Some(GuardOutcome::Confirmed), "{record:?}");
        assert!(guard.verified);
        assert_eq!(guard.timeout_s, 8);
        assert_eq!(guard.back_after_ms, None);
        assert_eq!(
            guard.before_sha256,
            before[&v4(record)].config_sha256,
            "the before is the configuration the radio had"
        );
        let sent = support::command_names(record);
        assert_eq!(
            sent,
            [
                "copy running-configuration display",
                "set rollback timeout 8",
                location,
                "clear rollback",
                "copy running-configuration startup-configuration",
            ]
        );
        // On the radio: the change in one session, the confirmation and the save in another,
        // the save only after the timer was cleared.
        let commands = commands_of(&served, v4(record));
        let first = session_of(&commands, location);
        let confirming = session_of(&commands, "clear rollback");
        assert_ne!(first, confirming, "confirmed from a new session");
        assert_eq!(
            session_of(
                &commands,
                "copy running-configuration startup-configuration"
            ),
            confirming
        );
        assert!(
            position(&commands, "clear rollback")
                < position(
                    &commands,
                    "copy running-configuration startup-configuration"
                ),
            "never saved before confirmed: {commands:?}"
        );
    }

    // The 5: a change that cuts management is never confirmed; each radio reverts.
    let run = probe(
        &served,
        cut,
        &[
            "--guard",
            GUARD,
            "--revert-wait",
            "30s",
            "--save",
            "-c",
            CUT,
        ],
    );
    assert!(run.status.success(), "{}", run.stderr);
    for record in &run.records {
        assert_eq!(record.status, Status::Reverted, "{record:?}");
        let guard = record.guard.as_ref().expect("a guard report");
        assert_eq!(guard.outcome, Some(GuardOutcome::Reverted));
        assert!(!guard.verified);
        assert!(
            guard.back_after_ms.is_some_and(|ms| ms < 30_000),
            "{guard:?}"
        );
        let commands = commands_of(&served, v4(record));
        assert_eq!(position(&commands, "clear rollback"), None, "{commands:?}");
        assert_eq!(
            position(
                &commands,
                "copy running-configuration startup-configuration"
            ),
            None,
            "an unconfirmed change is never saved: {commands:?}"
        );
    }

    // A later backup: the 45 run and start with the new location, the 5 are as before.
    let after = backups(&served, &all);
    for ip in changed {
        let record = &after[ip];
        let config = record.config.as_deref().unwrap_or_default();
        assert!(config.contains("guarded-site"), "{ip}: {config}");
        assert_eq!(record.config_saved, Some(true), "{ip}: saved");
    }
    for ip in cut {
        assert_eq!(
            after[ip].config, before[ip].config,
            "{ip} is back as it was"
        );
        assert_eq!(after[ip].startup_config, before[ip].startup_config);
    }
}

#[test]
fn a_failed_verification_is_left_to_the_timer_and_the_radio_reverts() {
    let served = served(
        2,
        &fleet([group("127.236.2.1-127.236.2.2", "eh")
            .with("reboot_time", REBOOT)
            .with("rf_down_on", "set rf tx-power")]),
    );
    let radios = ips(2, 1..=2);
    let before = backups(&served, &radios);
    let run = probe(
        &served,
        &radios,
        &[
            "--guard",
            "4s",
            "--revert-wait",
            "30s",
            "--save",
            "--verify",
            "show rf",
            "--expect",
            r"rf operational\s*:\s*up",
            "-c",
            "set rf tx-power 5",
        ],
    );
    assert!(run.status.success(), "{}", run.stderr);
    for record in &run.records {
        assert_eq!(record.status, Status::Reverted, "{record:?}");
        let guard = record.guard.as_ref().expect("a guard report");
        let [verify] = guard.verify.as_slice() else {
            panic!("one verify command: {guard:?}");
        };
        assert_eq!(verify.command, "show rf");
        assert!(!verify.ok);
        assert!(verify.output.contains("down"), "{}", verify.output);
        let commands = commands_of(&served, v4(record));
        assert_ne!(
            session_of(&commands, "show rf"),
            session_of(&commands, "set rf tx-power 5"),
            "verified from a new session"
        );
        assert_eq!(position(&commands, "clear rollback"), None);
    }
    let after = backups(&served, &radios);
    for ip in &radios {
        assert_eq!(
            after[ip].config, before[ip].config,
            "{ip} is back as it was"
        );
    }
}

#[test]
fn a_radio_whose_reboot_outlasts_the_revert_wait_is_unconfirmed_and_named() {
    let served = served(
        3,
        &fleet([
            group("127.236.3.1", "eh")
                .with("reboot_time", "60s")
                .with("name", "mast-7"),
            group("127.236.3.2", "eh"),
        ]),
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let summary = dir.path().join("summary.json");
    let port = served.port.to_string();
    let args = [
        "-p",
        port.as_str(),
        "--guard",
        "3s",
        "--revert-wait",
        "2s",
        "--summary",
        summary.to_str().expect("a UTF-8 path"),
        "-c",
        CUT,
    ];
    let run = sikprobe(&args, "127.236.3.1\n");
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    let [record] = run.records.as_slice() else {
        panic!("one record: {:?}", run.records);
    };
    assert_eq!(record.status, Status::Unconfirmed, "{record:?}");
    let guard = record.guard.as_ref().expect("a guard report");
    assert_eq!(guard.outcome, Some(GuardOutcome::Unconfirmed));
    assert_eq!(guard.back_after_ms, None);
    let named = format!("127.236.3.1:{port} (mast-7)");
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&summary).expect("the summary")).expect("JSON");
    assert_eq!(written["unconfirmed"], serde_json::json!([named]));
    assert!(
        run.stderr
            .contains(&format!("unconfirmed, look at them: {named}")),
        "{}",
        run.stderr
    );

    // An unconfirmed radio is done for --skip-done: a rerun does not change it again unseen.
    let earlier = dir.path().join("earlier.ndjson");
    let text = serde_json::to_string(record).expect("a record serialises");
    std::fs::write(&earlier, format!("{text}\n")).expect("written");
    let earlier = earlier.to_str().expect("a UTF-8 path");
    let rerun = probe(
        &served,
        &[ip(3, 1), ip(3, 2)],
        &["--skip-done", earlier, "--emit-skipped"],
    );
    let skipped = support::record_for(&rerun.records, "127.236.3.1", None);
    assert_eq!(skipped.status, Status::Skipped, "{skipped:?}");
    let other = support::record_for(&rerun.records, "127.236.3.2", None);
    assert_eq!(other.status, Status::Ok, "{other:?}");
}

#[test]
fn a_failing_canary_under_guard_leaves_every_other_radio_untouched() {
    let served = served(
        4,
        &fleet([
            group("127.236.4.1", "eh")
                .with("reboot_time", REBOOT)
                .with("rf_down_on", "set rf tx-power"),
            group("127.236.4.2-127.236.4.10", "eh"),
        ]),
    );
    let radios = ips(4, 1..=10);
    let run = probe(
        &served,
        &radios,
        &[
            "--canary",
            "1",
            "--guard",
            "3s",
            "--revert-wait",
            "30s",
            "--verify",
            "show rf",
            "--expect",
            r"rf operational\s*:\s*up",
            "-c",
            "set rf tx-power 5",
        ],
    );
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    let canary = support::record_for(&run.records, "127.236.4.1", None);
    assert_eq!(canary.status, Status::Reverted, "{canary:?}");
    for ip in &radios[1..] {
        let record = support::record_for(&run.records, &ip.to_string(), None);
        assert_skipped(record, |why| why.starts_with("canary failed"));
        assert!(served.events(*ip).is_empty(), "{ip} never saw a login");
    }
}

#[test]
fn tg_radios_are_skipped_and_a_dry_run_sends_nothing_of_the_guarded_change() {
    let served = served(
        5,
        &fleet([group("127.236.5.1", "eh"), group("127.236.5.2", "tg")]),
    );
    let (eh, tg) = (ip(5, 1), ip(5, 2));
    let before = backups(&served, &[eh]);
    let guarded = [
        "--guard",
        "5m",
        "--save",
        "--verify",
        "show rf",
        "--expect",
        "up",
        "-c",
        "set system location nowhere",
    ];
    let mut dry = vec!["--dry-run"];
    dry.extend_from_slice(&guarded);
    let run = probe(&served, &[eh, tg], &dry);
    assert!(run.status.success(), "{}", run.stderr);
    let planned = support::record_for(&run.records, "127.236.5.1", None);
    assert_eq!(planned.status, Status::Ok, "{planned:?}");
    let commands: Vec<(&str, bool)> = planned
        .commands
        .iter()
        .flatten()
        .map(|c| (c.command.as_str(), c.sent))
        .collect();
    assert_eq!(
        commands,
        [
            ("copy running-configuration display", false),
            ("set rollback timeout 300", false),
            ("set system location nowhere", false),
            ("show rf", false),
            ("clear rollback", false),
            ("copy running-configuration startup-configuration", false),
        ]
    );
    let skipped = support::record_for(&run.records, "127.236.5.2", None);
    assert_skipped(skipped, |why| why.contains("no rollback timer"));

    // For real, the TG radio is skipped the same way and gets no command of the change.
    let run = probe(&served, &[tg], &guarded);
    assert_eq!(run.records[0].status, Status::Skipped, "{:?}", run.records);
    let sent: Vec<String> = commands_of(&served, tg)
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    for command in ["set rollback timeout 300", "set system location nowhere"] {
        assert!(!sent.iter().any(|c| c == command), "{sent:?}");
    }
    let sent: Vec<String> = commands_of(&served, eh)
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    assert!(
        !sent
            .iter()
            .any(|c| c.starts_with("set ") || c.contains("rollback")),
        "the dry run sent nothing of the change: {sent:?}"
    );
    assert_eq!(backups(&served, &[eh])[&eh].config, before[&eh].config);
}

#[test]
fn a_deadline_without_room_for_the_guard_is_a_usage_error_before_any_login() {
    let served = served(6, &fleet([group("127.236.6.1", "eh")]));
    let port = served.port.to_string();
    let run = sikprobe(
        &[
            "-p",
            port.as_str(),
            "--guard",
            "5m",
            "--revert-wait",
            "5m",
            "--deadline",
            "10m",
            "-c",
            "set system location x",
        ],
        "127.236.6.1\n",
    );
    assert_eq!(run.status.code(), Some(2), "{}", run.stderr);
    assert!(run.records.is_empty());
    assert!(run.stderr.contains("--deadline 10m"), "{}", run.stderr);
    assert!(
        run.stderr.contains("11m"),
        "names the least: {}",
        run.stderr
    );
    assert!(served.events(ip(6, 1)).is_empty(), "no login");
}
