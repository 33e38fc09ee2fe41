//! Which columns a native CSV file gets, and in what order.
//!
//! Without `--fields` the header is built from the file's records so that no field is lost,
//! but ordered for a person reading it in a spreadsheet: top-level fields first (for sikprobe
//! records, the identity: ip, port, status, error, radio_type, model, name, sw, sn, …), then
//! nested parsed fields (`show.*`), then each command's `command`, `ok` and `elapsed_ms`.
//! Raw device text (each command's `output` and `stderr`, the `config` and `startup_config`
//! of `-a backup`) runs to many lines and megabytes: it is left out of the CSV unless asked
//! for (`--csv-raw`, then last); the JSON and NDJSON files always keep it.

use std::collections::HashMap;

use super::flatten::{FlatRecord, KeyId};

/// Where a flattened name goes in a header built from the records, earliest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    /// A top-level field: the record's identity and core.
    TopLevel,
    /// A field of a nested object, such as `show.rf_rssi`.
    Nested,
    /// A command's own fields (`commands.N.command`, `.ok`, `.elapsed_ms`, `.exit_status`).
    Command,
    /// Raw device text, only with `--csv-raw`.
    Raw,
}

impl Place {
    fn of(name: &str) -> Place {
        if is_raw(name) {
            Place::Raw
        } else if !name.contains('.') {
            Place::TopLevel
        } else if name.starts_with("commands.") {
            Place::Command
        } else {
            Place::Nested
        }
    }
}

/// True for the flattened names that hold raw device text: `commands.N.output`,
/// `commands.N.stderr`, `config` and `startup_config`.
pub fn is_raw(name: &str) -> bool {
    if matches!(name, "config" | "startup_config") {
        return true;
    }
    let Some((index, field)) = name
        .strip_prefix("commands.")
        .and_then(|rest| rest.split_once('.'))
    else {
        return false;
    };
    !index.is_empty()
        && index.bytes().all(|b| b.is_ascii_digit())
        && matches!(field, "output" | "stderr")
}

/// The CSV columns of one file, and where each flattened name goes.
#[derive(Debug)]
pub struct Columns {
    header: Vec<String>,
    /// Column of each [`KeyId`]; `None` for names that are not a column of this file.
    column_of: Vec<Option<usize>>,
}

impl Columns {
    /// Every name of the records, raw text only when `raw` is set, ordered by [`Place`] and,
    /// within a place, in the order first seen.
    pub fn union<'a>(
        records: impl IntoIterator<Item = &'a FlatRecord>,
        names: &[Box<str>],
        raw: bool,
    ) -> Self {
        // Each name is placed once, the first time it is seen; later records only look it up.
        let mut placed: Vec<Option<Option<Place>>> = vec![None; names.len()];
        let mut seen: Vec<(Place, KeyId)> = Vec::new();
        for record in records {
            for cell in record.cells() {
                let (Some(slot), Some(name)) = (
                    placed.get_mut(cell.key as usize),
                    names.get(cell.key as usize),
                ) else {
                    continue;
                };
                if slot.is_none() {
                    let place = Place::of(name);
                    let kept = raw || place != Place::Raw;
                    *slot = Some(kept.then_some(place));
                    if kept {
                        seen.push((place, cell.key));
                    }
                }
            }
        }
        // A stable sort keeps the first-seen order within each place.
        seen.sort_by_key(|&(place, _)| place);
        let mut columns = Columns {
            header: Vec::with_capacity(seen.len()),
            column_of: vec![None; names.len()],
        };
        for (column, (_, key)) in seen.into_iter().enumerate() {
            columns.column_of[key as usize] = Some(column);
            columns.header.push(names[key as usize].to_string());
        }
        columns
    }

    /// Exactly the columns of `fields` (`--fields`), raw ones included when named; other
    /// names are left out.
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

    /// The header, one name per column.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The column of a flattened name, if it is one of this file's.
    pub fn column(&self, key: KeyId) -> Option<usize> {
        self.column_of.get(key as usize).copied().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_names_are_command_outputs_and_configurations_only() {
        for raw in [
            "commands.0.output",
            "commands.11.stderr",
            "config",
            "startup_config",
        ] {
            assert!(is_raw(raw), "{raw}");
        }
        for kept in [
            "commands.0.command",
            "commands.0.ok",
            "commands.x.output",
            "commands..output",
            "show.output",
            "output",
            "config_saved",
            "config_sha256",
            "show.config",
        ] {
            assert!(!is_raw(kept), "{kept}");
        }
    }
}
