//! Staged rollouts and dry runs against simulated radios, with the real sikprobe changing a
//! setting (`-a script -c 'set system location …'`): a failing canary holds every other radio
//! back, a passing one lets the rest through, `--max-failures` (a number of hosts or a share)
//! stops a run with one record per input line, and `--dry-run` records what it would send and
//! changes nothing. What each radio holds afterwards is read back with `-a backup` from the
//! same siksim, whose running configurations live in its process.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use sikscan::record::{CommandResult, Record, Status};
use support::fleet::{Fleet, fleet, group};
use support::{Probe, Siksim, assert_all_ok, record_for, sikprobe, temp_file};

/// The change every rollout here makes.
const CHANGE: &str = "set system location Rollout Test";

/// What the change leaves in a radio's running configuration.
const CHANGED: &str = "location 'Rollout Test'";

/// A served fleet and its running configurations as siksim started with them.
struct Served {
    _siksim: Siksim,
    port: String,
    configs_at_start: BTreeMap<String, String>,
}

fn serve(radios: &Fleet, port: &str) -> Served {
    let siksim = Siksim::serve(radios, &["--port", port, "-q"]);
    let configs_at_start = siksim
        .describe()
        .into_iter()
        .filter_map(|device| {
            let ip = device["ip"].as_str()?.to_owned();
            let config = device["config"].as_str()?.to_owned();
            Some((ip, config))
        })
        .collect();
    Served {
        _siksim: siksim,
        port: port.to_owned(),
        configs_at_start,
    }
}

impl Served {
    /// sikprobe against this fleet's port, with `args`.
    fn probe(&self, args: &[&str], input: &str) -> Probe {
        let mut all = vec!["-p", self.port.as_str(), "-q"];
        all.extend_from_slice(args);
        sikprobe(&all, input)
    }

    /// The running configuration of each radio of `input`, read now with `-a backup`.
    fn configs_now(&self, input: &str) -> BTreeMap<String, String> {
        let backup = self.probe(&["-a", "backup"], input);
        assert!(backup.status.success(), "{}", backup.stderr);
        assert_all_ok(&backup.records);
        backup
            .records
            .into_iter()
            .map(|r| {
                let ip = r.ip.expect("an address").to_string();
                (ip, r.config.expect("a configuration"))
            })
            .collect()
    }

    /// Asserts that the radios `changed` hold the change and every other radio of `input`
    /// holds exactly the configuration it started with.
    #[track_caller]
    fn assert_changed_only(&self, input: &str, changed: &[String]) {
        for (ip, config) in self.configs_now(input) {
            if changed.contains(&ip) {
                assert!(config.contains(CHANGED), "{ip} was not changed:\n{config}");
            } else {
                assert_eq!(
                    Some(&config),
                    self.configs_at_start.get(&ip),
                    "{ip} was changed"
                );
            }
        }
    }
}

/// `127.232.N.first` … `127.232.N.last`, one address per line.
fn block(n: u8, first: u8, last: u8) -> Vec<String> {
    (first..=last).map(|i| format!("127.232.{n}.{i}")).collect()
}

fn lines(addresses: &[String]) -> String {
    addresses.iter().map(|a| format!("{a}\n")).collect()
}

/// The record's `started` time plus its `elapsed_ms`: when the host ended, to the millisecond.
fn ended_at(record: &Record) -> SystemTime {
    started_at(record) + Duration::from_millis(record.elapsed_ms.expect("elapsed_ms"))
}

fn started_at(record: &Record) -> SystemTime {
    let started = record.started.as_deref().expect("started");
    humantime::parse_rfc3339(started).unwrap_or_else(|e| panic!("started '{started}': {e}"))
}

/// The `--summary FILE` sikprobe wrote.
fn summary_of(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("summary written")).expect("JSON")
}

#[test]
fn a_failing_canary_leaves_every_other_radio_untouched() {
    let served = serve(
        &fleet([
            group("127.232.1.1-127.232.1.10", "eh"),
            // The second canary drops the session when the change reaches it (siksim has run
            // the command by then: the change landed, its answer is lost).
            group("127.232.1.2", "eh").with("close_on", "set system location"),
        ]),
        "23301",
    );
    let radios = block(1, 1, 10);
    // An invalid line among the canaries is not one of them: the canaries are .1 and .2.
    let input = format!("127.232.1.1\nnot-an-address\n{}", lines(&radios[1..]));
    let (dir, summary) = temp_file("summary.json", "");
    let summary_arg = summary.to_str().expect("UTF-8 path");
    let run = served.probe(
        &[
            "--canary",
            "2",
            "-j",
            "4",
            "--summary",
            summary_arg,
            "-c",
            CHANGE,
        ],
        &input,
    );
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    assert_eq!(run.records.len(), 11, "one record per input line");
    let first = record_for(&run.records, "127.232.1.1", None);
    assert_eq!(first.status, Status::Ok, "{:?}", first.error);
    let failed = record_for(&run.records, "127.232.1.2", None);
    assert_ne!(failed.status, Status::Ok);
    let why = format!("canary failed: 127.232.1.2:23301 {}", failed.status);
    for ip in &radios[2..] {
        let record = record_for(&run.records, ip, None);
        assert_eq!(record.status, Status::Skipped, "{ip}");
        assert_eq!(record.error.as_deref(), Some(why.as_str()), "{ip}");
        assert_eq!(record.commands, None, "{ip}: nothing was sent");
    }
    // The canaries' records come out before the records of the lines they held back.
    let position = |ip: &str| {
        run.records
            .iter()
            .position(|r| r.ip.map(|a| a.to_string()).as_deref() == Some(ip))
            .expect("a record")
    };
    let last_canary = position("127.232.1.1").max(position("127.232.1.2"));
    assert!(radios[2..].iter().all(|ip| position(ip) > last_canary));
    let invalid: Vec<&Record> = run
        .records
        .iter()
        .filter(|r| r.status == Status::InvalidInput)
        .collect();
    assert_eq!(invalid.len(), 1);
    assert_eq!(invalid[0].input.as_deref(), Some("not-an-address"));
    let summary = summary_of(&summary);
    assert_eq!(summary["stopped"], why.as_str());
    assert_eq!(summary["statuses"]["skipped"], 8);
    served.assert_changed_only(&lines(&radios), &radios[..2]);
    drop(dir);
}

#[test]
fn a_passing_canary_lets_the_rest_through_after_it() {
    let served = serve(&fleet([group("127.232.2.1-127.232.2.8", "eh")]), "23302");
    let radios = block(2, 1, 8);
    let run = served.probe(&["--canary", "2", "-j", "8", "-c", CHANGE], &lines(&radios));
    assert!(run.status.success(), "{}", run.stderr);
    assert_eq!(run.records.len(), 8);
    assert_all_ok(&run.records);
    // No other radio started before both canaries had ended.
    let canaries_ended = radios[..2]
        .iter()
        .map(|ip| ended_at(record_for(&run.records, ip, None)))
        .max()
        .expect("two canaries");
    for ip in &radios[2..] {
        let started = started_at(record_for(&run.records, ip, None));
        // Both times are cut to the millisecond.
        assert!(
            started + Duration::from_millis(2) >= canaries_ended,
            "{ip} started {started:?}, before the canaries ended at {canaries_ended:?}"
        );
    }
    served.assert_changed_only(&lines(&radios), &radios);
}

/// Radios .1-.20 of block `n`, where .2 refuses, .4 rejects the password and .6 drops the
/// session on the change (after running it): three different failures.
fn fleet_with_three_failures(n: u8) -> Fleet {
    let at = |last: u8| format!("127.232.{n}.{last}");
    fleet([
        group(&format!("{}-{}", at(1), at(20)), "eh"),
        group(&at(2), "closed"),
        group(&at(4), "wrong-password"),
        group(&at(6), "eh").with("close_on", "set system location"),
    ])
}

#[test]
fn max_failures_stops_the_run_after_the_limit_with_one_record_per_line() {
    let served = serve(&fleet_with_three_failures(3), "23303");
    let radios = block(3, 1, 20);
    for ordered in [false, true] {
        let mut args = vec!["-j", "1", "--max-failures", "2", "-c", CHANGE];
        if ordered {
            args.push("--ordered");
        }
        let run = served.probe(&args, &lines(&radios));
        assert_eq!(
            run.status.code(),
            Some(1),
            "ordered {ordered}: {}",
            run.stderr
        );
        assert_eq!(run.records.len(), 20, "ordered {ordered}");
        if ordered {
            let order: Vec<String> = run
                .records
                .iter()
                .map(|r| r.ip.expect("ip").to_string())
                .collect();
            assert_eq!(order, radios, "input order");
        }
        let why = "stopped after 3 of 6 finished hosts failed (--max-failures 2)";
        for (i, ip) in radios.iter().enumerate() {
            let record = record_for(&run.records, ip, None);
            match i + 1 {
                2 | 4 | 6 => assert!(
                    !matches!(record.status, Status::Ok | Status::Skipped),
                    "{ip}: {:?}",
                    record.status
                ),
                1 | 3 | 5 => assert_eq!(record.status, Status::Ok, "{ip}: {:?}", record.error),
                _ => {
                    assert_eq!(record.status, Status::Skipped, "{ip}");
                    assert_eq!(record.error.as_deref(), Some(why), "{ip}");
                }
            }
        }
    }
    let changed: Vec<String> = [1, 3, 5, 6]
        .iter()
        .map(|i| format!("127.232.3.{i}"))
        .collect();
    let reachable: Vec<String> = radios
        .iter()
        .filter(|ip| !ip.ends_with(".2") && !ip.ends_with(".4"))
        .cloned()
        .collect();
    served.assert_changed_only(&lines(&reachable), &changed);
}

#[test]
fn a_share_of_failures_counts_at_least_ten_finished_hosts() {
    let at = |last: u8| format!("127.232.4.{last}");
    let served = serve(
        &fleet([
            group(&format!("{}-{}", at(1), at(30)), "eh"),
            group(&format!("{}-{}", at(1), at(2)), "closed"),
            group(&format!("{}-{}", at(11), at(13)), "closed"),
        ]),
        "23304",
    );
    let radios = block(4, 1, 30);
    let (dir, summary) = temp_file("summary.json", "");
    let run = served.probe(
        &[
            "-j",
            "1",
            "--ordered",
            "--max-failures",
            "20%",
            "--summary",
            summary.to_str().expect("UTF-8 path"),
            "-c",
            CHANGE,
        ],
        &lines(&radios),
    );
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    let statuses: Vec<Status> = run.records.iter().map(|r| r.status).collect();
    // The first two hosts failing are 2 of at least 10, not more than 20%: the run goes on;
    // the third failure, 3 of 11, is.
    let mut expected = vec![Status::Refused; 2];
    expected.extend([Status::Ok; 8]);
    expected.push(Status::Refused);
    expected.extend([Status::Skipped; 19]);
    assert_eq!(statuses, expected);
    let why = "stopped after 3 of 11 finished hosts failed (--max-failures 20%)";
    for record in &run.records[11..] {
        assert_eq!(record.error.as_deref(), Some(why));
    }
    assert_eq!(summary_of(&summary)["stopped"], why);
    drop(dir);
}

#[test]
fn a_dry_run_records_the_commands_unsent_and_changes_nothing() {
    let served = serve(
        &fleet([
            group("127.232.5.1", "eh"),
            group("127.232.5.2", "bu"),
            group("127.232.5.3", "tu"),
        ]),
        "23305",
    );
    let radios = block(5, 1, 3);
    let (dir, summary) = temp_file("summary.json", "");
    let summary_arg = summary.to_str().expect("UTF-8 path");
    let run = served.probe(
        &[
            "--dry-run",
            "--summary",
            summary_arg,
            "-c",
            CHANGE,
            "-c",
            "copy running-configuration startup-configuration",
        ],
        &lines(&radios),
    );
    assert!(run.status.success(), "{}", run.stderr);
    assert_all_ok(&run.records);
    for record in &run.records {
        assert!(
            record.name.is_some() && record.radio_type.is_some(),
            "identified"
        );
        assert_eq!(
            record.commands.as_deref(),
            Some(
                &[
                    CommandResult::unsent(CHANGE),
                    CommandResult::unsent("copy running-configuration startup-configuration"),
                ][..]
            ),
            "{:?}",
            record.ip
        );
    }
    assert_eq!(summary_of(&summary)["commands"], 0, "nothing was sent");
    served.assert_changed_only(&lines(&radios), &[]);

    // set-tod plans its read, its two settings and its read-back, and leaves the clock be.
    let at = "2001-02-03T04:05:06Z";
    let clock = served.probe(&["--dry-run", "-a", "set-tod", "--at", at], "127.232.5.1\n");
    assert!(clock.status.success(), "{}", clock.stderr);
    assert_all_ok(&clock.records);
    assert_eq!(
        clock.records[0].commands.as_deref(),
        Some(
            &[
                CommandResult::unsent("show system"),
                CommandResult::unsent("set system time 04:05:06"),
                CommandResult::unsent("set system date 2001.02.03"),
                CommandResult::unsent("show system"),
            ][..]
        )
    );
    let show = served.probe(&["-a", "show"], "127.232.5.1\n");
    assert_all_ok(&show.records);
    let date = show.records[0]
        .show
        .as_ref()
        .and_then(|s| s.get("system_date"))
        .and_then(|d| d.as_str())
        .expect("a system date")
        .to_owned();
    assert_ne!(date, "2001.02.03", "the clock was not set");
    drop(dir);
}

#[test]
fn rollout_and_dry_run_flags_that_cannot_work_are_usage_errors() {
    let dry_run = "--dry-run goes with an action that changes radios";
    for (args, why) in [
        (
            &["--max-failures", "ten"][..],
            "invalid value 'ten' for '--max-failures <N|P%>': 'ten' is neither a number of hosts",
        ),
        (
            &["--max-failures", "150%"][..],
            "'150%' is more than 100% of the finished hosts",
        ),
        (
            &["--canary", "0"][..],
            "invalid value '0' for '--canary <N>': a canary stage needs at least one host",
        ),
        (&["--dry-run", "-a", "backup"][..], dry_run),
        (&["--dry-run", "-a", "show"][..], dry_run),
        (&["--dry-run"][..], dry_run),
    ] {
        let run = sikprobe(args, "127.232.6.1\n");
        assert_eq!(run.status.code(), Some(2), "{args:?}: {}", run.stderr);
        assert!(run.records.is_empty(), "{args:?}");
        assert!(run.stderr.contains(why), "{args:?}: {}", run.stderr);
    }
}
