//! batchsave, run as a user runs it: NDJSON in on stdin or -f, batch files, a manifest and
//! rejects out, checked by parsing them (csv crate, serde_json).

mod support;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sikscan::record::{CommandResult, RadioType, Record, Status};
use support::Siksim;
use support::fleet::{fleet, group};

const BATCHSAVE: &str = env!("CARGO_BIN_EXE_batchsave");

/// Generous bound for anything that waits on the binary: never reached unless it is broken.
const PATIENCE: Duration = Duration::from_secs(20);

fn batchsave(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = spawn(args);
    let mut input = child.stdin.take().expect("stdin piped");
    // batchsave may stop before reading everything (an output directory error): a broken
    // pipe here is its business, the assertions on its output tell.
    let _ = input.write_all(stdin);
    drop(input);
    child.wait_with_output().expect("batchsave finishes")
}

fn spawn(args: &[&str]) -> Child {
    Command::new(BATCHSAVE)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("batchsave starts")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn ndjson(values: &[Value]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for value in values {
        serde_json::to_writer(&mut bytes, value).expect("serialisable");
        bytes.push(b'\n');
    }
    bytes
}

/// `count` small records with a status cycling through ok / refused / auth-failed.
fn records(count: usize) -> Vec<Value> {
    let statuses = ["ok", "refused", "auth-failed"];
    (0..count)
        .map(|i| json!({"ip": format!("127.0.{}.{}", i / 256, i % 256), "port": 22, "status": statuses[i % 3], "n": i}))
        .collect()
}

fn manifest(dir: &Path) -> Value {
    let bytes = fs::read(dir.join("manifest.json")).expect("manifest.json exists");
    serde_json::from_slice(&bytes).expect("manifest.json is JSON")
}

/// Header and rows of a CSV file.
fn csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).expect("CSV file opens");
    let header = reader
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|row| {
            row.expect("a valid row")
                .iter()
                .map(str::to_owned)
                .collect()
        })
        .collect();
    (header, rows)
}

fn ndjson_file(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .expect("NDJSON file reads")
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect()
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("OUTDIR lists")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name != ".batchsave.lock")
        .collect();
    names.sort();
    names
}

/// Polls until `done` holds, or fails the test after [`PATIENCE`].
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < PATIENCE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn batches_listed(dir: &Path) -> usize {
    fs::read(dir.join("manifest.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .and_then(|m| m["batches"].as_array().map(Vec::len))
        .unwrap_or(0)
}

fn out_dir(tmp: &tempfile::TempDir) -> (PathBuf, String) {
    let dir = tmp.path().join("out");
    let arg = dir.display().to_string();
    (dir, arg)
}

#[test]
fn batches_close_on_count_and_the_last_partial_one_is_written_at_end_of_input() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (dir, arg) = out_dir(&tmp);
    let input = records(2500);
    let out = batchsave(&["-n", "1000", &arg], &ndjson(&input));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "stdout is for --tee only");

    let manifest = manifest(&dir);
    let batches = manifest["batches"].as_array().expect("batches");
    let sizes: Vec<u64> = batches
        .iter()
        .map(|b| b["records"].as_u64().expect("count"))
        .collect();
    assert_eq!(sizes, [1000, 1000, 500]);
    let reasons: Vec<&str> = batches
        .iter()
        .map(|b| b["reason"].as_str().expect("reason"))
        .collect();
    assert_eq!(reasons, ["size", "size", "end"]);
    assert_eq!(batches[2]["first_line"], 2001);
    assert_eq!(batches[2]["last_line"], 2500);
    assert_eq!(manifest["totals"]["records"], 2500);
    assert_eq!(
        manifest["totals"]["statuses"],
        json!({"ok": 834, "refused": 833, "auth-failed": 833})
    );

    // The NDJSON files are the input, in order; the CSV files hold the same records.
    let mut saved = Vec::new();
    for batch in 1..=3 {
        let lines = ndjson_file(&dir.join(format!("batch-{batch:06}.ndjson")));
        let (header, rows) = csv(&dir.join(format!("batch-{batch:06}.csv")));
        assert_eq!(header, ["ip", "port", "status", "n"]);
        assert_eq!(rows.len(), lines.len());
        for (row, line) in rows.iter().zip(&lines) {
            assert_eq!(row[3], line["n"].to_string());
        }
        saved.extend(lines);
    }
    assert_eq!(saved, input);
    assert_eq!(
        names(&dir),
        [
            "batch-000001.csv",
            "batch-000001.ndjson",
            "batch-000002.csv",
            "batch-000002.ndjson",
            "batch-000003.csv",
            "batch-000003.ndjson",
            "manifest.json"
        ]
    );
    // The manifest lists every file with its size.
    for batch in batches {
        for file in batch["files"].as_array().expect("files") {
            let path = dir.join(file["path"].as_str().expect("path"));
            assert_eq!(
                fs::metadata(&path).expect("listed file exists").len(),
                file["bytes"]
            );
        }
    }
}

#[test]
fn batches_close_on_time_after_their_first_record() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (dir, arg) = out_dir(&tmp);
    let mut child = spawn(&["--every", "300ms", "--format", "ndjson", &arg]);
    let mut stdin = child.stdin.take().expect("stdin piped");
    stdin.write_all(&ndjson(&records(3))).expect("written");
    stdin.flush().expect("flushed");
    wait_for("the timed batch", || batches_listed(&dir) == 1);
    stdin.write_all(&ndjson(&records(2))).expect("written");
    drop(stdin);
    let out = child.wait_with_output().expect("finishes");
    assert!(out.status.success(), "{}", stderr(&out));
    let manifest = manifest(&dir);
    let batches = manifest["batches"].as_array().expect("batches");
    assert_eq!(batches.len(), 2);
    assert_eq!(
        (
            batches[0]["records"].as_u64(),
            batches[0]["reason"].as_str()
        ),
        (Some(3), Some("every"))
    );
    assert_eq!(
        (
            batches[1]["records"].as_u64(),
            batches[1]["reason"].as_str()
        ),
        (Some(2), Some("end"))
    );
}

fn interrupt(child: &Child) {
    let pid = i32::try_from(child.id()).expect("pid fits");
    // SAFETY: kill(2) on our own child's pid only sends it a signal.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
}

/// Writes records and waits until --tee echoes them, so batchsave has read them.
fn feed(stdin: &mut ChildStdin, echo: &mut impl BufRead, values: &[Value]) {
    stdin.write_all(&ndjson(values)).expect("written");
    stdin.flush().expect("flushed");
    for _ in values {
        let mut line = String::new();
        echo.read_line(&mut line).expect("tee echoes the line");
    }
}

#[test]
fn the_first_sigint_saves_the_open_batch_and_the_rest_of_the_input_is_still_saved() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (dir, arg) = out_dir(&tmp);
    let mut child = spawn(&["--tee", &arg]);
    let mut stdin = child.stdin.take().expect("stdin");
    let mut echo = BufReader::new(child.stdout.take().expect("stdout"));
    feed(&mut stdin, &mut echo, &records(5));
    interrupt(&child);
    wait_for("the interrupted batch", || batches_listed(&dir) == 1);
    // The producer upstream is still writing its last records: they are saved too.
    feed(&mut stdin, &mut echo, &records(2));
    drop(stdin);
    let status = child.wait().expect("finishes");
    assert_eq!(status.code(), Some(130));
    let manifest = manifest(&dir);
    let batches = manifest["batches"].as_array().expect("batches");
    assert_eq!(
        (
            batches[0]["records"].as_u64(),
            batches[0]["reason"].as_str()
        ),
        (Some(5), Some("signal"))
    );
    assert_eq!(
        (
            batches[1]["records"].as_u64(),
            batches[1]["reason"].as_str()
        ),
        (Some(2), Some("end"))
    );
}

#[test]
fn a_second_sigint_stops_at_once_after_saving_what_was_read() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (dir, arg) = out_dir(&tmp);
    let mut child = spawn(&["--tee", "-q", &arg]);
    let mut stdin = child.stdin.take().expect("stdin");
    let mut echo = BufReader::new(child.stdout.take().expect("stdout"));
    feed(&mut stdin, &mut echo, &records(4));
    interrupt(&child);
    wait_for("the interrupted batch", || batches_listed(&dir) == 1);
    feed(&mut stdin, &mut echo, &records(3));
    interrupt(&child);
    // stdin stays open: batchsave must not wait for it.
    let status = child.wait().expect("finishes");
    assert_eq!(status.code(), Some(130));
    let sizes: Vec<u64> = manifest(&dir)["batches"]
        .as_array()
        .expect("batches")
        .iter()
        .map(|b| b["records"].as_u64().expect("count"))
        .collect();
    assert_eq!(sizes, [4, 3]);
    drop(stdin);
}

#[test]
fn schema_drift_keeps_every_column_top_level_first_in_first_seen_order() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (dir, arg) = out_dir(&tmp);
    let input = [
        json!({"ip": "127.0.0.1", "status": "ok", "show": {"rf_oper": "up"}}),
        json!({"ip": "127.0.0.2", "status": "refused", "error": "refused", "last_non_cmd_error": "Connection refused to port 22"}),
        json!({"ip": "127.0.0.3", "status": "ok", "commands": [{"command": "show rf", "output": "x"}], "parse_warnings": ["rf_cinr", "rf_rssi"]}),
    ];
    let out = batchsave(&["--format", "csv", &arg], &ndjson(&input));
    assert!(out.status.success(), "{}", stderr(&out));
    let (header, rows) = csv(&dir.join("batch-000001.csv"));
    assert_eq!(
        header,
        [
            "ip",
            "status",
            "error",
            "last_non_cmd_error",
            "parse_warnings",
            "show.rf_oper",
            "commands.0.command",
        ]
    );
    assert_eq!(rows[0], ["127.0.0.1", "ok", "", "", "", "up", ""]);
    assert_eq!(
        rows[1],
        [
            "127.0.0.2",
            "refused",
            "refused",
            "Connection refused to port 22",
            "",
            "",
            ""
        ]
    );
    assert_eq!(
        rows[2],
        ["127.0.0.3", "ok", "", "", "rf_cinr;rf_rssi", "", "show rf"]
    );
}

/// Real records for a spreadsheet: `sikprobe -a show` of an EtherHaul and a BU, and
/// `sikprobe -c 'show log'` of a radio whose log is 100,000 bytes, served by siksim.
fn show_records() -> Vec<u8> {
    let sim = Siksim::serve(
        &fleet([
            group("127.201.0.1", "eh"),
            group("127.201.0.2", "bu"),
            group("127.201.0.3", "huge").with("log_bytes", 100_000),
        ]),
        &["--port", "2402"],
    );
    let port = sim.port().to_string();
    let mut lines = Vec::new();
    for (args, input) in [
        (
            vec!["-p", &port, "-a", "show"],
            "127.201.0.1\n127.201.0.2\n",
        ),
        (vec!["-p", &port, "-c", "show log"], "127.201.0.3\n"),
    ] {
        let out = support::start_sikprobe(&args, &[], input)
            .wait_with_output()
            .expect("sikprobe finishes");
        let records = support::parse_records(&out.stdout);
        support::assert_all_ok(&records);
        lines.extend_from_slice(&out.stdout);
    }
    lines
}

/// Raw device text, as the CSV names it.
fn is_raw(name: &str) -> bool {
    name == "config"
        || name == "startup_config"
        || (name.starts_with("commands.")
            && (name.ends_with(".output") || name.ends_with(".stderr")))
}

#[test]
fn show_csvs_put_identity_and_parsed_fields_first_and_leave_raw_outputs_to_the_ndjson() {
    let input = show_records();
    let tmp = tempfile::tempdir().expect("temp dir");
    let (dir, arg) = out_dir(&tmp);
    let out = batchsave(&[&arg], &input);
    assert!(out.status.success(), "{}", stderr(&out));

    let (header, rows) = csv(&dir.join("batch-000001.csv"));
    assert_eq!(
        header[..9],
        [
            "ip",
            "port",
            "status",
            "error",
            "radio_type",
            "model",
            "name",
            "sw",
            "sn"
        ]
    );
    assert!(!header.iter().any(|name| is_raw(name)), "{header:?}");
    let first = |prefix: &str| header.iter().position(|name| name.starts_with(prefix));
    let show = first("show.").expect("show.* columns");
    let commands = first("commands.").expect("commands.* columns");
    assert!(show < commands, "{header:?}");
    assert!(
        header[..show].iter().all(|name| !name.contains('.')),
        "{header:?}"
    );
    assert!(
        header[show..commands]
            .iter()
            .all(|name| !name.starts_with("commands."))
    );
    assert!(
        header[commands..]
            .iter()
            .all(|name| name.starts_with("commands."))
    );
    assert!(rows.iter().flatten().all(|cell| cell.len() <= 32_767));

    // The NDJSON keeps every record whole, raw outputs included.
    let records: Vec<Value> = input
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice(line).expect("a record"))
        .collect();
    assert_eq!(ndjson_file(&dir.join("batch-000001.ndjson")), records);

    // Each show.* cell is the parsed value of its record.
    let ip_column = header.iter().position(|name| name == "ip").expect("ip");
    for row in &rows {
        let record = records
            .iter()
            .find(|record| record["ip"] == row[ip_column].as_str())
            .expect("the row's record");
        for (name, cell) in header.iter().zip(row) {
            if let Some(field) = name.strip_prefix("show.") {
                let value = &record["show"][field];
                let expected = match value {
                    Value::String(text) => text.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                assert_eq!(cell, &expected, "{name} of {}", record["ip"]);
            }
        }
    }
}

#[test]
fn csv_raw_brings_raw_outputs_back_last_with_cells_over_a_spreadsheets_limit_cut_and_marked() {
    let input = show_records();
    let tmp = tempfile::tempdir().expect("temp dir");
    let (dir, arg) = out_dir(&tmp);
    let out = batchsave(&["--csv-raw", &arg], &input);
    assert!(out.status.success(), "{}", stderr(&out));
    let records = ndjson_file(&dir.join("batch-000001.ndjson"));
    let (header, rows) = csv(&dir.join("batch-000001.csv"));

    let raw = header
        .iter()
        .position(|name| is_raw(name))
        .expect("raw columns with --csv-raw");
    assert!(header[raw..].iter().all(|name| is_raw(name)), "{header:?}");

    let log = records
        .iter()
        .find(|record| record["ip"] == "127.201.0.3")
        .and_then(|record| record["commands"][0]["output"].as_str())
        .expect("the log's output");
    assert!(log.chars().count() > 32_767);
    let output = header
        .iter()
        .position(|name| name == "commands.0.output")
        .expect("commands.0.output");
    let ip_column = header.iter().position(|name| name == "ip").expect("ip");
    for (row, record) in rows.iter().zip(&records) {
        assert_eq!(row[ip_column], record["ip"].as_str().expect("ip"));
        let whole = record["commands"][0]["output"].as_str().expect("an output");
        let cell = &row[output];
        if whole.len() <= 32_767 {
            assert_eq!(cell, whole, "a short output is whole");
            continue;
        }
        let marker = format!(
            " [cut by batchsave: {} characters, more than a spreadsheet cell holds]",
            whole.chars().count()
        );
        let kept = cell.strip_suffix(&marker).unwrap_or_else(|| {
            panic!(
                "a cut cell ends with its marker: ...{}",
                &cell[cell.len() - 80..]
            )
        });
        assert_eq!(cell.encode_utf16().count(), 32_767);
        assert!(whole.starts_with(kept));
    }
}

#[test]
fn fixed_fields_choose_the_columns() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (dir, arg) = out_dir(&tmp);
    let input = [json!({"ip": "127.0.0.1", "status": "ok", "show": {"rf_oper": "up"}})];
    let out = batchsave(
        &["--fields", "status,show.rf_oper,model", &arg],
        &ndjson(&input),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let (header, rows) = csv(&dir.join("batch-000001.csv"));
    assert_eq!(header, ["status", "show.rf_oper", "model"]);
    assert_eq!(rows, [["ok", "up", ""]]);
    // NDJSON keeps the whole record.
    assert_eq!(ndjson_file(&dir.join("batch-000001.ndjson")), input);
}

const TRICKY: [&str; 9] = [
    "a,b",
    "say \"hi\"",
    "two\nlines",
    "=HYPERLINK(\"http://x\")",
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "-43",
    " padded ",
];

#[test]
fn csv_quoting_round_trips_commas_quotes_newlines_and_formulas_unchanged() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (dir, arg) = out_dir(&tmp);
    let input: Vec<Value> = TRICKY.iter().map(|text| json!({"v": text})).collect();
    let out = batchsave(&["--format", "csv", &arg], &ndjson(&input));
    assert!(out.status.success(), "{}", stderr(&out));
    let (_, rows) = csv(&dir.join("batch-000001.csv"));
    let got: Vec<&str> = rows.iter().map(|row| row[0].as_str()).collect();
    assert_eq!(got, TRICKY);
    let raw = fs::read_to_string(dir.join("batch-000001.csv")).expect("read");
    assert!(
        raw.contains("\r\n\"a,b\"\r\n\"say \"\"hi\"\"\"\r\n\"two\nlines\"\r\n"),
        "{raw:?}"
    );
}

#[test]
fn excel_safe_neutralises_formulas_but_keeps_numbers() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (dir, arg) = out_dir(&tmp);
    let input: Vec<Value> = TRICKY
        .iter()
        .map(|text| json!({"v": text, "n": -7}))
        .collect();
    let out = batchsave(&["--excel-safe", "--format", "csv", &arg], &ndjson(&input));
    assert!(out.status.success(), "{}", stderr(&out));
    let (_, rows) = csv(&dir.join("batch-000001.csv"));
    let got: Vec<&str> = rows.iter().map(|row| row[0].as_str()).collect();
    assert_eq!(
        got,
        [
            "a,b",
            "say \"hi\"",
            "two\nlines",
            "'=HYPERLINK(\"http://x\")",
            "'+1+1",
            "'-2+3",
            "'@SUM(A1)",
            "-43",
            " padded "
        ]
    );
    assert!(rows.iter().all(|row| row[1] == "-7"));
}

#[test]
fn by_writes_one_file_series_per_value() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (dir, arg) = out_dir(&tmp);
    let input = [
        json!({"ip": "127.0.0.1", "radio_type": "EH", "status": "ok"}),
        json!({"ip": "127.0.0.2", "radio_type": "TG", "status": "ok"}),
        json!({"ip": "127.0.0.3", "radio_type": null, "status": "refused"}),
        json!({"ip": "127.0.0.4", "radio_type": "EH", "status": "auth-failed"}),
        json!({"ip": "127.0.0.5", "status": "refused"}),
        json!({"ip": "127.0.0.6", "radio_type": "../../etc", "status": "ok"}),
    ];
    let out = batchsave(&["--by", "radio_type", "-n", "4", &arg], &ndjson(&input));
    assert!(out.status.success(), "{}", stderr(&out));
    let ips = |name: &str| -> Vec<String> {
        ndjson_file(&dir.join(name))
            .iter()
            .map(|v| v["ip"].as_str().expect("ip").to_owned())
            .collect()
    };
    assert_eq!(ips("batch-000001.EH.ndjson"), ["127.0.0.1", "127.0.0.4"]);
    assert_eq!(ips("batch-000001.TG.ndjson"), ["127.0.0.2"]);
    assert_eq!(ips("batch-000001.none.ndjson"), ["127.0.0.3"]);
    assert_eq!(ips("batch-000002.none.ndjson"), ["127.0.0.5"]);
    assert_eq!(
        ips("batch-000002.%2E%2E%2F%2E%2E%2Fetc.ndjson"),
        ["127.0.0.6"]
    );
    let (_, rows) = csv(&dir.join("batch-000001.EH.csv"));
    assert_eq!(rows.len(), 2);
    let manifest = manifest(&dir);
    let files = manifest["batches"][0]["files"].as_array().expect("files");
    let eh = files
        .iter()
        .find(|f| f["path"] == "batch-000001.EH.csv")
        .expect("listed");
    assert_eq!(eh["by"], "EH");
    assert_eq!(eh["statuses"], json!({"ok": 1, "auth-failed": 1}));
}

#[test]
fn json_format_is_one_array_per_file() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (dir, arg) = out_dir(&tmp);
    let input = records(5);
    let out = batchsave(&["--format", "json", "-n", "3", &arg], &ndjson(&input));
    assert!(out.status.success(), "{}", stderr(&out));
    let first: Value =
        serde_json::from_slice(&fs::read(dir.join("batch-000001.json")).expect("read"))
            .expect("JSON");
    let second: Value =
        serde_json::from_slice(&fs::read(dir.join("batch-000002.json")).expect("read"))
            .expect("JSON");
    assert_eq!(first, Value::Array(input[..3].to_vec()));
    assert_eq!(second, Value::Array(input[3..].to_vec()));
}

#[test]
fn bad_lines_go_to_rejects_with_their_line_numbers_and_the_exit_status_says_so() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (dir, arg) = out_dir(&tmp);
    let input = b"{\"ip\":\"127.0.0.1\",\"status\":\"ok\"}\nnot json\n\n[1,2]\n{\"ip\":\"127.0.0.2\",\"status\":\"ok\"}\n{\"truncated\":\n";
    let out = batchsave(&[&arg], input);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("<stdin>:2: rejected"),
        "{}",
        stderr(&out)
    );
    let rejects = ndjson_file(&dir.join("rejects.ndjson"));
    let lines: Vec<(u64, &str)> = rejects
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().expect("line"),
                r["text"].as_str().expect("text"),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [(2, "not json"), (4, "[1,2]"), (6, "{\"truncated\":")]
    );
    assert_eq!(manifest(&dir)["totals"]["rejects"], 3);
    assert_eq!(ndjson_file(&dir.join("batch-000001.ndjson")).len(), 2);

    let again = tmp.path().join("again");
    let out = batchsave(
        &["--allow-rejects", "-q", &again.display().to_string()],
        input,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn tee_copies_the_input_exactly() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (_, arg) = out_dir(&tmp);
    let input = b"{\"a\":1}\r\nnot json\n\n{\"b\":2}";
    let out = batchsave(&["--tee", "--allow-rejects", &arg], input);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, input);
}

#[test]
fn a_rerun_continues_the_numbering_and_never_overwrites() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (dir, arg) = out_dir(&tmp);
    for _ in 0..2 {
        let out = batchsave(&["-n", "2", "-q", &arg], &ndjson(&records(3)));
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let manifest = manifest(&dir);
    let numbers: Vec<u64> = manifest["batches"]
        .as_array()
        .expect("batches")
        .iter()
        .map(|b| b["batch"].as_u64().expect("number"))
        .collect();
    assert_eq!(numbers, [1, 2, 3, 4]);
    assert_eq!(manifest["totals"]["records"], 6);
    assert_eq!(ndjson_file(&dir.join("batch-000004.ndjson")).len(), 1);
}

#[test]
fn exec_runs_on_every_finished_file() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (dir, arg) = out_dir(&tmp);
    let log = tmp.path().join("hook.log");
    let hook = format!("wc -l < {{}} >> '{}'", log.display());
    let out = batchsave(
        &["-n", "2", "--format", "ndjson", "--exec", &hook, &arg],
        &ndjson(&records(3)),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let counts: Vec<String> = fs::read_to_string(&log)
        .expect("the hook ran")
        .lines()
        .map(|line| line.trim().to_owned())
        .collect();
    assert_eq!(counts, ["2", "1"]);
    assert!(dir.join("batch-000002.ndjson").exists());

    let out = batchsave(
        &[
            "--exec",
            "false",
            "-q",
            &tmp.path().join("o2").display().to_string(),
        ],
        &ndjson(&records(1)),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--exec on"), "{}", stderr(&out));
}

#[test]
fn an_output_directory_that_is_a_file_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let file = tmp.path().join("taken");
    fs::write(&file, "x").expect("written");
    let out = batchsave(&[&file.display().to_string()], &ndjson(&records(1)));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&file.display().to_string()),
        "{}",
        stderr(&out)
    );
    assert_eq!(fs::read(&file).expect("untouched"), b"x");

    let below = file.join("sub");
    let out = batchsave(&[&below.display().to_string()], &ndjson(&records(1)));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&below.display().to_string()),
        "{}",
        stderr(&out)
    );
}

#[test]
fn kill_9_during_a_large_run_leaves_only_whole_files_and_the_next_run_cleans_up() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (dir, arg) = out_dir(&tmp);
    let mut child = spawn(&["-n", "50", "--format", "csv,ndjson,json", &arg]);
    let mut stdin = child.stdin.take().expect("stdin");
    let chunk = ndjson(&records(50));
    // Feed until a few batches are on disk, then keep feeding while the process is killed.
    let writer = std::thread::spawn(move || {
        for _ in 0..2000 {
            if stdin.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    wait_for("some batches", || batches_listed(&dir) >= 5);
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    writer.join().expect("writer ends");

    let mut ndjson_batches = 0;
    let mut highest = 0;
    for name in names(&dir) {
        if let Some(number) = name.strip_prefix("batch-").and_then(|rest| rest.get(..6)) {
            highest = highest.max(number.parse::<u64>().expect("a batch number"));
        }
        let path = dir.join(&name);
        if name.starts_with('.') {
            assert!(name.ends_with(".batchsave-tmp"), "unexpected {name}");
        } else if name.ends_with(".ndjson") {
            assert_eq!(ndjson_file(&path).len(), 50, "{name} is whole");
            ndjson_batches += 1;
        } else if name.ends_with(".csv") {
            assert_eq!(csv(&path).1.len(), 50, "{name} is whole");
        } else if name.ends_with(".json") && name != "manifest.json" {
            let value: Value =
                serde_json::from_slice(&fs::read(&path).expect("read")).expect("whole JSON");
            assert_eq!(value.as_array().map(Vec::len), Some(50));
        }
    }
    let listed = manifest(&dir)["batches"].as_array().expect("batches").len();
    assert!(
        listed >= 5 && ndjson_batches >= listed,
        "{listed} listed, {ndjson_batches} on disk"
    );

    // The next run removes temporary files and numbers after everything on disk.
    let out = batchsave(&["-n", "50", &arg], &ndjson(&records(1)));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(names(&dir).iter().all(|name| !name.starts_with('.')));
    let manifest = manifest(&dir);
    let last = manifest["batches"]
        .as_array()
        .expect("batches")
        .last()
        .cloned()
        .expect("a batch");
    assert_eq!(last["batch"].as_u64(), Some(highest + 1));
}

/// The records sikprobe gives for the personas of reference Appendix A.
fn appendix_a_records() -> Vec<Record> {
    let ip = |last: u8| Some(std::net::IpAddr::from([127, 0, 0, last]));
    let identified = |last, status, radio, model: &str, name: &str, sw: &str, sn: &str| {
        let mut record = Record::new(ip(last), Some(22), status);
        record.radio_type = radio;
        record.model = Some(model.to_owned()).filter(|m| !m.is_empty());
        record.name = Some(name.to_owned()).filter(|n| !n.is_empty());
        record.sw = Some(sw.to_owned()).filter(|s| !s.is_empty());
        record.sn = Some(sn.to_owned()).filter(|s| !s.is_empty());
        record
    };
    let eh = Some(RadioType::Eh);
    let mut auth = identified(
        14,
        Status::AuthFailed,
        eh,
        "EH-1200F",
        "",
        "7.7.12-13214-f614d18",
        "F544140339",
    );
    auth.banner = Some("EH-1200F, S/N: F544140339, Ver: 7.7.12-13214-f614d18".into());
    auth.error = Some("authentication failed".into());
    let mut linux = Record::new(ip(15), Some(22), Status::NotSiklu);
    linux.prompt = Some("admin@host:~$".into());
    let mut refused = Record::new(ip(18), Some(22), Status::Refused);
    refused.error = Some("connection refused".into());
    let silent = Record::new(ip(19), Some(22), Status::NoSsh);
    // sikprobe keeps a quoted prompt's name without its quotes; batchscanner kept them.
    let mut roof = identified(
        17,
        Status::Ok,
        eh,
        "EH-710TX",
        "Roof North",
        "7.7.10-13186-d2f25a6",
        "T.BJF94A0015",
    );
    roof.prompt = Some("\"Roof North\">".into());
    let mut router = Record::new(ip(20), Some(22), Status::NotSiklu);
    router.banner = Some("Authorized access only".into());
    router.prompt = Some("Router>".into());
    vec![
        identified(
            10,
            Status::Ok,
            eh,
            "EH-710TX",
            "EH-710TX",
            "7.7.10-13186-d2f25a6",
            "T.BJF943017B",
        ),
        identified(
            11,
            Status::Ok,
            Some(RadioType::Bu),
            "MH-B100-CCS-PoE",
            "MH-B100",
            "2.0.5-4321-aa11bb2",
            "FB1234567",
        ),
        identified(
            12,
            Status::Ok,
            Some(RadioType::Tu),
            "MH-T200-CNN-PoE",
            "MH-T200",
            "2.0.5-4321-aa11bb2",
            "FT7654321",
        ),
        identified(
            13,
            Status::Ok,
            Some(RadioType::Tg),
            "MH-N366",
            "dn1",
            "",
            "",
        ),
        auth,
        linux,
        identified(
            16,
            Status::Ok,
            eh,
            "EH-710TX",
            "EH-8010FX",
            "7.7.10-13186-d2f25a6",
            "T.BJF943017B",
        ),
        roof,
        refused,
        silent,
        router,
    ]
}

const APPENDIX_A_SCAN: &str = "\
ip_addr,radio_type,model,name,sw,sn,last_non_cmd_error\r
127.0.0.10,EH,EH-710TX,EH-710TX,7.7.10-13186-d2f25a6,T.BJF943017B,\r
127.0.0.11,BU,MH-B100-CCS-PoE,MH-B100,2.0.5-4321-aa11bb2,FB1234567,\r
127.0.0.12,TU,MH-T200-CNN-PoE,MH-T200,2.0.5-4321-aa11bb2,FT7654321,\r
127.0.0.13,TG,MH-N366,dn1,,,\r
127.0.0.14,EH,EH-1200F,,7.7.12-13214-f614d18,F544140339,Authentication failed\r
127.0.0.15,,,,,,\r
127.0.0.16,EH,EH-710TX,EH-8010FX,7.7.10-13186-d2f25a6,T.BJF943017B,\r
127.0.0.17,EH,EH-710TX,\"\"\"Roof North\"\"\",7.7.10-13186-d2f25a6,T.BJF94A0015,\r
127.0.0.18,,,,,,Connection refused to port 22\r
127.0.0.19,,,,,,Unspecified SSH Error in connecting to device\r
127.0.0.20,,,,,,May not be a Siklu radio - prompt: 'Router>'\r
";

/// The one file in `dir` whose name ends with `suffix`.
fn legacy_file(dir: &Path, suffix: &str) -> PathBuf {
    let found: Vec<String> = names(dir)
        .into_iter()
        .filter(|n| n.ends_with(suffix))
        .collect();
    assert_eq!(found.len(), 1, "{suffix}: {found:?}");
    dir.join(&found[0])
}

#[test]
fn a_rerun_says_which_batches_the_directory_holds_and_where_it_continues() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (_, arg) = out_dir(&tmp);
    let first = batchsave(&["-n", "1", &arg], &ndjson(&records(3)));
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        !stderr(&first).contains("continuing"),
        "a new directory continues nothing: {}",
        stderr(&first)
    );
    let second = batchsave(&["-n", "1", &arg], &ndjson(&records(1)));
    assert!(second.status.success(), "{}", stderr(&second));
    let expected = format!("batchsave: {arg} holds batches 1\u{2013}3; continuing with batch 4");
    assert!(
        stderr(&second).lines().any(|line| line == expected),
        "no line {expected:?} in:\n{}",
        stderr(&second)
    );
    let third = batchsave(&["-q", &arg], &ndjson(&records(1)));
    assert!(third.status.success());
    assert_eq!(stderr(&third), "", "-q silences the note");
}

#[test]
fn the_batchscanner_layout_reproduces_appendix_a_byte_for_byte() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (dir, arg) = out_dir(&tmp);
    let input: Vec<Value> = appendix_a_records()
        .iter()
        .map(|record| serde_json::to_value(record).expect("serialisable"))
        .collect();
    let out = batchsave(&["--layout", "batchscanner", &arg], &ndjson(&input));
    assert!(out.status.success(), "{}", stderr(&out));
    let scan = legacy_file(&dir, "_scan_results.csv");
    assert_eq!(fs::read_to_string(&scan).expect("read"), APPENDIX_A_SCAN);
    // <YYYYmmdd_HHMMSS>_<batch>_scan_results.csv
    let name = scan
        .file_name()
        .expect("a name")
        .to_string_lossy()
        .into_owned();
    assert_eq!(name.len(), "20261121_050904_000001_scan_results.csv".len());
    assert!(name[16..].starts_with("000001_"), "{name}");
    // A scan action sends no commands: no command file.
    assert!(
        names(&dir)
            .iter()
            .all(|n| !n.ends_with("_cmds_results.csv"))
    );
}

#[test]
fn the_batchscanner_command_file_matches_the_reference_excerpt() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (dir, arg) = out_dir(&tmp);
    let command = |command: &str, ok, output: &str| CommandResult {
        command: command.into(),
        ok,
        output: output.into(),
        elapsed_ms: 5,
        exit_status: None,
        stderr: None,
        sent: true,
    };
    let mut eh = appendix_a_records().remove(0);
    eh.status = Status::CommandFailed;
    eh.commands = Some(vec![
        command("set system location London", true, "Set done: system"),
        command("bogus command", false, "Error: unknown command"),
        command("", true, ""),
    ]);
    let mut dn = appendix_a_records().remove(3);
    dn.commands = Some(vec![
        command(
            "show radio-common",
            true,
            "radio-bridge-tg-radio-common:radio-common {\n   node-config {\n      operation-mode DN;\n   }\n}",
        ),
        command(
            "bogus command",
            false,
            "CLI syntax error in: \"\": Unknown command",
        ),
    ]);
    let mut cn = Record::new(dn.ip, Some(22), Status::Ok);
    cn.radio_type = Some(RadioType::Tg);
    cn.name = Some("cn1".into());
    cn.parent = dn.ip;
    cn.route = Some("127.0.0.13: dn1 -> cn1".into());
    cn.commands = Some(vec![command("set system location London", true, "")]);
    let input: Vec<Value> = [eh, dn, cn]
        .iter()
        .map(|record| serde_json::to_value(record).expect("serialisable"))
        .collect();
    let out = batchsave(&["--layout", "batchscanner", &arg], &ndjson(&input));
    assert!(out.status.success(), "{}", stderr(&out));
    let cmds = fs::read_to_string(legacy_file(&dir, "_cmds_results.csv")).expect("read");
    assert_eq!(
        cmds,
        "target_id,command,success,response\r\n\
         127.0.0.10: EH-710TX,set system location London,True,Set done: system \r\n\
         127.0.0.10: EH-710TX,bogus command,False,Error: unknown command \r\n\
         127.0.0.10: EH-710TX,,True, \r\n\
         127.0.0.13: dn1,show radio-common,True,\"radio-bridge-tg-radio-common:radio-common {\r\n   no...\"\r\n\
         127.0.0.13: dn1,bogus command,False,\"CLI syntax error in: \"\"\"\": Unknown command \"\r\n\
         127.0.0.13: dn1 -> cn1,set system location London,True, \r\n"
    );
    // The client node has no scan row; the DN and the EH do.
    let (_, rows) = csv(&legacy_file(&dir, "_scan_results.csv"));
    assert_eq!(rows.len(), 2);
}

#[test]
fn a_closed_stdout_under_tee_is_a_clean_stop_that_saves_what_was_read() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (dir, arg) = out_dir(&tmp);
    let mut child = spawn(&["--tee", &arg]);
    // Like `| head` that has already exited.
    drop(child.stdout.take());
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(&ndjson(&records(10))).expect("written");
    let out = child.wait_with_output().expect("finishes");
    drop(stdin);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    let manifest = manifest(&dir);
    let batch = &manifest["batches"][0];
    assert_eq!(
        (batch["records"].as_u64(), batch["reason"].as_str()),
        (Some(10), Some("output-closed"))
    );
}

#[test]
fn a_write_failure_names_the_file_leaves_no_half_file_and_gives_the_lines_to_feed_again() {
    use std::os::unix::process::CommandExt;

    let tmp = tempfile::tempdir().expect("temp dir");
    let (dir, arg) = out_dir(&tmp);
    let mut command = Command::new(BATCHSAVE);
    command
        .args(["-n", "100", &arg])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // A full disk, without a disk: files may not grow past 64 KiB (EFBIG instead of SIGXFSZ).
    // SAFETY: between fork and exec the closure only calls async-signal-safe functions.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit {
                rlim_cur: 64 * 1024,
                rlim_max: 64 * 1024,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let mut child = command.spawn().expect("batchsave starts");
    let padding = "x".repeat(1000);
    let input: Vec<Value> = (0..300).map(|i| json!({"n": i, "pad": padding})).collect();
    let mut stdin = child.stdin.take().expect("stdin");
    // batchsave stops at the first batch; the rest of the input may meet a closed pipe.
    let _ = stdin.write_all(&ndjson(&input));
    drop(stdin);
    let out = child.wait_with_output().expect("finishes");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let message = stderr(&out);
    assert!(
        message.contains("batch 1 (input lines 1-100) was not saved"),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "writing {}",
            dir.join("batch-000001.csv").display()
        )),
        "{message}"
    );
    // Nothing half-written: no batch file, no temporary file.
    assert_eq!(names(&dir), Vec::<String>::new());
}
