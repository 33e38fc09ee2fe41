//! `./demo.sh`, run as a newcomer runs it (twice into the same directory), with the tools
//! this build made (`DEMO_BIN`) and the demo fleet on a port of its own (`DEMO_PORT`).

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// The demo fleet (127.77.0.0/24) on this test's own port.
const PORT: &str = "2401";

/// What one run of demo.sh said: its stdout, its stderr.
struct Run {
    stdout: String,
    stderr: String,
}

fn demo(outdir: &Path) -> Run {
    let bin = Path::new(env!("CARGO_BIN_EXE_ipgen"))
        .parent()
        .expect("the binaries' directory");
    let out = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("demo.sh"))
        .arg(outdir)
        .env("DEMO_BIN", bin)
        .env("DEMO_PORT", PORT)
        .output()
        .expect("demo.sh runs");
    let run = Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(out.status.success(), "demo.sh failed:\n{}", run.stderr);
    run
}

/// The lines of stdout between `heading` and the next blank line.
fn section<'a>(run: &'a Run, heading: &str) -> Vec<&'a str> {
    run.stdout
        .lines()
        .skip_while(|line| !line.starts_with(heading))
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .collect()
}

/// The table: (status, radio type, model) → count.
fn table(run: &Run) -> BTreeMap<(String, String, String), u64> {
    section(run, "What was found")
        .into_iter()
        .map(|line| {
            let cells: Vec<&str> = line.split_whitespace().collect();
            let [count, status, radio_type, model] = cells[..] else {
                panic!("a table row has four cells: {line:?}");
            };
            let count = count.parse().expect("a count");
            ((status.into(), radio_type.into(), model.into()), count)
        })
        .collect()
}

/// The same table, counted from an NDJSON batch file.
fn counted(path: &Path) -> BTreeMap<(String, String, String), u64> {
    let text = std::fs::read_to_string(path).expect("the batch file reads");
    let mut counts = BTreeMap::new();
    for line in text.lines() {
        let record: Value = serde_json::from_str(line).expect("a JSON record");
        let cell = |name: &str| record[name].as_str().unwrap_or("-").to_owned();
        *counts
            .entry((cell("status"), cell("radio_type"), cell("model")))
            .or_default() += 1;
    }
    counts
}

#[test]
fn a_second_run_tabulates_its_own_records_only_and_prints_the_command_it_ran() {
    support::require("jq");
    let tmp = tempfile::tempdir().expect("temp dir");
    let outdir = tmp.path().join("out");
    demo(&outdir);
    let second = demo(&outdir);

    let table = table(&second);
    assert_eq!(table.values().sum::<u64>(), 254, "{}", second.stdout);
    assert_eq!(table, counted(&outdir.join("batch-000002.ndjson")));
    assert_eq!(
        section(&second, "This run wrote"),
        ["batch-000002.csv", "batch-000002.ndjson"]
    );

    // The pipeline it prints is the one it ran: every flag sikprobe got is shown.
    let printed = second
        .stderr
        .lines()
        .find_map(|line| line.strip_prefix("demo: ipgen "))
        .unwrap_or_else(|| panic!("no 'demo: ipgen ...' line:\n{}", second.stderr));
    let stages: Vec<Vec<&str>> = printed
        .split(" | ")
        .map(|stage| stage.split_whitespace().collect())
        .collect();
    assert_eq!(stages.len(), 3, "{printed}");
    assert_eq!(stages[0], ["127.77.0.0/24"]);
    assert_eq!(
        stages[1],
        [
            "sikprobe",
            "-p",
            PORT,
            "-j",
            "200",
            "--connect-timeout",
            "2s",
            "--handshake-timeout",
            "3s",
            "--deadline",
            "15s"
        ]
    );
    assert_eq!(stages[2], ["batchsave", &outdir.display().to_string()]);
}
