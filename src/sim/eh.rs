//! The EtherHaul and classic MultiHaul (BU/TU) command line: flat `key : value` outputs in
//! the sample formats of reference §4.1.1, `Error: …` messages, `set system …`, `set ip 1 …`
//! (a static address other than the radio's own cuts management once answered),
//! `set rf tx-power …`, the rollback timer (`set rollback timeout N`, `clear rollback`,
//! `show rollback`; every command restarts it), and the configuration's `copy … display` and
//! save.

use std::net::Ipv4Addr;
use std::sync::Arc;

use super::cli::{Cli, Reply, field, quoted, quoted_words, rest_after, words};
use super::config::{self, Settings};
use super::events::{Event, SessionLog};
use super::identity::{Radio, dhms};
use super::life::{Life, parse_timeout};
use super::persona::{Profile, RadioType};
use super::state::{Clock, NodeKey, Registry};

/// The unknown-command answer (contains the reference's `Error:` marker).
pub const UNKNOWN: &str = "Error: unknown command";

/// The answer to an accepted `set system …`.
pub const SET_DONE: &str = "Set done: system";

/// The answer to `copy running-configuration startup-configuration`.
pub const COPY_DONE: &str = "Copy done: running-configuration to startup-configuration";

/// The answer to `clear rollback`.
pub const ROLLBACK_CLEARED: &str = "rollback cleared";

/// The `show rollback` key, padded as the radio prints it (the colon in column 36).
const ROLLBACK_WIDTH: usize = 35;

/// What `show rf` reports for cinr and rssi while the link is down.
const LINK_DOWN_DB: i64 = -128;

/// One session's view of an EH/BU/TU radio.
pub struct SikluCli {
    radio: Radio,
    registry: Registry,
    key: NodeKey,
    log_bytes: Option<u64>,
    rf_down_on: Option<String>,
    life: Arc<Life>,
    log: SessionLog,
    /// A `set ip` moved the management address away; the cut follows the answer.
    cut_pending: bool,
}

impl SikluCli {
    /// A CLI on `radio` served with `profile`, whose changes persist in `registry`, for the
    /// session `log`.
    pub fn new(radio: Radio, registry: Registry, profile: &Profile, log: SessionLog) -> SikluCli {
        let key = (radio.ip, None);
        let life = registry.life(radio.ip);
        SikluCli {
            radio,
            registry,
            key,
            log_bytes: profile.log_bytes,
            rf_down_on: profile.rf_down_on.clone(),
            life,
            log,
            cut_pending: false,
        }
    }

    /// Seconds the radio has been up.
    fn uptime(&self) -> u64 {
        self.since_boot(self.radio.uptime_at_start)
    }

    /// Seconds since something that was `at_start` seconds old when siksim started, and that
    /// a reboot starts over (the uptime, a link's connect time).
    fn since_boot(&self, at_start: u64) -> u64 {
        self.life
            .since_boot()
            .unwrap_or_else(|| at_start + self.registry.elapsed())
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
                let uptime = self.uptime();
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
                let ptx = self.registry.get(&self.key).tx_power.unwrap_or(rf.ptx);
                let f = |k: &str, v: String| field(&format!("rf {k}"), 26, v);
                let e_band = !r.model.starts_with("EH-600");
                let (oper, cinr, rssi) = if self.life.rf_down() {
                    ("down", LINK_DOWN_DB, LINK_DOWN_DB)
                } else {
                    (rf.oper, rf.cinr, rf.rssi)
                };
                let mut lines = vec![
                    f("operational", oper.into()),
                    f("tx-state", "normal".into()),
                    f("rx-state", "normal".into()),
                    f("cinr", cinr.to_string()),
                    f("rssi", rssi.to_string()),
                    f("ptx", ptx.to_string()),
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
                let ptx = self.registry.get(&self.key).tx_power.unwrap_or(rf.ptx);
                let f = |k: &str, v: String| field(&format!("rf-debug {k}"), 26, v);
                vec![
                    f("tx-power", ptx.to_string()),
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
            ["remote-terminal-unit"] if r.radio_type == RadioType::Bu => r
                .rtus
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
                        f(
                            "connect-time",
                            dhms(self.since_boot(rtu.connect_seconds), 4),
                        ),
                    ]
                })
                .collect(),
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
                        dhms(self.since_boot(link.connect_seconds), 4),
                    ),
                ]
            }
            ["rollback"] => vec![field(
                "rollback timeout",
                ROLLBACK_WIDTH,
                self.life
                    .rollback()
                    .map_or_else(|| "not started".to_owned(), |s| s.to_string()),
            )],
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
        self.set(change, SET_DONE)
    }

    fn set(&mut self, change: impl FnOnce(&mut super::state::Changes), done: &str) -> Reply {
        self.registry.update(self.key.clone(), change);
        Reply::line(done)
    }

    /// `set ip 1 ATTRIBUTE VALUE …`: ip-addr (`static A.B.C.D` or `dhcp`), prefix-len, vlan.
    fn set_ip(&mut self, pairs: &[String]) -> Reply {
        let mut changes = self.registry.get(&self.key);
        if pairs.is_empty() || !pairs.len().is_multiple_of(2) {
            return Reply::error("Error: Invalid value: missing argument", 1);
        }
        for pair in pairs.chunks(2) {
            let (attribute, value) = (pair[0].as_str(), pair[1].as_str());
            let valid = match attribute {
                "ip-addr" => {
                    let ok = value == "dhcp"
                        || value
                            .strip_prefix("static ")
                            .is_some_and(|a| a.parse::<std::net::Ipv4Addr>().is_ok());
                    ok.then(|| changes.ip_addr = Some(value.to_owned()))
                }
                "prefix-len" => value
                    .parse()
                    .ok()
                    .filter(|p| *p <= 32)
                    .map(|p| changes.prefix_len = Some(p)),
                "vlan" => value
                    .parse()
                    .ok()
                    .filter(|v| *v <= 4094)
                    .map(|v| changes.vlan = Some(v)),
                _ => return Reply::error(UNKNOWN, 1),
            };
            if valid.is_none() {
                return Reply::error(format!("Error: Invalid value '{value}' for {attribute}"), 1);
            }
        }
        self.cut_pending = moves_away(changes.ip_addr.as_deref(), self.radio.ip);
        self.set(|c| *c = changes, "Set done: ip 1")
    }

    /// `set rollback timeout N`: arms the timer (N = 0 disarms it).
    fn set_rollback(&mut self, value: Option<&str>) -> Reply {
        let Some(value) = value else {
            return Reply::error("Error: Invalid value: missing argument", 1);
        };
        match parse_timeout(value) {
            Some(timeout_s) => {
                self.life.arm(timeout_s);
                self.log.emit(if timeout_s == 0 {
                    Event::RollbackCleared
                } else {
                    Event::RollbackArmed
                });
                Reply::line(format!("Set done: rollbacktimeout: {timeout_s}"))
            }
            None => Reply::error(format!("Error: Invalid value '{value}' for timeout"), 1),
        }
    }

    /// The answer to a command line, before the effects every command has.
    fn run(&mut self, line: &str) -> Reply {
        let words = words(line);
        match words.as_slice() {
            ["show", what @ ..] if !what.is_empty() => match self.show(what) {
                Some(lines) => Reply::ok(lines),
                None => Reply::error(UNKNOWN, 1),
            },
            ["set", "system", what @ ..] if !what.is_empty() => self.set_system(line, what),
            ["set", "ip" | "rf", ..] => {
                let Some(tokens) = quoted_words(line) else {
                    return Reply::error("Error: Invalid value: unbalanced quote", 1);
                };
                match tokens
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .as_slice()
                {
                    ["set", "ip", "1", ..] => self.set_ip(&tokens[3..]),
                    ["set", "rf", ..] if self.radio.rf.is_some() => self.set_rf(&tokens[2..]),
                    _ => Reply::error(UNKNOWN, 1),
                }
            }
            ["set", "rollback", "timeout", rest @ ..] if rest.len() <= 1 => {
                self.set_rollback(rest.first().copied())
            }
            ["clear", "rollback"] => {
                self.life.clear();
                self.log.emit(Event::RollbackCleared);
                Reply::line(ROLLBACK_CLEARED)
            }
            ["copy", "running-configuration", "display"] => Reply::ok(self.running()),
            ["copy", "startup-configuration", "display"] => Reply::ok(self.startup()),
            ["copy", "running-configuration", "startup-configuration"] => {
                let settings = self.settings();
                let reply = self.set(|c| c.saved = Some(settings), COPY_DONE);
                self.log.emit(Event::Saved);
                reply
            }
            ["exit"] | ["quit"] | ["logout"] => Reply::close(),
            _ => Reply::error(UNKNOWN, 1),
        }
    }

    /// `set rf tx-power N` (EH only).
    fn set_rf(&mut self, pairs: &[String]) -> Reply {
        match pairs {
            [attribute, value] if attribute == "tx-power" => match value.parse::<i64>() {
                Ok(power) if (-10..=20).contains(&power) => {
                    self.set(|c| c.tx_power = Some(power), "Set done: rf")
                }
                _ => Reply::error(format!("Error: Invalid value '{value}' for tx-power"), 1),
            },
            _ => Reply::error(UNKNOWN, 1),
        }
    }

    /// The running settings.
    fn settings(&self) -> Settings {
        Settings::running(&self.radio, &self.registry.get(&self.key))
    }

    /// The running configuration's lines.
    fn running(&self) -> Vec<String> {
        config::eh_lines(&self.radio, &self.settings())
    }

    /// The startup configuration's lines: the last saved, or the one the radio started with.
    fn startup(&self) -> Vec<String> {
        let settings = Settings::startup(&self.radio, &self.registry.get(&self.key));
        config::eh_lines(&self.radio, &settings)
    }

    /// Carries out a management cut a `set ip` set off.
    fn cut_if_pending(&mut self) {
        if std::mem::take(&mut self.cut_pending) {
            self.life.cut(self.log.id());
        }
    }
}

/// True when `ip_addr` (`static A.B.C.D` or `dhcp`) is a static address other than `own`: the
/// radio stops answering at its address once it applies it.
pub fn moves_away(ip_addr: Option<&str>, own: Ipv4Addr) -> bool {
    ip_addr
        .and_then(|value| value.strip_prefix("static "))
        .and_then(|address| address.parse::<Ipv4Addr>().ok())
        .is_some_and(|address| address != own)
}

impl Drop for SikluCli {
    /// A session that ended before its answer was sent still moved the address.
    fn drop(&mut self) {
        self.cut_if_pending();
    }
}

impl Cli for SikluCli {
    fn prompt(&self) -> String {
        format!("{}>", quoted(&self.name()))
    }

    fn execute(&mut self, line: &str) -> Reply {
        // Any command, accepted or not, is activity: an armed timer starts over.
        self.life.command();
        let reply = self.run(line);
        let takes_rf_down = self
            .rf_down_on
            .as_deref()
            .is_some_and(|prefix| line.trim().starts_with(prefix));
        if takes_rf_down && reply.status == 0 {
            self.life.take_rf_down();
        }
        reply
    }

    fn answered(&mut self) {
        self.cut_if_pending();
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
    use crate::sim::events::Events;
    use crate::sim::fleet::Fleet;

    fn cli(host: u8) -> SikluCli {
        let fleet = Fleet::demo();
        let ip = Ipv4Addr::new(127, 77, 0, host);
        let profile = fleet.profile(ip).expect("served");
        let radio = Radio::new(1, ip, profile, profile.radio.expect("a radio"));
        let log = SessionLog::new(Events::default(), ip);
        SikluCli::new(radio, Registry::new(), profile, log)
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
    fn sets_change_the_running_configuration_until_it_is_saved() {
        let mut eh = cli(1);
        let running = |eh: &mut SikluCli| eh.execute("copy running-configuration display").lines;
        let startup = |eh: &mut SikluCli| eh.execute("copy startup-configuration display").lines;
        assert_eq!(running(&mut eh), startup(&mut eh));
        assert_eq!(
            eh.execute("set ip 1 ip-addr 'static 10.1.2.3'  vlan 7")
                .lines,
            ["Set done: ip 1"]
        );
        assert_eq!(eh.execute("set rf tx-power 14").lines, ["Set done: rf"]);
        for bad in [
            "set ip 1 ip-addr 'static 10.1.2'",
            "set ip 1 vlan",
            "set rf tx-power 99",
            "set ip 1 ip-addr 'static 10.1.2.3",
        ] {
            let reply = eh.execute(bad);
            assert!(reply.lines[0].starts_with("Error: "), "{bad}: {reply:?}");
        }
        let changed = running(&mut eh);
        assert!(
            changed
                .iter()
                .any(|l| l.contains("ip-addr 'static 10.1.2.3'"))
        );
        assert!(changed.iter().any(|l| l.contains("  tx-power 14  ")));
        assert!(
            eh.execute("show rf")
                .lines
                .contains(&field("rf ptx", 26, 14))
        );
        assert_ne!(changed, startup(&mut eh));
        assert_eq!(
            eh.execute("copy running-configuration startup-configuration")
                .lines,
            [COPY_DONE]
        );
        assert_eq!(startup(&mut eh), changed);
        assert!(cli(100).execute("set rf tx-power 5").lines == [UNKNOWN]);
    }

    #[test]
    fn the_rollback_timer_answers_as_the_firmware_does() {
        let mut eh = cli(1);
        let show = |eh: &mut SikluCli| eh.execute("show rollback").lines;
        // The line as EtherHaul firmware prints it, byte for byte.
        assert_eq!(
            show(&mut eh),
            ["rollback timeout                   : not started"]
        );
        assert_eq!(
            eh.execute("set rollback timeout 9000").lines,
            ["Set done: rollbacktimeout: 9000"]
        );
        assert_eq!(show(&mut eh), ["rollback timeout                   : 9000"]);
        assert_eq!(eh.execute("clear rollback").lines, [ROLLBACK_CLEARED]);
        assert_eq!(
            show(&mut eh)[0],
            field("rollback timeout", 35, "not started")
        );
        eh.execute("set rollback timeout 5");
        assert_eq!(
            eh.execute("set rollback timeout 0").lines,
            ["Set done: rollbacktimeout: 0"]
        );
        assert_eq!(eh.life.rollback(), None, "0 disarms");
        for bad in [
            "set rollback timeout 86401",
            "set rollback timeout five",
            "set rollback timeout -1",
            "set rollback timeout",
        ] {
            let reply = eh.execute(bad);
            assert!(
                reply.status == 1 && reply.lines[0].starts_with("Error: Invalid value"),
                "{bad}: {reply:?}"
            );
        }
        assert_eq!(eh.execute("set rollback timeout 5 6").lines, [UNKNOWN]);
        assert_eq!(eh.execute("set rollback").lines, [UNKNOWN]);
        assert_eq!(eh.life.rollback(), None);
    }

    #[test]
    fn a_foreign_static_address_cuts_management_once_answered() {
        let mut eh = cli(1);
        let own = eh.radio.ip;
        assert!(!moves_away(Some(&format!("static {own}")), own));
        assert!(!moves_away(Some("dhcp"), own));
        assert!(!moves_away(None, own));
        assert!(moves_away(Some("static 10.1.2.3"), own));
        eh.execute(&format!("set ip 1 ip-addr 'static {own}'"));
        assert!(!eh.cut_pending, "its own address: no cut");
        assert_eq!(
            eh.execute("set ip 1 ip-addr 'static 10.1.2.3'").lines,
            ["Set done: ip 1"]
        );
        assert!(eh.cut_pending, "held until the answer is out");
        eh.answered();
        assert!(!eh.cut_pending);
    }

    #[test]
    fn a_reboot_runs_the_saved_settings() {
        let mut eh = cli(1);
        let registry = eh.registry.clone();
        eh.execute("set system name Saved");
        eh.execute("copy running-configuration startup-configuration");
        eh.execute("set system name Unsaved");
        eh.execute("set rf tx-power 3");
        let saved = eh.execute("copy startup-configuration display").lines;
        registry.update(eh.key.clone(), |changes| {
            let startup = Settings::startup(&eh.radio, changes);
            *changes = changes.rebooted(&startup);
        });
        assert_eq!(
            eh.execute("copy running-configuration display").lines,
            saved
        );
        assert_eq!(eh.name(), "Saved");
    }

    #[test]
    fn the_rf_down_prefix_takes_the_link_down_when_accepted() {
        let fleet = Fleet::parse(
            "f.toml",
            "[[group]]\naddresses = \"127.228.0.1\"\npersona = \"eh\"\nrf_down_on = \"set rf\"\n",
            false,
        )
        .expect("valid");
        let ip = Ipv4Addr::new(127, 228, 0, 1);
        let profile = fleet.profile(ip).expect("served");
        let radio = Radio::new(1, ip, profile, RadioType::Eh);
        let log = SessionLog::new(Events::default(), ip);
        let mut eh = SikluCli::new(radio, Registry::new(), profile, log);
        let oper = |eh: &mut SikluCli| eh.execute("show rf").lines;
        assert!(eh.execute("set rf tx-power 99").status == 1);
        assert!(!eh.life.rf_down(), "a rejected command changes nothing");
        assert_eq!(eh.execute("set rf tx-power 5").lines, ["Set done: rf"]);
        let lines = oper(&mut eh);
        for expected in [
            field("rf operational", 26, "down"),
            field("rf cinr", 26, -128),
            field("rf rssi", 26, -128),
        ] {
            assert!(lines.contains(&expected), "{expected}: {lines:?}");
        }
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
