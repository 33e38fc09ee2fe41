//! The native batch formats: CSV (RFC 4180, flattened), JSON (one array) and NDJSON.
//!
//! JSON and NDJSON files hold the input lines exactly as read (they were checked to be JSON
//! objects), so nothing is reformatted or lost; CSV holds the flattened cells.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{self, Write};

use clap::ValueEnum;

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

/// The CSV columns of one file, and where each flattened name goes.
#[derive(Debug)]
pub struct Columns {
    header: Vec<String>,
    /// Column of each [`KeyId`](super::flatten::KeyId); `None` for names that are not a column of this file.
    column_of: Vec<Option<usize>>,
}

impl Columns {
    /// The union of the records' names, in the order they are first seen.
    pub fn union<'a>(
        records: impl IntoIterator<Item = &'a FlatRecord>,
        names: &[Box<str>],
    ) -> Self {
        let mut columns = Columns {
            header: Vec::new(),
            column_of: vec![None; names.len()],
        };
        for record in records {
            for cell in record.cells() {
                let (Some(slot), Some(name)) = (
                    columns.column_of.get_mut(cell.key as usize),
                    names.get(cell.key as usize),
                ) else {
                    continue;
                };
                if slot.is_none() {
                    *slot = Some(columns.header.len());
                    columns.header.push(name.to_string());
                }
            }
        }
        columns
    }

    /// Exactly the columns of `fields` (`--fields`); other names are left out.
    pub fn fixed(fields: &[String], names: &[Box<str>]) -> Self {
        let position: HashMap<&str, usize> = fields
            .iter()
            .enumerate()
            .map(|(i, field)| (field.as_str(), i))
            .collect();
        Columns {
            header: fields.to_vec(),
            column_of: names
                .iter()
                .map(|name| position.get(name.as_ref()).copied())
                .collect(),
        }
    }
}

/// Options for CSV cells.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvStyle {
    /// Prefix formula-looking cells with `'` (see [`excel_safe`]).
    pub excel_safe: bool,
}

/// Writes a CSV file: the header, then one row per record; a name a record lacks is empty.
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
            .header
            .iter()
            .map(|name| guard_owned(name, style.excel_safe)),
    )?;
    let mut row: Vec<Cow<'a, str>> = vec![Cow::Borrowed(""); columns.header.len()];
    for record in records {
        row.fill(Cow::Borrowed(""));
        for cell in record.cells() {
            if let Some(Some(column)) = columns.column_of.get(cell.key as usize) {
                row[*column] = guard(record.text(cell), cell.kind);
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
        let columns = Columns::union(&records, &names);
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
    fn json_is_one_array_of_the_lines() {
        let lines: [&[u8]; 2] = [b"{\"a\":1}", b"{\"b\":[2]}"];
        let bytes = write_json(Vec::new(), lines).expect("written");
        let value: serde_json::Value = serde_json::from_slice(&bytes).expect("valid JSON");
        assert_eq!(value, serde_json::json!([{"a": 1}, {"b": [2]}]));
    }
}
