//! The native batch formats: CSV (RFC 4180, flattened), JSON (one array) and NDJSON.
//!
//! JSON and NDJSON files hold the input lines exactly as read (they were checked to be JSON
//! objects), so nothing is reformatted or lost; CSV holds the flattened cells, each cut to
//! what a spreadsheet cell holds.

use std::borrow::Cow;
use std::io::{self, Write};

use clap::ValueEnum;

use super::columns::Columns;
use super::flatten::{CellKind, FlatRecord};

/// A native batch file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum)]
pub enum Format {
    /// RFC 4180 CSV (CRLF, minimal quoting), nested fields flattened with dotted names.
    Csv,
    /// One JSON array of the batch's records.
    Json,
    /// The batch's input lines, one JSON object per line.
    Ndjson,
}

impl Format {
    /// The file extension, which is also the name used in the manifest.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Ndjson => "ndjson",
        }
    }
}

/// Options for CSV cells.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvStyle {
    /// Prefix formula-looking cells with `'` (see [`excel_safe`]).
    pub excel_safe: bool,
}

/// Writes a CSV file: the header, then one row per record; a name a record lacks is empty,
/// and a cell longer than [`CELL_LIMIT`] is cut (see [`fit_cell`]).
pub fn write_csv<'a, W: Write>(
    out: W,
    records: impl IntoIterator<Item = &'a FlatRecord>,
    columns: &Columns,
    style: CsvStyle,
) -> io::Result<W> {
    let mut writer = csv_writer(out);
    let guard = |text: &'a str, kind: CellKind| -> Cow<'a, str> {
        if style.excel_safe {
            excel_safe(text, kind)
        } else {
            Cow::Borrowed(text)
        }
    };
    writer.write_record(
        columns
            .header()
            .iter()
            .map(|name| guard_owned(name, style.excel_safe)),
    )?;
    let mut row: Vec<Cow<'a, str>> = vec![Cow::Borrowed(""); columns.header().len()];
    for record in records {
        row.fill(Cow::Borrowed(""));
        for cell in record.cells() {
            if let Some(column) = columns.column(cell.key) {
                row[column] = fit_cell(guard(record.text(cell), cell.kind));
            }
        }
        writer.write_record(row.iter().map(|cell| cell.as_bytes()))?;
    }
    writer.into_inner().map_err(|err| err.into_error())
}

fn guard_owned(text: &str, excel: bool) -> String {
    if excel {
        excel_safe(text, CellKind::Text).into_owned()
    } else {
        text.to_owned()
    }
}

/// The CSV dialect of every CSV file batchsave writes: RFC 4180 (CRLF line ends, fields
/// quoted only when they hold a comma, a quote or a line break), which is also the dialect of
/// Python's `csv` module that batchscanner used.
pub fn csv_writer<W: Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(out)
}

/// The most characters a spreadsheet cell holds (Excel's limit, counted in UTF-16 units as
/// Excel counts them; LibreOffice's is larger).
pub const CELL_LIMIT: usize = 32_767;

/// Cuts a cell longer than [`CELL_LIMIT`] so that it fits, ending it with a marker that says
/// it was cut and how many characters it had: a spreadsheet would otherwise cut it silently,
/// or refuse the file.
pub fn fit_cell(text: Cow<'_, str>) -> Cow<'_, str> {
    // A UTF-16 unit takes at least one byte of UTF-8: a short enough text needs no count.
    if text.len() <= CELL_LIMIT || text.encode_utf16().count() <= CELL_LIMIT {
        return text;
    }
    let marker = format!(
        " [cut by batchsave: {} characters, more than a spreadsheet cell holds]",
        text.chars().count()
    );
    // The marker is ASCII: one UTF-16 unit per byte.
    let room = CELL_LIMIT - marker.len();
    let mut units = 0;
    let mut end = 0;
    for (at, c) in text.char_indices() {
        units += c.len_utf16();
        if units > room {
            break;
        }
        end = at + c.len_utf8();
    }
    Cow::Owned(format!("{}{marker}", &text[..end]))
}

/// Neutralises a cell a spreadsheet would run as a formula (CSV injection): text starting
/// with `=`, `+`, `-`, `@`, TAB or CR gets a leading `'`, as OWASP recommends. Numbers, and
/// text that is just a number such as `-43`, are left alone so they stay numbers.
pub fn excel_safe(text: &str, kind: CellKind) -> Cow<'_, str> {
    let risky = matches!(
        text.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    );
    if !risky || kind == CellKind::Number || is_plain_number(text) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(format!("'{text}"))
    }
}

fn is_plain_number(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
        && text.parse::<f64>().is_ok()
}

/// Writes the lines as one JSON array, one element per line.
pub fn write_json<'a, W: Write>(
    mut out: W,
    lines: impl IntoIterator<Item = &'a [u8]>,
) -> io::Result<W> {
    out.write_all(b"[\n")?;
    for (i, line) in lines.into_iter().enumerate() {
        if i > 0 {
            out.write_all(b",\n")?;
        }
        out.write_all(line)?;
    }
    out.write_all(b"\n]\n")?;
    Ok(out)
}

/// Writes the lines, each ended by a newline.
pub fn write_ndjson<'a, W: Write>(
    mut out: W,
    lines: impl IntoIterator<Item = &'a [u8]>,
) -> io::Result<W> {
    for line in lines {
        out.write_all(line)?;
        out.write_all(b"\n")?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::flatten::Flattener;

    fn flat(lines: &[&str]) -> (Vec<FlatRecord>, Vec<Box<str>>) {
        let mut flattener = Flattener::new();
        let records = lines
            .iter()
            .map(|line| flattener.flatten(line.as_bytes()).expect("valid object"))
            .collect();
        let mut names = Vec::new();
        for (id, name) in flattener.take_new_names() {
            assert_eq!(id as usize, names.len());
            names.push(name);
        }
        (records, names)
    }

    fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(bytes)
            .records()
            .map(|row| row.expect("valid CSV").iter().map(str::to_owned).collect())
            .collect()
    }

    #[test]
    fn union_header_keeps_every_column_in_first_seen_order() {
        let (records, names) = flat(&[r#"{"a":1,"b":2}"#, r#"{"c":3,"a":4}"#]);
        let columns = Columns::union(&records, &names, false);
        let bytes =
            write_csv(Vec::new(), &records, &columns, CsvStyle::default()).expect("written");
        assert_eq!(
            csv_rows(&bytes),
            [["a", "b", "c"], ["1", "2", ""], ["4", "", "3"]]
        );
        assert!(bytes.ends_with(b"\r\n"));
    }

    #[test]
    fn fixed_columns_drop_other_names_and_keep_missing_ones_empty() {
        let (records, names) = flat(&[r#"{"a":1,"b":2}"#]);
        let fields = vec!["b".to_owned(), "zz".to_owned()];
        let columns = Columns::fixed(&fields, &names);
        let bytes =
            write_csv(Vec::new(), &records, &columns, CsvStyle::default()).expect("written");
        assert_eq!(csv_rows(&bytes), [["b", "zz"], ["2", ""]]);
    }

    #[test]
    fn excel_safe_prefixes_formulas_but_not_numbers() {
        assert_eq!(excel_safe("=1+1", CellKind::Text), "'=1+1");
        assert_eq!(excel_safe("@SUM(A1)", CellKind::Text), "'@SUM(A1)");
        assert_eq!(excel_safe("+cmd", CellKind::Text), "'+cmd");
        assert_eq!(excel_safe("-2+3", CellKind::Text), "'-2+3");
        assert_eq!(excel_safe("-43", CellKind::Text), "-43");
        assert_eq!(excel_safe("-4.5e3", CellKind::Number), "-4.5e3");
        assert_eq!(excel_safe("-inf", CellKind::Text), "'-inf");
        assert_eq!(excel_safe("plain", CellKind::Text), "plain");
    }

    #[test]
    fn union_header_puts_top_level_then_nested_then_commands_and_drops_raw_text() {
        let (records, names) = flat(&[
            r#"{"ip":"127.0.0.1","commands":[{"command":"show rf","ok":true,"output":"rf\nup"}],"show":{"rf_oper":"up"},"config":"set x"}"#,
            r#"{"status":"ok","show":{"rssi":-40},"commands":[{"command":"ls","output":"","stderr":"e"}]}"#,
        ]);
        let header = |raw| Columns::union(&records, &names, raw).header().to_vec();
        assert_eq!(
            header(false),
            [
                "ip",
                "status",
                "show.rf_oper",
                "show.rssi",
                "commands.0.command",
                "commands.0.ok"
            ]
        );
        assert_eq!(
            header(true)[6..],
            ["commands.0.output", "config", "commands.0.stderr"]
        );
    }

    #[test]
    fn cells_over_the_spreadsheet_limit_are_cut_with_a_marker_that_says_how_long() {
        assert_eq!(fit_cell(Cow::Borrowed("short")), "short");
        let exact = "x".repeat(CELL_LIMIT);
        assert!(matches!(fit_cell(Cow::Borrowed(&exact)), Cow::Borrowed(_)));
        // 'é' is two bytes of UTF-8 but one UTF-16 unit: it fits though its bytes do not.
        let wide = "é".repeat(CELL_LIMIT);
        assert_eq!(fit_cell(Cow::Borrowed(&wide)), wide.as_str());

        let long = "ab\n".repeat(20_000);
        let cut = fit_cell(Cow::Borrowed(&long));
        assert_eq!(cut.encode_utf16().count(), CELL_LIMIT);
        let marker = " [cut by batchsave: 60000 characters, more than a spreadsheet cell holds]";
        assert!(cut.ends_with(marker), "{}", &cut[cut.len() - 100..]);
        assert!(long.starts_with(&cut[..cut.len() - marker.len()]));

        // Characters outside the BMP count twice, and are never split.
        let emoji = "😀".repeat(20_000);
        let cut = fit_cell(Cow::Borrowed(&emoji));
        assert!(cut.encode_utf16().count() <= CELL_LIMIT);
        assert!(cut.ends_with(
            " [cut by batchsave: 20000 characters, more than a spreadsheet cell holds]"
        ));
    }

    #[test]
    fn json_is_one_array_of_the_lines() {
        let lines: [&[u8]; 2] = [b"{\"a\":1}", b"{\"b\":[2]}"];
        let bytes = write_json(Vec::new(), lines).expect("written");
        let value: serde_json::Value = serde_json::from_slice(&bytes).expect("valid JSON");
        assert_eq!(value, serde_json::json!([{"a": 1}, {"b": [2]}]));
    }
}
