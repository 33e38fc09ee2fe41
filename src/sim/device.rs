//! A served address made concrete: the profile from the fleet plus the identity drawn from
//! the seed, and the command line a session on it gets.

use std::net::Ipv4Addr;

use super::cli::Cli;
use super::eh::SikluCli;
use super::events::{Logged, SessionLog};
use super::host::{LinuxCli, ROUTER_BANNER, RouterCli};
use super::identity::Radio;
use super::persona::{Persona, Profile, RadioType};
use super::state::Registry;
use super::tg::Tg;
use super::tgcli::TgCli;

/// What answers on an address.
#[derive(Debug, Clone)]
pub enum Kind {
    /// An EH or classic MultiHaul radio.
    Siklu(Box<Radio>),
    /// A MultiHaul TG DN and its CNs.
    Tg(Box<Tg>),
    /// A Linux host.
    Linux,
    /// A non-Siklu router.
    Router,
    /// No listener.
    Closed,
    /// Accepts TCP, never speaks.
    Silent,
    /// Connections time out.
    BlackHole,
    /// Sends a non-SSH line and closes.
    Garbage,
}

/// One simulated address.
#[derive(Debug, Clone)]
pub struct Device {
    /// Its address.
    pub ip: Ipv4Addr,
    /// Its behaviour.
    pub profile: Profile,
    /// What it is.
    pub kind: Kind,
}

impl Device {
    /// The device at `ip` with this profile, its identity drawn from `seed`.
    pub fn new(seed: u64, ip: Ipv4Addr, profile: &Profile) -> Device {
        let kind = match (profile.persona, profile.radio) {
            (_, Some(RadioType::Tg)) => Kind::Tg(Box::new(Tg::new(seed, ip, profile))),
            (_, Some(radio_type)) => {
                Kind::Siklu(Box::new(Radio::new(seed, ip, profile, radio_type)))
            }
            (Persona::Linux, None) => Kind::Linux,
            (Persona::Router, None) => Kind::Router,
            (Persona::Silent, None) => Kind::Silent,
            (Persona::BlackHole, None) => Kind::BlackHole,
            (Persona::Garbage, None) => Kind::Garbage,
            (_, None) => Kind::Closed,
        };
        Device {
            ip,
            profile: profile.clone(),
            kind,
        }
    }

    /// True when the device runs an SSH server.
    pub fn speaks_ssh(&self) -> bool {
        self.profile.persona != Persona::Telnet && self.cli_kind()
    }

    /// True when the device runs a Telnet server (on siksim's `--telnet-port`).
    pub fn speaks_telnet(&self) -> bool {
        self.profile.telnet && self.cli_kind()
    }

    /// True when sessions get a command line (the kinds [`Device::cli`] serves).
    fn cli_kind(&self) -> bool {
        matches!(
            self.kind,
            Kind::Siklu(_) | Kind::Tg(_) | Kind::Linux | Kind::Router
        )
    }

    /// The SSH userauth banner it sends, if any.
    pub fn banner(&self) -> Option<String> {
        match &self.kind {
            Kind::Siklu(radio) => radio.banner.clone(),
            Kind::Router => Some(ROUTER_BANNER.to_owned()),
            _ => None,
        }
    }

    /// A fresh command line for the session `log`, its commands logged when the events log
    /// is on; `None` for devices without a command line.
    pub fn cli(&self, seed: u64, registry: &Registry, log: &SessionLog) -> Option<Box<dyn Cli>> {
        let cli: Box<dyn Cli> = match &self.kind {
            Kind::Siklu(radio) => Box::new(SikluCli::new(
                (**radio).clone(),
                registry.clone(),
                &self.profile,
                log.clone(),
            )),
            Kind::Tg(tg) => Box::new(TgCli::new((**tg).clone(), registry.clone())),
            Kind::Linux => Box::new(LinuxCli::new(seed, self.ip, &self.profile.user)),
            Kind::Router => Box::new(RouterCli),
            Kind::Closed | Kind::Silent | Kind::BlackHole | Kind::Garbage => return None,
        };
        Some(if log.logs() {
            Box::new(Logged::new(cli, log.clone(), &self.profile.password))
        } else {
            cli
        })
    }

    /// True for the radios that have a rollback timer and reboot (EH, BU, TU).
    pub fn reboots(&self) -> bool {
        matches!(self.kind, Kind::Siklu(_))
    }
}
