//! sikdiff, run as a user runs it: snapshots the test writes (records built with
//! `sikscan::record::Record`) and batchsave directories made by the real batchsave binary in,
//! change events out, checked by parsing them. No networking: the records only name
//! addresses in 127.219.0.0/16.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{Map, Value, json};
use sikscan::record::{RadioType, Record, Status};

const SIKDIFF: &str = env!("CARGO_BIN_EXE_sikdiff");
const BATCHSAVE: &str = env!("CARGO_BIN_EXE_batchsave");

/// A radio that answered `-a backup` and `-a show`: identity, show fields, configuration.
fn radio(n: u8, sn: &str) -> Record {
    let mut record = Record::new(Some(ip(n)), Some(22), Status::Ok);
    record.radio_type = Some(RadioType::Eh);
    record.model = Some("EH-8010FX".into());
    record.name = Some(format!("radio-{n}"));
    record.sw = Some("7.7.10-13186-d2f25a6".into());
    record.sn = Some(sn.into());
    record.started = Some(format!("2026-11-21T05:00:{n:02}Z"));
    record.elapsed_ms = Some(400 + u64::from(n));
    let show = json!({
        "system_name": format!("radio-{n}"),
        "system_up_days": "12.5",
        "system_time": "05:00:00",
        "rf_mode": "adaptive",
        "rf_rssi": "-43",
        "rf_cinr": "18",
        "events_log": "link up eth eth1",
    });
    record.show = Some(object(show));
    let config = format!(
        "# EH-8010FX running configuration\nset system name radio-{n}\nset rf tx-power 10\nset rf mode adaptive\n"
    );
    record.config_sha256 = Some(format!("{:064x}", config.len()));
    record.startup_config = Some(config.clone());
    record.config = Some(config);
    record.config_saved = Some(true);
    record
}

fn ip(n: u8) -> std::net::IpAddr {
    std::net::IpAddr::from([127, 219, 0, n])
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn show_mut(record: &mut Record) -> &mut Map<String, Value> {
    record.show.as_mut().expect("the radio has show fields")
}

fn ndjson(records: &[Record]) -> String {
    records
        .iter()
        .map(|r| serde_json::to_string(r).expect("a record serialises") + "\n")
        .collect()
}

fn write(dir: &Path, name: &str, records: &[Record]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, ndjson(records)).expect("snapshot written");
    path.display().to_string()
}

struct Run {
    code: i32,
    events: Vec<Value>,
    stdout: String,
    stderr: String,
}

fn sikdiff(args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(SIKDIFF)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sikdiff starts");
    let mut input = child.stdin.take().expect("stdin piped");
    // sikdiff may stop before reading (a usage error): its exit status tells.
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    let out: Output = child.wait_with_output().expect("sikdiff finishes");
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 on stdout");
    let events = if args.contains(&"text") {
        Vec::new()
    } else {
        stdout
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect()
    };
    Run {
        code: out.status.code().expect("sikdiff exits, no signal"),
        events,
        stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The events by the serial they name.
fn by_sn(events: &[Value]) -> BTreeMap<String, Value> {
    events
        .iter()
        .map(|event| {
            let sn = event["sn"]
                .as_str()
                .expect("every event here names a serial");
            (sn.to_owned(), event.clone())
        })
        .collect()
}

#[test]
fn every_kind_of_change_and_nothing_for_the_radios_that_did_not_change() {
    let dir = tempfile::tempdir().expect("temp dir");
    let old: Vec<Record> = (1..=8).map(|n| radio(n, &format!("F{n}"))).collect();
    let mut new = old.clone();
    // F1: upgraded. F2: its login now fails (no identity but the address).
    new[0].sw = Some("7.7.12-13214-f614d18".into());
    let mut failed = Record::new(Some(ip(2)), Some(22), Status::AuthFailed);
    failed.error = Some("authentication failed".into());
    new[1] = failed;
    // F3: moved from .3 to .30, and renamed on the way.
    new[2].ip = Some(ip(30));
    new[2].name = Some("radio-3-moved".into());
    // F4: vanished; F9 appeared at .9.
    new.remove(3);
    new.push(radio(9, "F9"));
    // At .5 the radio was replaced: another serial at the same address.
    let replaced = new.iter_mut().find(|r| r.ip == Some(ip(5))).expect(".5");
    replaced.sn = Some("R5".into());
    // F6: its running configuration changed (and is no longer saved).
    let changed = new
        .iter_mut()
        .find(|r| r.sn.as_deref() == Some("F6"))
        .expect("F6");
    changed.config = changed
        .config
        .as_ref()
        .map(|c| c.replace("tx-power 10", "tx-power 12"));
    changed.config_saved = Some(false);
    // F7 moved from .7 to .70, and another radio, N7, now answers at .7 (read first): the
    // serial wins over the address, so F7 moved and N7 appeared.
    let moved = new
        .iter()
        .position(|r| r.sn.as_deref() == Some("F7"))
        .expect("F7");
    new[moved].ip = Some(ip(70));
    new.insert(moved, radio(7, "N7"));
    let old_path = write(dir.path(), "old.ndjson", &old);
    let new_path = write(dir.path(), "new.ndjson", &new);

    let run = sikdiff(&[&old_path, &new_path], "");
    assert_eq!(run.code, 1, "differences: {}", run.stderr);
    let events = by_sn(&run.events);
    assert_eq!(
        events.keys().collect::<Vec<_>>(),
        ["F1", "F2", "F3", "F4", "F6", "F7", "F9", "N7", "R5"],
        "{:#?}",
        run.events
    );
    assert_eq!(events["F1"]["change"], "changed");
    assert_eq!(
        events["F1"]["fields"],
        json!({"sw": ["7.7.10-13186-d2f25a6", "7.7.12-13214-f614d18"]})
    );
    assert_eq!(events["F2"]["change"], "changed");
    assert_eq!(
        events["F2"]["fields"],
        json!({"status": ["ok", "auth-failed"]})
    );
    assert_eq!(
        events["F2"]["name"], "radio-2",
        "OLD's name when NEW lost it"
    );
    assert_eq!(
        events["F2"]["config_missing"],
        json!({"config": "new", "startup_config": "new"})
    );
    assert_eq!(events["F3"]["change"], "moved");
    assert_eq!(events["F3"]["ip"], "127.219.0.30");
    assert_eq!(
        events["F3"]["fields"],
        json!({"ip": ["127.219.0.3", "127.219.0.30"], "name": ["radio-3", "radio-3-moved"]})
    );
    assert_eq!(events["F4"]["change"], "vanished");
    assert_eq!(events["F4"]["ip"], "127.219.0.4");
    assert_eq!(events["F4"]["fields"]["status"], json!(["ok", null]));
    assert_eq!(events["F7"]["change"], "moved");
    assert_eq!(
        events["F7"]["fields"],
        json!({"ip": ["127.219.0.7", "127.219.0.70"]})
    );
    assert_eq!(events["N7"]["change"], "appeared");
    assert_eq!(events["F9"]["change"], "appeared");
    assert_eq!(
        events["F9"]["fields"]["sw"],
        json!([null, "7.7.10-13186-d2f25a6"])
    );
    assert_eq!(events["R5"]["change"], "changed");
    assert_eq!(events["R5"]["fields"], json!({"sn": ["F5", "R5"]}));
    let f6 = &events["F6"];
    assert_eq!(f6["fields"], json!({"config_saved": [true, false]}));
    let diff = f6["config_diff"].as_str().expect("a config diff");
    let mut lines = diff.lines();
    assert_eq!(
        lines.next(),
        Some(format!("--- {old_path}\t127.219.0.6 radio-6 config").as_str())
    );
    assert_eq!(
        lines.next(),
        Some(format!("+++ {new_path}\t127.219.0.6 radio-6 config").as_str())
    );
    let changes: Vec<&str> = lines.filter(|l| l.starts_with(['-', '+'])).collect();
    assert_eq!(changes, ["-set rf tx-power 10", "+set rf tx-power 12"]);
    assert!(
        f6.get("startup_config_diff").is_none(),
        "the startup text did not change"
    );

    let same = sikdiff(&[&old_path, &old_path], "");
    assert_eq!((same.code, same.events.len()), (0, 0), "{}", same.stderr);
}

#[test]
fn volatile_fields_are_ignored_within_their_tolerance_and_compared_with_all_fields() {
    let dir = tempfile::tempdir().expect("temp dir");
    let old = vec![radio(1, "F1"), radio(2, "F2")];
    let mut new = old.clone();
    for record in &mut new {
        record.started = Some("2026-11-22T05:00:00Z".into());
        record.elapsed_ms = Some(999);
        let show = show_mut(record);
        show.insert("system_up_days".into(), "13.5".into());
        show.insert("system_time".into(), "06:00:00".into());
        show.insert("events_log".into(), "modulation change".into());
        show.insert("rf_cinr".into(), "16".into());
    }
    show_mut(&mut new[0]).insert("rf_rssi".into(), "-45".into());
    show_mut(&mut new[1]).insert("rf_rssi".into(), "-50".into());
    let old_path = write(dir.path(), "old.ndjson", &old);
    let new_path = write(dir.path(), "new.ndjson", &new);

    let run = sikdiff(&[&old_path, &new_path], "");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.events.len(),
        1,
        "only the RSSI beyond its tolerance: {:?}",
        run.events
    );
    assert_eq!(run.events[0]["sn"], "F2");
    assert_eq!(
        run.events[0]["fields"],
        json!({"show.rf_rssi": ["-43", "-50"]})
    );

    let all = sikdiff(&["--all-fields", &old_path, &new_path], "");
    assert_eq!(all.code, 1);
    let events = by_sn(&all.events);
    let fields: Vec<&String> = events["F1"]["fields"]
        .as_object()
        .expect("fields")
        .keys()
        .collect();
    assert_eq!(
        fields,
        [
            "show.system_up_days",
            "show.system_time",
            "show.rf_rssi",
            "show.rf_cinr",
            "show.events_log"
        ],
        "the timing of the run is still not compared"
    );

    let help = Command::new(SIKDIFF).arg("--help").output().expect("runs");
    let help = String::from_utf8(help.stdout).expect("UTF-8");
    for volatile in ["show.system_up_days", "show.links.uptime", "show.rf_rssi"] {
        assert!(help.contains(volatile), "--help lists {volatile}");
    }
}

/// A TG DN and its client nodes: all records carry the DN's address; the nodes are told
/// apart by `route`.
fn tg(dn_name: &str, cn: Option<&str>, sn: Option<&str>, rssi: &str) -> Record {
    let mut record = Record::new(Some(ip(40)), Some(22), Status::Ok);
    record.radio_type = Some(RadioType::Tg);
    record.sn = sn.map(Into::into);
    record.name = Some(cn.unwrap_or(dn_name).into());
    if let Some(cn) = cn {
        record.route = Some(format!("127.219.0.40: {dn_name} -> {cn}"));
        record.parent = Some(ip(40));
    }
    record.show = Some(object(json!({
        "system": [{"product": "MH-N366", "uptime": "3 days", "location": "mast"}],
        "links": [{"remote": "dn1", "status": "active", "rssi": rssi, "snr": "20", "uptime": "5"}],
    })));
    record
}

#[test]
fn client_nodes_are_matched_by_route_and_tables_row_by_row() {
    let dir = tempfile::tempdir().expect("temp dir");
    let old = vec![
        tg("dn1", None, Some("DN1"), "-50"),
        tg("dn1", Some("cn1"), None, "-50"),
        tg("dn1", Some("cn2"), None, "-50"),
    ];
    let mut new = vec![
        tg("dn1", None, Some("DN1"), "-50"),
        tg("dn1", Some("cn1"), None, "-62"),
        tg("dn1", Some("cn2"), None, "-51"),
        tg("dn1", Some("cn3"), None, "-50"),
    ];
    let uptime = &mut new[2].show.as_mut().expect("show")["system"][0]["uptime"];
    *uptime = "4 days".into();
    let old_path = write(dir.path(), "old.ndjson", &old);
    let new_path = write(dir.path(), "new.ndjson", &new);
    let run = sikdiff(&[&old_path, &new_path], "");
    assert_eq!(run.code, 1, "{}", run.stderr);
    let routes: Vec<(&str, &str)> = run
        .events
        .iter()
        .map(|e| {
            (
                e["change"].as_str().expect("change"),
                e["route"].as_str().expect("a client node's route"),
            )
        })
        .collect();
    assert_eq!(
        routes,
        [
            ("changed", "127.219.0.40: dn1 -> cn1"),
            ("appeared", "127.219.0.40: dn1 -> cn3")
        ]
    );
    assert_eq!(
        run.events[0]["fields"],
        json!({"show.links.rssi": ["-50", "-62"]}),
        "a single-row section names its cells directly"
    );
    assert_eq!(run.events[0]["ip"], "127.219.0.40");
}

#[test]
fn the_newest_record_of_a_resumed_run_counts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let timed_out = |n| {
        let mut record = Record::new(Some(ip(n)), Some(22), Status::ConnectTimeout);
        record.error = Some("no TCP answer within 5s".into());
        record
    };
    // OLD: .1 timed out, then its retry answered. NEW: the same radios, retried in the
    // other order: .2 answered first and timed out on the retry... which is the newest.
    let old = vec![timed_out(1), radio(2, "F2"), radio(1, "F1")];
    let new = vec![
        radio(1, "F1"),
        radio(2, "F2"),
        timed_out(3),
        timed_out(2),
        radio(3, "F3"),
    ];
    let old_path = write(dir.path(), "old.ndjson", &old);
    let new_path = write(dir.path(), "new.ndjson", &new);
    let run = sikdiff(&[&old_path, &new_path], "");
    assert_eq!(run.code, 1, "{}", run.stderr);
    let events = by_sn(&run.events);
    assert_eq!(events.keys().collect::<Vec<_>>(), ["F2", "F3"]);
    assert_eq!(
        events["F2"]["fields"],
        json!({"status": ["ok", "connect-timeout"]})
    );
    assert_eq!(events["F3"]["change"], "appeared");
    assert_eq!(events["F3"]["fields"]["status"], json!([null, "ok"]));
    assert!(
        run.stderr.contains("1 OLD records replaced")
            && run.stderr.contains("2 NEW records replaced"),
        "{}",
        run.stderr
    );
}

/// Pipes records through the real batchsave into `dir`.
fn batchsave(dir: &Path, records: &[Record], batch_size: &str) {
    let mut child = Command::new(BATCHSAVE)
        .args(["-q", "-n", batch_size, "--format", "ndjson"])
        .arg(dir)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("batchsave starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(ndjson(records).as_bytes())
        .expect("batchsave reads");
    let out = child.wait_with_output().expect("batchsave finishes");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_batchsave_directory_is_read_in_batch_order_and_a_resumed_one_too() {
    let dir = tempfile::tempdir().expect("temp dir");
    let old: Vec<Record> = (1..=12).map(|n| radio(n, &format!("F{n}"))).collect();
    let old_dir = dir.path().join("old");
    batchsave(&old_dir, &old, "5");
    // NEW: a first run where .4 timed out, and a resumed run that retried it and found it
    // upgraded; batchsave numbers the second run's batches after the first's. A line that
    // is not JSON goes to rejects.ndjson, which is not read.
    let mut first = old.clone();
    first[3] = Record::new(Some(ip(4)), Some(22), Status::ConnectTimeout);
    let new_dir = dir.path().join("new");
    batchsave(&new_dir, &first, "5");
    let mut retried = radio(4, "F4");
    retried.sw = Some("7.7.12-13214-f614d18".into());
    let mut child = Command::new(BATCHSAVE)
        .args(["-q", "--allow-rejects", "--format", "ndjson"])
        .arg(&new_dir)
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("batchsave starts");
    let input = format!("not json\n{}", ndjson(&[retried]));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("batchsave reads");
    assert!(child.wait().expect("batchsave finishes").success());
    assert!(new_dir.join("rejects.ndjson").exists());
    let batches = std::fs::read_dir(&new_dir)
        .expect("listed")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().starts_with("batch-"))
        })
        .count();
    assert_eq!(batches, 4, "three batches of 5 and the resumed run's one");

    let run = sikdiff(
        &[
            &old_dir.display().to_string(),
            &new_dir.display().to_string(),
        ],
        "",
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.events.len(), 1, "{:?}", run.events);
    assert_eq!(run.events[0]["sn"], "F4");
    assert_eq!(
        run.events[0]["fields"],
        json!({"sw": ["7.7.10-13186-d2f25a6", "7.7.12-13214-f614d18"]})
    );
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);

    let file = write(dir.path(), "old.ndjson", &old);
    let same = sikdiff(&[&file, &old_dir.display().to_string()], "");
    assert_eq!((same.code, same.events.len()), (0, 0), "{}", same.stderr);
}

#[test]
fn either_snapshot_may_come_on_stdin_but_not_both() {
    let dir = tempfile::tempdir().expect("temp dir");
    let old = vec![radio(1, "F1"), radio(2, "F2")];
    let mut new = old.clone();
    new[1].name = Some("renamed".into());
    let old_path = write(dir.path(), "old.ndjson", &old);
    let new_path = write(dir.path(), "new.ndjson", &new);
    let from_stdin = sikdiff(&[&old_path, "-"], &ndjson(&new));
    assert_eq!(from_stdin.code, 1, "{}", from_stdin.stderr);
    assert_eq!(from_stdin.events.len(), 1);
    assert_eq!(
        from_stdin.events[0]["fields"]["name"],
        json!(["radio-2", "renamed"])
    );
    let diff = from_stdin.events[0].get("config_diff");
    assert!(diff.is_none(), "the configuration did not change");
    let old_on_stdin = sikdiff(&["-", &new_path], &ndjson(&old));
    assert_eq!(old_on_stdin.events, from_stdin.events);
    let both = sikdiff(&["-", "-"], "");
    assert_eq!(both.code, 2);
    assert!(
        both.stderr.contains("both be standard input"),
        "{}",
        both.stderr
    );
    assert!(both.stdout.is_empty());
}

#[test]
fn trouble_exits_2_naming_what_and_where() {
    let dir = tempfile::tempdir().expect("temp dir");
    let old_path = write(dir.path(), "old.ndjson", &[radio(1, "F1"), radio(2, "F2")]);
    let missing = dir.path().join("missing.ndjson").display().to_string();
    let run = sikdiff(&[&old_path, &missing], "");
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("missing.ndjson"), "{}", run.stderr);
    assert!(run.stdout.is_empty());

    let empty_dir = dir.path().join("empty");
    std::fs::create_dir(&empty_dir).expect("made");
    let run = sikdiff(&[&old_path, &empty_dir.display().to_string()], "");
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no *.ndjson file"), "{}", run.stderr);

    let usage = sikdiff(&[&old_path], "");
    assert_eq!(usage.code, 2, "{}", usage.stderr);

    // A line that is not a record is named with its file and line, skipped, and makes the
    // status 2; the rest is still compared.
    let mut text = ndjson(&[radio(1, "F1")]);
    text.push_str("{\"truncated\": \n");
    let mut upgraded = radio(2, "F2");
    upgraded.sw = Some("7.7.12-13214-f614d18".into());
    text.push_str(&ndjson(&[upgraded]));
    let bad = dir.path().join("bad.ndjson");
    std::fs::write(&bad, text).expect("written");
    let run = sikdiff(&[&old_path, &bad.display().to_string()], "");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("bad.ndjson:2: not a record"),
        "{}",
        run.stderr
    );
    assert_eq!(run.events.len(), 1);
    assert_eq!(run.events[0]["sn"], "F2");
}

#[test]
fn the_text_report_starts_with_the_counts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let old = vec![radio(1, "F1"), radio(2, "F2"), radio(3, "F3")];
    let mut new = vec![old[0].clone(), old[1].clone(), radio(4, "F4")];
    new[0].config = new[0]
        .config
        .as_ref()
        .map(|c| c.replace("mode adaptive", "mode static"));
    let old_path = write(dir.path(), "old.ndjson", &old);
    let new_path = write(dir.path(), "new.ndjson", &new);
    let run = sikdiff(&["--format", "text", &old_path, &new_path], "");
    assert_eq!(run.code, 1, "{}", run.stderr);
    let first = run.stdout.lines().next().expect("a counts line");
    let counts: BTreeMap<&str, u64> = first
        .split(['(', ','])
        .filter_map(|part| {
            let mut words = part.split_whitespace();
            let n = words.next()?.parse().ok()?;
            Some((words.next()?, n))
        })
        .collect();
    assert_eq!(
        counts,
        BTreeMap::from([
            ("appeared", 1),
            ("changed", 1),
            ("moved", 0),
            ("vanished", 1)
        ]),
        "{first}"
    );
    let blocks: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.is_empty())
        .skip(1)
        .collect();
    assert_eq!(blocks.len(), 3, "{}", run.stdout);
    assert!(
        blocks[0].starts_with("changed 127.219.0.1 radio-1"),
        "{blocks:?}"
    );
    assert!(
        run.stdout
            .contains("    -set rf mode adaptive\n    +set rf mode static\n")
    );
}

#[test]
fn a_closed_stdout_is_a_clean_stop() {
    let dir = tempfile::tempdir().expect("temp dir");
    let old: Vec<Record> = (1..=250).map(|n| radio(n, &format!("F{n}"))).collect();
    let mut new = old.clone();
    for record in &mut new {
        record.config = record.config.as_ref().map(|c| c.repeat(100));
    }
    let old_path = write(dir.path(), "old.ndjson", &old);
    let new_path = write(dir.path(), "new.ndjson", &new);
    let mut child = Command::new(SIKDIFF)
        .args([&old_path, &new_path])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sikdiff starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("a first event");
    let event: Value = serde_json::from_str(&first).expect("an event");
    assert_eq!(event["change"], "changed");
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("stderr read");
    let status = child.wait().expect("sikdiff exits");
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panic"), "{stderr}");
}
