//! sikprobe's machinery, from an input line to its NDJSON record:
//!
//! - [`args`] turns the command line's flags into a run's configuration, and [`run`]
//!   starts and ends a run (runtime, signals, progress, summary);
//! - [`engine`] dispatches hosts, fed by `input` (which judges each line, with [`target`]'s
//!   grammar and [`resume`]'s done set) and drained by `output` (which writes the records),
//!   sharing [`shared`]'s state, and staged by [`rollout`] (`--canary`, `--max-failures`);
//! - `one_host` probes one host within its deadline: `reach` logs in, `drive` runs what
//!   follows on the session (`client_nodes` for TG DNs), `records` holds the records as
//!   they are built;
//! - [`context`] is what every host of a run shares, [`credentials`] who logs in where,
//!   [`summary`] and [`progress`] what the user sees on stderr.

pub mod args;
mod client_nodes;
pub mod context;
pub mod credentials;
mod drive;
pub mod engine;
mod input;
mod one_host;
mod output;
pub mod progress;
mod reach;
mod records;
mod redial;
pub mod resume;
pub mod rollout;
pub mod run;
pub mod shared;
pub mod summary;
pub mod target;

pub use context::ProbeContext;
pub use one_host::probe;
