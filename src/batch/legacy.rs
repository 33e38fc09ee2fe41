//! `--layout batchscanner`: the files batchscanner 0.1.7 wrote after each batch, rebuilt from
//! records, so existing spreadsheets and scripts keep working.
//!
//! Same columns, same dialect (CSV with CRLF for the scan, command and EH/BU/TU files; `\n`
//! for the TG files), and the same `last_non_cmd_error` strings, derived from the record's
//! status. What batchscanner got wrong is not copied: every file has its header and every
//! column (batchscanner lost `last_non_cmd_error` when the first radio lacked it, and wrote no
//! TG header when the first radio's section was empty), and TG values are quoted when needed.

use std::fmt::Write as _;
use std::io;

use serde_json::Value;

use super::formats::csv_writer;
use crate::record::{CommandResult, RadioType, Record, Status};
// The TG files' columns after `date,route,name` are the TG parser's labels, so the files and
// the records cannot drift apart.
use crate::parse::tg::SECTIONS as TG_SECTIONS;

/// Columns of `<prefix>_scan_results.csv`.
const SCAN_COLUMNS: [&str; 7] = [
    "ip_addr",
    "radio_type",
    "model",
    "name",
    "sw",
    "sn",
    "last_non_cmd_error",
];

/// Columns of `<prefix>_cmds_results.csv`.
const CMDS_COLUMNS: [&str; 4] = ["target_id", "command", "success", "response"];

/// batchscanner cut command responses to this many characters, then appended `...`.
const RESPONSE_CHARS: usize = 50;

/// The `show` fields every EH/BU/TU file starts with, after `ip_addr`.
const SHOW_SYSTEM: [&str; 9] = [
    "system_descrip",
    "system_name",
    "system_location",
    "system_date",
    "system_time",
    "system_up_days",
    "sw_active",
    "sw_offline",
    "inventory_sn",
];

const SHOW_EH_RF: [&str; 7] = [
    "rf_oper",
    "rf_cinr",
    "rf_rssi",
    "rf_freq",
    "rf_mode",
    "rfdebug_ptx",
    "rfdebug_distance",
];

const SHOW_LOGS: [&str; 3] = ["lldp_remote", "events_log", "user_activity_log"];

const SHOW_TU: [&str; 7] = [
    "tu_mac",
    "tu_status",
    "tu_bu_mac",
    "tu_tx_msc",
    "tu_rssi",
    "tu_sig_quality",
    "tu_connect_days",
];

const RTU_FIELDS: [&str; 7] = [
    "mac",
    "status",
    "assoc",
    "tx_msc",
    "rssi",
    "sig_quality",
    "connect_days",
];

/// One legacy file of a batch, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyFile {
    /// The name after `<YYYYmmdd_HHMMSS>_<batch>_`, such as `scan_results.csv`.
    pub suffix: String,
    /// Data rows (the header not counted).
    pub rows: u64,
    /// The file's bytes.
    pub content: Vec<u8>,
}

/// Renders a batch's legacy files; `stamp` is the write time as `YYYYmmdd_HHMMSS` (the TG
/// files' `date` column). Files without rows are left out, as batchscanner did.
pub fn render(records: &[&Record], stamp: &str) -> io::Result<Vec<LegacyFile>> {
    let mut files = Vec::new();

    let scan = records.iter().filter(|record| has_scan_row(record));
    files.push(crlf_file(
        "scan_results.csv",
        &SCAN_COLUMNS,
        scan.map(|r| scan_row(r)),
    )?);

    let cmds = records.iter().flat_map(|record| {
        let target = target_id(record);
        record
            .commands
            .iter()
            .flatten()
            .map(move |command| command_row(&target, command))
    });
    files.push(crlf_file("cmds_results.csv", &CMDS_COLUMNS, cmds)?);

    for radio in [RadioType::Eh, RadioType::Bu, RadioType::Tu] {
        let columns = show_columns(radio);
        let rows = records
            .iter()
            .filter(|record| record.radio_type == Some(radio))
            .filter_map(|record| Some((record, record.show.as_ref()?)))
            .map(|(record, show)| {
                let mut row = vec![ip_text(record)];
                row.extend(
                    columns[1..]
                        .iter()
                        .map(|field| python_str(show.get(field.as_str()))),
                );
                row
            });
        let suffix = format!("show_{}.csv", radio.as_str().to_lowercase());
        files.push(crlf_file(&suffix, &columns, rows)?);
    }

    for (section, labels) in TG_SECTIONS {
        let rows = records
            .iter()
            .filter(|record| record.radio_type == Some(RadioType::Tg))
            .filter_map(|record| Some((record, record.show.as_ref()?.get(section)?)))
            .flat_map(|(record, rows)| {
                let route = target_id(record);
                let name = record.name.clone().unwrap_or_default();
                section_rows(rows).into_iter().map(move |row| {
                    let mut cells = vec![stamp.to_owned(), route.clone(), name.clone()];
                    cells.extend(labels.iter().map(|label| python_str(row.get(*label))));
                    cells
                })
            });
        let mut columns = vec!["date", "route", "name"];
        columns.extend_from_slice(labels);
        files.push(lf_file(&format!("show_tg_{section}.csv"), &columns, rows)?);
    }

    files.retain(|file| file.rows > 0);
    Ok(files)
}

/// batchscanner wrote a scan row per address it tried: not for client nodes reached through
/// a DN (they appear in the TG and command files), nor for lines it skipped.
fn has_scan_row(record: &Record) -> bool {
    record.parent.is_none() && !matches!(record.status, Status::InvalidInput | Status::Skipped)
}

fn scan_row(record: &Record) -> Vec<String> {
    vec![
        ip_text(record),
        record
            .radio_type
            .map(|radio| radio.as_str().to_owned())
            .unwrap_or_default(),
        record.model.clone().unwrap_or_default(),
        batchscanner_name(record),
        record.sw.clone().unwrap_or_default(),
        record.sn.clone().unwrap_or_default(),
        last_non_cmd_error(record),
    ]
}

/// batchscanner's `last_non_cmd_error` for the record's status (reference §2.3–§2.5).
///
/// Statuses batchscanner had no error for give what it wrote in that situation: nothing for a
/// prompt that never came (it carried on without one) and for command errors (they are not
/// "non-command" errors); the record's own error for a deadline, which batchscanner lacked.
pub fn last_non_cmd_error(record: &Record) -> String {
    let port = record.port.unwrap_or(22);
    let banner = record.banner.as_deref().unwrap_or("").trim();
    match record.status {
        Status::Ok | Status::CommandFailed | Status::PromptTimeout => String::new(),
        // A banner that names no model overwrote the authentication error.
        Status::AuthFailed if record.model.is_none() && !banner.is_empty() => {
            format!("May not be a Siklu radio - banner: '{banner}'")
        }
        Status::AuthFailed => "Authentication failed".into(),
        // paramiko raised the same exception for ECONNREFUSED and EHOSTUNREACH.
        Status::Refused | Status::Unreachable => format!("Connection refused to port {port}"),
        // The leading space is what batchscanner wrote; scripts compare against it.
        Status::ConnectTimeout => " Socket timeout".into(),
        Status::NoSsh | Status::HandshakeFailed => {
            "Unspecified SSH Error in connecting to device".into()
        }
        Status::NotSiklu => not_siklu_error(record, banner),
        Status::IoError => "Connection found to be unexpectedly disconnected".into(),
        Status::Deadline
        | Status::InvalidInput
        | Status::Skipped
        | Status::Interrupted
        | Status::Reverted
        | Status::Unconfirmed => record.error.clone().unwrap_or_default(),
    }
}

/// A prompt in the `name>` form wins over the banner (the last message batchscanner set); a
/// shell with neither (a Linux host) gave no error at all.
fn not_siklu_error(record: &Record, banner: &str) -> String {
    if record.model.is_some() {
        return String::new();
    }
    match record.prompt.as_deref().map(str::trim) {
        Some(prompt) if prompt.ends_with('>') => {
            format!("May not be a Siklu radio - prompt: '{prompt}'")
        }
        _ if !banner.is_empty() => format!("May not be a Siklu radio - banner: '{banner}'"),
        _ => String::new(),
    }
}

/// The name as batchscanner wrote it: taken from a quoted prompt (`"Roof North">`) it kept its
/// quotes, which a record's `name` may or may not have.
fn batchscanner_name(record: &Record) -> String {
    let name = record.name.as_deref().unwrap_or_default();
    let quoted_prompt = record
        .prompt
        .as_deref()
        .is_some_and(|prompt| prompt.trim_start().starts_with('"'));
    if quoted_prompt && !name.is_empty() && !name.starts_with('"') {
        format!("\"{name}\"")
    } else {
        name.to_owned()
    }
}

/// `"<ip>: <name>"`, or the route of a client node reached through a DN.
fn target_id(record: &Record) -> String {
    match &record.route {
        Some(route) => route.clone(),
        None => format!("{}: {}", ip_text(record), batchscanner_name(record)),
    }
}

fn command_row(target: &str, command: &CommandResult) -> Vec<String> {
    vec![
        target.to_owned(),
        command.command.clone(),
        if command.ok { "True" } else { "False" }.to_owned(),
        response(command),
    ]
}

/// The response as batchscanner processed it: device line ends (CRLF), stripped, one trailing
/// space ('' only when nothing came back), cut to 50 characters plus `...`.
fn response(command: &CommandResult) -> String {
    let text = command.output.trim();
    if text.is_empty() && !command.ok {
        return String::new();
    }
    let mut processed = String::with_capacity(text.len() + 8);
    let mut previous = '\0';
    for c in text.chars() {
        if c == '\n' && previous != '\r' {
            processed.push('\r');
        }
        processed.push(c);
        previous = c;
    }
    processed.push(' ');
    match processed.char_indices().nth(RESPONSE_CHARS) {
        Some((cut, _)) => {
            processed.truncate(cut);
            processed.push_str("...");
            processed
        }
        None => processed,
    }
}

fn show_columns(radio: RadioType) -> Vec<String> {
    let mut columns = vec!["ip_addr".to_owned()];
    columns.extend(SHOW_SYSTEM.iter().map(|s| s.to_string()));
    let ports = if radio == RadioType::Eh { 4 } else { 3 };
    if radio == RadioType::Eh {
        columns.extend(SHOW_EH_RF.iter().map(|s| s.to_string()));
    }
    for port in 1..=ports {
        for field in ["oper", "speed", "last_change"] {
            columns.push(format!("eth{port}_{field}"));
        }
    }
    columns.extend(SHOW_LOGS.iter().map(|s| s.to_string()));
    match radio {
        RadioType::Bu => {
            columns.extend(["bu_mac", "bu_freq", "bu_guest"].map(String::from));
            for rtu in 1..=8 {
                for field in RTU_FIELDS {
                    columns.push(format!("rtu{rtu}_{field}"));
                }
            }
        }
        RadioType::Tu => columns.extend(SHOW_TU.iter().map(|s| s.to_string())),
        RadioType::Eh | RadioType::Tg => {}
    }
    columns
}

/// A TG section: a list of rows, or a single row.
fn section_rows(section: &Value) -> Vec<&serde_json::Map<String, Value>> {
    match section {
        Value::Array(rows) => rows.iter().filter_map(Value::as_object).collect(),
        Value::Object(row) => vec![row],
        _ => Vec::new(),
    }
}

/// A value as Python's `str()` printed it into batchscanner's files; null and missing print
/// as an empty cell (Python's `None` never reached a scan or show file).
fn python_str(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::Bool(true)) => "True".into(),
        Some(Value::Bool(false)) => "False".into(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

fn ip_text(record: &Record) -> String {
    record.ip.map(|ip| ip.to_string()).unwrap_or_default()
}

fn crlf_file<C: AsRef<str>>(
    suffix: &str,
    columns: &[C],
    rows: impl Iterator<Item = Vec<String>>,
) -> io::Result<LegacyFile> {
    write_file(suffix, columns, rows, csv_writer(Vec::new()))
}

/// batchscanner wrote the TG files with `\n` line ends.
fn lf_file(
    suffix: &str,
    columns: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> io::Result<LegacyFile> {
    let writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    write_file(suffix, columns, rows, writer)
}

fn write_file<C: AsRef<str>>(
    suffix: &str,
    columns: &[C],
    rows: impl Iterator<Item = Vec<String>>,
    mut writer: csv::Writer<Vec<u8>>,
) -> io::Result<LegacyFile> {
    writer.write_record(columns.iter().map(AsRef::as_ref))?;
    let mut count = 0;
    for row in rows {
        writer.write_record(&row)?;
        count += 1;
    }
    let content = writer.into_inner().map_err(|err| err.into_error())?;
    Ok(LegacyFile {
        suffix: suffix.to_owned(),
        rows: count,
        content,
    })
}

/// The name of a legacy file: batchscanner's `<YYYYmmdd_HHMMSS>_<file>`, with the batch number
/// after the time so that batches closed in the same second never overwrite each other.
pub fn file_name(stamp: &str, batch: u64, suffix: &str) -> String {
    let mut name = String::with_capacity(stamp.len() + suffix.len() + 10);
    let _ = write!(name, "{stamp}_{batch:06}_{suffix}");
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(json: &str) -> Record {
        serde_json::from_str(json).expect("a valid record")
    }

    fn command(output: &str, ok: bool) -> CommandResult {
        CommandResult {
            command: "c".into(),
            ok,
            output: output.into(),
            elapsed_ms: 1,
            exit_status: None,
            stderr: None,
            sent: true,
        }
    }

    #[test]
    fn responses_are_cut_like_batchscanner_cut_them() {
        assert_eq!(
            response(&command("Set done: system\n", true)),
            "Set done: system "
        );
        assert_eq!(response(&command("", true)), " ");
        assert_eq!(response(&command("", false)), "");
        assert_eq!(
            response(&command(
                "radio-bridge-tg-radio-common:radio-common {\n   node-config {\n",
                true
            )),
            "radio-bridge-tg-radio-common:radio-common {\r\n   no..."
        );
        let exactly_fifty = "x".repeat(49);
        assert_eq!(
            response(&command(&exactly_fifty, true)),
            format!("{exactly_fifty} ")
        );
    }

    #[test]
    fn errors_follow_the_status() {
        let cases = [
            (
                r#"{"status":"auth-failed","model":"EH-1200F","banner":"EH-1200F, S/N: F5, Ver: 7"}"#,
                "Authentication failed",
            ),
            (
                r#"{"status":"auth-failed","banner":"Authorized access only"}"#,
                "May not be a Siklu radio - banner: 'Authorized access only'",
            ),
            (
                r#"{"status":"refused","port":2222}"#,
                "Connection refused to port 2222",
            ),
            (r#"{"status":"connect-timeout"}"#, " Socket timeout"),
            (
                r#"{"status":"handshake-failed"}"#,
                "Unspecified SSH Error in connecting to device",
            ),
            (r#"{"status":"not-siklu","prompt":"admin@host:~$"}"#, ""),
            (
                r#"{"status":"not-siklu","prompt":"Router>","banner":"Hi"}"#,
                "May not be a Siklu radio - prompt: 'Router>'",
            ),
            (
                r#"{"status":"deadline","error":"deadline of 30s reached"}"#,
                "deadline of 30s reached",
            ),
            (
                r#"{"status":"command-failed","error":"1 command failed"}"#,
                "",
            ),
        ];
        for (json, expected) in cases {
            assert_eq!(last_non_cmd_error(&record(json)), expected, "{json}");
        }
    }

    #[test]
    fn names_from_quoted_prompts_get_their_quotes_back() {
        let bare = record(r#"{"status":"ok","name":"Roof North","prompt":"\"Roof North\">"}"#);
        let quoted =
            record(r#"{"status":"ok","name":"\"Roof North\"","prompt":"\"Roof North\">"}"#);
        let plain = record(r#"{"status":"ok","name":"EH-710TX","prompt":"EH-710TX>"}"#);
        assert_eq!(batchscanner_name(&bare), "\"Roof North\"");
        assert_eq!(batchscanner_name(&quoted), "\"Roof North\"");
        assert_eq!(batchscanner_name(&plain), "EH-710TX");
    }

    #[test]
    fn show_columns_match_batchscanner() {
        assert_eq!(show_columns(RadioType::Eh).len(), 32);
        assert_eq!(show_columns(RadioType::Bu).len(), 22 + 3 + 8 * 7);
        assert_eq!(show_columns(RadioType::Tu).len(), 22 + 7);
        assert_eq!(
            show_columns(RadioType::Bu)[25..27],
            ["rtu1_mac", "rtu1_status"]
        );
        assert_eq!(
            show_columns(RadioType::Tu).last().map(String::as_str),
            Some("tu_connect_days")
        );
    }

    #[test]
    fn tg_sections_become_lf_files_with_date_route_and_name() {
        let dn = record(
            r#"{"ip":"127.0.0.13","status":"ok","radio_type":"TG","name":"dn1",
                "show":{"interfaces":[{"port":"eth1","status":"up","dup":"FD","speed":"1Gbps"}],
                        "node":{"popdn":false,"sync":"gps","mode":"DN","sched":"Long","ptx":"auto","freq":60480,"pol":"even","gol":"1|1"},
                        "system":[{"product":"MH-N366","location":"London, Main St"}]}}"#,
        );
        let cn = record(
            r#"{"ip":"127.0.0.13","status":"ok","radio_type":"TG","name":"cn1","parent":"127.0.0.13",
                "route":"127.0.0.13: dn1 -> cn1","show":{"interfaces":[{"port":"eth1","status":"up"}]}}"#,
        );
        let files = render(&[&dn, &cn], "20261121_050904").expect("rendered");
        let names: Vec<&str> = files.iter().map(|f| f.suffix.as_str()).collect();
        assert_eq!(
            names,
            [
                "scan_results.csv",
                "show_tg_interfaces.csv",
                "show_tg_node.csv",
                "show_tg_system.csv"
            ]
        );
        assert_eq!(
            String::from_utf8_lossy(&files[1].content),
            "date,route,name,port,status,dup,speed\n\
             20261121_050904,127.0.0.13: dn1,dn1,eth1,up,FD,1Gbps\n\
             20261121_050904,127.0.0.13: dn1 -> cn1,cn1,eth1,up,,\n"
        );
        assert!(
            String::from_utf8_lossy(&files[2].content)
                .contains(",False,gps,DN,Long,auto,60480,even,1|1\n")
        );
        assert!(String::from_utf8_lossy(&files[3].content).contains(",\"London, Main St\","));
        // The client node has no scan row of its own.
        assert_eq!(files[0].rows, 1);
    }
}
