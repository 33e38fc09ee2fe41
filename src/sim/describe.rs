//! Ground truth: for every served address, what a correct client must report (`--describe`).
//!
//! One record per address, plus one per TG client node (with `route` and `parent`, as
//! sikprobe reports CNs). `show` uses the reference's field names and value transformations
//! (§4.1 for EH/BU/TU, §4.2 labels for TG). Values that move while siksim runs are null:
//! `system_date`/`system_time` (the radio clock is UTC plus `clock_offset_s`) and TG
//! `uptime`/`datetime`. Uptime-derived day counts (`system_up_days`, `rtu*_connect_days`)
//! hold for the first 13 minutes a fleet is served.

use std::net::Ipv4Addr;

use serde::Serialize;
use serde_json::{Map, Value};

use super::cli::quoted;
use super::config::{self, Settings};
use super::device::{Device, Kind};
use super::fleet::Fleet;
use super::host::LinuxCli;
use super::identity::{Radio, days_value, xyz};
use super::persona::{Persona, RadioType};
use super::server::{ServeError, fingerprint, host_key, rsa_key};
use super::state::Changes;

/// One `--describe` line.
#[derive(Debug, Serialize)]
pub struct Record {
    /// The address to connect to.
    pub ip: Ipv4Addr,
    /// The TCP port.
    pub port: u16,
    /// The persona serving it.
    pub persona: Persona,
    /// The sikprobe status a correct client reports with default settings (`-a scan`).
    pub status: &'static str,
    /// The status with `-a show` (differs for a radio that hangs on `show` commands).
    pub show_status: &'static str,
    /// The status with `-a backup` (differs for a radio that hangs or closes on its backup
    /// commands).
    pub backup_status: &'static str,
    /// EH, BU, TU, TG, or null.
    pub radio_type: Option<RadioType>,
    /// Model (banner, prompt or inventory).
    pub model: Option<String>,
    /// System name, without quotes.
    pub name: Option<String>,
    /// Software version.
    pub sw: Option<String>,
    /// Serial number.
    pub sn: Option<String>,
    /// The userauth banner sent, if any.
    pub banner: Option<String>,
    /// The host key, `ALGORITHM SHA256:…`.
    pub host_key: Option<String>,
    /// The prompt after login.
    pub prompt: Option<String>,
    /// The user the host accepts.
    pub user: Option<String>,
    /// Authentication methods offered.
    pub auth_methods: Vec<&'static str>,
    /// `modern` or `legacy` (SHA-1 key exchange, ssh-rsa, CBC, hmac-sha1 only).
    pub algorithms: Option<&'static str>,
    /// The radio clock's offset from UTC, seconds.
    pub clock_offset_s: Option<i64>,
    /// Parsed `show` values (flat for EH/BU/TU, sections of rows for TG).
    pub show: Option<Value>,
    /// TG client nodes: `"<ip>: <dn> -> <cn>"`.
    pub route: Option<String>,
    /// TG client nodes: the DN's address.
    pub parent: Option<Ipv4Addr>,
    /// TG client nodes: whether `connect <cn>` reaches it.
    pub reachable: Option<bool>,
    /// The running configuration's text when siksim starts (TG: `show startup`), exactly as
    /// `sikprobe -a backup` must report it (line ends LF).
    pub config: Option<String>,
    /// EH/BU/TU: the startup configuration's text when siksim starts.
    pub startup_config: Option<String>,
    /// EH/BU/TU: whether the two agree (false for a radio with `unsaved_changes`).
    pub config_saved: Option<bool>,
    /// The armed rollback timeout in seconds, or null when disarmed (siksim starts every
    /// radio disarmed; only EH/BU/TU radios have the timer).
    pub rollback: Option<u64>,
    /// Behaviour parameters worth knowing (delays, hang, page length, log size; for EH/BU/TU
    /// radios the reboot time, and the command prefix that takes the RF link down).
    pub behaviour: Value,
    /// What `sikprobe --transport telnet` reports, when the device also (or only) serves its
    /// CLI over Telnet; null otherwise.
    pub telnet: Option<TelnetTruth>,
    /// What `sikprobe --check ssh,telnet` reports (null for TG client nodes).
    pub check: Option<Check>,
}

/// The ground truth of a Telnet session (`-a scan`): no banner there, so identification
/// comes from the prompt and the inventory.
#[derive(Debug, Serialize)]
pub struct TelnetTruth {
    /// The Telnet port.
    pub port: u16,
    /// The sikprobe status.
    pub status: &'static str,
    /// Model.
    pub model: Option<String>,
    /// System name, without quotes.
    pub name: Option<String>,
    /// Software version.
    pub sw: Option<String>,
    /// Serial number.
    pub sn: Option<String>,
    /// The prompt after login.
    pub prompt: Option<String>,
}

/// The ground truth of a reachability check: which protocols accept the fleet's login.
#[derive(Debug, Serialize)]
pub struct Check {
    /// SSH accepts a login (with default client settings: modern algorithms).
    pub ssh: bool,
    /// Telnet accepts a login.
    pub telnet: bool,
    /// The record's status: `ok` when either accepts, else the SSH attempt's.
    pub status: &'static str,
}

/// How the first of `commands` that trips a failure behaviour ends a session: `deadline`
/// for one that hangs (a client waits until its deadline), `io-error` for one that closes.
fn breaks(device: &Device, commands: &[&str]) -> Option<&'static str> {
    let starts = |prefix: &Option<String>, command: &str| {
        prefix
            .as_deref()
            .is_some_and(|prefix| command.starts_with(prefix))
    };
    commands.iter().find_map(|command| {
        if starts(&device.profile.close_on, command) {
            Some("io-error")
        } else if starts(&device.profile.hang_on, command) {
            Some("deadline")
        } else {
            None
        }
    })
}

/// The expected status of a device for a client that sends `commands` after logging in.
fn status(device: &Device, commands: &[&str]) -> &'static str {
    let broken = breaks(device, commands);
    match device.profile.persona {
        Persona::WrongPassword => "auth-failed",
        Persona::Linux | Persona::Router => "not-siklu",
        Persona::Closed | Persona::Telnet => "refused",
        Persona::Silent | Persona::Garbage => "no-ssh",
        Persona::BlackHole => "connect-timeout",
        // Offered only SHA-1 key exchanges and CBC, a client with default settings (modern
        // algorithms; sikprobe without --legacy-algorithms) cannot agree on a key exchange.
        _ if device.profile.legacy_only => "handshake-failed",
        _ => broken.unwrap_or("ok"),
    }
}

/// What a Telnet client reports (`-a scan`), for devices that serve Telnet.
fn telnet_truth(device: &Device, port: u16) -> Option<TelnetTruth> {
    if !device.speaks_telnet() {
        return None;
    }
    let mut truth = TelnetTruth {
        port,
        status: "ok",
        model: None,
        name: None,
        sw: None,
        sn: None,
        prompt: None,
    };
    if device.profile.persona == Persona::WrongPassword {
        truth.status = "auth-failed";
        return Some(truth);
    }
    // Without a banner, radios are identified by their inventory.
    let commands: &[&str] = match &device.kind {
        Kind::Siklu(radio) => {
            truth.model = Some(radio.model.clone());
            truth.name = Some(radio.name.clone());
            truth.sw = Some(radio.sw.clone());
            truth.sn = Some(radio.sn.clone());
            truth.prompt = Some(format!("{}>", quoted(&radio.name)));
            &["show inventory 1"]
        }
        Kind::Tg(tg) => {
            let dn = &tg.dn;
            truth.model = Some(dn.product.clone());
            truth.name = Some(dn.name.clone());
            truth.sw = Some(dn.sw.clone());
            truth.sn = Some(dn.sn.clone());
            truth.prompt = Some(format!("{}@{}>", dn.product, dn.name));
            &["show inventory"]
        }
        _ => {
            truth.status = "not-siklu";
            return Some(truth);
        }
    };
    if let Some(status) = breaks(device, commands) {
        truth.status = status;
    }
    Some(truth)
}

/// The commands a client sends to identify a device (`-a scan`): none when the banner tells
/// the model, `show inventory 1` otherwise (reference §2.5).
fn scan_commands(device: &Device) -> &'static [&'static str] {
    match &device.kind {
        Kind::Siklu(radio) if radio.banner.is_none() => &["show inventory 1"],
        _ => &[],
    }
}

/// The commands of `-a show` for a device (reference §4.1, §4.2), after identification.
fn show_commands(device: &Device) -> Vec<&'static str> {
    const COMMON: [&str; 6] = [
        "show system",
        "show sw",
        "show inventory 1",
        "show eth eth1",
        "show eth eth2",
        "show eth eth3",
    ];
    const LOGS: [&str; 3] = ["show lldp-remote", "show log", "show user-activity-log"];
    let mut commands: Vec<&str> = scan_commands(device).to_vec();
    match &device.kind {
        Kind::Siklu(radio) => {
            commands.extend(COMMON);
            match radio.radio_type {
                RadioType::Eh => commands.extend(["show eth eth4", "show rf", "show rf-debug"]),
                RadioType::Bu => commands.extend(["show base-unit", "show remote-terminal-unit"]),
                RadioType::Tu => commands.push("show terminal-unit"),
                RadioType::Tg => {}
            }
            commands.extend(LOGS);
        }
        Kind::Tg(_) => commands.push("show"),
        _ => {}
    }
    commands
}

/// The commands of `-a backup` for a device (after identification).
fn backup_commands(device: &Device) -> Vec<&'static str> {
    let mut commands: Vec<&str> = scan_commands(device).to_vec();
    match &device.kind {
        Kind::Siklu(_) => commands.extend([
            "copy running-configuration display",
            "copy startup-configuration display",
        ]),
        Kind::Tg(_) => commands.push("show startup"),
        _ => {}
    }
    commands
}

/// Every record of a fleet, in address order; `port` is the SSH port, `telnet_port` the
/// Telnet one.
pub fn records(
    fleet: &Fleet,
    seed: u64,
    port: u16,
    telnet_port: u16,
) -> Result<impl Iterator<Item = Record> + '_, ServeError> {
    // Legacy-only devices share one RSA key; generate it once, and only when needed.
    let legacy = fleet
        .iter()
        .any(|ip| fleet.profile(ip).is_some_and(|p| p.legacy_only));
    let rsa = if legacy {
        Some(fingerprint(&rsa_key(seed)?))
    } else {
        None
    };
    Ok(fleet.iter().flat_map(move |ip| {
        let mut out = Vec::new();
        if let Some(profile) = fleet.profile(ip) {
            let device = Device::new(seed, ip, profile);
            let ports = (port, telnet_port);
            describe(&device, seed, ports, rsa.as_deref(), &mut out);
        }
        out
    }))
}

fn describe(
    device: &Device,
    seed: u64,
    (port, telnet_port): (u16, u16),
    rsa: Option<&str>,
    out: &mut Vec<Record>,
) {
    let p = &device.profile;
    let authorised = p.persona != Persona::WrongPassword;
    let ssh_login = device.speaks_ssh() && authorised && !p.legacy_only;
    let telnet_login = device.speaks_telnet() && authorised;
    let check = Check {
        ssh: ssh_login,
        telnet: telnet_login,
        status: if ssh_login || telnet_login {
            "ok"
        } else {
            status(device, &[])
        },
    };
    let ssh = device.speaks_ssh();
    let host_key = match (ssh, p.legacy_only) {
        (false, _) => None,
        (true, true) => rsa.map(str::to_owned),
        (true, false) => Some(fingerprint(&host_key(seed, device.ip))),
    };
    let mut behaviour = Map::new();
    if !p.login_delay.is_zero() {
        behaviour.insert(
            "login_delay".into(),
            humantime::format_duration(p.login_delay).to_string().into(),
        );
    }
    if !p.response_delay.is_zero() {
        behaviour.insert(
            "response_delay".into(),
            humantime::format_duration(p.response_delay)
                .to_string()
                .into(),
        );
    }
    if let Some(hang) = &p.hang_on {
        behaviour.insert("hang_on".into(), hang.clone().into());
    }
    if let Some(close) = &p.close_on {
        behaviour.insert("close_on".into(), close.clone().into());
    }
    if p.unsaved_changes {
        behaviour.insert("unsaved_changes".into(), true.into());
    }
    if device.reboots() {
        behaviour.insert(
            "reboot_time".into(),
            humantime::format_duration(p.reboot_time).to_string().into(),
        );
    }
    if let Some(prefix) = &p.rf_down_on {
        behaviour.insert("rf_down_on".into(), prefix.clone().into());
    }
    if let Some(lines) = p.page_lines {
        behaviour.insert("page_lines".into(), lines.into());
    }
    if let Some(bytes) = p.log_bytes {
        behaviour.insert("log_bytes".into(), bytes.into());
    }
    let mut record = Record {
        ip: device.ip,
        port,
        persona: p.persona,
        status: status(device, scan_commands(device)),
        show_status: status(device, &show_commands(device)),
        backup_status: status(device, &backup_commands(device)),
        radio_type: p.radio,
        model: None,
        name: None,
        sw: None,
        sn: None,
        banner: device.banner().filter(|_| ssh),
        host_key: host_key.clone(),
        prompt: None,
        user: ssh.then(|| p.user.clone()),
        auth_methods: if !ssh {
            Vec::new()
        } else if p.kbd_interactive_only {
            vec!["keyboard-interactive"]
        } else {
            vec!["password", "keyboard-interactive"]
        },
        algorithms: ssh.then_some(if p.legacy_only { "legacy" } else { "modern" }),
        clock_offset_s: None,
        show: None,
        route: None,
        parent: None,
        reachable: None,
        config: None,
        startup_config: None,
        config_saved: None,
        rollback: None,
        behaviour: Value::Object(behaviour),
        telnet: telnet_truth(device, telnet_port),
        check: Some(check),
    };
    match &device.kind {
        // Over SSH, a Telnet-only radio tells nothing.
        Kind::Siklu(_) | Kind::Tg(_) if !ssh => out.push(record),
        Kind::Siklu(radio) => {
            record.model = Some(radio.model.clone());
            record.sw = Some(radio.sw.clone());
            record.sn = Some(radio.sn.clone());
            if p.persona != Persona::WrongPassword {
                record.name = Some(radio.name.clone());
                record.prompt = Some(format!("{}>", quoted(&radio.name)));
                record.clock_offset_s = Some(radio.clock_offset);
                record.show = Some(eh_show(radio));
                let running =
                    config::eh_lines(radio, &Settings::running(radio, &Changes::default()));
                let startup = config::eh_lines(radio, &Settings::saved_at_start(radio));
                record.config_saved = Some(running == startup);
                record.config = Some(config::text(&running));
                record.startup_config = Some(config::text(&startup));
            }
            out.push(record);
        }
        Kind::Tg(tg) => {
            let dn = &tg.dn;
            record.model = Some(dn.product.clone());
            record.sw = Some(dn.sw.clone());
            record.sn = Some(dn.sn.clone());
            if p.persona != Persona::WrongPassword {
                record.name = Some(dn.name.clone());
                record.prompt = Some(format!("{}@{}>", dn.product, dn.name));
                record.clock_offset_s = Some(dn.clock_offset);
                record.show = Some(dn.expected(&dn.location));
                record.config = Some(config::text(&config::tg_startup_lines(dn, &dn.location)));
            }
            out.push(record);
            if !authorised {
                return;
            }
            for (cn, reachable) in &tg.cns {
                out.push(Record {
                    ip: device.ip,
                    port,
                    persona: p.persona,
                    // The DN cannot reach it: `connect` fails, and the node has its own record.
                    status: if *reachable { "ok" } else { "unreachable" },
                    show_status: if *reachable { "ok" } else { "unreachable" },
                    backup_status: if *reachable { "ok" } else { "unreachable" },
                    radio_type: Some(RadioType::Tg),
                    model: Some(cn.product.clone()),
                    name: Some(cn.name.clone()),
                    sw: Some(cn.sw.clone()),
                    sn: Some(cn.sn.clone()),
                    banner: None,
                    host_key: host_key.clone(),
                    prompt: Some(format!("{}@{}>", cn.product, cn.name)),
                    user: Some(p.user.clone()),
                    auth_methods: Vec::new(),
                    algorithms: None,
                    clock_offset_s: reachable.then_some(cn.clock_offset),
                    show: reachable.then(|| cn.expected(&cn.location)),
                    route: Some(format!("{}: {} -> {}", device.ip, dn.name, cn.name)),
                    parent: Some(device.ip),
                    reachable: Some(*reachable),
                    config: reachable
                        .then(|| config::text(&config::tg_startup_lines(cn, &cn.location))),
                    startup_config: None,
                    config_saved: None,
                    rollback: None,
                    behaviour: Value::Object(Map::new()),
                    telnet: None,
                    check: None,
                });
            }
        }
        Kind::Linux => {
            let cli = LinuxCli::new(seed, device.ip, &p.user);
            record.prompt = Some(format!("{}@{}:~$ ", p.user, cli.hostname()));
            out.push(record);
        }
        Kind::Router => {
            record.prompt = Some("Router>".to_owned());
            out.push(record);
        }
        Kind::Closed | Kind::Silent | Kind::BlackHole | Kind::Garbage => out.push(record),
    }
}

/// The reference's EH/BU/TU `show` fields (§4.1) for a radio as served.
fn eh_show(r: &Radio) -> Value {
    let mut m = Map::new();
    let mut put = |k: &str, v: String| {
        m.insert(k.to_owned(), Value::from(v));
    };
    put("system_descrip", r.model.clone());
    put("system_name", quoted(&r.name));
    put("system_location", quoted(&r.location));
    put("system_up_days", days_value(r.uptime_at_start));
    put("sw_active", xyz(&r.sw));
    put("sw_offline", xyz(&r.sw_offline));
    put("inventory_sn", r.sn.clone());
    if let Some(rf) = &r.rf {
        put("rf_oper", rf.oper.to_owned());
        put("rf_cinr", rf.cinr.to_string());
        put("rf_rssi", rf.rssi.to_string());
        put("rf_freq", rf.tx_freq.to_string());
        put(
            "rf_mode",
            rf.mode.split(' ').next().unwrap_or_default().to_owned(),
        );
        put("rfdebug_ptx", rf.ptx.to_string());
        put("rfdebug_distance", rf.distance.to_string());
    }
    for eth in &r.eth {
        put(&format!("{}_oper", eth.name), eth.oper.to_owned());
        put(&format!("{}_speed", eth.name), eth.speed.to_owned());
        put(
            &format!("{}_last_change", eth.name),
            eth.last_change.clone(),
        );
    }
    put("lldp_remote", r.lldp_chassis.clone());
    // The huge persona pads the front of the log; the last two lines stay the radio's own.
    put("events_log", last_two(&r.events));
    put("user_activity_log", last_two(&r.activity));
    match r.radio_type {
        RadioType::Bu => {
            put("bu_mac", r.self_mac.clone());
            put("bu_freq", r.classic_freq.to_string());
            put("bu_guest", r.guest.to_owned());
            for i in 1..=8 {
                let rtu = r.rtus.get(i - 1);
                let get =
                    |f: &dyn Fn(&super::identity::Rtu) -> String| rtu.map(f).unwrap_or_default();
                put(&format!("rtu{i}_mac"), get(&|t| t.mac.clone()));
                put(&format!("rtu{i}_status"), get(&|_| "connected".to_owned()));
                put(&format!("rtu{i}_assoc"), get(&|_| "associated".to_owned()));
                put(&format!("rtu{i}_tx_msc"), get(&|t| t.tx_mcs.to_string()));
                put(&format!("rtu{i}_rssi"), get(&|t| t.rssi.to_string()));
                put(
                    &format!("rtu{i}_sig_quality"),
                    get(&|t| t.quality.to_string()),
                );
                put(
                    &format!("rtu{i}_connect_days"),
                    get(&|t| days_value(t.connect_seconds)),
                );
            }
        }
        RadioType::Tu => {
            if let Some((bu_mac, link)) = &r.tu_link {
                put("tu_mac", r.self_mac.clone());
                put("tu_status", "connected".to_owned());
                put("tu_bu_mac", bu_mac.clone());
                put("tu_tx_msc", link.tx_mcs.to_string());
                put("tu_rssi", link.rssi.to_string());
                put("tu_sig_quality", link.quality.to_string());
                put("tu_connect_days", days_value(link.connect_seconds));
            }
        }
        RadioType::Eh | RadioType::Tg => {}
    }
    m.insert("system_date".to_owned(), Value::Null);
    m.insert("system_time".to_owned(), Value::Null);
    Value::Object(m)
}

fn last_two(lines: &[String]) -> String {
    let start = lines.len().saturating_sub(2);
    lines[start..].join("; ")
}
