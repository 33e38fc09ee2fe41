//! Faults and bad input: signals at random points of a 5,000-radio pipeline, a slow consumer,
//! a corpus of bad input for every tool, and a fleet where every failure persona misbehaves at
//! once.
//!
//! Every process is the real binary and every pipe a real pipe (the slow consumer is a thread
//! of the test between two of them); all traffic stays on loopback
//! (127.130.0.0/16 and up, ports 2330+, which no other test uses). The tests of this file run
//! one at a time (see [`serial`]): they measure peak memory and wall time, which a neighbour
//! test on the same two cores would distort.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{Read, Write};
use std::net::IpAddr;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, RngExt, SeedableRng};
use sikscan::record::{Record, Status};
use support::{IPGEN, SIKPROBE, SIKSIM, Siksim, assert_all_ok, describe, parse_records};

const BATCHSAVE: &str = env!("CARGO_BIN_EXE_batchsave");

/// The 5,000-radio fleet of the signal tests.
const KILL_PORT: &str = "2330";
const KILL_FLEET: &str = "127.130.0.1-127.130.19.136";
const KILL_HOSTS: usize = 5000;

/// The fleet of the slow-consumer test.
const SLOW_PORT: &str = "2331";
const SLOW_FLEET: &str = "127.131.0.1-127.131.7.208";

/// The demo fleet (127.77.0.0/24) on a port of its own.
const DEMO_PORT: &str = "2332";

/// The radios of the bad-input tests.
const BAD_PORT: &str = "2333";
const BAD_FLEET: &str = "127.133.0.1-127.133.0.3";

static SERIAL: Mutex<()> = Mutex::new(());

/// Runs the tests of this file one at a time; a failed test does not block the others.
fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The random points and bytes of a run, replayable from the seed it prints: FAULTS_SEED when
/// set, else a fresh one.
fn seeded_rng() -> StdRng {
    let seed = std::env::var("FAULTS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    eprintln!("faults: seed {seed} (replay with FAULTS_SEED={seed})");
    StdRng::seed_from_u64(seed)
}

/// `len` random bytes.
fn random_bytes(rng: &mut StdRng, len: usize) -> Vec<u8> {
    let mut bytes = vec![0; len];
    rng.fill_bytes(&mut bytes);
    bytes
}

// ---------------------------------------------------------------------------------------------
// Pipelines of real processes

/// One stage of a pipeline: a name for messages, and what runs there.
struct Stage {
    name: &'static str,
    runs: Runs,
}

/// What a stage runs.
enum Runs {
    /// A program with its arguments.
    Program { program: String, args: Vec<String> },
    /// A thread of the test that copies the previous stage's output to the next stage's input
    /// at this many bytes a second, as `pv -L` would.
    Throttle { bytes_per_second: usize },
}

fn stage(name: &'static str, program: &str, args: &[&str]) -> Stage {
    Stage {
        name,
        runs: Runs::Program {
            program: program.to_owned(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
        },
    }
}

/// A consumer that takes no more than `bytes_per_second`, between two programs.
fn throttle(name: &'static str, bytes_per_second: usize) -> Stage {
    Stage {
        name,
        runs: Runs::Throttle { bytes_per_second },
    }
}

/// Copies `from` to `to` at `bytes_per_second` on average until `from` ends or `to` is closed,
/// then closes `to`. Each read takes at most a tenth of a second's worth, so what it holds is
/// bounded like a pipe's buffer.
fn copy_throttled(mut from: impl Read, mut to: impl Write, bytes_per_second: usize) {
    let started = Instant::now();
    let mut chunk = vec![0; (bytes_per_second / 10).max(1)];
    let mut copied = 0;
    loop {
        let read = match from.read(&mut chunk) {
            Ok(0) => break,
            Ok(read) => read,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        if to.write_all(&chunk[..read]).is_err() {
            break;
        }
        copied += read;
        let due = Duration::from_secs_f64(copied as f64 / bytes_per_second as f64);
        if let Some(early) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(early);
        }
    }
}

/// How a stage ended: its status and its peak resident set (ru_maxrss, KiB).
#[derive(Debug, Clone, Copy)]
struct Ended {
    status: ExitStatus,
    max_rss_kib: i64,
}

/// `a | b | c …` as real processes joined by real pipes, in a process group of their own (as a
/// shell job is, so a Ctrl-C reaches all of them and nothing else). Each stage's stderr goes
/// to a file for the messages.
struct Pipeline {
    stages: Vec<(&'static str, Child)>,
    throttles: Vec<JoinHandle<()>>,
    group: i32,
    logs: PathBuf,
    started: Instant,
}

impl Pipeline {
    fn start(stages: Vec<Stage>, logs: &Path) -> Pipeline {
        let mut running: Vec<(&'static str, Child)> = Vec::new();
        let mut throttles = Vec::new();
        // The output of the program before, and a throttle's input and rate while it waits for
        // the program it feeds.
        let mut upstream = None;
        let mut throttled = None;
        let mut group = 0;
        let count = stages.len();
        for (i, stage) in stages.into_iter().enumerate() {
            let (program, args) = match stage.runs {
                Runs::Program { program, args } => (program, args),
                Runs::Throttle { bytes_per_second } => {
                    let from = upstream.take();
                    assert!(
                        from.is_some() && i + 1 < count,
                        "a throttle goes between two programs"
                    );
                    throttled = from.map(|from| (from, bytes_per_second));
                    continue;
                }
            };
            let stdin = match (&throttled, upstream.take()) {
                (Some(_), _) => Stdio::piped(),
                (None, Some(previous)) => Stdio::from(previous),
                (None, None) => Stdio::null(),
            };
            let stdout = if i + 1 == count {
                Stdio::null()
            } else {
                Stdio::piped()
            };
            let stderr =
                File::create(logs.join(format!("{}.stderr", stage.name))).expect("stderr log file");
            let mut child = Command::new(&program)
                .args(&args)
                .stdin(stdin)
                .stdout(stdout)
                .stderr(stderr)
                // The first stage leads the group; it is not reaped before the others join.
                .process_group(group)
                .spawn()
                .unwrap_or_else(|e| panic!("{program} starts: {e}"));
            if group == 0 {
                group = child.id() as i32;
            }
            if let Some((from, bytes_per_second)) = throttled.take() {
                let to = child.stdin.take().expect("stdin piped");
                throttles.push(std::thread::spawn(move || {
                    copy_throttled(from, to, bytes_per_second);
                }));
            }
            upstream = child.stdout.take();
            running.push((stage.name, child));
        }
        Pipeline {
            stages: running,
            throttles,
            group,
            logs: logs.to_owned(),
            started: Instant::now(),
        }
    }

    fn pid(&self, name: &str) -> i32 {
        self.stages
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, child)| child.id() as i32)
            .unwrap_or_else(|| panic!("no stage {name}"))
    }

    /// Sends `signal` to one stage.
    fn signal(&self, name: &str, signal: i32) {
        // SAFETY: kill(2) on a child we started and have not reaped yet.
        unsafe {
            libc::kill(self.pid(name), signal);
        }
    }

    /// Sends `signal` to the whole group, as a terminal's Ctrl-C does.
    fn signal_group(&self, signal: i32) {
        // SAFETY: kill(2) on the process group we created for this pipeline.
        unsafe {
            libc::kill(-self.group, signal);
        }
    }

    /// True while the stage has not exited (it is not reaped here).
    fn running(&self, name: &str) -> bool {
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waitid with WNOWAIT only inspects our own child and leaves it unreaped.
        let rc = unsafe {
            libc::waitid(
                libc::P_PID,
                self.pid(name) as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            )
        };
        // With WNOHANG, a child still running leaves si_pid zero.
        rc == 0 && unsafe { info.si_pid() } == 0
    }

    /// Waits for every stage (at most `timeout`, then kills the group and fails) and returns
    /// how each ended, with its peak memory from wait4(2).
    fn wait(self, timeout: Duration) -> Finished {
        let mut ended: BTreeMap<&'static str, Ended> = BTreeMap::new();
        let deadline = Instant::now() + timeout;
        while ended.len() < self.stages.len() {
            for (name, child) in &self.stages {
                if ended.contains_key(name) {
                    continue;
                }
                let mut status = 0;
                let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
                // SAFETY: wait4 on our own child, writing into locals we own.
                let pid = unsafe {
                    libc::wait4(child.id() as i32, &mut status, libc::WNOHANG, &mut usage)
                };
                if pid > 0 {
                    ended.insert(
                        name,
                        Ended {
                            status: ExitStatus::from_raw(status),
                            max_rss_kib: usage.ru_maxrss,
                        },
                    );
                }
            }
            if Instant::now() > deadline {
                self.signal_group(libc::SIGKILL);
                panic!(
                    "pipeline still running after {timeout:?}; ended: {ended:?}\n{}",
                    stderr_logs(&self.logs)
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // With the programs on both sides gone, a throttle has seen its input end.
        for throttle in self.throttles {
            throttle.join().expect("a throttle thread");
        }
        Finished {
            ended,
            elapsed: self.started.elapsed(),
            logs: self.logs,
        }
    }
}

/// A pipeline that has ended.
struct Finished {
    ended: BTreeMap<&'static str, Ended>,
    elapsed: Duration,
    logs: PathBuf,
}

impl Finished {
    fn status(&self, name: &str) -> ExitStatus {
        self.ended[name].status
    }

    fn stderr(&self, name: &str) -> String {
        std::fs::read_to_string(self.logs.join(format!("{name}.stderr"))).unwrap_or_default()
    }

    /// No stage panicked.
    fn assert_no_panic(&self) {
        for name in self.ended.keys() {
            let stderr = self.stderr(name);
            assert!(!stderr.contains("panicked"), "{name} panicked:\n{stderr}");
        }
    }
}

/// Every stderr log of a pipeline, for failure messages.
fn stderr_logs(logs: &Path) -> String {
    let mut all = String::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(logs)
        .map(|dir| dir.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    names.sort();
    for path in names {
        if path.extension().is_some_and(|ext| ext == "stderr") {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let tail: String = text
                .chars()
                .rev()
                .take(2000)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            all.push_str(&format!("--- {}:\n{tail}\n", path.display()));
        }
    }
    all
}

/// The exit code, or the signal that ended a process, for messages and matching.
fn describe_exit(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(signal)) => format!("signal {signal}"),
        _ => format!("{status:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// A batchsave output directory, read back whole

/// What a batchsave output directory holds, every file parsed whole.
#[derive(Debug, Default)]
struct Saved {
    /// Every line of every `batch-*.ndjson` file, with the batch it is in.
    lines: Vec<(u64, String)>,
    /// The same lines as records.
    records: Vec<Record>,
    /// Batches the manifest lists.
    listed: BTreeSet<u64>,
    /// Batches whose files exist but which the manifest does not list (batchsave killed
    /// between renaming a batch's files and the manifest).
    unlisted: BTreeSet<u64>,
    /// Temporary files an interrupted batchsave left.
    temporary: Vec<String>,
    /// `rejects.ndjson`, line by line.
    rejects: Vec<serde_json::Value>,
    /// The manifest's `totals`.
    totals: serde_json::Value,
}

impl Saved {
    /// How many records each address has across the directory.
    fn per_ip(&self) -> BTreeMap<IpAddr, usize> {
        self.per_ip_of(|_| true)
    }

    /// How many records each address has that its host was probed for: lines read but not
    /// started when a stop came have a `skipped` record, and a resumed run probes them.
    fn probed_per_ip(&self) -> BTreeMap<IpAddr, usize> {
        self.per_ip_of(|record| record.status != Status::Skipped)
    }

    fn per_ip_of(&self, wanted: impl Fn(&Record) -> bool) -> BTreeMap<IpAddr, usize> {
        let mut count = BTreeMap::new();
        for record in self.records.iter().filter(|r| wanted(r)) {
            *count
                .entry(record.ip.expect("a record with an ip"))
                .or_default() += 1;
        }
        count
    }

    /// The records of hosts that were probed; every other record says it was not started.
    fn probed(&self) -> Vec<Record> {
        let (not_started, probed): (Vec<Record>, Vec<Record>) = self
            .records
            .iter()
            .cloned()
            .partition(|r| r.status == Status::Skipped);
        for record in not_started {
            let why = record.error.unwrap_or_default();
            assert!(why.starts_with("not started"), "skipped, but: {why}");
        }
        probed
    }
}

/// The start of a long line, for messages.
fn short(line: &str) -> String {
    line.chars().take(200).collect()
}

/// The batch number of `batch-000012.csv` / `batch-000012.EH.ndjson`.
fn batch_of(name: &str) -> Option<u64> {
    let rest = name.strip_prefix("batch-")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The `ip` column of a CSV batch file; fails unless the whole file parses (every row as wide
/// as the header).
fn csv_ips(path: &Path) -> Vec<String> {
    let mut reader = csv::Reader::from_path(path).expect("CSV opens");
    let headers = reader.headers().expect("a CSV header").clone();
    let ip = headers
        .iter()
        .position(|h| h == "ip")
        .unwrap_or_else(|| panic!("{}: no ip column in {headers:?}", path.display()));
    reader
        .records()
        .map(|row| {
            let row = row.unwrap_or_else(|e| panic!("{}: a partial CSV row: {e}", path.display()));
            row[ip].to_owned()
        })
        .collect()
}

/// The lines of an NDJSON batch file; fails unless every line is a whole record.
fn ndjson_lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("NDJSON batch is UTF-8");
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "{}: the last line is partial",
        path.display()
    );
    text.lines().map(str::to_owned).collect()
}

/// Reads `dir` back and checks it is consistent: every file parses whole, the manifest lists
/// files that exist with the sizes and record counts it gives, the CSV and NDJSON files of a
/// batch hold the same hosts, and the totals add up.
fn inspect(dir: &Path) -> Saved {
    let mut saved = Saved::default();
    let mut files: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(dir).expect("OUTDIR readable") {
        let name = entry
            .expect("entry")
            .file_name()
            .into_string()
            .expect("UTF-8 name");
        if name.starts_with('.') && name.ends_with(".tmp") {
            saved.temporary.push(name);
        } else if let Some(batch) = batch_of(&name) {
            files.entry(batch).or_default().push(name);
        }
    }
    let manifest_path = dir.join("manifest.json");
    if manifest_path.exists() {
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&manifest_path).expect("manifest readable"))
                .expect("manifest.json parses whole");
        let mut sum = 0;
        for batch in manifest["batches"].as_array().expect("batches") {
            let number = batch["batch"].as_u64().expect("batch number");
            assert!(saved.listed.insert(number), "batch {number} listed twice");
            sum += batch["records"].as_u64().expect("records");
            for file in batch["files"].as_array().expect("files") {
                let name = file["path"].as_str().expect("path");
                let path = dir.join(name);
                let meta = std::fs::metadata(&path)
                    .unwrap_or_else(|e| panic!("the manifest lists {name}, which is missing: {e}"));
                assert_eq!(Some(meta.len()), file["bytes"].as_u64(), "{name}: size");
                let records = match file["format"].as_str() {
                    Some("csv") => csv_ips(&path).len(),
                    Some("ndjson") => ndjson_lines(&path).len(),
                    other => panic!("{name}: unexpected format {other:?}"),
                } as u64;
                assert_eq!(Some(records), file["records"].as_u64(), "{name}: records");
                assert!(
                    files
                        .get(&number)
                        .is_some_and(|f| f.iter().any(|f| f == name)),
                    "{name} is listed but not a batch file of batch {number}"
                );
            }
        }
        saved.totals = manifest["totals"].clone();
        assert_eq!(
            saved.totals["batches"].as_u64(),
            Some(saved.listed.len() as u64)
        );
        assert_eq!(
            saved.totals["records"].as_u64(),
            Some(sum),
            "totals.records"
        );
    }
    for (batch, names) in &files {
        if !saved.listed.contains(batch) {
            saved.unlisted.insert(*batch);
        }
        let mut csv = None;
        let mut ndjson = None;
        for name in names {
            let path = dir.join(name);
            if name.ends_with(".csv") {
                let mut ips = csv_ips(&path);
                ips.sort();
                csv = Some(ips);
            } else if name.ends_with(".ndjson") {
                let lines = ndjson_lines(&path);
                let mut ips = Vec::new();
                for line in lines {
                    let record: Record = serde_json::from_str(&line)
                        .unwrap_or_else(|e| panic!("{name}: not a record ({e}): {}", short(&line)));
                    ips.push(record.ip.expect("an ip").to_string());
                    saved.records.push(record);
                    saved.lines.push((*batch, line));
                }
                ips.sort();
                ndjson = Some(ips);
            }
        }
        if let (Some(csv), Some(ndjson)) = (csv, ndjson) {
            assert_eq!(
                csv, ndjson,
                "batch {batch}: the CSV and NDJSON files differ"
            );
        }
    }
    let rejects = dir.join("rejects.ndjson");
    if rejects.exists() {
        saved.rejects = ndjson_lines(&rejects)
            .iter()
            .map(|l| serde_json::from_str(l).expect("a reject is JSON"))
            .collect();
    }
    saved
}

/// The lines a tee saw: the whole ones, and a last one without its newline (a writer killed
/// mid-line).
fn emitted(path: &Path) -> (Vec<String>, Option<String>) {
    let text = std::fs::read_to_string(path).expect("tee file is UTF-8");
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    let partial = lines.pop().filter(|tail| !tail.is_empty());
    (lines, partial)
}

/// How many whole lines the file has so far.
fn lines_so_far(path: &Path) -> usize {
    std::fs::read(path).map_or(0, |bytes| bytes.iter().filter(|&&b| b == b'\n').count())
}

// ---------------------------------------------------------------------------------------------
// 1. Signals at random points

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Ctrl-C: SIGINT to the whole pipeline's process group.
    InterruptGroup,
    /// SIGTERM to sikprobe alone.
    TerminateProbe,
    /// SIGKILL to sikprobe alone.
    KillProbe,
    /// SIGKILL to batchsave alone.
    KillBatchsave,
}

#[test]
fn signals_at_random_points_lose_nothing_and_a_rerun_completes_the_set() {
    let _serial = serial();
    let mut rng = seeded_rng();
    let _fleet = Siksim::start(&[KILL_FLEET, "--persona", "eh", "--port", KILL_PORT, "-q"]);
    let all: BTreeSet<IpAddr> = support::addresses(KILL_FLEET)
        .lines()
        .map(|l| l.parse().expect("ip"))
        .collect();
    assert_eq!(all.len(), KILL_HOSTS);
    for fault in [
        Fault::InterruptGroup,
        Fault::TerminateProbe,
        Fault::KillProbe,
        Fault::KillBatchsave,
    ] {
        let after = rng.random_range(1..4000);
        let delay = Duration::from_millis(rng.random_range(0..250));
        eprintln!("faults: {fault:?} after {after} records + {delay:?}");
        signal_then_resume(fault, after, delay, &all);
    }
}

/// Runs `ipgen | sikprobe | tee -i emitted | batchsave out/`, strikes with `fault` once
/// `after` records were emitted (plus `delay`), checks what was saved, then resumes with
/// `--skip-done` and checks every host is saved exactly once.
fn signal_then_resume(fault: Fault, after: usize, delay: Duration, all: &BTreeSet<IpAddr>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let out_arg = out.to_str().expect("UTF-8 path");
    let emitted_path = dir.path().join("emitted.ndjson");
    let first_logs = dir.path().join("first");
    std::fs::create_dir(&first_logs).expect("log dir");
    // tee is the instrument: it records what sikprobe wrote. -i keeps it out of the Ctrl-C,
    // so it passes on everything sikprobe writes after the interrupt.
    let pipeline = Pipeline::start(
        vec![
            stage("ipgen", IPGEN, &[KILL_FLEET]),
            stage("sikprobe", SIKPROBE, &["-p", KILL_PORT, "-j", "200"]),
            stage("tee", "tee", &["-i", emitted_path.to_str().expect("UTF-8")]),
            stage("batchsave", BATCHSAVE, &["-n", "200", out_arg]),
        ],
        &first_logs,
    );
    let clock = Instant::now();
    while lines_so_far(&emitted_path) < after {
        assert!(
            clock.elapsed() < Duration::from_secs(120),
            "{fault:?}: fewer than {after} records in 120s\n{}",
            stderr_logs(&first_logs)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(delay);
    match fault {
        Fault::InterruptGroup => pipeline.signal_group(libc::SIGINT),
        Fault::TerminateProbe => pipeline.signal("sikprobe", libc::SIGTERM),
        Fault::KillProbe => pipeline.signal("sikprobe", libc::SIGKILL),
        Fault::KillBatchsave => pipeline.signal("batchsave", libc::SIGKILL),
    }
    let first = pipeline.wait(Duration::from_secs(120));
    first.assert_no_panic();
    let logs = || stderr_logs(&first_logs);
    let probe_exit = describe_exit(first.status("sikprobe"));
    let save_exit = describe_exit(first.status("batchsave"));

    let (finished, partial) = emitted(&emitted_path);
    let saved = inspect(&out);
    assert!(
        saved.records.len() < all.len(),
        "{fault:?} struck after the run had ended: it proves nothing\n{}",
        logs()
    );
    let saved_lines: BTreeSet<&str> = saved.lines.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(
        saved_lines.len(),
        saved.lines.len(),
        "{fault:?}: a line saved twice"
    );
    let per_ip = saved.per_ip();
    let twice: Vec<_> = per_ip.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "{fault:?}: hosts saved twice: {twice:?}");
    assert_all_ok(&saved.probed());
    let finished_set: BTreeSet<&str> = finished.iter().map(String::as_str).collect();
    for line in &finished {
        let _: Record = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("sikprobe wrote a non-record ({e}): {}", short(line)));
    }
    match fault {
        Fault::InterruptGroup | Fault::TerminateProbe | Fault::KillProbe => {
            // Everything sikprobe finished reached batchsave, which saved all of it: the saved
            // lines are exactly the whole lines sikprobe wrote.
            assert!(saved.temporary.is_empty(), "{:?}", saved.temporary);
            assert!(saved.unlisted.is_empty(), "{:?}", saved.unlisted);
            let missing: Vec<_> = finished_set.difference(&saved_lines).take(3).collect();
            let extra: Vec<_> = saved_lines.difference(&finished_set).take(3).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{fault:?}: {} reported, {} saved; missing {missing:?}, extra {extra:?}\n{}",
                finished.len(),
                saved.lines.len(),
                logs()
            );
            // A record cut by the kill is the one line batchsave may reject, never save.
            let rejected: Vec<&str> = saved
                .rejects
                .iter()
                .map(|r| r["text"].as_str().expect("reject text"))
                .collect();
            assert_eq!(rejected, partial.as_deref().into_iter().collect::<Vec<_>>());
            let expected_save = match (fault, &partial) {
                (Fault::InterruptGroup, _) => "exit 130",
                (_, Some(_)) => "exit 1",
                (_, None) => "exit 0",
            };
            assert_eq!(save_exit, expected_save, "batchsave\n{}", logs());
            let expected_probe = match fault {
                Fault::KillProbe => "signal 9",
                _ => "exit 130",
            };
            assert_eq!(probe_exit, expected_probe, "sikprobe\n{}", logs());
            if fault != Fault::KillProbe {
                assert!(
                    partial.is_none(),
                    "sikprobe stopped mid-record: {partial:?}"
                );
                assert!(
                    first.stderr("sikprobe").contains("interrupted"),
                    "{}",
                    logs()
                );
            }
        }
        Fault::KillBatchsave => {
            // What batchsave committed is whole and came from sikprobe; the open batch is lost
            // with the process, and sikprobe stops cleanly on its closed output.
            assert_eq!(save_exit, "signal 9");
            assert_eq!(
                probe_exit,
                "exit 0",
                "a closed stdout is a clean stop\n{}",
                logs()
            );
            let foreign: Vec<_> = saved_lines.difference(&finished_set).take(3).collect();
            assert!(
                foreign.is_empty(),
                "saved but never written by sikprobe: {foreign:?}"
            );
            assert!(saved.rejects.is_empty(), "{:?}", saved.rejects);
        }
    }
    let before_rerun = saved.probed_per_ip().len();
    eprintln!(
        "faults: {fault:?}: sikprobe {probe_exit}, batchsave {save_exit}; {} records reported, \
         {before_rerun} saved in {} listed + {} unlisted batches, {} temporary files, partial \
         line: {}",
        finished.len(),
        saved.listed.len(),
        saved.unlisted.len(),
        saved.temporary.len(),
        partial.is_some()
    );

    // The same command with --skip-done finishes the set.
    let rerun_logs = dir.path().join("rerun");
    std::fs::create_dir(&rerun_logs).expect("log dir");
    let summary = dir.path().join("summary.json");
    let rerun = Pipeline::start(
        vec![
            stage("ipgen", IPGEN, &[KILL_FLEET]),
            stage(
                "sikprobe",
                SIKPROBE,
                &[
                    "-p",
                    KILL_PORT,
                    "-j",
                    "200",
                    "--skip-done",
                    out_arg,
                    "--summary",
                    summary.to_str().expect("UTF-8"),
                ],
            ),
            stage("batchsave", BATCHSAVE, &["-n", "200", out_arg]),
        ],
        &rerun_logs,
    )
    .wait(Duration::from_secs(120));
    rerun.assert_no_panic();
    for name in ["ipgen", "sikprobe", "batchsave"] {
        assert!(
            rerun.status(name).success(),
            "{fault:?} rerun: {name} {}\n{}",
            describe_exit(rerun.status(name)),
            stderr_logs(&rerun_logs)
        );
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&summary).expect("summary written")).expect("JSON");
    assert_eq!(
        summary["skipped"].as_u64(),
        Some(before_rerun as u64),
        "--skip-done skipped every saved host"
    );
    let saved = inspect(&out);
    assert!(
        saved.temporary.is_empty(),
        "the rerun removed {:?}",
        saved.temporary
    );
    let per_ip = saved.probed_per_ip();
    let wrong: Vec<_> = per_ip.iter().filter(|(_, n)| **n != 1).take(5).collect();
    assert!(wrong.is_empty(), "{fault:?}: not exactly once: {wrong:?}");
    let have: BTreeSet<IpAddr> = per_ip.keys().copied().collect();
    assert_eq!(&have, all, "{fault:?}: every host saved after the rerun");
    assert_all_ok(&saved.probed());
}

// ---------------------------------------------------------------------------------------------
// 2. A slow consumer

/// The peak resident set of a process still running, from /proc (KiB).
fn vm_hwm_kib(pid: i32) -> i64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

#[test]
fn a_slow_consumer_slows_the_scan_instead_of_growing_sikprobes_memory() {
    let _serial = serial();
    let _fleet = Siksim::start(&[SLOW_FLEET, "--persona", "eh", "--port", SLOW_PORT, "-q"]);
    let dir = tempfile::tempdir().expect("temp dir");
    // -a show makes records of about 6 KB, so holding back the records of the whole fleet
    // would show as tens of MB.
    let probe_args = ["-p", SLOW_PORT, "-j", "200", "-a", "show", "-q"];

    let fast_out = dir.path().join("fast");
    let fast = Pipeline::start(
        vec![
            stage("ipgen", IPGEN, &[SLOW_FLEET]),
            stage("sikprobe", SIKPROBE, &probe_args),
            stage(
                "batchsave",
                BATCHSAVE,
                &["-q", fast_out.to_str().expect("UTF-8")],
            ),
        ],
        dir.path(),
    )
    .wait(Duration::from_secs(120));
    fast.assert_no_panic();
    assert!(
        fast.status("sikprobe").success(),
        "{}",
        fast.stderr("sikprobe")
    );
    let saved = inspect(&fast_out);
    assert_eq!(saved.records.len(), 2000);
    let record_bytes: usize = saved.lines.iter().map(|(_, l)| l.len() + 1).sum();
    let fast_peak = fast.ended["sikprobe"].max_rss_kib;

    // The same scan into a consumer that takes 128 KiB/s. Within `window` (longer than the
    // whole fast scan) the consumer can take only a fraction of the records: a sikprobe that
    // kept scanning regardless would hold the rest in memory by then.
    const RATE: usize = 128 * 1024;
    let window = fast.elapsed.mul_f64(1.5).max(Duration::from_secs(5));
    // At most: sikprobe's widened stdout pipe (1 MiB), the throttle's chunk (a tenth of a
    // second's worth) and the pipe into batchsave (64 KiB).
    let buffers = 2 << 20;
    let drained = RATE * window.as_secs() as usize + buffers;
    assert!(
        record_bytes > 2 * drained,
        "the fleet's records ({record_bytes} bytes) must dwarf what the consumer drains \
         ({drained}), or the test proves nothing"
    );
    let slow_out = dir.path().join("slow");
    let slow = Pipeline::start(
        vec![
            stage("ipgen", IPGEN, &[SLOW_FLEET]),
            stage("sikprobe", SIKPROBE, &probe_args),
            throttle("throttle", RATE),
            stage(
                "batchsave",
                BATCHSAVE,
                &["-q", slow_out.to_str().expect("UTF-8")],
            ),
        ],
        dir.path(),
    );
    std::thread::sleep(window);
    assert!(
        slow.running("sikprobe"),
        "sikprobe ended although the consumer had taken at most {drained} of {record_bytes} bytes"
    );
    let slow_peak = vm_hwm_kib(slow.pid("sikprobe"));
    slow.signal_group(libc::SIGKILL);
    let slow = slow.wait(Duration::from_secs(30));
    slow.assert_no_panic();
    eprintln!(
        "faults: sikprobe peak RSS {fast_peak} KiB with a fast consumer ({:.1}s), \
         {slow_peak} KiB after {window:?} behind a consumer of {RATE} bytes/s; records \
         {record_bytes} bytes",
        fast.elapsed.as_secs_f64()
    );
    // Bounded by -j and the record queue, not by the fleet: a few MB of slack for the
    // records queued towards the slow pipe (at most a few hundred of 6 KB in the queue and in
    // hosts waiting to hand theirs over).
    const SLACK_KIB: i64 = 8 * 1024;
    assert!(
        slow_peak <= fast_peak + SLACK_KIB,
        "behind a slow consumer sikprobe peaked at {slow_peak} KiB, {fast_peak} KiB with a \
         fast one: memory grows with the input"
    );
    assert!(slow_peak < 150 * 1024, "{slow_peak} KiB at -j 200");
}

// ---------------------------------------------------------------------------------------------
// 3. Bad input for every tool

/// A run of one binary on `input`.
struct Run {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: String,
}

fn run(program: &str, args: &[&str], input: &[u8]) -> Run {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    // A tool may stop reading early (an error); the rest of the input then has nowhere to go.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("finishes");
    writer.join().expect("writer");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.contains("panicked"),
        "{program} {args:?} panicked:\n{stderr}"
    );
    Run {
        status: out.status,
        stdout: out.stdout,
        stderr,
    }
}

/// The bad-input corpus: name, contents.
fn corpus(rng: &mut StdRng) -> Vec<(&'static str, Vec<u8>)> {
    // Random bytes, without '#' so that no garbage line reads as a comment, and starting with
    // a byte that is never UTF-8, so the first bad line is known.
    let mut garbage = vec![0xff];
    garbage.extend(
        random_bytes(rng, 64 * 1024)
            .into_iter()
            .map(|b| if b == b'#' { b'%' } else { b }),
    );
    let mut huge = vec![b'7'; 10 << 20];
    huge.push(b'\n');
    vec![
        ("garbage.bin", garbage),
        ("huge.txt", huge),
        ("invalid-utf8.txt", b"127.0.0.\xff\xfe1\n".to_vec()),
        ("empty.txt", Vec::new()),
    ]
}

fn file_with(dir: &Path, name: &str, contents: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write corpus file");
    path.to_str().expect("UTF-8").to_owned()
}

#[test]
fn ipgen_rejects_bad_input_with_file_line_and_status_2() {
    let _serial = serial();
    let mut rng = seeded_rng();
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, contents) in corpus(&mut rng) {
        // A good line first: nothing may be printed before the whole input is validated.
        let mut input = b"127.0.0.1\n".to_vec();
        input.extend_from_slice(&contents);
        let path = file_with(dir.path(), name, &input);
        let run = run(IPGEN, &["-f", &path], b"");
        if contents.is_empty() {
            assert!(run.status.success(), "{name}: {}", run.stderr);
            assert_eq!(run.stdout, b"127.0.0.1\n");
            continue;
        }
        assert_eq!(run.status.code(), Some(2), "{name}: {}", run.stderr);
        assert!(
            run.stdout.is_empty(),
            "{name}: nothing printed before validation"
        );
        assert!(
            run.stderr.starts_with(&format!("ipgen: {path}:2: ")),
            "{name}: the error names the file and line: {}",
            run.stderr
        );
        let reason = match name {
            "huge.txt" => "line longer than",
            _ => "not UTF-8 text",
        };
        assert!(run.stderr.contains(reason), "{name}: {}", run.stderr);
        assert!(run.stderr.len() < 16 * 1024, "{name}: a bounded report");
    }

    // Empty input, from a file or stdin: an empty set, exit 0, a warning.
    let empty = run(IPGEN, &[], b"");
    assert!(empty.status.success() && empty.stdout.is_empty());
    assert!(empty.stderr.contains("empty"), "{}", empty.stderr);

    // CRLF files give what LF files give.
    let lf = b"127.0.0.1\n127.0.0.5 - 127.0.0.7\n# comment\n127.0.1.0/30  # inline\n";
    let crlf: Vec<u8> = String::from_utf8_lossy(lf)
        .replace('\n', "\r\n")
        .into_bytes();
    let from_lf = run(IPGEN, &["-f", &file_with(dir.path(), "lf.txt", lf)], b"");
    let from_crlf = run(
        IPGEN,
        &["-f", &file_with(dir.path(), "crlf.txt", &crlf)],
        b"",
    );
    assert!(from_crlf.status.success(), "{}", from_crlf.stderr);
    assert_eq!(from_crlf.stdout, from_lf.stdout);
    assert_eq!(from_lf.stdout.iter().filter(|&&b| b == b'\n').count(), 6);

    // An IPv6 /64 (18 EB of text) is refused at once, unless counted or limited.
    let clock = Instant::now();
    let v6 = run(IPGEN, &["2001:db8::/64"], b"");
    assert_eq!(v6.status.code(), Some(2));
    assert!(v6.stdout.is_empty());
    assert!(v6.stderr.contains("18446744073709551615") && v6.stderr.contains("--limit"));
    assert!(
        clock.elapsed() < Duration::from_secs(10),
        "refused without expanding"
    );
    let count = run(IPGEN, &["2001:db8::/64", "--count"], b"");
    assert_eq!(
        String::from_utf8_lossy(&count.stdout),
        "18446744073709551615\n"
    );
    let limited = run(IPGEN, &["2001:db8::/64", "--limit", "3"], b"");
    assert!(limited.status.success());
    assert_eq!(limited.stdout.iter().filter(|&&b| b == b'\n').count(), 3);
}

/// The lines of an input that get a record: all but blank ones (and comments, which the
/// corpus has none of).
fn input_lines(input: &[u8]) -> usize {
    input
        .split(|&b| b == b'\n')
        .filter(|line| match std::str::from_utf8(line) {
            Ok(text) => !text.trim().is_empty(),
            Err(_) => true,
        })
        .count()
}

#[test]
fn sikprobe_gives_every_bad_line_an_invalid_input_record_and_goes_on() {
    let _serial = serial();
    let mut rng = seeded_rng();
    let _fleet = Siksim::start(&[BAD_FLEET, "--persona", "eh", "--port", BAD_PORT, "-q"]);
    for (name, contents) in corpus(&mut rng) {
        // Good hosts around the bad part, one of them with a CRLF line end: none may be lost.
        let mut input = b"127.133.0.1\r\n".to_vec();
        input.extend_from_slice(&contents);
        input.extend_from_slice(b"\n127.133.0.2\n127.133.0.3");
        let run = run(SIKPROBE, &["-p", BAD_PORT, "-q"], &input);
        assert_eq!(run.status.code(), Some(0), "{name}: {}", run.stderr);
        let records = parse_records(&run.stdout);
        assert_eq!(
            records.len(),
            input_lines(&input),
            "{name}: one record per line"
        );
        let ok: BTreeSet<String> = records
            .iter()
            .filter(|r| r.status == Status::Ok)
            .filter_map(|r| r.ip.map(|ip| ip.to_string()))
            .collect();
        assert_eq!(
            ok,
            BTreeSet::from(["127.133.0.1", "127.133.0.2", "127.133.0.3"].map(String::from)),
            "{name}"
        );
        for record in records.iter().filter(|r| r.ip.is_none()) {
            assert_eq!(record.status, Status::InvalidInput, "{name}");
            let error = record.error.as_deref().unwrap_or_default();
            assert!(!error.is_empty(), "{name}: a reason");
            // The record says which line it was, so nothing of the input is lost.
            let input = record.input.as_deref().unwrap_or_default();
            assert!(
                !input.is_empty(),
                "{name}: the bad line is in 'input' ({error})"
            );
            assert!(input.len() <= 4 * 4096, "{name}: 'input' is bounded");
        }
        match name {
            "huge.txt" => assert!(records.iter().any(|r| {
                r.error
                    .as_deref()
                    .is_some_and(|e| e.contains("longer than"))
                    && r.input.as_deref().is_some_and(|i| i.starts_with("7777"))
            })),
            "invalid-utf8.txt" => assert!(records.iter().any(|r| {
                r.error.as_deref().is_some_and(|e| e.contains("UTF-8"))
                    && r.input.as_deref() == Some("127.0.0.\u{fffd}\u{fffd}1")
            })),
            _ => {}
        }
    }
    let empty = run(SIKPROBE, &["-p", BAD_PORT, "-q"], b"");
    assert!(
        empty.status.success() && empty.stdout.is_empty(),
        "{}",
        empty.stderr
    );
}

#[test]
fn batchsave_rejects_bad_lines_into_rejects_ndjson_and_keeps_every_record() {
    let _serial = serial();
    let mut rng = seeded_rng();
    let good = |n: u8| format!("{{\"ip\":\"127.0.0.{n}\",\"status\":\"ok\"}}");
    let mut input = Vec::new();
    let mut expect_rejected = BTreeSet::new();
    let mut line = 0u64;
    let mut push = |input: &mut Vec<u8>, text: &[u8], bad: bool| {
        line += 1;
        input.extend_from_slice(text);
        input.push(b'\n');
        if bad {
            expect_rejected.insert(line);
        }
    };
    push(&mut input, format!("{}\r", good(1)).as_bytes(), false); // CRLF
    for chunk in random_bytes(&mut rng, 16 * 1024).split(|&b| b == b'\n') {
        // A garbage line that is blank is skipped, not rejected.
        if !chunk.iter().all(u8::is_ascii_whitespace) {
            push(&mut input, chunk, true);
        }
    }
    push(&mut input, good(2).as_bytes(), false);
    push(
        &mut input,
        b"{\"ip\":\"127.0.0.9\",\"name\":\"\xff\xfe\"}",
        true,
    );
    push(&mut input, b"[1,2,3]", true);
    push(&mut input, b"{\"ip\":\"127.0.0.10\"", true);
    // 10 MB in one record is kept; past 16 MiB a line is rejected with its head saved.
    let big = format!(
        "{{\"ip\":\"127.0.0.3\",\"status\":\"ok\",\"log\":\"{}\"}}",
        "x".repeat(10 << 20)
    );
    push(&mut input, big.as_bytes(), false);
    push(&mut input, "y".repeat(17 << 20).as_bytes(), true);
    push(&mut input, good(4).as_bytes(), false);

    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let run_ = run(BATCHSAVE, &[out.to_str().expect("UTF-8")], &input);
    assert_eq!(
        run_.status.code(),
        Some(1),
        "rejects give status 1: {}",
        run_.stderr
    );
    let saved = inspect(&out);
    let ips: BTreeSet<String> = saved
        .records
        .iter()
        .map(|r| r.ip.expect("ip").to_string())
        .collect();
    assert_eq!(
        ips,
        BTreeSet::from(["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"].map(String::from))
    );
    let rejected: BTreeSet<u64> = saved
        .rejects
        .iter()
        .map(|r| r["line"].as_u64().expect("line"))
        .collect();
    assert_eq!(rejected, expect_rejected);
    for reject in &saved.rejects {
        assert!(
            reject["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{reject}"
        );
    }
    // The first rejects are named on stderr (then only counted, so garbage cannot flood it).
    let first = rejected.first().expect("a reject");
    assert!(
        run_.stderr.contains(&format!("<stdin>:{first}: rejected")),
        "the warning names the line: {first}\n{}",
        short(&run_.stderr)
    );
    assert!(
        run_.stderr
            .contains(&format!("{} lines rejected", rejected.len())),
        "{}",
        short(&run_.stderr)
    );
    assert_eq!(
        saved.totals["rejects"].as_u64(),
        Some(expect_rejected.len() as u64)
    );
    let huge = saved
        .rejects
        .iter()
        .find(|r| r["error"].as_str().is_some_and(|e| e.contains("16 MiB")));
    assert!(huge.is_some(), "the overlong line is named");

    let empty_out = dir.path().join("empty");
    let empty = run(BATCHSAVE, &[empty_out.to_str().expect("UTF-8")], b"");
    assert!(empty.status.success(), "{}", empty.stderr);
    assert!(inspect(&empty_out).lines.is_empty());
}

#[test]
fn siksim_names_what_is_wrong_in_a_fleet_and_exits_2() {
    let _serial = serial();
    let mut rng = seeded_rng();
    let dir = tempfile::tempdir().expect("temp dir");
    let describe_fleet = |path: &str| run(SIKSIM, &["--describe", "--fleet", path], b"");
    for (name, contents) in corpus(&mut rng) {
        if name == "huge.txt" {
            continue; // below, as a huge value in a valid file
        }
        let mut fleet = b"[[group]]\naddresses = \"127.134.0.1\"\npersona = \"eh\"\n".to_vec();
        fleet.extend_from_slice(&contents);
        let path = file_with(dir.path(), &format!("{name}.toml"), &fleet);
        let run = describe_fleet(&path);
        if contents.is_empty() {
            assert!(run.status.success(), "{name}: {}", run.stderr);
            continue;
        }
        assert_eq!(run.status.code(), Some(2), "{name}: {}", run.stderr);
        assert!(run.stdout.is_empty());
        assert!(
            run.stderr
                .starts_with(&format!("siksim: {path}: line 4, column ")),
            "{name}: the error names the file and line: {}",
            run.stderr
        );
    }
    // A huge value is just a value.
    let mut huge = b"[[group]]\naddresses = \"127.134.0.1\"\npersona = \"eh\"\nname = \"".to_vec();
    huge.extend(std::iter::repeat_n(b'n', 10 << 20));
    huge.extend_from_slice(b"\"\n");
    let run_ = describe_fleet(&file_with(dir.path(), "huge.toml", &huge));
    assert!(run_.status.success(), "{}", run_.stderr);
    // CRLF fleet files read as LF ones.
    let lf =
        "user = \"admin\"\n[[group]]\naddresses = \"127.134.0.1-127.134.0.3\"\npersona = \"tg\"\n";
    let crlf = lf.replace('\n', "\r\n");
    let from_lf = describe_fleet(&file_with(dir.path(), "lf.toml", lf.as_bytes()));
    let from_crlf = describe_fleet(&file_with(dir.path(), "crlf.toml", crlf.as_bytes()));
    assert!(from_crlf.status.success(), "{}", from_crlf.stderr);
    assert_eq!(from_crlf.stdout, from_lf.stdout);
    // Addresses off loopback, IPv6 ranges, garbage specs: refused by name.
    for spec in [
        "2001:db8::/64",
        "10.0.0.1",
        "127.0.0.9-127.0.0.1",
        "\u{fffd}garbage",
    ] {
        let run = run(SIKSIM, &["--describe", spec], b"");
        assert_eq!(run.status.code(), Some(2), "{spec}: {}", run.stderr);
        assert!(run.stderr.contains(spec), "{spec}: {}", run.stderr);
    }
    // A fleet no machine can serve (a socket per address) is refused before binding anything.
    // In a process group of its own, killed after 10 s: a siksim without the guard would
    // start binding 16.7 million sockets, and must not take the machine down with it.
    let served = Pipeline::start(
        vec![stage("siksim", SIKSIM, &["127.0.0.0/8", "--port", "2334"])],
        dir.path(),
    )
    .wait(Duration::from_secs(10));
    let stderr = served.stderr("siksim");
    assert_eq!(served.status("siksim").code(), Some(2), "{stderr}");
    assert!(stderr.contains("16777214"), "{stderr}");
    served.assert_no_panic();
}

// ---------------------------------------------------------------------------------------------
// 5. Every failure persona at once

#[test]
fn every_failure_persona_at_once_finishes_within_the_deadline() {
    let _serial = serial();
    let _fleet = Siksim::start(&["--demo", "--port", DEMO_PORT, "-q"]);
    let truth: Vec<serde_json::Value> = describe(&["--demo", "--port", DEMO_PORT])
        .into_iter()
        .filter(|d| d["route"].is_null())
        .collect();
    let personas: BTreeSet<&str> = truth.iter().filter_map(|d| d["persona"].as_str()).collect();
    for persona in [
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
        assert!(
            personas.contains(persona),
            "the demo fleet has no {persona}"
        );
    }
    let input = support::addresses("127.77.0.0/24");
    // Every phase's timeout is below the deadline, so a host reports its own failure (a
    // black hole's connect-timeout, a silent server's no-ssh) unless the deadline cuts it;
    // the slow radios' 2 s login fits in --auth-timeout.
    const DEADLINE: Duration = Duration::from_secs(3);
    // With -a show, a hung command outlasts --command-timeout, so the deadline is what cuts
    // a hanging radio (describe's show_status says 'deadline').
    for (action, command_timeout) in [("scan", "2s"), ("show", "5s")] {
        let clock = Instant::now();
        let probe = support::sikprobe(
            &[
                "-p",
                DEMO_PORT,
                "-j",
                "300",
                "-a",
                action,
                "--deadline",
                "3s",
                "--connect-timeout",
                "1s",
                "--handshake-timeout",
                "2s",
                "--auth-timeout",
                "2500ms",
                "--prompt-timeout",
                "2s",
                "--command-timeout",
                command_timeout,
            ],
            &input,
        );
        let wall = clock.elapsed();
        assert!(probe.status.success(), "{}", probe.stderr);
        assert!(!probe.stderr.contains("panicked"), "{}", probe.stderr);
        // All 254 hosts start at once (-j 300), so the run lasts as long as its slowest host,
        // which the deadline bounds. The slack covers what is outside any host's deadline:
        // starting sikprobe, dispatching 254 hosts and writing their records (about 0.2 s in
        // a debug build), with room for a simulator sharing the two cores.
        const SLACK: Duration = Duration::from_millis(1500);
        assert!(
            wall <= DEADLINE + SLACK,
            "-a {action}: {wall:?} for a 3 s deadline"
        );
        let mut seen = BTreeMap::new();
        for record in &probe.records {
            let ip = record.ip.expect("every record has an ip");
            *seen.entry(ip).or_insert(0) += 1;
            let elapsed = record.elapsed_ms.expect("elapsed_ms");
            // A host may overrun its deadline only by the moment it takes to cut it.
            assert!(elapsed <= 3200, "-a {action}: {ip} took {elapsed} ms");
        }
        assert_eq!(
            seen.len(),
            truth.len(),
            "-a {action}: one record per device"
        );
        assert!(seen.values().all(|n| *n == 1), "-a {action}: no host twice");
        let key = if action == "scan" {
            "status"
        } else {
            "show_status"
        };
        let mut wrong = Vec::new();
        for device in &truth {
            let ip: IpAddr = device["ip"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("ip");
            let record = probe
                .records
                .iter()
                .find(|r| r.ip == Some(ip))
                .expect("record");
            let mut expected = device[key].as_str().expect("status");
            // describe's show_status assumes time enough; a slow radio's 2 s login plus 300 ms
            // for each of its dozen show commands cannot fit in 3 s.
            if action == "show" && device["persona"] == "slow" {
                expected = "deadline";
            }
            if record.status.as_str() != expected {
                wrong.push(format!(
                    "{ip} ({}): {} expected {expected} ({:?})",
                    device["persona"],
                    record.status.as_str(),
                    record.error
                ));
            }
        }
        assert!(wrong.is_empty(), "-a {action}:\n{}", wrong.join("\n"));
        eprintln!("faults: demo fleet, -a {action}, deadline 3s: {wall:?}");
    }
}
