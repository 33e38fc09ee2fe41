//! The EtherHaul and classic MultiHaul (BU/TU) command line: flat `key : value` outputs in
//! the sample formats of reference §4.1.1, `Error: …` messages, `set system …`.

use super::cli::{Cli, Reply, field, quoted, rest_after, words};
use super::identity::{Radio, dhms};
use super::persona::RadioType;
use super::state::{Clock, NodeKey, Registry};

/// The unknown-command answer (contains the reference's `Error:` marker).
pub const UNKNOWN: &str = "Error: unknown command";

/// The answer to an accepted `set system …`.
pub const SET_DONE: &str = "Set done: system";

/// One session's view of an EH/BU/TU radio.
pub struct SikluCli {
    radio: Radio,
    registry: Registry,
    key: NodeKey,
    log_bytes: Option<u64>,
}

impl SikluCli {
    /// A CLI on `radio`, whose changes persist in `registry`; `log_bytes` makes `show log`
    /// that long.
    pub fn new(radio: Radio, registry: Registry, log_bytes: Option<u64>) -> SikluCli {
        let key = (radio.ip, None);
        SikluCli {
            radio,
            registry,
            key,
            log_bytes,
        }
    }

    fn clock(&self) -> Clock {
        let changes = self.registry.get(&self.key);
        Clock {
            offset: changes.clock_offset.unwrap_or(self.radio.clock_offset),
        }
    }

    /// The current system name.
    pub fn name(&self) -> String {
        self.registry
            .get(&self.key)
            .name
            .unwrap_or_else(|| self.radio.name.clone())
    }

    fn show(&self, what: &[&str]) -> Option<Vec<String>> {
        let r = &self.radio;
        let eh = r.radio_type == RadioType::Eh;
        let lines = match what {
            ["system"] => {
                let changes = self.registry.get(&self.key);
                let clock = self.clock();
                let uptime = r.uptime_at_start + self.registry.elapsed();
                let f = |k: &str, v: String| field(&format!("system {k}"), 26, v);
                vec![
                    f("description", r.model.clone()),
                    f("snmpid", ".1.3.6.1.4.1.31926".into()),
                    f("uptime", dhms(uptime, 4)),
                    f(
                        "contact",
                        quoted(changes.contact.as_deref().unwrap_or("undefined")),
                    ),
                    f("name", quoted(&self.name())),
                    f(
                        "location",
                        quoted(changes.location.as_deref().unwrap_or(&r.location)),
                    ),
                    f("voltage", "0".into()),
                    f("temperature", r.temperature.to_string()),
                    f("date", clock.date('.')),
                    f("time", clock.time()),
                    f("cli-timeout", "15".into()),
                    f("loop-permission", "enabled".into()),
                    f("heartbeat-trap-interval", "0".into()),
                ]
            }
            ["sw"] => {
                let row = |bank: u8, version: &str, date: &str, time: &str, running: &str| {
                    format!("{bank:<14}{version:<24}{date:<13}{time:<12}{running:<11}no")
                };
                vec![
                    format!(
                        "{:<14}{:<24}{:<13}{:<12}{:<11}Scheduled to run",
                        "Flash Bank", "Version", "Date", "Time", "Running"
                    ),
                    row(1, &r.sw, "2022-11-03", "10:11:12", "yes"),
                    row(2, &r.sw_offline, "2021-01-15", "08:30:00", "no"),
                ]
            }
            ["inventory"] | ["inventory", "1"] => {
                let f = |k: &str, v: &str| field(&format!("inventory 1 {k}"), 26, v);
                vec![
                    f("desc", &r.model),
                    f("cont-in", "0"),
                    f("class", "chassis"),
                    f("rel-pos", "-1"),
                    f("name", "Chassis"),
                    f("hw-rev", r.hw_rev),
                    f("fw-rev", "1.0"),
                    f("sw-rev", &r.sw),
                    f("serial", &r.sn),
                    f("mfg-name", "Siklu"),
                    f("model-name", &r.model),
                    f("fru", "true"),
                    f("last-change", "0000:00:00:00"),
                ]
            }
            ["rf"] if eh => {
                let rf = r.rf.as_ref()?;
                let f = |k: &str, v: String| field(&format!("rf {k}"), 26, v);
                let e_band = !r.model.starts_with("EH-600");
                let mut lines = vec![
                    f("operational", rf.oper.into()),
                    f("tx-state", "normal".into()),
                    f("rx-state", "normal".into()),
                    f("cinr", rf.cinr.to_string()),
                    f("rssi", rf.rssi.to_string()),
                    f("ptx", rf.ptx.to_string()),
                ];
                if e_band {
                    lines.push(f("tx-frequency", rf.tx_freq.to_string()));
                    lines.push(f("rx-frequency", rf.rx_freq.to_string()));
                } else {
                    lines.push(f("frequency", rf.tx_freq.to_string()));
                }
                lines.extend([
                    f("role", rf.role.into()),
                    f("mode", rf.mode.clone()),
                    f("tx-asymmetry", "50tx-50rx".into()),
                    f("alignment-status", "inactive".into()),
                    f("temperature", r.temperature.to_string()),
                ]);
                lines
            }
            ["rf-debug"] if eh => {
                let rf = r.rf.as_ref()?;
                let f = |k: &str, v: String| field(&format!("rf-debug {k}"), 26, v);
                vec![
                    f("tx-power", rf.ptx.to_string()),
                    f("cinr-low", "-128".into()),
                    f("link-length", rf.distance.to_string()),
                    f("tx-temperature", r.temperature.to_string()),
                    f("rx-temperature", (r.temperature - 2).to_string()),
                ]
            }
            ["eth"] => r.eth.iter().flat_map(eth_lines).collect(),
            ["eth", port] => r.eth.iter().find(|e| e.name == *port).map(eth_lines)?,
            ["lldp-remote"] => {
                let f = |k: &str, v: &str| field(&format!("lldp-remote {k}"), 37, v);
                vec![
                    f("eth0 0 chassis-id-subtype", "mac-address"),
                    f("eth0 0 chassis-id", &r.lldp_chassis),
                    f("eth0 0 port-id-subtype", "interface-name"),
                    f("eth0 0 port-id", "eth0"),
                    f("eth0 0 sys-name", &r.lldp_name),
                ]
            }
            ["log"] => match self.log_bytes {
                Some(bytes) => huge_log(&r.events, bytes),
                None => r.events.clone(),
            },
            ["user-activity-log"] => r.activity.clone(),
            ["base-unit"] if r.radio_type == RadioType::Bu => {
                let f = |k: &str, v: String| field(&format!("base-unit {k}"), 28, v);
                vec![
                    f("self-mac", r.self_mac.clone()),
                    f("ssid", "MultiHaul".into()),
                    f("password", "********".into()),
                    f("frequency", r.classic_freq.to_string()),
                    f("guest-connection", r.guest.into()),
                    f("tx-sector", "12".into()),
                ]
            }
            ["remote-terminal-unit"] if r.radio_type == RadioType::Bu => {
                let elapsed = self.registry.elapsed();
                r.rtus
                    .iter()
                    .enumerate()
                    .flat_map(|(i, rtu)| {
                        let f = |k: &str, v: String| {
                            field(&format!("remote-terminal-unit {} {k}", i + 1), 38, v)
                        };
                        vec![
                            f("eth-port", "eth1".into()),
                            f("mac", rtu.mac.clone()),
                            f("name", rtu.name.clone()),
                            f("status", "connected".into()),
                            f("association", "associated".into()),
                            f("tx-mcs", rtu.tx_mcs.to_string()),
                            f("rssi", rtu.rssi.to_string()),
                            f("signal-quality", rtu.quality.to_string()),
                            f("connect-time", dhms(rtu.connect_seconds + elapsed, 4)),
                        ]
                    })
                    .collect()
            }
            ["terminal-unit"] if r.radio_type == RadioType::Tu => {
                let (bu_mac, link) = r.tu_link.as_ref()?;
                let f = |k: &str, v: String| field(&format!("terminal-unit {k}"), 32, v);
                vec![
                    f("self-mac", r.self_mac.clone()),
                    f("status", "connected".into()),
                    f("base-unit-mac", bu_mac.clone()),
                    f("ssid", "MultiHaul".into()),
                    f("frequency", r.classic_freq.to_string()),
                    f("tx-mcs", link.tx_mcs.to_string()),
                    f("rssi", link.rssi.to_string()),
                    f("signal-quality", link.quality.to_string()),
                    f(
                        "connect-time",
                        dhms(link.connect_seconds + self.registry.elapsed(), 4),
                    ),
                ]
            }
            _ => return None,
        };
        Some(lines)
    }

    fn set_system(&mut self, line: &str, what: &[&str]) -> Reply {
        let clock = self.clock();
        match what {
            ["time", value] => match clock.with_time(value) {
                Some(offset) => self.changed(|c| c.clock_offset = Some(offset)),
                None => Reply::error(format!("Error: Invalid time '{value}' (HH:MM:SS)"), 1),
            },
            ["date", value] => match clock.with_date(value, '.') {
                Some(offset) => self.changed(|c| c.clock_offset = Some(offset)),
                None => Reply::error(format!("Error: Invalid date '{value}' (YYYY.MM.DD)"), 1),
            },
            ["name", ..] | ["location", ..] | ["contact", ..] => {
                let Some(value) = rest_after(line, 3) else {
                    return Reply::error("Error: Invalid value: missing argument", 1);
                };
                if value.contains('"') || value.contains('>') {
                    return Reply::error(format!("Error: Invalid value '{value}'"), 1);
                }
                match what[0] {
                    "name" => self.changed(|c| c.name = Some(value)),
                    "location" => self.changed(|c| c.location = Some(value)),
                    _ => self.changed(|c| c.contact = Some(value)),
                }
            }
            _ => Reply::error(UNKNOWN, 1),
        }
    }

    fn changed(&mut self, change: impl FnOnce(&mut super::state::Changes)) -> Reply {
        self.registry.update(self.key.clone(), change);
        Reply::line(SET_DONE)
    }
}

impl Cli for SikluCli {
    fn prompt(&self) -> String {
        format!("{}>", quoted(&self.name()))
    }

    fn execute(&mut self, line: &str) -> Reply {
        let words = words(line);
        match words.as_slice() {
            ["show", what @ ..] if !what.is_empty() => match self.show(what) {
                Some(lines) => Reply::ok(lines),
                None => Reply::error(UNKNOWN, 1),
            },
            ["set", "system", what @ ..] if !what.is_empty() => self.set_system(line, what),
            ["exit"] | ["quit"] | ["logout"] => Reply::close(),
            _ => Reply::error(UNKNOWN, 1),
        }
    }
}

fn eth_lines(eth: &super::identity::Eth) -> Vec<String> {
    let f = |k: &str, v: &str| field(&format!("eth {} {k}", eth.name), 28, v);
    let label = format!("Eth{}", eth.name.trim_start_matches("eth"));
    vec![
        f("description", &label),
        f("mtu", "9216"),
        f("admin", "up"),
        f("operational", eth.oper),
        f("last-change", &eth.last_change),
        f("name", &label),
        f("eth-type", "auto"),
        f("eth-act-type", eth.speed),
        f("mac-addr", &eth.mac),
        f("loopback-mode", "disabled"),
    ]
}

/// An event log about `bytes` long: filler lines, then the radio's own events last, so the
/// last two lines (what the reference keeps) are the same as without the padding.
fn huge_log(events: &[String], bytes: u64) -> Vec<String> {
    let mut lines = Vec::new();
    let mut size = 0u64;
    let mut n = 0u64;
    while size < bytes {
        let line = format!(
            "Aug 15 {:02}:{:02}:{:02} sw cad: statistics sample {n} rx-frames {} tx-frames {}",
            n / 3600 % 24,
            n / 60 % 60,
            n % 60,
            n * 7919 % 1_000_003,
            n * 104_729 % 1_000_033
        );
        size += line.len() as u64 + 2;
        lines.push(line);
        n += 1;
    }
    lines.extend(events.iter().cloned());
    lines
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::sim::fleet::Fleet;

    fn cli(host: u8) -> SikluCli {
        let fleet = Fleet::demo();
        let ip = Ipv4Addr::new(127, 77, 0, host);
        let profile = fleet.profile(ip).expect("served");
        let radio = Radio::new(1, ip, profile, profile.radio.expect("a radio"));
        SikluCli::new(radio, Registry::new(), None)
    }

    #[test]
    fn a_name_with_spaces_is_quoted_in_the_prompt_and_in_show_system() {
        let mut eh = cli(1);
        assert_eq!(eh.execute("set system name Roof North").lines, [SET_DONE]);
        assert_eq!(eh.prompt(), "\"Roof North\">");
        let system = eh.execute("show system").lines;
        assert!(system.contains(&"system name               : \"Roof North\"".to_owned()));
    }

    #[test]
    fn commands_of_another_radio_type_are_unknown() {
        let mut bu = cli(100);
        assert!(!bu.execute("show base-unit").lines.is_empty());
        for command in [
            "show rf",
            "show terminal-unit",
            "show eth eth4",
            "bogus",
            "set x",
        ] {
            let reply = bu.execute(command);
            assert_eq!((reply.lines, reply.status), (vec![UNKNOWN.to_owned()], 1));
        }
        let reply = cli(1).execute("show inventory 1");
        assert!(
            reply.lines[0].starts_with("inventory 1 desc"),
            "{:?}",
            reply.lines
        );
    }
}
