//! Personas: what a simulated address is (a radio of some type, a failure endpoint, another
//! kind of SSH host) and the behaviour parameters a fleet file may give it.

use std::fmt;
use std::time::Duration;

pub use crate::record::RadioType;
use serde::{Deserialize, Serialize};

/// The persona named in a fleet file group (`persona = "eh"`) or by siksim's `--persona`:
/// serde reads the one, clap the other (and offers the names to shell completions), by the
/// same kebab-case names as [`Persona::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
#[value(rename_all = "kebab-case")]
pub enum Persona {
    /// EtherHaul radio (EH-710TX, EH-600TX, EH-1200F, EH-8010FX).
    Eh,
    /// Classic MultiHaul base unit (MH-B100).
    Bu,
    /// Classic MultiHaul terminal unit (MH-T200 / MH-T201).
    Tu,
    /// MultiHaul TG distribution node with client nodes behind it.
    Tg,
    /// A radio whose password is not the fleet's (its banner is still sent).
    WrongPassword,
    /// A Linux host: no banner, `$ ` prompt, `command not found`.
    Linux,
    /// A non-Siklu router: a banner without a comma and a `Router>` prompt.
    Router,
    /// Nothing listens: the connection is refused.
    Closed,
    /// TCP is accepted but no SSH identification is ever sent.
    Silent,
    /// The connection attempt times out (a listener whose accept queue is full).
    BlackHole,
    /// A non-SSH protocol line, then the connection is closed.
    Garbage,
    /// A radio that delays every login and every response.
    Slow,
    /// A radio that stops in the middle of a command's output and never finishes it.
    Hang,
    /// A radio whose `show log` output is megabytes long.
    Huge,
    /// A radio that offers only legacy SSH algorithms (SHA-1 key exchange, ssh-rsa, CBC, hmac-sha1).
    LegacyOnly,
    /// A radio that accepts keyboard-interactive authentication only.
    KbdInteractive,
    /// A radio whose pager stops every few lines with `--More--` until a key is sent.
    Pager,
    /// An EtherHaul radio that offers only Telnet: no SSH listener.
    Telnet,
}

impl Persona {
    /// Every persona, in documentation order.
    pub const ALL: [Persona; 18] = [
        Persona::Eh,
        Persona::Bu,
        Persona::Tu,
        Persona::Tg,
        Persona::WrongPassword,
        Persona::Linux,
        Persona::Router,
        Persona::Closed,
        Persona::Silent,
        Persona::BlackHole,
        Persona::Garbage,
        Persona::Slow,
        Persona::Hang,
        Persona::Huge,
        Persona::LegacyOnly,
        Persona::KbdInteractive,
        Persona::Pager,
        Persona::Telnet,
    ];

    /// The name used in fleet files and `--describe`.
    pub fn name(self) -> &'static str {
        match self {
            Persona::Eh => "eh",
            Persona::Bu => "bu",
            Persona::Tu => "tu",
            Persona::Tg => "tg",
            Persona::WrongPassword => "wrong-password",
            Persona::Linux => "linux",
            Persona::Router => "router",
            Persona::Closed => "closed",
            Persona::Silent => "silent",
            Persona::BlackHole => "black-hole",
            Persona::Garbage => "garbage",
            Persona::Slow => "slow",
            Persona::Hang => "hang",
            Persona::Huge => "huge",
            Persona::LegacyOnly => "legacy-only",
            Persona::KbdInteractive => "kbd-interactive",
            Persona::Pager => "pager",
            Persona::Telnet => "telnet",
        }
    }

    /// The radio type a persona simulates when no model says otherwise; `None` for
    /// non-radio personas.
    pub fn default_radio(self) -> Option<RadioType> {
        match self {
            Persona::Bu => Some(RadioType::Bu),
            Persona::Tu => Some(RadioType::Tu),
            Persona::Tg => Some(RadioType::Tg),
            Persona::Eh
            | Persona::WrongPassword
            | Persona::Slow
            | Persona::Hang
            | Persona::Huge
            | Persona::LegacyOnly
            | Persona::KbdInteractive
            | Persona::Pager
            | Persona::Telnet => Some(RadioType::Eh),
            Persona::Linux
            | Persona::Router
            | Persona::Closed
            | Persona::Silent
            | Persona::BlackHole
            | Persona::Garbage => None,
        }
    }
}

impl fmt::Display for Persona {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The type a model name stands for, by the reference's prefix rules (§3.1):
/// `EH…` → EH, `MH-B100…` → BU, `MH-T200…`/`MH-T201…` → TU, any other `MH-…` → TG. The
/// simulator keeps its own copy of the rules: it must not share the client's reading.
pub fn radio_type_of(model: &str) -> Option<RadioType> {
    if model.starts_with("EH") {
        Some(RadioType::Eh)
    } else if model.starts_with("MH-B100") {
        Some(RadioType::Bu)
    } else if model.starts_with("MH-T200") || model.starts_with("MH-T201") {
        Some(RadioType::Tu)
    } else if model.starts_with("MH-") {
        Some(RadioType::Tg)
    } else {
        None
    }
}

/// The models a radio of this type is given when the fleet file names none.
pub fn default_models(radio_type: RadioType) -> &'static [&'static str] {
    match radio_type {
        RadioType::Eh => &["EH-710TX", "EH-600TX", "EH-1200F", "EH-8010FX"],
        RadioType::Bu => &["MH-B100-CCS-PoE"],
        RadioType::Tu => &["MH-T200-CNN-PoE", "MH-T201-CNN-PoE"],
        RadioType::Tg => &["MH-N366"],
    }
}

/// How a simulated address behaves: its persona with every parameter resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The persona the fleet file named.
    pub persona: Persona,
    /// The radio type simulated, or `None` for a non-radio endpoint.
    pub radio: Option<RadioType>,
    /// A fixed model, or `None` to choose one per address.
    pub model: Option<String>,
    /// A fixed system name, or `None` for the model's default (TG: `dn<N>`).
    pub name: Option<String>,
    /// A fixed system location, or `None` to choose one per address.
    pub location: Option<String>,
    /// Whether the userauth banner is sent (`None`: by model; EH-8010FX and TG send none).
    pub banner: Option<bool>,
    /// The user this host accepts.
    pub user: String,
    /// The password this host accepts.
    pub password: String,
    /// TG: client nodes advertised by the DN.
    pub cns: u8,
    /// TG: how many of the advertised client nodes (the last ones) cannot be reached.
    pub unreachable_cns: u8,
    /// Delay before a login is answered.
    pub login_delay: Duration,
    /// Delay before each command's response.
    pub response_delay: Duration,
    /// Commands starting with this text print half their output, then hang forever.
    pub hang_on: Option<String>,
    /// Commands starting with this text print half their output, then the session closes.
    pub close_on: Option<String>,
    /// The radio starts with changes its startup configuration does not have.
    pub unsaved_changes: bool,
    /// EH/BU/TU: how long a reboot (a rollback timer running out) keeps the radio down.
    pub reboot_time: Duration,
    /// EH: an accepted command starting with this text takes the RF link down until the
    /// radio reboots.
    pub rf_down_on: Option<String>,
    /// Size of the `show log` output, in bytes, when it is made huge.
    pub log_bytes: Option<u64>,
    /// Lines per page before `--More--`, when the pager is on.
    pub page_lines: Option<u32>,
    /// Offer only legacy algorithms.
    pub legacy_only: bool,
    /// Offer keyboard-interactive authentication only (no `password` method).
    pub kbd_interactive_only: bool,
    /// Also serve the CLI over Telnet (on siksim's `--telnet-port`).
    pub telnet: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn fleet_files_the_command_line_and_describe_name_personas_alike() {
        assert_eq!(Persona::value_variants(), Persona::ALL.as_slice());
        for persona in Persona::ALL {
            let name = persona.name();
            assert_eq!(Persona::from_str(name, false), Ok(persona), "clap: {name}");
            let from_serde: Persona =
                serde_json::from_value(serde_json::Value::from(name)).expect(name);
            assert_eq!(from_serde, persona, "serde: {name}");
        }
    }
}
