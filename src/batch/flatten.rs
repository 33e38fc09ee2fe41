//! One JSON object → a flat row of `(dotted name, text)` cells, in document order.
//!
//! Nested objects give dotted names (`show.rf_status`); arrays whose elements are all scalars
//! become one cell joined with `;` (`parse_warnings` → `rf_cinr;rf_rssi`); arrays holding an
//! object or an array are indexed (`commands.0.output`). An empty object or array, and null,
//! give an empty cell, so the column still exists: schema-stable input gives schema-stable CSV.
//!
//! The object is flattened while it is parsed, without building a `serde_json::Value` tree:
//! the cells' text lives in one string per record and names are interned, so a record costs a
//! handful of allocations whatever its size.

use std::collections::HashMap;
use std::fmt;
use std::fmt::Write as _;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::error::Category;

/// Where a name is kept: a small integer per distinct dotted name.
pub type KeyId = u32;

/// What JSON value a cell came from (matters for `--excel-safe`, which leaves numbers alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    /// A string, or several scalars joined with `;`.
    Text,
    /// A JSON number.
    Number,
    /// `true` or `false`.
    Bool,
    /// null, `{}` or `[]`: an empty cell.
    Empty,
}

/// One cell of a flattened record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    /// The interned dotted name.
    pub key: KeyId,
    /// What the text came from.
    pub kind: CellKind,
    start: usize,
    end: usize,
}

/// A flattened record: its cells in document order and their text.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FlatRecord {
    text: String,
    cells: Vec<Cell>,
}

impl FlatRecord {
    /// The cells, in document order (a name may repeat if the object repeats a key).
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    /// The text of one of this record's cells.
    pub fn text(&self, cell: &Cell) -> &str {
        &self.text[cell.start..cell.end]
    }

    /// The last cell named `key`, if any (the last one wins, as in a JSON object).
    pub fn get(&self, key: KeyId) -> Option<&Cell> {
        self.cells.iter().rev().find(|cell| cell.key == key)
    }
}

/// Why a line could not be flattened.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct FlattenError {
    message: String,
}

impl FlattenError {
    fn from_json(err: &serde_json::Error) -> Self {
        // serde_json says "at line 1 column N" for a single line; the line number that matters
        // is the input's, which the caller reports, so keep only the column.
        let full = err.to_string();
        let position = format!(" at line {} column {}", err.line(), err.column());
        let message = match full.strip_suffix(&position) {
            Some(message) if err.column() == 0 => message.to_owned(),
            Some(message) => format!("{message} at column {}", err.column()),
            None => full,
        };
        let message = match err.classify() {
            Category::Syntax | Category::Eof => format!("invalid JSON: {message}"),
            Category::Data | Category::Io => message,
        };
        FlattenError { message }
    }
}

/// Flattens records and interns their dotted names.
///
/// Names are numbered in the order they are first seen; [`Flattener::take_new_names`] hands the
/// new ones to whoever needs the name of a [`KeyId`].
#[derive(Debug, Default)]
pub struct Flattener {
    ids: HashMap<Box<str>, KeyId>,
    names: Vec<Box<str>>,
    new_names: Vec<(KeyId, Box<str>)>,
    path: String,
    /// The names of the previous record's cells, in order, and of this one's so far: records
    /// of a stream mostly share their shape, so the name at the same position is compared
    /// before any hashing.
    previous: Vec<KeyId>,
    current: Vec<KeyId>,
}

impl Flattener {
    /// An empty flattener.
    pub fn new() -> Self {
        Self::default()
    }

    /// The id of a dotted name, interning it if it is new.
    pub fn intern(&mut self, name: &str) -> KeyId {
        match self.ids.get(name) {
            Some(&id) => id,
            None => self.insert(name.into()),
        }
    }

    /// The id of the name being built in `path` (no allocation when the name is known).
    fn intern_path(&mut self) -> KeyId {
        let guess = self.previous.get(self.current.len()).copied();
        let id = match guess {
            Some(id)
                if self.names.get(id as usize).map(AsRef::as_ref) == Some(self.path.as_str()) =>
            {
                id
            }
            _ => match self.ids.get(self.path.as_str()) {
                Some(&id) => id,
                None => self.insert(self.path.as_str().into()),
            },
        };
        self.current.push(id);
        id
    }

    fn insert(&mut self, name: Box<str>) -> KeyId {
        // More than 4 billion distinct names cannot fit in memory anyway.
        let id = KeyId::try_from(self.ids.len()).unwrap_or(KeyId::MAX);
        self.ids.insert(name.clone(), id);
        self.names.push(name.clone());
        self.new_names.push((id, name));
        id
    }

    /// The names interned since the last call, with their ids, in id order.
    pub fn take_new_names(&mut self) -> Vec<(KeyId, Box<str>)> {
        std::mem::take(&mut self.new_names)
    }

    /// Parses one line that must hold exactly one JSON object, and flattens it.
    pub fn flatten(&mut self, line: &[u8]) -> Result<FlatRecord, FlattenError> {
        // One UTF-8 check of the whole line is cheaper than one per string.
        let line = std::str::from_utf8(line).map_err(|err| FlattenError {
            message: format!("invalid UTF-8 at column {}", err.valid_up_to() + 1),
        })?;
        let mut record = FlatRecord {
            text: String::with_capacity(line.len()),
            cells: Vec::with_capacity(self.previous.len()),
        };
        self.path.clear();
        self.current.clear();
        let mut de = serde_json::Deserializer::from_str(line);
        let state = State {
            flattener: self,
            out: &mut record,
        };
        let parsed = de
            .deserialize_map(ObjectVisitor { state, top: true })
            .and_then(|()| de.end());
        std::mem::swap(&mut self.previous, &mut self.current);
        match parsed {
            Ok(()) => Ok(record),
            Err(err) => Err(FlattenError::from_json(&err)),
        }
    }
}

/// What the visitors write into.
struct State<'a> {
    flattener: &'a mut Flattener,
    out: &'a mut FlatRecord,
}

impl State<'_> {
    fn reborrow(&mut self) -> State<'_> {
        State {
            flattener: self.flattener,
            out: self.out,
        }
    }

    /// Adds a cell named by the current path whose text was appended from `start`.
    fn finish_cell(&mut self, kind: CellKind, start: usize) {
        let key = self.flattener.intern_path();
        self.out.cells.push(Cell {
            key,
            kind,
            start,
            end: self.out.text.len(),
        });
    }

    fn scalar(&mut self, kind: CellKind, text: impl fmt::Display) {
        let start = self.out.text.len();
        // Writing into a String cannot fail.
        let _ = write!(self.out.text, "{text}");
        self.finish_cell(kind, start);
    }

    fn str(&mut self, text: &str) {
        let start = self.out.text.len();
        self.out.text.push_str(text);
        self.finish_cell(CellKind::Text, start);
    }

    fn number(&mut self, number: serde_json::Number) {
        self.scalar(CellKind::Number, number);
    }

    fn push_segment(&mut self, segment: impl fmt::Display) {
        let path = &mut self.flattener.path;
        if !path.is_empty() {
            path.push('.');
        }
        let _ = write!(path, "{segment}");
    }
}

struct ObjectVisitor<'a> {
    state: State<'a>,
    top: bool,
}

impl<'de> Visitor<'de> for ObjectVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let base = self.state.flattener.path.len();
        let mut empty = true;
        while map
            .next_key_seed(KeySeed {
                state: self.state.reborrow(),
            })?
            .is_some()
        {
            empty = false;
            map.next_value_seed(ValueSeed {
                state: self.state.reborrow(),
            })?;
            self.state.flattener.path.truncate(base);
        }
        if empty && !self.top {
            let start = self.state.out.text.len();
            self.state.finish_cell(CellKind::Empty, start);
        }
        Ok(())
    }
}

/// Appends `.key` (or `key` at the top) to the path.
struct KeySeed<'a> {
    state: State<'a>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: de::Error>(mut self, key: &str) -> Result<(), E> {
        self.state.push_segment(key);
        Ok(())
    }
}

struct ValueSeed<'a> {
    state: State<'a>,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(mut self, v: bool) -> Result<(), E> {
        self.state.scalar(CellKind::Bool, v);
        Ok(())
    }

    fn visit_i64<E: de::Error>(mut self, v: i64) -> Result<(), E> {
        self.state.number(v.into());
        Ok(())
    }

    fn visit_u64<E: de::Error>(mut self, v: u64) -> Result<(), E> {
        self.state.number(v.into());
        Ok(())
    }

    fn visit_f64<E: de::Error>(mut self, v: f64) -> Result<(), E> {
        // JSON numbers are finite; from_f64 only refuses NaN and infinities.
        match serde_json::Number::from_f64(v) {
            Some(number) => self.state.number(number),
            None => self.state.scalar(CellKind::Number, v),
        }
        Ok(())
    }

    fn visit_str<E: de::Error>(mut self, v: &str) -> Result<(), E> {
        self.state.str(v);
        Ok(())
    }

    fn visit_unit<E: de::Error>(mut self) -> Result<(), E> {
        let start = self.state.out.text.len();
        self.state.finish_cell(CellKind::Empty, start);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        ObjectVisitor {
            state: self.state,
            top: false,
        }
        .visit_map(map)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let mut array = ArrayState {
            base: self.state.flattener.path.len(),
            joined_start: self.state.out.text.len(),
            scalars: Vec::new(),
            indexed: false,
            index: 0,
        };
        while seq
            .next_element_seed(ElementSeed {
                state: self.state.reborrow(),
                array: &mut array,
            })?
            .is_some()
        {
            array.index += 1;
        }
        if !array.indexed {
            let kind = match array.scalars.as_slice() {
                [] => CellKind::Empty,
                [(_, _, kind)] => *kind,
                _ => CellKind::Text,
            };
            self.state.finish_cell(kind, array.joined_start);
        }
        Ok(())
    }
}

/// An array being flattened: joined while every element is a scalar, indexed from the first
/// element that is an object or an array on (the scalars before it then get indexed cells).
struct ArrayState {
    base: usize,
    joined_start: usize,
    /// Text range and kind of each scalar element so far, while the array is joined.
    scalars: Vec<(usize, usize, CellKind)>,
    indexed: bool,
    index: usize,
}

struct ElementSeed<'a, 'b> {
    state: State<'a>,
    array: &'b mut ArrayState,
}

impl ElementSeed<'_, '_> {
    /// Runs `emit` for a scalar element: appended to the joined text, or as its own indexed cell.
    fn scalar(mut self, kind: CellKind, emit: impl FnOnce(&mut State<'_>)) {
        if self.array.indexed {
            self.state.push_segment(self.array.index);
            emit(&mut self.state);
            self.state.flattener.path.truncate(self.array.base);
            return;
        }
        if self.array.index > 0 {
            self.state.out.text.push(';');
        }
        let start = self.state.out.text.len();
        let cells_before = self.state.out.cells.len();
        emit(&mut self.state);
        // The element was written as a cell of the array's own name; keep only its text, the
        // joined cell is added when the array ends.
        self.state.out.cells.truncate(cells_before);
        self.array
            .scalars
            .push((start, self.state.out.text.len(), kind));
    }

    /// Switches a joined array to indexed cells before its first container element.
    fn container(&mut self) {
        if !self.array.indexed {
            self.array.indexed = true;
            for (i, &(start, end, kind)) in self.array.scalars.iter().enumerate() {
                self.state.push_segment(i);
                let key = self.state.flattener.intern_path();
                self.state.out.cells.push(Cell {
                    key,
                    kind,
                    start,
                    end,
                });
                self.state.flattener.path.truncate(self.array.base);
            }
        }
        self.state.push_segment(self.array.index);
    }
}

impl<'de> DeserializeSeed<'de> for ElementSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ElementSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.scalar(CellKind::Bool, |state| state.scalar(CellKind::Bool, v));
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.scalar(CellKind::Number, |state| state.number(v.into()));
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.scalar(CellKind::Number, |state| state.number(v.into()));
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.scalar(
            CellKind::Number,
            |state| match serde_json::Number::from_f64(v) {
                Some(number) => state.number(number),
                None => state.scalar(CellKind::Number, v),
            },
        );
        Ok(())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.scalar(CellKind::Text, |state| state.str(v));
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar(CellKind::Empty, |state| {
            let start = state.out.text.len();
            state.finish_cell(CellKind::Empty, start);
        });
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, map: A) -> Result<(), A::Error> {
        self.container();
        let result = ValueSeed {
            state: self.state.reborrow(),
        }
        .visit_map(map);
        self.state.flattener.path.truncate(self.array.base);
        result
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, seq: A) -> Result<(), A::Error> {
        self.container();
        let result = ValueSeed {
            state: self.state.reborrow(),
        }
        .visit_seq(seq);
        self.state.flattener.path.truncate(self.array.base);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(lines: &[&str]) -> (Vec<FlatRecord>, Vec<Box<str>>) {
        let mut flattener = Flattener::new();
        let records = lines
            .iter()
            .map(|line| flattener.flatten(line.as_bytes()).expect("valid object"))
            .collect();
        let names = flattener
            .take_new_names()
            .into_iter()
            .map(|(_, name)| name)
            .collect();
        (records, names)
    }

    #[test]
    fn flattening_names_nested_fields_joins_scalar_arrays_and_indexes_the_rest() {
        let (records, names) = flat(&[
            r#"{"ip":"127.0.0.1","show":{"rf_status":"up","n":1.5},"parse_warnings":["a","b"],"commands":[{"command":"x","output":"y"}],"mixed":[1,{"k":true}],"none":null,"empty":{},"list":[]}"#,
        ]);
        let record = &records[0];
        let cells: Vec<(&str, &str)> = record
            .cells()
            .iter()
            .map(|cell| (names[cell.key as usize].as_ref(), record.text(cell)))
            .collect();
        assert_eq!(
            cells,
            [
                ("ip", "127.0.0.1"),
                ("show.rf_status", "up"),
                ("show.n", "1.5"),
                ("parse_warnings", "a;b"),
                ("commands.0.command", "x"),
                ("commands.0.output", "y"),
                ("mixed.0", "1"),
                ("mixed.1.k", "true"),
                ("none", ""),
                ("empty", ""),
                ("list", ""),
            ]
        );
    }

    #[test]
    fn non_objects_and_trailing_garbage_are_errors() {
        let mut flattener = Flattener::new();
        for bad in ["[1]", "\"x\"", "{\"a\":1} x", "{\"a\":", "nope"] {
            assert!(flattener.flatten(bad.as_bytes()).is_err(), "{bad} accepted");
        }
        let err = flattener.flatten(b"{\"a\": tru}").expect_err("bad literal");
        assert_eq!(err.to_string(), "invalid JSON: expected ident at column 10");
    }

    #[test]
    fn non_object_errors_say_what_was_found() {
        let mut flattener = Flattener::new();
        let err = flattener.flatten(b"[1]").expect_err("an array");
        assert_eq!(
            err.to_string(),
            "invalid type: sequence, expected a JSON object"
        );
    }
}
