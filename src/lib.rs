//! sikscan: Unix filters to inventory and operate fleets of Siklu radios over SSH.
//!
//! The binaries in `src/bin/` are thin; everything they do lives here:
//!
//! - [`targets`]: address sets — the grammar of specifications and network files, interval
//!   sets, shuffling and sharding (`ipgen`, and `sikprobe --credentials`);
//! - [`probe`]: sikprobe's run — flags, the streaming engine, one host from login to records;
//! - [`transport`]: how a device's command line is reached — the native SSH client (russh),
//!   the system OpenSSH client, Telnet — and what each learns of the server;
//! - [`device`]: the client's reading of a radio's CLI — the prompt-driven session,
//!   identification, and the actions run on a radio;
//! - [`parse`]: parsers of the radios' `show` outputs;
//! - [`record`]: the NDJSON record and status taxonomy shared by sikprobe and batchsave;
//! - [`batch`]: durable batch files for `batchsave`;
//! - [`archive`]: the git-backed configuration archive (`batchsave --configs`);
//! - [`snapshot`]: a run's records read back (`sikprobe --skip-done`, `sikdiff`);
//! - [`diff`]: `sikdiff` — what changed between two snapshots of a fleet;
//! - [`sim`]: siksim, the simulated radio fleet (sharing no code with [`device`] and
//!   [`parse`], so that both sides cannot read the CLI the same wrong way);
//! - [`secret`]: passwords that never reach a log or a record;
//! - [`pipe`]: the Unix conventions every binary follows;
//! - [`docs`]: man pages and shell completions generated from the clap definitions.

#![deny(missing_docs)]

pub mod archive;
pub mod batch;
pub mod device;
pub mod diff;
pub mod docs;
pub mod parse;
pub mod pipe;
pub mod probe;
pub mod record;
pub mod secret;
pub mod sim;
pub mod snapshot;
pub mod targets;
pub mod transport;
