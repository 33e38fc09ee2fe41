//! `batchsave --configs DIR`, read back with the real `git` program as a user reads it: the
//! records are built here (serde_json), as `sikprobe -a backup` writes them, and piped into the
//! real batchsave. git and batchsave run with an empty HOME and no system configuration, so no
//! git identity is configured anywhere.

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use sikscan::record::{RadioType, Record, Status};

const BATCHSAVE: &str = env!("CARGO_BIN_EXE_batchsave");

/// Generous bound for waiting on the binary: never reached unless it is broken.
const PATIENCE: Duration = Duration::from_secs(120);

/// A scratch place: the archive, an empty HOME, and nothing else.
struct Place {
    dir: tempfile::TempDir,
}

impl Place {
    fn new() -> Place {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("home")).expect("an empty HOME");
        Place { dir }
    }

    fn archive(&self) -> PathBuf {
        self.dir.path().join("archive")
    }

    fn env(&self, command: &mut Command) {
        command
            .env("HOME", self.dir.path().join("home"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("GIT_AUTHOR_NAME")
            .env_remove("GIT_AUTHOR_EMAIL")
            .env_remove("GIT_COMMITTER_NAME")
            .env_remove("GIT_COMMITTER_EMAIL")
            .env_remove("EMAIL");
    }

    fn spawn(&self, args: &[&str]) -> Child {
        let mut command = Command::new(BATCHSAVE);
        self.env(&mut command);
        command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("batchsave starts")
    }

    /// batchsave ARGS with `records` on stdin.
    fn batchsave(&self, args: &[&str], records: &[Record]) -> Output {
        let mut child = self.spawn(args);
        let mut stdin = child.stdin.take().expect("stdin piped");
        let input = ndjson(records);
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().expect("batchsave finishes");
        writer.join().expect("the writer thread");
        out
    }

    /// `batchsave --configs ARCHIVE` with `records`, which must succeed.
    fn save(&self, records: &[Record]) -> String {
        let archive = self.archive();
        let out = self.batchsave(&["--configs", archive.to_str().expect("UTF-8")], records);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "batchsave failed: {stderr}");
        assert!(out.stdout.is_empty(), "stdout is for data only");
        stderr
    }

    /// `git -C ARCHIVE ARGS`, which must succeed; its stdout.
    fn git(&self, args: &[&str]) -> String {
        let out = self.git_output(args);
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8")
    }

    /// The real git run on the archive as a user without any git setup would, however it ends.
    fn git_output(&self, args: &[&str]) -> std::process::Output {
        let git = support::require("git");
        let mut command = Command::new(git);
        self.env(&mut command);
        command
            .arg("-C")
            .arg(self.archive())
            .args(args)
            .output()
            .expect("git runs")
    }

    fn commits(&self) -> usize {
        self.git(&["rev-list", "--count", "HEAD"])
            .trim()
            .parse()
            .expect("a count")
    }

    /// The files the last commit touched.
    fn touched(&self) -> Vec<String> {
        let mut files: Vec<String> = self
            .git(&["diff", "--name-only", "HEAD~1", "HEAD"])
            .lines()
            .map(str::to_owned)
            .collect();
        files.sort();
        files
    }

    /// The index of the last commit, as rows of named cells, keyed by file.
    fn index(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        let text = self.git(&["show", "HEAD:index.tsv"]);
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().expect("a header").split('\t').collect();
        lines
            .map(|line| {
                let row: BTreeMap<String, String> = header
                    .iter()
                    .zip(line.split('\t'))
                    .map(|(k, v)| ((*k).to_owned(), v.to_owned()))
                    .collect();
                assert_eq!(row.len(), header.len(), "a whole row: {line}");
                (row["file"].clone(), row)
            })
            .collect()
    }

    /// `git fsck` finds nothing wrong, and the work tree is the last commit's.
    fn assert_valid(&self) {
        let out = self.git_output(&["fsck", "--full", "--strict", "--no-dangling"]);
        assert!(
            out.status.success() && out.stdout.is_empty(),
            "git fsck: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn assert_clean(&self) {
        assert_eq!(self.git(&["status", "--porcelain"]), "", "work tree = HEAD");
    }
}

fn ndjson(records: &[Record]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for record in records {
        serde_json::to_writer(&mut bytes, record).expect("a record serialises");
        bytes.push(b'\n');
    }
    bytes
}

/// An EH configuration in the radio's format, for a radio named `name`.
fn eh_config(name: &str, tx_power: u32) -> String {
    format!(
        "####====####  Generated by ver. 10.8.2, convert ver. 3\n\
         # license configuring\n\
         set license data-rate config 10000\n\
         \n\
         # system configuring\n\
         set system  contact undefined  name {name}\n\
         \n\
         # rf configuring\n\
         set rf  mode 'adaptive qam32'  tx-power {tx_power}  lowest-modulation bpsk1\n"
    )
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("an address")
}

/// A backed-up radio's record.
fn backup(addr: &str, radio_type: RadioType, name: &str, config: &str) -> Record {
    let mut record = Record::new(Some(ip(addr)), Some(22), Status::Ok);
    record.radio_type = Some(radio_type);
    record.name = Some(name.to_owned());
    record.sn = Some(format!("SN-{name}"));
    record.model = Some(
        match radio_type {
            RadioType::Eh => "EH-8010FX",
            RadioType::Bu => "MH-B100",
            RadioType::Tu => "MH-T200",
            RadioType::Tg => "MH-N366",
        }
        .to_owned(),
    );
    record.sw = Some("10.8.2-19419-f50a23d53d".to_owned());
    record.config = Some(config.to_owned());
    record.startup_config = Some(config.to_owned());
    record.config_saved = Some(true);
    record.started = Some("2026-03-01T10:00:00.000Z".to_owned());
    record
}

/// A fleet of every radio type: EH, BU, TU, a TG DN with two client nodes, and one on port
/// 2431.
fn fleet() -> Vec<Record> {
    let mut records = vec![
        backup("127.204.1.1", RadioType::Eh, "eh-1", &eh_config("eh-1", 14)),
        backup("127.204.1.2", RadioType::Eh, "eh-2", &eh_config("eh-2", 14)),
        backup("127.204.1.3", RadioType::Bu, "bu-3", &eh_config("bu-3", 10)),
        backup("127.204.1.4", RadioType::Tu, "tu-4", &eh_config("tu-4", 10)),
        backup(
            "127.204.1.5",
            RadioType::Tg,
            "dn5",
            "radio {\n  name dn5\n}\n",
        ),
    ];
    for cn in ["cn1", "cn2"] {
        let mut record = backup(
            "127.204.1.5",
            RadioType::Tg,
            cn,
            &format!("radio {{\n  name {cn}\n}}\n"),
        );
        record.route = Some(format!("127.204.1.5: dn5 -> {cn}"));
        record.parent = record.ip;
        record.startup_config = None;
        record.config_saved = None;
        records.push(record);
    }
    let mut other_port = backup("127.204.1.6", RadioType::Eh, "eh-6", &eh_config("eh-6", 5));
    other_port.port = Some(2431);
    records.push(other_port);
    records
}

const FLEET_FILES: [&str; 8] = [
    "127.204.1.1.cfg",
    "127.204.1.2.cfg",
    "127.204.1.3.cfg",
    "127.204.1.4.cfg",
    "127.204.1.5.cfg",
    "127.204.1.5@cn1.cfg",
    "127.204.1.5@cn2.cfg",
    "127.204.1.6_2431.cfg",
];

/// The subject line of the last commit.
fn subject(place: &Place) -> String {
    place.git(&["log", "-1", "--format=%s"]).trim().to_owned()
}

/// The radios listed under a section of the last commit's message (`changed:` ...).
fn listed(place: &Place, section: &str) -> Vec<String> {
    let body = place.git(&["log", "-1", "--format=%b"]);
    let mut lines = body.lines().skip_while(|line| !line.starts_with(section));
    lines.next();
    lines
        .take_while(|line| line.starts_with("  "))
        .map(|line| {
            line.trim()
                .split([' ', ':'])
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[test]
fn two_runs_make_two_commits_and_the_second_touches_only_what_changed() {
    let place = Place::new();
    let first = fleet();
    place.save(&first);
    assert_eq!(place.commits(), 1);
    let mut files: Vec<String> = place
        .git(&["ls-tree", "--name-only", "HEAD"])
        .lines()
        .map(str::to_owned)
        .collect();
    files.sort();
    let mut expected: Vec<String> = FLEET_FILES.iter().map(|f| (*f).to_owned()).collect();
    expected.push("index.tsv".to_owned());
    expected.sort();
    assert_eq!(files, expected);
    for record in &first {
        let file = match &record.route {
            Some(route) => format!(
                "127.204.1.5@{}.cfg",
                route.rsplit(" -> ").next().expect("cn")
            ),
            None if record.port == Some(22) => format!("{}.cfg", record.ip.expect("ip")),
            None => format!(
                "{}_{}.cfg",
                record.ip.expect("ip"),
                record.port.expect("port")
            ),
        };
        assert_eq!(
            place.git(&["show", &format!("HEAD:{file}")]),
            record.config.clone().expect("a config"),
            "{file} holds the radio's text byte for byte"
        );
        let on_disk = std::fs::read_to_string(place.archive().join(&file)).expect("checked out");
        assert_eq!(Some(on_disk), record.config, "{file} in the work tree");
    }
    assert!(subject(&place).starts_with("0 changed, 8 appeared, 0 could not be read"));
    place.assert_clean();

    // Three radios change (EH, BU, a TG client node), one of them through its name only.
    let mut second = first.clone();
    second[1].config = Some(eh_config("eh-2", 20));
    second[2].config = Some(eh_config("bu-3-renamed", 10));
    second[2].name = Some("bu-3-renamed".to_owned());
    second[6].config = Some("radio {\n  name cn2\n  tx-power 3\n}\n".to_owned());
    for record in &mut second {
        record.started = Some("2026-03-02T10:00:00.000Z".to_owned());
    }
    place.save(&second);
    assert_eq!(place.commits(), 2);
    assert_eq!(
        place.touched(),
        [
            "127.204.1.2.cfg",
            "127.204.1.3.cfg",
            "127.204.1.5@cn2.cfg",
            "index.tsv"
        ]
    );
    assert!(
        subject(&place).starts_with("3 changed, 0 appeared, 0 could not be read, 0 with unsaved"),
        "{}",
        subject(&place)
    );
    assert_eq!(
        listed(&place, "changed:"),
        ["127.204.1.2.cfg", "127.204.1.3.cfg", "127.204.1.5@cn2.cfg"]
    );
    let index = place.index();
    assert_eq!(index.len(), 8);
    for (file, row) in &index {
        let changed =
            ["127.204.1.2.cfg", "127.204.1.3.cfg", "127.204.1.5@cn2.cfg"].contains(&file.as_str());
        let when = if changed {
            "2026-03-02T10:00:00Z"
        } else {
            "2026-03-01T10:00:00Z"
        };
        assert_eq!(
            row["changed"], when,
            "{file}: when its configuration last changed"
        );
    }
    assert_eq!(index["127.204.1.3.cfg"]["name"], "bu-3-renamed");
    assert_eq!(
        index["127.204.1.5@cn1.cfg"]["route"],
        "127.204.1.5: dn5 -> cn1"
    );
    assert_eq!(index["127.204.1.6_2431.cfg"]["port"], "2431");
    assert_eq!(index["127.204.1.4.cfg"]["radio_type"], "TU");
    assert_eq!(index["127.204.1.1.cfg"]["sn"], "SN-eh-1");

    // Stock git reads the history.
    let patch = place.git(&["log", "-p"]);
    assert!(patch.contains("-set rf  mode 'adaptive qam32'  tx-power 14"));
    assert!(patch.contains("+set rf  mode 'adaptive qam32'  tx-power 20"));
    let blame = place.git(&["blame", "--porcelain", "127.204.1.2.cfg"]);
    assert_eq!(
        blame.matches("\nauthor sikscan\n").count(),
        2,
        "both commits in the blame"
    );
    assert_eq!(
        place.git(&["diff", "HEAD~1", "--stat"]).lines().count(),
        5,
        "four files and the total"
    );

    // The same again: nothing changed, no commit.
    let stderr = place.save(&second);
    assert_eq!(place.commits(), 2, "{stderr}");
    assert!(stderr.contains("nothing changed, no commit"), "{stderr}");
    place.assert_clean();
    place.assert_valid();
}

#[test]
fn commits_are_by_sikscan_where_git_has_no_identity() {
    let place = Place::new();
    place.save(&fleet());
    assert_eq!(
        place
            .git(&["log", "-1", "--format=%an <%ae>|%cn <%ce>"])
            .trim(),
        "sikscan <sikscan@localhost>|sikscan <sikscan@localhost>"
    );
    // git itself has no identity here: a commit made by hand fails, ours did not.
    let out = place.git_output(&["commit", "--allow-empty", "-m", "by hand"]);
    assert!(!out.status.success(), "git has an identity after all");
}

#[test]
fn unsaved_changes_are_flagged_in_the_index_and_the_message() {
    let place = Place::new();
    place.save(&fleet());
    let mut second = fleet();
    second[0].config = Some(eh_config("eh-1", 18));
    second[0].config_saved = Some(false);
    place.save(&second);
    assert_eq!(place.commits(), 2);
    let index = place.index();
    assert_eq!(index["127.204.1.1.cfg"]["config_saved"], "false");
    assert_eq!(index["127.204.1.2.cfg"]["config_saved"], "true");
    assert_eq!(
        index["127.204.1.5@cn1.cfg"]["config_saved"], "",
        "unknown for TG"
    );
    assert!(
        subject(&place)
            .starts_with("1 changed, 0 appeared, 0 could not be read, 1 with unsaved changes"),
        "{}",
        subject(&place)
    );
    assert_eq!(listed(&place, "with unsaved changes"), ["127.204.1.1.cfg"]);

    // Saving on the radio (running = startup again) changes the index line, not the file.
    let mut third = second.clone();
    third[0].config_saved = Some(true);
    place.save(&third);
    assert_eq!(place.commits(), 3);
    assert_eq!(place.touched(), ["index.tsv"]);
    assert_eq!(place.index()["127.204.1.1.cfg"]["config_saved"], "true");
    assert!(subject(&place).contains("0 with unsaved changes, 1 details changed"));
}

#[test]
fn a_radio_that_could_not_be_read_keeps_its_last_file() {
    let place = Place::new();
    let first = fleet();
    place.save(&first);
    let row_before = place.index()["127.204.1.4.cfg"].clone();

    let mut second = fleet();
    // The TU hung mid-backup: its record has its error and no configuration.
    let mut hung = Record::new(Some(ip("127.204.1.4")), Some(22), Status::PromptTimeout);
    hung.error = Some("no answer to 'copy running-configuration display' within 10s".into());
    second[3] = hung;
    second[0].config = Some(eh_config("eh-1", 7));
    second[0].started = Some("2026-03-02T10:00:00.000Z".into());
    place.save(&second);
    assert_eq!(place.commits(), 2);
    assert_eq!(place.touched(), ["127.204.1.1.cfg", "index.tsv"]);
    assert_eq!(
        place.git(&["show", "HEAD:127.204.1.4.cfg"]),
        first[3].config.clone().expect("a config")
    );
    assert_eq!(
        std::fs::read_to_string(place.archive().join("127.204.1.4.cfg")).expect("still there"),
        first[3].config.clone().expect("a config")
    );
    assert_eq!(
        place.index()["127.204.1.4.cfg"],
        row_before,
        "its index line too"
    );
    assert!(
        subject(&place).starts_with("1 changed, 0 appeared, 1 could not be read"),
        "{}",
        subject(&place)
    );
    assert_eq!(listed(&place, "could not be read"), ["127.204.1.4.cfg"]);
    let body = place.git(&["log", "-1", "--format=%b"]);
    assert!(
        body.contains("127.204.1.4.cfg: prompt-timeout: no answer"),
        "{body}"
    );

    // Only unreadable radios: nothing changed, no commit.
    let mut third = second.clone();
    third[1] = Record::new(Some(ip("127.204.1.2")), Some(22), Status::ConnectTimeout);
    third.remove(0);
    place.save(&third);
    assert_eq!(place.commits(), 2);
    place.assert_clean();
}

#[test]
fn outdir_is_optional_only_with_configs_and_both_are_written_when_given() {
    let place = Place::new();
    let archive = place.archive();
    let archive = archive.to_str().expect("UTF-8");
    let neither = place.batchsave(&[], &fleet());
    assert_eq!(
        neither.status.code(),
        Some(2),
        "OUTDIR or --configs is needed"
    );
    let mask_alone = place.batchsave(&["--mask", "x", "out"], &fleet());
    assert_eq!(mask_alone.status.code(), Some(2), "--mask needs --configs");
    let bad_mask = place.batchsave(&["--configs", archive, "--mask", "set ("], &fleet());
    assert_eq!(bad_mask.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_mask.stderr).contains("--mask 'set ('"));

    let out = place.dir.path().join("out");
    let both = place.batchsave(
        &[
            "--configs",
            archive,
            "--mask",
            "^# license.*$",
            out.to_str().expect("UTF-8"),
        ],
        &fleet(),
    );
    assert!(
        both.status.success(),
        "{}",
        String::from_utf8_lossy(&both.stderr)
    );
    let batch: Vec<serde_json::Value> = std::fs::read_to_string(out.join("batch-000001.ndjson"))
        .expect("the batch file")
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON"))
        .collect();
    assert_eq!(batch.len(), fleet().len());
    assert_eq!(
        batch[0]["config"],
        eh_config("eh-1", 14),
        "the batch keeps the record as is"
    );
    let archived = place.git(&["show", "HEAD:127.204.1.1.cfg"]);
    assert_eq!(
        archived,
        eh_config("eh-1", 14).replace("# license configuring", "<masked>")
    );

    // --configs alone: the archive, and no batch files anywhere.
    let alone = Place::new();
    alone.save(&fleet());
    let mut names: Vec<String> = std::fs::read_dir(alone.dir.path())
        .expect("listed")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["archive", "home"]);
    let mut inside: Vec<String> = std::fs::read_dir(alone.archive())
        .expect("listed")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".cfg") || name.ends_with(".tsv") || name.starts_with('.'))
        .collect();
    inside.sort();
    assert_eq!(inside.len(), FLEET_FILES.len() + 2, "{inside:?}");
}

#[test]
fn an_archive_in_a_directory_that_holds_other_files_is_refused() {
    let place = Place::new();
    std::fs::create_dir(place.archive()).expect("mkdir");
    std::fs::write(place.archive().join("notes.txt"), "mine").expect("a file");
    let archive = place.archive();
    let out = place.batchsave(&["--configs", archive.to_str().expect("UTF-8")], &fleet());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("neither empty nor a git work tree"));
    assert!(!place.archive().join(".git").exists());
}

/// `count` EH radios on 127.204.(16+i/250).(1+i%250), each with a 2 KB configuration.
fn big_fleet(count: usize) -> Vec<Record> {
    let filler: String = (0..40)
        .map(|i| format!("set vlan {i}  s-vlan undefined  c-vlan {i}  name 'vlan number {i}'\n"))
        .collect();
    (0..count)
        .map(|i| {
            let addr = format!("127.204.{}.{}", 16 + i / 250, 1 + i % 250);
            let name = format!("radio-{i}");
            let config = format!("{}{filler}", eh_config(&name, 14));
            backup(&addr, RadioType::Eh, &name, &config)
        })
        .collect()
}

/// Polls until `done` holds while `child` runs; false when it ended first.
fn while_running(child: &mut Child, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if done() {
            return true;
        }
        if child.try_wait().expect("waitable").is_some() {
            return false;
        }
        assert!(start.elapsed() < PATIENCE, "timed out");
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn kill_9(child: &mut Child) {
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
}

/// Starts batchsave on `records` into the archive, feeding them from a thread.
fn start(place: &Place, records: &[Record]) -> Child {
    let archive = place.archive();
    let mut child = place.spawn(&["-q", "--configs", archive.to_str().expect("UTF-8")]);
    let mut stdin = child.stdin.take().expect("stdin piped");
    let input = ndjson(records);
    std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    child
}

#[test]
fn kill_9_mid_run_then_a_rerun_leaves_a_valid_archive_with_every_config() {
    let place = Place::new();
    let records = big_fleet(10_000);
    let first_file = place.archive().join("127.204.16.1.cfg");
    let lock = place.archive().join(".git/batchsave-archive.lock");

    // 1. Killed while reading and storing the configurations: no commit yet, and the
    //    repository is valid.
    let mut child = start(&place, &records);
    assert!(
        while_running(&mut child, || lock.exists()),
        "batchsave ended before it had opened the archive"
    );
    kill_9(&mut child);
    place.assert_valid();
    assert!(
        !first_file.exists(),
        "nothing checked out before the commit"
    );
    let head = place.git_output(&["rev-parse", "--verify", "-q", "HEAD"]);
    assert!(!head.status.success(), "no commit yet");

    // 2. Killed while writing the work tree, after the commit.
    let mut child = start(&place, &records);
    assert!(
        while_running(&mut child, || first_file.exists()),
        "batchsave ended before it wrote the work tree: make the input larger"
    );
    kill_9(&mut child);
    place.assert_valid();

    // 3. The next run completes: every configuration is there, in the commit and the work tree.
    let stderr = place.save(&records);
    assert!(
        stderr.contains("repaired it"),
        "the work tree was cut short: {stderr}"
    );
    place.assert_valid();
    place.assert_clean();
    assert_eq!(place.commits(), 1, "{stderr}");
    let index = place.index();
    assert_eq!(index.len(), records.len());
    for (i, record) in records.iter().enumerate().step_by(997) {
        let file = format!("{}.cfg", record.ip.expect("ip"));
        assert!(index.contains_key(&file), "{file} indexed");
        assert_eq!(
            std::fs::read_to_string(place.archive().join(&file)).expect("checked out"),
            record.config.clone().expect("a config"),
            "record {i}: {file}"
        );
    }
    let tracked = place.git(&["ls-files"]).lines().count();
    assert_eq!(
        tracked,
        records.len() + 1,
        "every file and the index are tracked"
    );
}
