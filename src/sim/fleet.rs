//! The fleet description: which loopback addresses are served and as which persona.
//!
//! A fleet file (TOML or JSON, same structure) holds fleet-wide credentials and a list of
//! groups; each group maps address specifications (the ipgen grammar) to a persona and its
//! parameters. When groups overlap, the later group wins for the shared addresses, so a file
//! can give a whole block one persona and then carve exceptions out of it.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::persona::{Persona, Profile, RadioType};
use crate::targets::spec::parse_checked;
use crate::targets::{AddrRange, AddrSet, Family, Hosts};

/// The block the demo fleet occupies.
pub const DEMO_BLOCK: &str = "127.77.0.0/24";

/// The fleet served by `siksim --demo`, as a fleet file (also shown in the README).
pub const DEMO_FLEET: &str = r#"# siksim --demo: a mixed fleet on 127.77.0.0/24 (user admin, password admin)
user = "admin"
password = "admin"

[[group]]                       # .1-.99: EtherHaul radios, models chosen per address
addresses = "127.77.0.1-127.77.0.99"
persona = "eh"

[[group]]                       # three EtherHauls whose names need quotes in the prompt
addresses = "127.77.0.97-127.77.0.99"
persona = "eh"
model = "EH-710TX"
name = "Roof North"
location = "Main St"

[[group]]                       # .100-.139: classic MultiHaul base units
addresses = "127.77.0.100-127.77.0.139"
persona = "bu"

[[group]]                       # .140-.179: classic MultiHaul terminal units, also on Telnet
addresses = "127.77.0.140-127.77.0.179"
persona = "tu"
telnet = true

[[group]]                       # .180-.219: MultiHaul TG DNs, 3 CNs each, the third unreachable
addresses = "127.77.0.180-127.77.0.219"
persona = "tg"
cns = 3
unreachable_cns = 1

[[group]]
addresses = "127.77.0.220-127.77.0.221"
persona = "wrong-password"

[[group]]
addresses = "127.77.0.222-127.77.0.223"
persona = "linux"

[[group]]
addresses = "127.77.0.224-127.77.0.225"
persona = "router"

[[group]]
addresses = "127.77.0.226-127.77.0.227"
persona = "closed"

[[group]]
addresses = "127.77.0.228-127.77.0.229"
persona = "silent"

[[group]]
addresses = "127.77.0.230-127.77.0.231"
persona = "black-hole"

[[group]]
addresses = "127.77.0.232-127.77.0.233"
persona = "garbage"

[[group]]
addresses = "127.77.0.234-127.77.0.235"
persona = "slow"
login_delay = "2s"
response_delay = "300ms"

[[group]]
addresses = "127.77.0.236-127.77.0.237"
persona = "hang"

[[group]]
addresses = "127.77.0.238-127.77.0.239"
persona = "huge"

[[group]]
addresses = "127.77.0.240-127.77.0.241"
persona = "legacy-only"

[[group]]
addresses = "127.77.0.242-127.77.0.243"
persona = "kbd-interactive"

[[group]]
addresses = "127.77.0.244-127.77.0.245"
persona = "pager"

[[group]]                       # .246-.252: more EtherHauls with banner-less EH-8010FX firmware
addresses = "127.77.0.246-127.77.0.252"
persona = "eh"
model = "EH-8010FX"

[[group]]                       # .253-.254: EtherHauls that offer only Telnet
addresses = "127.77.0.253-127.77.0.254"
persona = "telnet"
"#;

/// Default size of a huge persona's `show log`.
const HUGE_LOG_BYTES: u64 = 4 << 20;

/// Default lines per page of the pager persona.
const PAGER_LINES: u32 = 10;

/// How long an EH/BU/TU radio takes to reboot when its rollback timer runs out: about what
/// an EtherHaul takes from power-on to answering SSH again.
pub const REBOOT_TIME: Duration = Duration::from_secs(60);

/// Default delays of the slow persona.
const SLOW_LOGIN: Duration = Duration::from_secs(2);
const SLOW_RESPONSE: Duration = Duration::from_millis(500);

/// Why a fleet description is unusable.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// The file could not be read.
    #[error("{path}")]
    Read {
        /// The fleet file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The TOML did not parse or did not match the fleet structure.
    #[error("{path}")]
    Toml {
        /// The fleet file.
        path: String,
        /// The parser's message (with line and column).
        #[source]
        source: toml::de::Error,
    },
    /// The JSON did not parse or did not match the fleet structure.
    #[error("{path}")]
    Json {
        /// The fleet file.
        path: String,
        /// The parser's message (with line and column).
        #[source]
        source: serde_json::Error,
    },
    /// A group is wrong; `group` is 1-based.
    #[error("{path}: group {group}: {reason}")]
    Group {
        /// The fleet file.
        path: String,
        /// Which group.
        group: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// No address at all.
    #[error("{path}: the fleet has no address")]
    Empty {
        /// The fleet file.
        path: String,
    },
}

/// `addresses = "spec"` or `addresses = ["spec", …]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Addresses {
    One(String),
    Many(Vec<String>),
}

/// One `[[group]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupFile {
    addresses: Addresses,
    persona: Persona,
    model: Option<String>,
    name: Option<String>,
    location: Option<String>,
    banner: Option<bool>,
    user: Option<String>,
    password: Option<String>,
    cns: Option<u8>,
    unreachable_cns: Option<u8>,
    login_delay: Option<String>,
    response_delay: Option<String>,
    hang_on: Option<String>,
    close_on: Option<String>,
    unsaved_changes: Option<bool>,
    reboot_time: Option<String>,
    rf_down_on: Option<String>,
    log_bytes: Option<u64>,
    page_lines: Option<u32>,
    legacy_only: Option<bool>,
    kbd_interactive_only: Option<bool>,
    telnet: Option<bool>,
}

/// The fleet file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FleetFile {
    user: Option<String>,
    password: Option<String>,
    #[serde(default, rename = "group")]
    groups: Vec<GroupFile>,
}

/// A group with its addresses expanded and its profile resolved.
#[derive(Debug, Clone)]
pub struct Group {
    /// The addresses this group claims.
    pub addresses: AddrSet,
    /// How they behave.
    pub profile: Profile,
}

/// A resolved fleet: groups in file order (later ones win) and the union of their addresses.
#[derive(Debug, Clone)]
pub struct Fleet {
    groups: Vec<Group>,
    all: AddrSet,
}

impl Fleet {
    /// Reads a fleet file; `.json` files are JSON, anything else TOML.
    pub fn load(path: &Path) -> Result<Fleet, FleetError> {
        let name = path.display().to_string();
        let read_error = |source| FleetError::Read {
            path: name.clone(),
            source,
        };
        let bytes = std::fs::read(path).map_err(read_error)?;
        // Say where the first bad byte is: a fleet file is edited by hand.
        let text = String::from_utf8(bytes).map_err(|err| {
            let valid = &err.as_bytes()[..err.utf8_error().valid_up_to()];
            let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
            let column =
                valid.len() - valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) + 1;
            read_error(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("line {line}, column {column}: not UTF-8 text"),
            ))
        })?;
        let json = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
        Fleet::parse(&name, &text, json)
    }

    /// The `--demo` fleet.
    pub fn demo() -> Fleet {
        // The demo text is a constant checked by a unit test, so this cannot fail at run time.
        Fleet::parse("demo fleet", DEMO_FLEET, false).unwrap_or_else(|err| panic!("{err}"))
    }

    /// A fleet of one persona with default parameters on the given address specs (the
    /// command-line form `siksim 127.1.0.0/24 --persona tg`).
    pub fn from_specs(specs: &[String], persona: Persona) -> Result<Fleet, FleetError> {
        let group = GroupFile {
            addresses: Addresses::Many(specs.to_vec()),
            persona,
            model: None,
            name: None,
            location: None,
            banner: None,
            user: None,
            password: None,
            cns: None,
            unreachable_cns: None,
            login_delay: None,
            response_delay: None,
            hang_on: None,
            close_on: None,
            unsaved_changes: None,
            reboot_time: None,
            rf_down_on: None,
            log_bytes: None,
            page_lines: None,
            legacy_only: None,
            kbd_interactive_only: None,
            telnet: None,
        };
        let fail = |reason: String| FleetError::Group {
            path: "arguments".to_owned(),
            group: 1,
            reason,
        };
        let addresses = expand(&group.addresses).map_err(fail)?;
        let profile = resolve(group, "admin", "admin").map_err(fail)?;
        Ok(Fleet {
            all: addresses.clone(),
            groups: vec![Group { addresses, profile }],
        })
    }

    /// Parses a fleet description from text.
    pub fn parse(path: &str, text: &str, json: bool) -> Result<Fleet, FleetError> {
        let file: FleetFile = if json {
            serde_json::from_str(text).map_err(|source| FleetError::Json {
                path: path.to_owned(),
                source,
            })?
        } else {
            toml::from_str(text).map_err(|source| FleetError::Toml {
                path: path.to_owned(),
                source,
            })?
        };
        let user = file.user.unwrap_or_else(|| "admin".to_owned());
        let password = file.password.unwrap_or_else(|| "admin".to_owned());
        let mut groups = Vec::with_capacity(file.groups.len());
        let mut ranges = Vec::new();
        for (index, group) in file.groups.into_iter().enumerate() {
            let fail = |reason: String| FleetError::Group {
                path: path.to_owned(),
                group: index + 1,
                reason,
            };
            let addresses = expand(&group.addresses).map_err(fail)?;
            let profile = resolve(group, &user, &password).map_err(fail)?;
            ranges.extend_from_slice(addresses.ranges());
            groups.push(Group { addresses, profile });
        }
        let all = AddrSet::from_ranges(ranges);
        if all.is_empty() {
            return Err(FleetError::Empty {
                path: path.to_owned(),
            });
        }
        Ok(Fleet { groups, all })
    }

    /// Every served address, ascending.
    pub fn iter(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        self.all
            .ranges()
            .iter()
            .flat_map(|range| (range.start..=range.end).map(|value| Ipv4Addr::from(value as u32)))
    }

    /// How many addresses are served.
    pub fn len(&self) -> usize {
        self.all
            .ranges()
            .iter()
            .map(|range| (range.end - range.start + 1) as usize)
            .sum()
    }

    /// True when no address is served (never, for a parsed fleet).
    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// The profile of an address: the last group that claims it.
    pub fn profile(&self, ip: Ipv4Addr) -> Option<&Profile> {
        self.groups
            .iter()
            .rev()
            .find(|group| group.addresses.contains(IpAddr::V4(ip)))
            .map(|group| &group.profile)
    }
}

/// Expands a group's specifications; only 127.0.0.0/8 may be served.
fn expand(addresses: &Addresses) -> Result<AddrSet, String> {
    let specs: Vec<&str> = match addresses {
        Addresses::One(spec) => vec![spec.as_str()],
        Addresses::Many(specs) => specs.iter().map(String::as_str).collect(),
    };
    if specs.is_empty() {
        return Err("'addresses' is empty".to_owned());
    }
    let mut ranges = Vec::new();
    for text in specs {
        let spec = parse_checked(text).map_err(|err| format!("'{text}': {err}"))?;
        let before = ranges.len();
        spec.ranges(Hosts::Usable, &mut ranges);
        let loopback = AddrRange::new(
            Family::V4,
            u128::from(u32::from(Ipv4Addr::new(127, 0, 0, 0))),
            u128::from(u32::from(Ipv4Addr::new(127, 255, 255, 255))),
        );
        if ranges[before..].iter().any(|range| {
            range.family != Family::V4 || range.start < loopback.start || range.end > loopback.end
        }) {
            return Err(format!(
                "'{text}': siksim serves loopback addresses only (127.0.0.0/8)"
            ));
        }
    }
    Ok(AddrSet::from_ranges(ranges))
}

fn duration(field: &str, value: Option<&str>, default: Duration) -> Result<Duration, String> {
    match value {
        None => Ok(default),
        Some(text) => humantime::parse_duration(text)
            .map_err(|err| format!("{field} '{text}': {err} (write e.g. 500ms, 2s)")),
    }
}

/// Applies persona defaults and checks the parameters fit the persona.
fn resolve(group: GroupFile, user: &str, password: &str) -> Result<Profile, String> {
    let persona = group.persona;
    let radio = match &group.model {
        Some(model) => {
            let Some(base) = persona.default_radio() else {
                return Err(format!(
                    "persona {persona} is not a radio and takes no model"
                ));
            };
            let from_model = super::persona::radio_type_of(model)
                .ok_or_else(|| format!("model '{model}' is not a Siklu model (EH-…, MH-…)"))?;
            if matches!(
                persona,
                Persona::Eh | Persona::Bu | Persona::Tu | Persona::Tg
            ) && from_model != base
            {
                return Err(format!("model '{model}' is not a {persona} radio"));
            }
            Some(from_model)
        }
        None => persona.default_radio(),
    };
    if radio.is_none()
        && (group.name.is_some()
            || group.location.is_some()
            || group.banner.is_some()
            || group.unsaved_changes.is_some())
    {
        return Err(format!(
            "persona {persona} is not a radio: name, location, banner and unsaved_changes do \
             not apply"
        ));
    }
    if radio != Some(RadioType::Tg) && (group.cns.is_some() || group.unreachable_cns.is_some()) {
        return Err("cns and unreachable_cns apply to TG radios only".to_owned());
    }
    if radio == Some(RadioType::Tg) && group.unsaved_changes.is_some() {
        // A TG node's changes take effect as they are made: `show startup` shows them.
        return Err("unsaved_changes applies to EH, BU and TU radios only".to_owned());
    }
    if !matches!(radio, Some(RadioType::Eh | RadioType::Bu | RadioType::Tu))
        && group.reboot_time.is_some()
    {
        // Only a rollback timer reboots a simulated radio, and TG radios have none.
        return Err("reboot_time applies to EH, BU and TU radios only".to_owned());
    }
    if let Some(prefix) = &group.rf_down_on {
        if radio != Some(RadioType::Eh) {
            return Err(
                "rf_down_on applies to EH radios only (the others have no 'show rf')".to_owned(),
            );
        }
        if prefix.trim().is_empty() {
            return Err("rf_down_on must be a command prefix, not empty".to_owned());
        }
    }
    let cns = group.cns.unwrap_or(2);
    let unreachable_cns = group.unreachable_cns.unwrap_or(0);
    if unreachable_cns > cns {
        return Err(format!(
            "unreachable_cns ({unreachable_cns}) is more than cns ({cns})"
        ));
    }
    if let Some(name) = &group.name
        && (name.is_empty() || name.contains(['"', '\r', '\n']) || name.contains('>'))
    {
        return Err(format!(
            "name '{name}' must be non-empty, without quotes, '>' or line breaks"
        ));
    }
    if let Some(location) = &group.location
        && (location.is_empty() || location.contains(['"', '\r', '\n']))
    {
        return Err(format!(
            "location '{location}' must be non-empty, without quotes or line breaks"
        ));
    }
    let slow = persona == Persona::Slow;
    let login_delay = duration(
        "login_delay",
        group.login_delay.as_deref(),
        if slow { SLOW_LOGIN } else { Duration::ZERO },
    )?;
    let response_delay = duration(
        "response_delay",
        group.response_delay.as_deref(),
        if slow { SLOW_RESPONSE } else { Duration::ZERO },
    )?;
    let reboot_time = duration("reboot_time", group.reboot_time.as_deref(), REBOOT_TIME)?;
    let hang_on = group
        .hang_on
        .or_else(|| (persona == Persona::Hang).then(|| "show".to_owned()));
    let log_bytes = group
        .log_bytes
        .or((persona == Persona::Huge).then_some(HUGE_LOG_BYTES));
    let page_lines = group
        .page_lines
        .or((persona == Persona::Pager).then_some(PAGER_LINES));
    if page_lines == Some(0) {
        return Err("page_lines must be at least 1".to_owned());
    }
    let password = group.password.unwrap_or_else(|| {
        if persona == Persona::WrongPassword {
            // Anything but the fleet password: the radio is there, the credentials are not.
            format!("not-{password}")
        } else {
            password.to_owned()
        }
    });
    Ok(Profile {
        persona,
        radio,
        model: group.model,
        name: group.name,
        location: group.location,
        banner: group.banner,
        user: group.user.unwrap_or_else(|| user.to_owned()),
        password,
        cns,
        unreachable_cns,
        login_delay,
        response_delay,
        hang_on,
        close_on: group.close_on,
        unsaved_changes: group.unsaved_changes.unwrap_or(false),
        reboot_time,
        rf_down_on: group.rf_down_on,
        log_bytes,
        page_lines,
        legacy_only: group.legacy_only.unwrap_or(persona == Persona::LegacyOnly),
        kbd_interactive_only: group
            .kbd_interactive_only
            .unwrap_or(persona == Persona::KbdInteractive),
        telnet: group.telnet.unwrap_or(persona == Persona::Telnet),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_fleet_parses_and_covers_every_persona() {
        let fleet = Fleet::demo();
        assert_eq!(fleet.len(), 254);
        for persona in Persona::ALL {
            assert!(
                fleet
                    .iter()
                    .any(|ip| fleet.profile(ip).map(|p| p.persona) == Some(persona)),
                "demo fleet lacks {persona}"
            );
        }
        let quoted = fleet
            .profile(Ipv4Addr::new(127, 77, 0, 98))
            .expect("served");
        assert_eq!(quoted.name.as_deref(), Some("Roof North"));
    }

    #[test]
    fn later_groups_win_and_json_works_too() {
        let json = r#"{"password": "pw", "group": [
            {"addresses": "127.1.0.0/30", "persona": "eh"},
            {"addresses": ["127.1.0.2"], "persona": "closed"}]}"#;
        let fleet = Fleet::parse("f.json", json, true).expect("valid");
        assert_eq!(fleet.len(), 2);
        let first = fleet.profile(Ipv4Addr::new(127, 1, 0, 1)).expect("served");
        assert_eq!(
            (first.persona, first.password.as_str()),
            (Persona::Eh, "pw")
        );
        let second = fleet.profile(Ipv4Addr::new(127, 1, 0, 2)).expect("served");
        assert_eq!(second.persona, Persona::Closed);
    }

    #[test]
    fn bad_groups_are_reported_with_their_number() {
        let cases = [
            (
                "[[group]]\naddresses = \"10.0.0.1\"\npersona = \"eh\"\n",
                "loopback",
            ),
            (
                "[[group]]\naddresses = \"127.0.0.1\"\npersona = \"closed\"\nmodel = \"EH-710TX\"\n",
                "not a radio",
            ),
            (
                "[[group]]\naddresses = \"127.0.0.1\"\npersona = \"bu\"\nmodel = \"EH-710TX\"\n",
                "not a bu radio",
            ),
            (
                "[[group]]\naddresses = \"127.0.0.1\"\npersona = \"slow\"\nlogin_delay = \"soon\"\n",
                "login_delay",
            ),
            (
                "[[group]]\naddresses = \"127.0.0.1\"\npersona = \"tg\"\ncns = 1\nunreachable_cns = 2\n",
                "more than cns",
            ),
            (
                "[[group]]\naddresses = \"127.0.0.1\"\npersona = \"eh\"\nreboot_time = \"later\"\n",
                "reboot_time 'later'",
            ),
            (
                "[[group]]\naddresses = \"127.0.0.1\"\npersona = \"tg\"\nreboot_time = \"2s\"\n",
                "reboot_time applies to EH, BU and TU",
            ),
            (
                "[[group]]\naddresses = \"127.0.0.1\"\npersona = \"bu\"\nrf_down_on = \"set rf\"\n",
                "rf_down_on applies to EH radios only",
            ),
            (
                "[[group]]\naddresses = \"127.0.0.1\"\npersona = \"eh\"\nrf_down_on = \" \"\n",
                "rf_down_on must be a command prefix",
            ),
        ];
        for (text, expected) in cases {
            let err = Fleet::parse("f.toml", text, false)
                .expect_err(text)
                .to_string();
            assert!(err.contains("group 1") && err.contains(expected), "{err}");
        }
        let err = Fleet::parse("f.toml", "[[group]]\npersona = \"eh\"\n", false)
            .expect_err("no addresses");
        let cause = std::error::Error::source(&err).map(ToString::to_string);
        assert!(cause.is_some_and(|c| c.contains("addresses")), "{err:?}");
    }
}
