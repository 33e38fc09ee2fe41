//! The fleet's memory end to end, as an operator runs it from cron: siksim serves a fleet of
//! every radio type, `sikprobe -a backup | tee SNAPSHOT | batchsave --configs ARCHIVE` backs it
//! up (the three real programs joined by pipes, as a shell joins them), `sikprobe -a script`
//! changes three radios, the same pipeline runs again, and the real `git` reads the archive
//! while `sikdiff` compares the two snapshots. Then batchsave is killed (`kill -9`) in the
//! middle of its commit, and the next run must leave a valid archive with every configuration.

mod support;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};
use sikscan::record::{Record, Status};
use support::archive::{Place, kill_9, while_running};
use support::fleet::{Fleet, fleet, group};
use support::{Siksim, addresses, assert_all_ok, parse_records, sikprobe, start_sikprobe};

const SIKDIFF: &str = env!("CARGO_BIN_EXE_sikdiff");

/// `sikprobe ARGS | tee SNAPSHOT | batchsave --configs ARCHIVE`, running.
struct Pipeline {
    sikprobe: Child,
    tee: Child,
    batchsave: Child,
    snapshot: PathBuf,
}

/// What a whole pipeline run left: the records, as the snapshot holds them, and batchsave's
/// stderr.
struct Run {
    records: Vec<Record>,
    batchsave_stderr: String,
}

impl Pipeline {
    /// Starts the pipeline on `input` (addresses, one per line), keeping sikprobe's records
    /// in `snapshot` beside the archive.
    fn start(place: &Place, sikprobe_args: &[&str], input: &str, snapshot: &str) -> Pipeline {
        let snapshot = place.path(snapshot);
        let mut sikprobe = start_sikprobe(sikprobe_args, &[], input);
        let mut tee = Command::new("tee")
            .arg(&snapshot)
            .stdin(Stdio::from(sikprobe.stdout.take().expect("stdout piped")))
            .stdout(Stdio::piped())
            .spawn()
            .expect("tee starts");
        let batchsave = place
            .batchsave_command(&["--configs", &place.archive_arg()])
            .stdin(Stdio::from(tee.stdout.take().expect("stdout piped")))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("batchsave starts");
        Pipeline {
            sikprobe,
            tee,
            batchsave,
            snapshot,
        }
    }

    /// Waits for sikprobe and tee, which must succeed; the records of the snapshot.
    fn upstream_records(&mut self) -> Vec<Record> {
        let stderr = read_all(self.sikprobe.stderr.take());
        let status = self.sikprobe.wait().expect("sikprobe finishes");
        assert!(status.success(), "sikprobe: {stderr}");
        assert!(self.tee.wait().expect("tee finishes").success(), "tee");
        parse_records(&std::fs::read(&self.snapshot).expect("the snapshot"))
    }

    /// Waits for the whole pipeline, which must succeed.
    fn finish(mut self) -> Run {
        let records = self.upstream_records();
        let batchsave_stderr = read_all(self.batchsave.stderr.take());
        let status = self.batchsave.wait().expect("batchsave finishes");
        assert!(status.success(), "batchsave: {batchsave_stderr}");
        Run {
            records,
            batchsave_stderr,
        }
    }
}

/// Everything a child writes on a pipe, to its end (nothing when the pipe was taken already).
fn read_all(pipe: Option<impl Read>) -> String {
    let mut text = String::new();
    if let Some(mut pipe) = pipe {
        pipe.read_to_string(&mut text).expect("a readable pipe");
    }
    text
}

/// The archive's file of a radio (as batchsave's help names them; the ports here are not 22).
fn file_of(record: &Record) -> String {
    let ip = record.ip.expect("an address");
    let port = record.port.expect("a port");
    match record.route.as_deref() {
        Some(route) => {
            let node = route.rsplit_once(" -> ").expect("a route").1;
            format!("{ip}_{port}@{node}.cfg")
        }
        None => format!("{ip}_{port}.cfg"),
    }
}

/// The one record of the radio at `ip` (not its client nodes).
fn radio<'a>(records: &'a [Record], ip: &str) -> &'a Record {
    let found: Vec<&Record> = records
        .iter()
        .filter(|r| r.route.is_none() && r.ip.is_some_and(|a| a.to_string() == ip))
        .collect();
    assert_eq!(found.len(), 1, "one record of {ip}");
    found[0]
}

/// The line of a configuration that starts with `prefix`.
fn line_of<'a>(config: &'a str, prefix: &str) -> &'a str {
    config
        .lines()
        .find(|line| line.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} line in {config}"))
}

/// The removed and the added lines of a unified diff (its `---`/`+++` header left out).
fn edits(diff: &str) -> (Vec<&str>, Vec<&str>) {
    let body = diff
        .lines()
        .filter(|line| !line.starts_with("--- ") && !line.starts_with("+++ "));
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    for line in body {
        if let Some(text) = line.strip_prefix('-') {
            removed.push(text);
        } else if let Some(text) = line.strip_prefix('+') {
            added.push(text);
        }
    }
    (removed, added)
}

/// `sikdiff OLD NEW`: its exit status and its events.
fn sikdiff(old: &Path, new: &Path) -> (Option<i32>, Vec<Value>) {
    let out = Command::new(SIKDIFF)
        .arg("-q")
        .arg(old)
        .arg(new)
        .output()
        .expect("sikdiff runs");
    let events = String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("an event is JSON"))
        .collect();
    (out.status.code(), events)
}

const PORT: &str = "23100";

fn at(last: u8) -> String {
    format!("127.224.1.{last}")
}

const EH: u8 = 1;
const UNSAVED: u8 = 2;
const BU: u8 = 3;
const TU: u8 = 4;
const TG: u8 = 5;
const HUNG: u8 = 6;
/// The radios `-a script` renames.
const CHANGED: [u8; 3] = [EH, BU, TU];

/// Every radio type: EH (one of them with unsaved changes), BU, TU, a TG DN with two client
/// nodes, and an EH that, with `hang`, hangs on the backup's second command.
fn radios(hang: bool) -> Fleet {
    let mut last = group(&at(HUNG), "eh");
    if hang {
        last = last.with("hang_on", "copy startup");
    }
    fleet([
        group(&at(EH), "eh"),
        group(&at(UNSAVED), "eh").with("unsaved_changes", true),
        group(&at(BU), "bu"),
        group(&at(TU), "tu"),
        group(&at(TG), "tg").with("cns", 2),
        last,
    ])
}

#[test]
fn back_up_change_three_back_up_again_git_and_sikdiff_name_exactly_those_three() {
    let place = Place::new();
    let input = addresses(&format!("{}-{}", at(EH), at(HUNG)));
    // The deadline cuts the hung radio short (its command timeout would be later).
    let backup = [
        "-p",
        PORT,
        "-q",
        "-a",
        "backup",
        "--cns",
        "--deadline",
        "3s",
        "--command-timeout",
        "5s",
    ];

    // Run 1. siksim's fleet is fixed for the life of the process, so the radio that hangs in
    // run 2 is served by a second siksim on the same addresses and port, from the same seed.
    let siksim = Siksim::serve(&radios(false), &["--port", PORT, "-q"]);
    let first_truth = siksim.describe();
    let run1 = Pipeline::start(&place, &backup, &input, "run-1.ndjson").finish();
    siksim.stop();
    assert_eq!(run1.records.len(), 8, "six radios and two client nodes");
    assert_all_ok(&run1.records);
    for record in &run1.records {
        assert!(record.config.is_some(), "{}: a config", file_of(record));
    }

    let siksim = Siksim::serve(&radios(true), &["--port", PORT, "-q"]);
    let second_truth = siksim.describe();
    for device in &first_truth {
        let same = second_truth
            .iter()
            .find(|d| d["ip"] == device["ip"] && d["route"] == device["route"])
            .expect("the same devices");
        assert_eq!(
            same["config"], device["config"],
            "the second siksim serves the same configurations"
        );
    }
    assert_eq!(
        support::truth_for(&second_truth, &at(HUNG), None)["backup_status"],
        "deadline"
    );

    // The change, on the siksim that then serves run 2 (a radio's state lives in the process).
    let renamed: String = CHANGED.iter().map(|&n| at(n) + "\n").collect();
    let script = sikprobe(
        &["-p", PORT, "-q", "-a", "script", "-c", "set system name X"],
        &renamed,
    );
    assert!(script.status.success(), "{}", script.stderr);
    assert_eq!(script.records.len(), 3);
    assert_all_ok(&script.records);

    let run2 = Pipeline::start(&place, &backup, &input, "run-2.ndjson").finish();
    siksim.stop();
    assert_eq!(
        run2.records.len(),
        8,
        "one record per radio, whatever happened"
    );

    // The records.
    assert_eq!(radio(&run1.records, &at(UNSAVED)).config_saved, Some(false));
    assert_eq!(radio(&run2.records, &at(UNSAVED)).config_saved, Some(false));
    for n in [EH, BU, TU, HUNG] {
        assert_eq!(radio(&run1.records, &at(n)).config_saved, Some(true));
    }
    for n in CHANGED {
        let record = radio(&run2.records, &at(n));
        assert_eq!(record.status, Status::Ok, "{:?}", record.error);
        assert_eq!(record.name.as_deref(), Some("X"));
        assert_eq!(record.config_saved, Some(false), "renamed, not saved");
    }
    let hung = radio(&run2.records, &at(HUNG));
    assert_eq!(hung.status, Status::Deadline);
    assert!(hung.error.is_some(), "an error says why");
    assert_eq!(hung.config, None, "no partial config");
    assert_eq!(hung.startup_config, None);
    assert_eq!(hung.config_saved, None);

    // The archive, read by git: two commits, the second touching exactly the renamed radios.
    let file = |n: u8| file_of(radio(&run1.records, &at(n)));
    assert_eq!(place.commits(), 2);
    let mut touched: Vec<String> = CHANGED.iter().map(|&n| file(n)).collect();
    touched.push("index.tsv".to_owned());
    touched.sort();
    assert_eq!(place.touched(), touched);
    let mut files: Vec<String> = place
        .git(&["ls-tree", "--name-only", "HEAD"])
        .lines()
        .map(str::to_owned)
        .collect();
    files.sort();
    let mut expected: Vec<String> = run1.records.iter().map(file_of).collect();
    expected.push("index.tsv".to_owned());
    expected.sort();
    assert_eq!(files, expected, "a file per radio and client node");

    let first = place.message("HEAD~1");
    assert_eq!(first.count("changed"), 0, "{}", first.subject);
    assert_eq!(first.count("appeared"), 8, "{}", first.subject);
    assert_eq!(first.count("could not be read"), 0, "{}", first.subject);
    assert_eq!(first.count("with unsaved changes"), 1, "{}", first.subject);
    assert_eq!(first.listed("with unsaved changes"), [file(UNSAVED)]);
    let second = place.message("HEAD");
    assert_eq!(second.count("changed"), 3, "{}", second.subject);
    assert_eq!(second.count("appeared"), 0, "{}", second.subject);
    assert_eq!(second.count("could not be read"), 1, "{}", second.subject);
    assert_eq!(
        second.count("with unsaved changes"),
        4,
        "the renamed three and the one that was: {}",
        second.subject
    );
    assert_eq!(second.count("radios read"), 8, "{}", second.subject);
    assert_eq!(
        second.listed("changed"),
        CHANGED.map(file),
        "{}",
        second.subject
    );
    assert_eq!(second.listed("could not be read"), [file(HUNG)]);
    assert_eq!(
        second.listed("with unsaved changes"),
        [EH, UNSAVED, BU, TU].map(file)
    );

    let (before, after) = (place.index_at("HEAD~1"), place.index());
    assert_eq!(before[&file(UNSAVED)]["config_saved"], "false");
    assert_eq!(after[&file(UNSAVED)]["config_saved"], "false");
    for n in CHANGED {
        assert_eq!(before[&file(n)]["config_saved"], "true");
        assert_eq!(after[&file(n)]["config_saved"], "false");
        assert_eq!(after[&file(n)]["name"], "X");
    }
    assert_eq!(after[&file(TG)]["config_saved"], "", "unknown on TG");

    // The hung radio keeps its file from run 1, in the commit, the work tree and the index.
    let kept = radio(&run1.records, &at(HUNG)).config.clone();
    assert_eq!(
        Some(place.git(&["show", &format!("HEAD:{}", file(HUNG))])),
        kept
    );
    assert_eq!(
        std::fs::read_to_string(place.archive().join(file(HUNG))).ok(),
        kept
    );
    assert_eq!(
        before[&file(HUNG)],
        after[&file(HUNG)],
        "its index line too"
    );
    // Every other file is the radio's configuration of run 2, byte for byte.
    for record in run2.records.iter().filter(|r| r.config.is_some()) {
        let name = file_of(record);
        assert_eq!(
            Some(place.git(&["show", &format!("HEAD:{name}")])),
            record.config,
            "{name}"
        );
    }
    place.assert_valid();
    place.assert_clean();

    // sikdiff of the two snapshots: the three renamed radios, and the hung one's status.
    let (snap1, snap2) = (place.path("run-1.ndjson"), place.path("run-2.ndjson"));
    let (code, events) = sikdiff(&snap1, &snap2);
    assert_eq!(code, Some(1), "differences: exit 1");
    // Keyed by address, a client node by its route.
    let by_ip: BTreeMap<String, &Value> = events
        .iter()
        .map(|e| {
            let key = e["route"].as_str().or(e["ip"].as_str()).expect("an ip");
            (key.to_owned(), e)
        })
        .collect();
    assert_eq!(events.len(), by_ip.len(), "one event per radio: {events:?}");
    let mut expected: Vec<String> = [EH, BU, TU, HUNG].iter().map(|&n| at(n)).collect();
    expected.sort();
    assert_eq!(by_ip.keys().cloned().collect::<Vec<_>>(), expected);
    for n in CHANGED {
        let event = by_ip[&at(n)];
        let (old, new) = (radio(&run1.records, &at(n)), radio(&run2.records, &at(n)));
        assert_eq!(event["change"], "changed");
        assert_eq!(event["name"], "X");
        assert_eq!(
            event["fields"],
            json!({"name": [old.name, "X"], "config_saved": [true, false]}),
            "{}",
            at(n)
        );
        let diff = event["config_diff"].as_str().expect("a config_diff");
        let (old_config, new_config) = (
            old.config.as_deref().expect("a config"),
            new.config.as_deref().expect("a config"),
        );
        assert_eq!(
            edits(diff),
            (
                vec![line_of(old_config, "set system ")],
                vec![line_of(new_config, "set system ")]
            ),
            "{}: {diff}",
            at(n)
        );
        assert!(
            line_of(new_config, "set system ").ends_with("  name X"),
            "{new_config}"
        );
        assert_eq!(event.get("startup_config_diff"), None, "startup unchanged");
        assert_eq!(event.get("config_missing"), None);
    }
    // The hung radio answered, then did not: its status changed; its configuration could
    // not be read in run 2, which sikdiff names rather than counts as a difference.
    let event = by_ip[&at(HUNG)];
    assert_eq!(event["change"], "changed");
    assert_eq!(event["fields"], json!({"status": ["ok", "deadline"]}));
    assert_eq!(
        event["config_missing"],
        json!({"config": "new", "startup_config": "new"})
    );
    assert_eq!(event.get("config_diff"), None);

    let (code, events) = sikdiff(&snap2, &snap2);
    assert_eq!(code, Some(0), "no differences: exit 0");
    assert!(events.is_empty(), "{events:?}");
}

/// A fleet of 2,296 radios (1,022 EH, 510 BU, 510 TU, 254 TG DNs with two client nodes each:
/// 2,804 configurations, about 2.2 MB of text), on 127.225.0.0/20.
fn big_fleet() -> (Fleet, String) {
    let groups = [
        ("127.225.0.0/22", "eh"),
        ("127.225.4.0/23", "bu"),
        ("127.225.6.0/23", "tu"),
        ("127.225.8.0/24", "tg"),
    ];
    let input = groups.iter().map(|(spec, _)| addresses(spec)).collect();
    let radios = fleet(groups.map(|(spec, persona)| {
        let group = group(spec, persona);
        if persona == "tg" {
            group.with("cns", 2)
        } else {
            group
        }
    }));
    (radios, input)
}

const BIG_FLEET_RECORDS: usize = 2804;

/// The entries of a directory (none when it does not exist).
fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, Iterator::count)
}

/// The archive holds every configuration of `records`: one file each in the last commit and
/// the work tree (which is the commit's), byte for byte, and the index.
#[track_caller]
fn assert_every_config(place: &Place, records: &[Record]) {
    assert_all_ok(records);
    place.assert_valid();
    place.assert_clean();
    let tracked = place.git(&["ls-files"]).lines().count();
    assert_eq!(tracked, records.len() + 1, "every file and the index");
    assert_eq!(place.index().len(), records.len());
    for record in records {
        let name = file_of(record);
        assert_eq!(
            std::fs::read_to_string(place.archive().join(&name)).ok(),
            record.config,
            "{name}"
        );
    }
}

/// How the test knows batchsave was killed mid-commit: batchsave holds a run's new
/// configurations in memory and writes them as one pack when it commits (src/archive/repo.rs;
/// up to 32 MiB, far above this fleet's 2.2 MB), so a file in `objects/pack` of a new archive
/// says the commit has begun; the files of the work tree are written only after the branch
/// has moved to the new commit; and a batchsave that the signal ended (its exit status says
/// SIGKILL) had not finished. Each kill is followed by the next run of the same pipeline.
#[test]
fn kill_9_of_batchsave_mid_commit_then_the_next_run_leaves_a_valid_archive_with_every_config() {
    const PORT: &str = "23101";
    let (radios, input) = big_fleet();
    let _siksim = Siksim::serve(&radios, &["--port", PORT, "-q"]);
    let backup = ["-p", PORT, "-q", "-a", "backup", "--cns", "-j", "500"];

    // 1. Killed while storing the configurations, before or just after the branch moved.
    let place = Place::new();
    let pack = place.archive().join(".git/objects/pack");
    let mut run = Pipeline::start(&place, &backup, &input, "killed.ndjson");
    assert!(
        while_running(&mut run.batchsave, || entries(&pack) > 0),
        "batchsave ended before the test saw its commit begin"
    );
    assert!(
        kill_9(&mut run.batchsave),
        "batchsave finished before the signal"
    );
    let records = run.upstream_records();
    assert_eq!(records.len(), BIG_FLEET_RECORDS);
    assert_all_ok(&records);
    place.assert_valid();

    let rerun = Pipeline::start(&place, &backup, &input, "rerun.ndjson").finish();
    assert_every_config(&place, &rerun.records);
    assert_eq!(place.commits(), 1, "{}", rerun.batchsave_stderr);

    // 2. Killed while writing the work tree: the commit is made, the files are not all there.
    let place = Place::new();
    let first = place.archive().join(format!("127.225.0.1_{PORT}.cfg"));
    let mut run = Pipeline::start(&place, &backup, &input, "killed.ndjson");
    assert!(
        while_running(&mut run.batchsave, || first.exists()),
        "batchsave ended before the test saw it write the work tree"
    );
    assert!(
        kill_9(&mut run.batchsave),
        "batchsave finished before the signal"
    );
    run.upstream_records();
    place.assert_valid();
    assert_eq!(place.commits(), 1, "the branch moved before the work tree");
    let written = std::fs::read_dir(place.archive())
        .expect("the work tree")
        .filter(|entry| {
            entry
                .as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".cfg"))
        })
        .count();

    let rerun = Pipeline::start(&place, &backup, &input, "rerun.ndjson").finish();
    if written < BIG_FLEET_RECORDS {
        assert!(
            rerun.batchsave_stderr.contains("repaired it"),
            "{written} files of {BIG_FLEET_RECORDS} were written: {}",
            rerun.batchsave_stderr
        );
    }
    assert_every_config(&place, &rerun.records);
    assert_eq!(place.commits(), 1, "{}", rerun.batchsave_stderr);
}
