//! siksim: a simulated fleet of Siklu radios served over real SSH on loopback.
//!
//! The device side only: this module shares no code with the client's reading of the CLI
//! (`device/`, `parse/`), so a misreading on one side cannot hide in both.
//!
//! - [`fleet`]: the fleet description (TOML/JSON groups of address specs → personas), the
//!   demo fleet;
//! - [`persona`]: personas and their parameters;
//! - [`identity`]: deterministic per-radio values from `--seed` and the address;
//! - [`eh`], [`tg`], [`tgcli`], [`host`]: the command-line dialects (EH/classic, TG, Linux and
//!   router) behind the [`cli::Cli`] trait;
//! - [`state`]: what sessions change (clock, name, location, address, tx power, the saved
//!   configuration), kept for the process life;
//! - [`life`]: a radio's rollback timer, RF link, management cut and boots;
//! - [`events`]: the events log of `--events` (logins, commands, reboots, …);
//! - [`config`]: the configuration text generated from a radio's state;
//! - [`session`]: the terminal (echo, CRLF, double prompt, pager, slow and hanging replies);
//! - [`server`]: listeners, failure endpoints and the russh server;
//! - [`telnet`]: the Telnet login and session of devices that serve Telnet;
//! - [`workers`]: more processes when one may not hold a socket per address;
//! - [`describe`]: the ground truth printed by `--describe`.

pub mod cli;
pub mod config;
pub mod describe;
pub mod device;
pub mod eh;
pub mod events;
pub mod fleet;
pub mod host;
pub mod identity;
pub mod life;
pub mod persona;
pub mod server;
pub mod session;
pub mod state;
pub mod telnet;
pub mod tg;
pub mod tgcli;
pub mod workers;
