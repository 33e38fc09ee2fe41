//! sikscan: Unix filters to inventory and operate fleets of Siklu radios over SSH.
//!
//! The binaries in `src/bin/` are thin; everything they do lives here:
//! [`targets`] (address sets for `ipgen`), [`record`] (the NDJSON record and status taxonomy
//! shared by sikprobe and batchsave), [`batch`] (durable batch files for `batchsave`),
//! [`pipe`] (conventions shared by every binary) and
//! [`docs`] (man pages and shell completions generated from the clap definitions);
//! [`sim`] is siksim, the simulated radio fleet.

pub mod batch;
pub mod device;
pub mod docs;
pub mod parse;
pub mod pipe;
pub mod probe;
pub mod record;
pub mod secret;
pub mod sim;
pub mod targets;
pub mod transport;
