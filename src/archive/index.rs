//! `index.tsv`: one line per archived radio, mapping its file to what the radio is, and when
//! its configuration last changed.
//!
//! Tab-separated, with a header line, in the order of [`Key`] (address numerically, port,
//! client node), so `git diff` of the index shows exactly the radios that changed and `cut`,
//! `awk` and `column -t` read it. Columns ([`COLUMNS`]): `file`, `ip`, `port`, `route`, `sn`,
//! `name`, `model`, `sw`, `radio_type`, `config_saved` (`true`, `false`, or empty when unknown:
//! `false` means the running configuration has changes that are not saved), and `changed` (RFC
//! 3339: when the archived configuration last changed). An unknown value is empty; a tab, a
//! line end or a backslash inside a value is written `\t`, `\n`, `\r`, `\\`.
//!
//! Nothing in a line changes unless the radio did: no "last read" time, so that a run that
//! finds every radio as it was commits nothing.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::name::{Key, node_of_route};

/// The index's file name in the archive.
pub const INDEX: &str = "index.tsv";

/// The header's columns, in order.
pub const COLUMNS: [&str; 11] = [
    "file",
    "ip",
    "port",
    "route",
    "sn",
    "name",
    "model",
    "sw",
    "radio_type",
    "config_saved",
    "changed",
];

/// One radio's line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Its configuration's file.
    pub file: String,
    /// The address.
    pub ip: IpAddr,
    /// The port.
    pub port: u16,
    /// A client node's route.
    pub route: Option<String>,
    /// Serial number.
    pub sn: Option<String>,
    /// System name.
    pub name: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Software version.
    pub sw: Option<String>,
    /// `EH`, `BU`, `TU`, `TG`.
    pub radio_type: Option<String>,
    /// Whether running equals startup.
    pub config_saved: Option<bool>,
    /// When the archived configuration last changed (RFC 3339).
    pub changed: String,
}

impl Row {
    /// The radio this line is about.
    pub fn key(&self) -> Key {
        Key {
            ip: self.ip,
            port: self.port,
            node: self.route.as_deref().map(node_of_route),
        }
    }

    /// The names of the columns, other than `changed`, whose values differ from `other`'s.
    pub fn differences(&self, other: &Row) -> Vec<&'static str> {
        let pairs: [(&'static str, bool); 9] = [
            ("file", self.file == other.file),
            ("route", self.route == other.route),
            ("sn", self.sn == other.sn),
            ("name", self.name == other.name),
            ("model", self.model == other.model),
            ("sw", self.sw == other.sw),
            ("radio_type", self.radio_type == other.radio_type),
            ("config_saved", self.config_saved == other.config_saved),
            ("port", self.port == other.port),
        ];
        pairs
            .into_iter()
            .filter(|(_, same)| !same)
            .map(|(name, _)| name)
            .collect()
    }
}

/// A line of the index that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{INDEX} line {line}: {reason}")]
pub struct BadIndex {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

/// The index's text for `rows`.
pub fn render<'a>(rows: impl IntoIterator<Item = &'a Row>) -> String {
    let mut text = COLUMNS.join("\t");
    text.push('\n');
    for row in rows {
        let saved = row.config_saved.map(|saved| saved.to_string());
        let port = row.port.to_string();
        let ip = row.ip.to_string();
        let cells: [Option<&str>; 11] = [
            Some(&row.file),
            Some(&ip),
            Some(&port),
            row.route.as_deref(),
            row.sn.as_deref(),
            row.name.as_deref(),
            row.model.as_deref(),
            row.sw.as_deref(),
            row.radio_type.as_deref(),
            saved.as_deref(),
            Some(&row.changed),
        ];
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                text.push('\t');
            }
            escape(cell.unwrap_or(""), &mut text);
        }
        text.push('\n');
    }
    text
}

/// Reads an index back, keyed by radio.
pub fn parse(text: &str) -> Result<BTreeMap<Key, Row>, BadIndex> {
    let mut rows = BTreeMap::new();
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header.split('\t').eq(COLUMNS) => {}
        Some(_) => {
            return Err(BadIndex {
                line: 1,
                reason: format!("the header is not '{}'", COLUMNS.join("\\t")),
            });
        }
        None => return Ok(rows),
    }
    for (i, line) in lines {
        let bad = |reason: String| BadIndex {
            line: i + 1,
            reason,
        };
        let cells: Vec<String> = line.split('\t').map(unescape).collect();
        let [
            file,
            ip,
            port,
            route,
            sn,
            name,
            model,
            sw,
            radio_type,
            saved,
            changed,
        ]: [String; 11] = cells.try_into().map_err(|cells: Vec<String>| {
            bad(format!("{} columns, not {}", cells.len(), COLUMNS.len()))
        })?;
        let opt = |cell: String| (!cell.is_empty()).then_some(cell);
        let row = Row {
            ip: ip
                .parse()
                .map_err(|_| bad(format!("'{ip}' is not an address")))?,
            port: port
                .parse()
                .map_err(|_| bad(format!("'{port}' is not a port")))?,
            config_saved: match saved.as_str() {
                "" => None,
                "true" => Some(true),
                "false" => Some(false),
                other => return Err(bad(format!("config_saved '{other}' is not true or false"))),
            },
            file,
            route: opt(route),
            sn: opt(sn),
            name: opt(name),
            model: opt(model),
            sw: opt(sw),
            radio_type: opt(radio_type),
            changed,
        };
        rows.insert(row.key(), row);
    }
    Ok(rows)
}

fn escape(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

fn unescape(cell: &str) -> String {
    let mut out = String::with_capacity(cell.len());
    let mut chars = cell.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ip: &str, route: Option<&str>, name: Option<&str>) -> Row {
        let key = Key::new(ip.parse().expect("ip"), Some(22), route);
        Row {
            file: key.file_name(),
            ip: key.ip,
            port: key.port,
            route: route.map(str::to_owned),
            sn: Some("F1".into()),
            name: name.map(str::to_owned),
            model: Some("EH-8010FX".into()),
            sw: Some("10.8.2".into()),
            radio_type: Some("EH".into()),
            config_saved: Some(false),
            changed: "2026-01-02T03:04:05Z".into(),
        }
    }

    #[test]
    fn rows_round_trip_escapes_included() {
        let rows = [
            row("10.0.0.9", None, Some("tab\there\nand \\ back")),
            row("10.0.0.9", Some("10.0.0.9: dn -> cn1"), None),
        ];
        let text = render(&rows);
        assert_eq!(text.lines().count(), 3);
        assert!(text.starts_with("file\tip\tport\troute\tsn\tname\t"));
        let back = parse(&text).expect("parses");
        let got: Vec<&Row> = back.values().collect();
        assert_eq!(got, [&rows[0], &rows[1]]);
    }

    #[test]
    fn a_bad_line_is_named() {
        let text = format!("{}\n10.0.0.1.cfg\tnot-an-ip\n", COLUMNS.join("\t"));
        let err = parse(&text).expect_err("bad");
        assert_eq!(err.line, 2);
        assert!(err.to_string().contains("11"), "{err}");
        let text = format!(
            "{}\nf\tnot-an-ip\t22\t\t\t\t\t\t\t\tx\n",
            COLUMNS.join("\t")
        );
        assert!(
            parse(&text)
                .expect_err("bad")
                .to_string()
                .contains("not-an-ip")
        );
    }
}
