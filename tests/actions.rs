//! sikprobe's actions against simulated radios: show (parsed fields against the ground
//! truth), scripts, set-tod with read-back, and TG client nodes.

mod support;

use std::collections::HashMap;
use std::net::IpAddr;

use sikscan::record::{RadioType, Record, Status};
use support::fleet::{fleet, group};
use support::{Siksim, addresses, assert_all_ok, sikprobe, temp_file, truth_for};

/// Every action test serves on this port; each test has its own address range.
const PORT: &str = "2302";

struct Fleet {
    _siksim: Siksim,
    truth: Vec<serde_json::Value>,
}

/// Serves one radio of each kind, plus a pager and a huge-output radio, at 127.N.0.1-6.
fn fleet_at(range_octet: u8) -> Fleet {
    let at = |last: u8| format!("127.{range_octet}.0.{last}");
    let radios = fleet([
        group(&at(1), "eh"),
        group(&at(2), "bu"),
        group(&at(3), "tu"),
        group(&at(4), "tg")
            .with("cns", 3)
            .with("unreachable_cns", 1),
        group(&at(5), "pager").with("page_lines", 4),
        group(&at(6), "huge"),
    ]);
    let siksim = Siksim::serve(&radios, &["--port", PORT, "-q"]);
    let truth = siksim.describe();
    Fleet {
        _siksim: siksim,
        truth,
    }
}

/// Every ground-truth `show` value equals the record's, where a null in the ground truth (a
/// value that moves, such as a clock) matches anything, at any depth (TG rows included).
fn assert_show_matches(record: &Record, truth: &serde_json::Value) {
    let show = record
        .show
        .as_ref()
        .unwrap_or_else(|| panic!("{:?} has no show: {:?}", record.ip, record.error));
    let expected = truth["show"].as_object().expect("ground truth has show");
    for (field, value) in expected {
        let got = show.get(field).unwrap_or(&serde_json::Value::Null);
        if let Some(path) = mismatch(value, got, field) {
            panic!(
                "{:?} {:?}: show.{path} differs\n  expected {value}\n       got {got}",
                record.ip, record.route
            );
        }
    }
}

/// The path of the first difference, if any.
fn mismatch(expected: &serde_json::Value, got: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    match (expected, got) {
        (Value::Null, _) => None,
        (Value::Array(want), Value::Array(have)) if want.len() == have.len() => want
            .iter()
            .zip(have)
            .enumerate()
            .find_map(|(i, (w, h))| mismatch(w, h, &format!("{path}.{i}"))),
        (Value::Object(want), Value::Object(have)) => want.iter().find_map(|(key, w)| {
            mismatch(
                w,
                have.get(key).unwrap_or(&Value::Null),
                &format!("{path}.{key}"),
            )
        }),
        _ => (expected != got).then(|| path.to_owned()),
    }
}

fn by_ip(records: &[Record]) -> HashMap<IpAddr, &Record> {
    records
        .iter()
        .filter(|r| r.route.is_none())
        .map(|r| (r.ip.expect("an ip"), r))
        .collect()
}

#[test]
fn show_parses_every_radio_type_as_the_ground_truth_says() {
    let fleet = fleet_at(111);
    let probe = sikprobe(
        &["-p", PORT, "-q", "--action", "show", "--cns"],
        &addresses("127.111.0.1-127.111.0.6"),
    );
    assert!(probe.status.success(), "{}", probe.stderr);
    let hosts = by_ip(&probe.records);
    for last in 1..=6 {
        let ip = format!("127.111.0.{last}");
        let record = hosts[&ip.parse::<IpAddr>().expect("ip")];
        assert_eq!(record.status, Status::Ok, "{ip}: {:?}", record.error);
        assert_show_matches(record, truth_for(&fleet.truth, &ip, None));
        let commands = record.commands.as_ref().expect("show sends commands");
        assert!(commands.iter().all(|c| c.ok), "{ip}");
        for command in commands {
            assert!(
                !command.output.contains(&command.command),
                "{ip}: the echo of '{}' is not output",
                command.command
            );
            assert!(
                !command.output.contains("--More--"),
                "{ip}: pager marker left"
            );
        }
    }
    let eh = hosts[&"127.111.0.1".parse::<IpAddr>().expect("ip")];
    let sent = support::command_names(eh);
    assert_eq!(sent.len(), 12, "the 12 EH show commands: {sent:?}");
    let huge = hosts[&"127.111.0.6".parse::<IpAddr>().expect("ip")];
    let longest = huge
        .commands
        .iter()
        .flatten()
        .map(|c| c.output.len())
        .max()
        .unwrap_or(0);
    assert!(
        longest > 1_000_000,
        "megabytes of 'show log' read whole: {longest}"
    );

    let nodes: Vec<&Record> = probe.records.iter().filter(|r| r.route.is_some()).collect();
    assert_eq!(nodes.len(), 3, "one record per advertised client node");
    for node in nodes {
        let route = node.route.as_deref().expect("route");
        assert_eq!(node.parent, Some("127.111.0.4".parse().expect("ip")));
        let truth = truth_for(&fleet.truth, "127.111.0.4", Some(route));
        if truth["reachable"] == false {
            assert_eq!(node.status, Status::Unreachable, "{route}");
            assert!(node.error.is_some());
        } else {
            assert_eq!(node.status, Status::Ok, "{route}: {:?}", node.error);
            assert_eq!(node.radio_type, Some(RadioType::Tg));
            assert_eq!(node.name.as_deref(), truth["name"].as_str());
            assert_eq!(node.sn.as_deref(), truth["sn"].as_str());
            assert_show_matches(node, truth);
        }
    }
}

#[test]
fn scripts_record_each_command_and_fail_on_cli_errors() {
    let _fleet = fleet_at(112);
    let (_dir, script) = temp_file(
        "script.txt",
        "# a comment, then a blank line\n\nshow system\nshow nonsense\nshow rf\n",
    );
    let script = script.to_str().expect("UTF-8");
    let input = addresses("127.112.0.1-127.112.0.4");

    let strict = sikprobe(&["-p", PORT, "-q", "--script", script], &input);
    assert!(strict.status.success(), "{}", strict.stderr);
    for record in &strict.records {
        assert_eq!(record.status, Status::CommandFailed, "{:?}", record.ip);
        let commands = record.commands.as_ref().expect("commands");
        let sent: Vec<&str> = commands.iter().map(|c| c.command.as_str()).collect();
        assert_eq!(sent, ["show system", "show nonsense", "show rf"]);
        assert!(commands[0].ok && !commands[1].ok, "{:?}", record.ip);
        assert!(!commands[0].output.is_empty());
        let prompt = record.prompt.as_deref().expect("prompt");
        assert!(
            !commands[0].output.contains(prompt),
            "no prompt in the output"
        );
    }

    let stopped = sikprobe(
        &["-p", PORT, "-q", "--script", script, "--stop-on-error"],
        &input,
    );
    for record in &stopped.records {
        assert_eq!(
            record.commands.as_ref().map(Vec::len),
            Some(2),
            "{:?}",
            record.ip
        );
    }

    let lenient = sikprobe(
        &[
            "-p",
            PORT,
            "-q",
            "-c",
            "show system",
            "-c",
            "show nonsense",
            "--allow-errors",
        ],
        &input,
    );
    assert_all_ok(&lenient.records);
    for record in &lenient.records {
        assert_eq!(record.commands.as_ref().map(|c| c[1].ok), Some(false));
    }
}

#[test]
fn set_tod_sets_the_clock_and_reads_it_back() {
    let _fleet = fleet_at(113);
    let input = addresses("127.113.0.1-127.113.0.4");
    let probe = sikprobe(
        &[
            "-p",
            PORT,
            "-q",
            "--action",
            "set-tod",
            "--at",
            "2031-02-03T04:05:06+02:00",
        ],
        &input,
    );
    assert!(probe.status.success(), "{}", probe.stderr);
    assert_eq!(probe.records.len(), 4);
    assert_all_ok(&probe.records);
    for record in &probe.records {
        let show = record.show.as_ref().expect("clock values");
        assert_eq!(show["clock_set"], "2031-02-03 04:05:06");
        let after = show["clock_after"].as_str().expect("read back");
        let digits: String = after.chars().filter(char::is_ascii_digit).collect();
        assert!(
            digits.starts_with("2031020304"),
            "{:?}: the radio reports {after}",
            record.ip
        );
        let sent = support::command_names(record);
        let expected = match record.radio_type {
            Some(RadioType::Tg) => ["set time 04:05:06", "set date 2031-02-03"],
            _ => ["set system time 04:05:06", "set system date 2031.02.03"],
        };
        assert_eq!(&sent[1..3], expected, "{:?}", record.ip);
    }
}

#[test]
fn cn_names_restrict_the_client_nodes_visited() {
    let _fleet = fleet_at(114);
    let probe = sikprobe(&["-p", PORT, "-q", "--cn", "cn2"], "127.114.0.4\n");
    assert!(probe.status.success(), "{}", probe.stderr);
    let routes: Vec<&str> = probe
        .records
        .iter()
        .filter_map(|r| r.route.as_deref())
        .collect();
    assert_eq!(routes, ["127.114.0.4: dn4 -> cn2"]);
    let node = probe
        .records
        .iter()
        .find(|r| r.route.is_some())
        .expect("cn2");
    assert_eq!(node.status, Status::Ok, "{:?}", node.error);
    assert_eq!(node.prompt.as_deref(), Some("MH-T265@cn2>"));
}

#[test]
fn set_tod_shifts_the_local_clock() {
    let _fleet = fleet_at(115);
    let expected = chrono::Local::now().naive_local() + chrono::TimeDelta::minutes(150);
    let probe = sikprobe(
        &[
            "-p",
            PORT,
            "-q",
            "--action",
            "set-tod",
            "--time-shift",
            "2.5",
        ],
        "127.115.0.1\n",
    );
    let record = &probe.records[0];
    assert_eq!(record.status, Status::Ok, "{:?}", record.error);
    let set = record.show.as_ref().expect("clock values")["clock_set"]
        .as_str()
        .expect("the time set")
        .to_owned();
    let set = chrono::NaiveDateTime::parse_from_str(&set, "%Y-%m-%d %H:%M:%S").expect("a time");
    let off = (set - expected).num_seconds().abs();
    assert!(off <= 5, "set {set}, expected about {expected}");
}
