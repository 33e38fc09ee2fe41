//! Parsers for the radios' `show` outputs (samples in `tests/data/`), as a library.
//!
//! [`eh`] reads the flat `key : value` outputs of EtherHaul and classic MultiHaul (BU/TU)
//! radios; [`tg`] reads the brace-structured dump of MultiHaul TG radios. Both give the
//! record's `show` object with the reference's field names and value transformations, plus a
//! warning for every value they could not read (that value is then null). Neither ever
//! panics: device text is untrusted input.
//!
//! This module shares no code with the simulator (`crate::sim`): the tests compare the two,
//! and a shared misreading of the CLI would make them agree on the wrong answer.

pub mod eh;
pub mod tg;

mod text;
mod tree;

/// Fields parsed from a radio's `show` outputs, and what could not be read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    /// The record's `show` object.
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// One entry per field that was empty, missing or malformed (its value is then null),
    /// e.g. "rf_cinr: no value in 'show rf'".
    pub warnings: Vec<String>,
}
