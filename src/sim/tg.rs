//! MultiHaul TG nodes: a distribution node (DN) and the client nodes (CNs) behind it, their
//! structured `show` dump (reference §4.2.1/§4.2.2) and the values a correct parser reads
//! from it.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use serde_json::{Value, json};

use super::identity::{Draw, stable_uptime_minutes};
use super::persona::Profile;

/// An Ethernet port of a TG node.
#[derive(Debug, Clone)]
pub struct Port {
    /// `eth1`…
    pub name: String,
    /// Administratively enabled.
    pub admin_up: bool,
    /// `up`/`down`.
    pub oper: &'static str,
    /// Duplex and speed, present when the port is up.
    pub link: Option<(&'static str, &'static str)>,
}

/// A radio sector.
#[derive(Debug, Clone)]
pub struct Sector {
    /// 1-based index.
    pub index: u8,
    /// Administratively enabled.
    pub admin_up: bool,
    /// Operating frequency, MHz.
    pub freq: i64,
    /// Antenna mode.
    pub antenna: &'static str,
    /// Sync mode.
    pub sync: &'static str,
    /// Modem temperature.
    pub modem_temp: i64,
    /// RF chip temperatures.
    pub rf_temps: Vec<i64>,
    /// radio-dn profile `(frequency, polarity, tx golay, rx golay)`, `None` when the node has
    /// no sectors-config in radio-dn (CNs).
    pub profile: Option<[String; 4]>,
}

/// An active link (radio-common) and its configuration (radio-dn).
#[derive(Debug, Clone)]
pub struct Link {
    /// Remote node name.
    pub remote: String,
    /// Shown under radio-common links as `active <remote>`.
    pub active: bool,
    /// `initiator`/`responder`.
    pub role: &'static str,
    /// Local / remote sector indices.
    pub sectors: (u8, u8),
    /// Seconds.
    pub uptime: u64,
    /// rssi, snr, mcs-rx, mcs-tx, beam-rx, beam-tx, tiles-rx, tiles-tx.
    pub stats: [i64; 8],
    /// tx-per, rx-per as printed.
    pub per: (&'static str, &'static str),
    /// radio-dn configuration: local sectors, remote sectors, superframe, node type.
    pub configured: Option<(Vec<u8>, Vec<u8>, String, &'static str)>,
}

/// One TG node.
#[derive(Debug, Clone)]
pub struct Node {
    /// System name (`dn7`, `cn1`).
    pub name: String,
    /// Product (`MH-N366`), the prompt's model.
    pub product: String,
    /// Inventory model name.
    pub model_name: String,
    /// Serial number.
    pub sn: String,
    /// Active bank's software.
    pub sw: String,
    /// Passive bank's software.
    pub sw_passive: String,
    /// Hardware revision.
    pub hw_rev: &'static str,
    /// System location at start (may contain commas and spaces).
    pub location: String,
    /// Uptime when siksim started, seconds.
    pub uptime_at_start: u64,
    /// Clock offset from UTC, seconds.
    pub clock_offset: i64,
    /// Host MAC.
    pub host_mac: String,
    /// Ethernet ports.
    pub ports: Vec<Port>,
    /// IPv4 addresses: address, prefix, optional customer VLAN.
    pub ips: Vec<(String, u8, Option<u16>)>,
    /// Default gateway.
    pub gateway: Option<String>,
    /// `DN`/`CN`.
    pub mode: &'static str,
    /// PoP DN flag (DN only).
    pub pop_dn: Option<bool>,
    /// radio-dn sync mode.
    pub sync_mode: &'static str,
    /// Default radio profile `(frequency, polarity, tx golay, rx golay)`.
    pub default_profile: [String; 4],
    /// Sectors.
    pub sectors: Vec<Sector>,
    /// Links.
    pub links: Vec<Link>,
    /// GPS fix mode and satellites (DN only).
    pub gps: Option<(&'static str, i64)>,
}

/// A DN and its client nodes.
#[derive(Debug, Clone)]
pub struct Tg {
    /// The DN's address.
    pub ip: Ipv4Addr,
    /// The DN itself.
    pub dn: Node,
    /// Client nodes, with whether `connect` reaches them.
    pub cns: Vec<(Node, bool)>,
}

const STREETS: &[&str] = &["Main St", "Harbour Rd", "Market Sq", "Station Ave"];
const CITIES: &[&str] = &["London", "Haifa", "Berlin", "Madrid", "Oslo", "Dublin"];
const TG_SW: &str = "2.1.1-3215-af9ea50ff";
const TG_OLD_SW: &str = "1.3.1-2436-ab12cd34e";

fn unspecified() -> [String; 4] {
    ["unspecified", "unspecified", "unspecified", "unspecified"].map(str::to_owned)
}

impl Tg {
    /// Builds the DN at `ip` and its CNs.
    pub fn new(seed: u64, ip: Ipv4Addr, profile: &Profile) -> Tg {
        let mut d = Draw::new(seed, ip, "tg");
        let product = profile
            .model
            .clone()
            .unwrap_or_else(|| "MH-N366".to_owned());
        let name = profile
            .name
            .clone()
            .unwrap_or_else(|| format!("dn{}", u32::from(ip) & 0xffff));
        let location = profile
            .location
            .clone()
            .unwrap_or_else(|| format!("{}, {}", d.pick(CITIES), d.pick(STREETS)));
        let freq = d.pick(&[58320i64, 60480, 62640, 64800]);
        let cn_count = profile.cns;
        let reachable = profile.cns - profile.unreachable_cns;
        let mut links = Vec::new();
        let mut cns = Vec::new();
        let sector_count = 2u8;
        for k in 1..=cn_count {
            let cn_name = format!("cn{k}");
            let local = (k - 1) % sector_count + 1;
            let uptime = d.range(60, 90 * 86_400) as u64;
            let stats = [
                d.range(-75, -50),
                d.range(5, 20),
                d.range(6, 12),
                d.range(6, 12),
                d.range(60, 80),
                d.range(60, 80),
                2,
                2,
            ];
            let per = (d.pick(&["0.00", "0.50", "1.25"]), d.pick(&["0.00", "0.50"]));
            links.push(Link {
                remote: cn_name.clone(),
                active: true,
                role: "initiator",
                sectors: (local, 1),
                uptime,
                stats,
                per,
                configured: Some((vec![local], vec![1], "unspecified".to_owned(), "cn")),
            });
            let cn = cn_node(seed, ip, k, &name, &cn_name, freq, uptime, &stats, per);
            cns.push((cn, k <= reachable));
        }
        // A configured DN peer that is not up, as in the reference sample.
        links.push(Link {
            remote: format!("{name}-peer"),
            active: false,
            role: "initiator",
            sectors: (0, 0),
            uptime: 0,
            stats: [0; 8],
            per: ("0.00", "0.00"),
            configured: Some((vec![sector_count + 1], vec![4], "1".to_owned(), "dn")),
        });
        let sectors = (1..=sector_count + 1)
            .map(|index| Sector {
                index,
                admin_up: index <= sector_count,
                freq,
                antenna: "massive2",
                sync: "gps",
                modem_temp: d.range(35, 60),
                rf_temps: vec![d.range(35, 60), d.range(35, 60)],
                profile: (index <= sector_count).then(|| {
                    if index == 1 {
                        unspecified()
                    } else {
                        [
                            freq.to_string(),
                            "odd".to_owned(),
                            "2".to_owned(),
                            "2".to_owned(),
                        ]
                    }
                }),
            })
            .collect();
        let dn = Node {
            name,
            product: product.clone(),
            model_name: format!("{product}-CCP-PoE-MWB"),
            sn: format!("FB{}", d.digits(8)),
            sw: TG_SW.to_owned(),
            sw_passive: TG_OLD_SW.to_owned(),
            hw_rev: "A1",
            location,
            uptime_at_start: stable_uptime_minutes(&mut d, 300) * 60 + d.range(0, 59) as u64,
            clock_offset: d.range(-300, 300),
            host_mac: d.mac(),
            ports: ports(&mut d, 3),
            ips: vec![
                (format!("192.168.{}.1", d.range(0, 9)), 24, None),
                (
                    format!("10.20.{}.{}", d.range(0, 255), d.range(1, 254)),
                    24,
                    Some(20),
                ),
            ],
            gateway: None,
            mode: "DN",
            pop_dn: Some(d.chance(20)),
            sync_mode: "gps-sync-holdover",
            default_profile: [
                freq.to_string(),
                "even".to_owned(),
                "1".to_owned(),
                "1".to_owned(),
            ],
            sectors,
            links,
            gps: Some(("3D", d.range(5, 14))),
        };
        let mut dn = dn;
        let gateway = dn.ips[0]
            .0
            .rsplit_once('.')
            .map(|(net, _)| format!("{net}.254"));
        dn.gateway = gateway;
        Tg { ip, dn, cns }
    }

    /// The CN called `name`, with whether it is reachable.
    pub fn cn(&self, name: &str) -> Option<&(Node, bool)> {
        self.cns.iter().find(|(node, _)| node.name == name)
    }
}

fn ports(d: &mut Draw, count: u8) -> Vec<Port> {
    (1..=count)
        .map(|n| {
            let admin_up = n == 1 || d.chance(70);
            let up = n == 1 || (admin_up && d.chance(40));
            Port {
                name: format!("eth{n}"),
                admin_up,
                oper: if up { "up" } else { "down" },
                link: up.then(|| {
                    (
                        d.pick(&["full", "full", "half"]),
                        d.pick(&["1Gbps", "100Mbps"]),
                    )
                }),
            }
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn cn_node(
    seed: u64,
    ip: Ipv4Addr,
    k: u8,
    dn_name: &str,
    name: &str,
    freq: i64,
    uptime: u64,
    dn_stats: &[i64; 8],
    per: (&'static str, &'static str),
) -> Node {
    let mut d = Draw::new(seed, ip, &format!("cn{k}"));
    // The CN sees the same link from the other side: rx and tx swap.
    let stats = [
        dn_stats[0] + d.range(-2, 2),
        dn_stats[1] + d.range(-1, 1),
        dn_stats[3],
        dn_stats[2],
        dn_stats[5],
        dn_stats[4],
        2,
        2,
    ];
    Node {
        name: name.to_owned(),
        product: "MH-T265".to_owned(),
        model_name: "MH-T265-CNN-N-MWB".to_owned(),
        sn: format!("FD{}", d.digits(8)),
        sw: TG_SW.to_owned(),
        sw_passive: "not-exist / corrupted".to_owned(),
        hw_rev: "A2",
        location: String::new(),
        uptime_at_start: stable_uptime_minutes(&mut d, 300) * 60 + d.range(0, 59) as u64,
        clock_offset: d.range(-300, 300),
        host_mac: d.mac(),
        ports: ports(&mut d, 1),
        ips: vec![(format!("192.168.{}.{}", d.range(0, 9), 10 + k), 24, None)],
        gateway: None,
        mode: "CN",
        pop_dn: None,
        sync_mode: "no-sync",
        default_profile: unspecified(),
        sectors: vec![Sector {
            index: 1,
            admin_up: true,
            freq,
            antenna: "massive2",
            sync: "rf",
            modem_temp: d.range(25, 45),
            rf_temps: vec![d.range(20, 45)],
            profile: None,
        }],
        links: vec![Link {
            remote: dn_name.to_owned(),
            active: true,
            role: "responder",
            sectors: (1, 1),
            uptime,
            stats,
            per: (per.1, per.0),
            configured: None,
        }],
        gps: None,
    }
}

/// The dump's top-level sections, in output order, as `show <section>` names them.
pub const SECTIONS: [&str; 7] = [
    "nacm",
    "interfaces",
    "inventory",
    "ip",
    "radio-common",
    "radio-dn",
    "system",
];

/// Renders the live values a node's `system` section shows.
#[derive(Debug, Clone)]
pub struct Live {
    /// `YYYY-MM-DD HH:MM:SS`.
    pub date_time: String,
    /// `DDDDD:HH:MM:SS`.
    pub uptime: String,
    /// Current location.
    pub location: String,
}

impl Node {
    /// One section of the dump (or `None` for an unknown name), lines without terminators.
    pub fn section(&self, section: &str, live: &Live) -> Option<Vec<String>> {
        let mut out = String::new();
        let w = &mut out;
        match section {
            "nacm" => {
                line(w, 0, "ietf-netconf-acm:nacm {");
                line(w, 1, "enable-nacm true;");
                line(w, 1, "read-default permit;");
                line(w, 1, "write-default permit;");
                line(w, 0, "}");
            }
            "interfaces" => {
                line(w, 0, "radio-bridge-tg-interfaces:interfaces {");
                line(w, 1, "host {");
                line(w, 2, "state {");
                line(w, 3, &format!("mac-address {};", self.host_mac));
                line(w, 2, "}");
                line(w, 1, "}");
                for port in &self.ports {
                    line(w, 1, &format!("ports {} {{", port.name));
                    line(
                        w,
                        2,
                        &format!(
                            "admin-status {};",
                            if port.admin_up { "up" } else { "down" }
                        ),
                    );
                    line(w, 2, "port-speed auto;");
                    line(w, 2, "state {");
                    line(w, 3, &format!("oper-status {};", port.oper));
                    if let Some((duplex, speed)) = port.link {
                        line(w, 3, &format!("actual-duplex-mode {duplex};"));
                        line(w, 3, &format!("actual-port-speed {speed};"));
                    }
                    line(w, 2, "}");
                    line(w, 1, "}");
                }
                line(w, 0, "}");
            }
            "inventory" => {
                line(w, 0, "radio-bridge-tg-inventory:inventory {");
                line(w, 1, &format!("component {} {{", self.product));
                line(w, 2, &format!("description {};", self.product));
                line(w, 2, &format!("hardware-rev {};", self.hw_rev));
                line(w, 2, &format!("software-rev {};", self.sw));
                line(w, 2, &format!("serial-num {};", self.sn));
                line(w, 2, "mfg-name Siklu;");
                line(w, 2, &format!("model-name {};", self.model_name));
                line(w, 2, "is-fru true;");
                line(w, 1, "}");
                line(w, 1, "component Baseband {");
                line(w, 2, &format!("parent {};", self.product));
                line(w, 2, "description Baseband;");
                line(w, 2, "hardware-rev A0.0;");
                line(w, 2, "is-fru false;");
                line(w, 1, "}");
                line(w, 0, "}");
            }
            "ip" => {
                line(w, 0, "radio-bridge-tg-ip:ip {");
                line(w, 1, "ipv4 {");
                for (address, prefix, vlan) in &self.ips {
                    line(w, 2, &format!("address {address} {{"));
                    line(w, 3, &format!("prefix-length {prefix};"));
                    if let Some(vlan) = vlan {
                        line(w, 3, &format!("c-vlan {vlan};"));
                    }
                    line(w, 2, "}");
                }
                if let Some(gateway) = &self.gateway {
                    line(w, 2, &format!("default-gateway {gateway};"));
                }
                line(w, 1, "}");
                line(w, 0, "}");
            }
            "radio-common" => self.radio_common(w),
            "radio-dn" => self.radio_dn(w),
            "system" => {
                line(w, 0, "radio-bridge-tg-system:system {");
                line(w, 1, &format!("name {};", self.name));
                line(w, 1, "contact undefined;");
                line(w, 1, &format!("location \"{}\";", live.location));
                line(w, 1, "state {");
                line(w, 2, &format!("product {};", self.product));
                line(w, 2, &format!("date-and-time {};", live.date_time));
                line(w, 2, &format!("uptime {};", live.uptime));
                line(w, 2, "banks-info {");
                for (bank, (version, status)) in
                    [(&self.sw, "active"), (&self.sw_passive, "passive")]
                        .into_iter()
                        .enumerate()
                {
                    line(w, 3, &format!("banks {bank} {{"));
                    line(w, 4, &format!("software-version {version};"));
                    line(w, 4, &format!("status {status};"));
                    line(w, 4, "scheduled-to-switch idle;");
                    line(w, 3, "}");
                }
                line(w, 2, "}");
                if let Some((mode, sats)) = self.gps {
                    line(w, 2, "gps {");
                    line(w, 3, &format!("fix-mode {mode};"));
                    line(w, 3, &format!("fix-satellites-number {sats};"));
                    line(w, 2, "}");
                }
                line(w, 1, "}");
                line(w, 0, "}");
            }
            _ => return None,
        }
        Some(out.lines().map(str::to_owned).collect())
    }

    fn radio_common(&self, w: &mut String) {
        line(w, 0, "radio-bridge-tg-radio-common:radio-common {");
        line(w, 1, "node-config {");
        line(w, 2, &format!("operation-mode {};", self.mode));
        line(w, 2, "link-distance Long;");
        line(w, 2, "tx-power-control auto;");
        line(w, 1, "}");
        line(w, 1, "sectors-config {");
        for sector in &self.sectors {
            line(w, 2, &format!("sector {} {{", sector.index));
            line(
                w,
                3,
                &format!(
                    "admin-status {};",
                    if sector.admin_up { "up" } else { "down" }
                ),
            );
            if sector.admin_up {
                line(w, 3, "state {");
                line(w, 4, &format!("frequency {};", sector.freq));
                line(w, 4, &format!("antenna-mode {};", sector.antenna));
                line(w, 4, &format!("sync-mode {};", sector.sync));
                line(w, 4, "temperatures {");
                line(w, 5, &format!("modem-temperature {};", sector.modem_temp));
                for (i, temp) in sector.rf_temps.iter().enumerate() {
                    line(w, 5, &format!("rf {} {{", i + 1));
                    line(w, 6, &format!("rf-temperature {temp};"));
                    line(w, 5, "}");
                }
                line(w, 4, "}");
                line(w, 3, "}");
            }
            line(w, 2, "}");
        }
        line(w, 1, "}");
        line(w, 1, "links {");
        for link in self.links.iter().filter(|link| link.active) {
            let [
                rssi,
                snr,
                mcs_rx,
                mcs_tx,
                beam_rx,
                beam_tx,
                tiles_rx,
                tiles_tx,
            ] = link.stats;
            line(w, 2, &format!("active {} {{", link.remote));
            line(
                w,
                3,
                &format!("actual-remote-sector-index {};", link.sectors.1),
            );
            line(
                w,
                3,
                &format!("actual-local-sector-index {};", link.sectors.0),
            );
            line(w, 3, &format!("local-role {};", link.role));
            line(w, 3, &format!("link-uptime {};", link.uptime));
            line(w, 3, &format!("rssi {rssi};"));
            line(w, 3, &format!("snr {snr};"));
            line(w, 3, &format!("mcs-rx {mcs_rx};"));
            line(w, 3, &format!("mcs-tx {mcs_tx};"));
            line(w, 3, &format!("tx-per {};", link.per.0));
            line(w, 3, &format!("rx-per {};", link.per.1));
            line(w, 3, &format!("beam-index-rx {beam_rx};"));
            line(w, 3, &format!("active-tile-count-rx {tiles_rx};"));
            line(w, 3, &format!("beam-index-tx {beam_tx};"));
            line(w, 3, &format!("active-tile-count-tx {tiles_tx};"));
            line(w, 2, "}");
        }
        line(w, 1, "}");
        line(w, 0, "}");
    }

    fn radio_dn(&self, w: &mut String) {
        let [freq, pol, tx, rx] = &self.default_profile;
        line(w, 0, "radio-bridge-tg-radio-dn:radio-dn {");
        line(w, 1, "node-config {");
        if let Some(pop) = self.pop_dn {
            line(w, 2, &format!("is-pop-dn {pop};"));
        }
        line(w, 2, &format!("sync-mode {};", self.sync_mode));
        line(w, 2, "default-radio-profile {");
        line(w, 3, &format!("frequency {freq};"));
        line(w, 3, &format!("polarity {pol};"));
        line(w, 3, &format!("tx-golay-index {tx};"));
        line(w, 3, &format!("rx-golay-index {rx};"));
        line(w, 2, "}");
        line(w, 1, "}");
        if self.sectors.iter().any(|s| s.profile.is_some()) {
            line(w, 1, "sectors-config {");
            for sector in &self.sectors {
                if let Some([freq, pol, tx, rx]) = &sector.profile {
                    line(w, 2, &format!("sector {} {{", sector.index));
                    line(w, 3, "radio-profile {");
                    line(w, 4, &format!("frequency {freq};"));
                    line(w, 4, &format!("polarity {pol};"));
                    line(w, 4, &format!("tx-golay-index {tx};"));
                    line(w, 4, &format!("rx-golay-index {rx};"));
                    line(w, 3, "}");
                    line(w, 2, "}");
                }
            }
            line(w, 1, "}");
        }
        if self.links.iter().any(|link| link.configured.is_some()) {
            line(w, 1, "links {");
            for link in &self.links {
                if let Some((local, remote, superframe, kind)) = &link.configured {
                    line(w, 2, &format!("configured {} {{", link.remote));
                    for s in local {
                        line(w, 3, &format!("local-sector {s} {{"));
                        line(w, 3, "}");
                    }
                    for s in remote {
                        line(w, 3, &format!("remote-sector {s} {{"));
                        line(w, 3, "}");
                    }
                    line(w, 3, &format!("control-superframe {superframe};"));
                    line(w, 3, &format!("responder-node-type {kind};"));
                    line(w, 3, "admin-status up;");
                    line(w, 2, "}");
                }
            }
            line(w, 1, "}");
        }
        line(w, 0, "}");
    }

    /// The values a correct parser reads from this node's dump (reference §4.2 labels and
    /// transformations), as `{section: [row, …]}`. Values are the dump's text; the system
    /// section's live values (`uptime`, `datetime`) are null because they move.
    pub fn expected(&self, location: &str) -> Value {
        let interfaces: Vec<Value> = self
            .ports
            .iter()
            .map(|p| {
                let status = if p.admin_up { p.oper } else { "user-disabled" };
                let dup = p.link.map(|(d, _)| match d {
                    "full" => "FD",
                    "half" => "HD",
                    other => other,
                });
                json!({"port": p.name, "status": status, "dup": dup.unwrap_or(""),
                       "speed": p.link.map_or("", |(_, s)| s)})
            })
            .collect();
        let inventory = vec![
            json!({"sn": self.sn, "model": self.model_name, "hw_rev": self.hw_rev,
            "sw_ver": build(&self.sw)}),
        ];
        let ip: Vec<Value> = self
            .ips
            .iter()
            .enumerate()
            .map(|(i, (address, prefix, vlan))| {
                let gateway = match &self.gateway {
                    Some(gw) if i == 0 => gw.as_str(),
                    _ => "",
                };
                json!({"address": address, "pref": prefix.to_string(),
                       "vlan": vlan.map(|v| format!("c{v}")).unwrap_or_default(), "gateway": gateway})
            })
            .collect();
        let short = |v: &str| {
            if v == "unspecified" {
                "unspec".to_owned()
            } else {
                v.to_owned()
            }
        };
        let [freq, pol, tx, rx] = &self.default_profile;
        let node_gol = format!("{}|{}", short(tx), short(rx));
        let node = vec![json!({
            "popdn": self.pop_dn.map(|p| p.to_string()).unwrap_or_default(),
            "sync": self.sync_mode, "mode": self.mode, "sched": "Long", "ptx": "auto",
            "freq": freq, "pol": short(pol), "gol": node_gol})];
        let sectors: Vec<Value> = self
            .sectors
            .iter()
            .map(|s| {
                let (cfg_f, cfg_pol, cfg_gol) = match &s.profile {
                    Some([f, p, t, r]) => (
                        if f == "unspecified" {
                            freq.clone()
                        } else {
                            f.clone()
                        },
                        if p == "unspecified" {
                            short(pol)
                        } else {
                            p.clone()
                        },
                        if t == "unspecified" && r == "unspecified" {
                            node_gol.clone()
                        } else {
                            format!("{}|{}", short(t), short(r))
                        },
                    ),
                    None => Default::default(),
                };
                let act_f = if s.admin_up {
                    s.freq.to_string()
                } else {
                    String::new()
                };
                let act_f = if !act_f.is_empty() && !cfg_f.is_empty() {
                    format!("{act_f} ({})", if act_f == cfg_f { "ok" } else { "KO!" })
                } else {
                    act_f
                };
                let up = |v: String| if s.admin_up { v } else { String::new() };
                json!({"sec": s.index.to_string(), "admin": if s.admin_up { "up" } else { "down" },
                    "cfg_f": cfg_f, "pol": cfg_pol, "gol": cfg_gol, "act_f": act_f,
                    "ant": up(s.antenna.to_owned()), "sync": up(s.sync.to_owned()),
                    "Tmdm": up(s.modem_temp.to_string()),
                    "Trf": up(s.rf_temps.first().map(i64::to_string).unwrap_or_default())})
            })
            .collect();
        let links: Vec<Value> = self
            .links
            .iter()
            .map(|l| {
                let cfg = l.configured.as_ref();
                let kind = cfg.map(|(_, _, superframe, kind)| {
                    if *kind == "dn" { format!("dn{superframe}") } else { (*kind).to_owned() }
                });
                let join = |v: &Vec<u8>| v.iter().map(u8::to_string).collect::<String>();
                let mut row = json!({"remote": l.remote, "admin": if cfg.is_some() { "up" } else { "" },
                    "role": "", "status": if l.active { "active" } else { "disconnected" },
                    "uptime": "", "type": kind.unwrap_or_default(),
                    "cfg_lsec": cfg.map(|c| join(&c.0)).unwrap_or_default(),
                    "cfg_rsec": cfg.map(|c| join(&c.1)).unwrap_or_default()});
                let fields = [
                    "act_lsec", "act_rsec", "rssi", "snr", "mcs_tx", "mcs_rx", "tiles_tx",
                    "tiles_rx", "per_tx", "per_rx", "beam_index_tx", "beam_index_rx",
                ];
                let [rssi, snr, mcs_rx, mcs_tx, beam_rx, beam_tx, tiles_rx, tiles_tx] = l.stats;
                let values: [String; 12] = [
                    l.sectors.0.to_string(), l.sectors.1.to_string(), rssi.to_string(),
                    snr.to_string(), mcs_tx.to_string(), mcs_rx.to_string(), tiles_tx.to_string(),
                    tiles_rx.to_string(), l.per.0.to_owned(), l.per.1.to_owned(),
                    beam_tx.to_string(), beam_rx.to_string(),
                ];
                if let Some(map) = row.as_object_mut() {
                    for (field, value) in fields.into_iter().zip(values) {
                        map.insert(field.to_owned(), Value::from(if l.active { value } else { String::new() }));
                    }
                    if l.active {
                        map.insert("role".to_owned(), Value::from(&l.role[..4]));
                        map.insert("uptime".to_owned(), Value::from(super::identity::dhms(l.uptime, 5)));
                    }
                }
                row
            })
            .collect();
        let system = vec![
            json!({"product": self.product, "uptime": null, "datetime": null,
            "location": location.replace(',', ";"), "sw_active": version_xyz(&self.sw),
            "sw_passive": version_xyz(&self.sw_passive),
            "gps_mode": self.gps.map(|g| g.0).unwrap_or(""),
            "gps_sats": self.gps.map(|g| g.1.to_string()).unwrap_or_default()}),
        ];
        json!({"interfaces": interfaces, "inventory": inventory, "ip": ip, "node": node,
               "sectors": sectors, "links": links, "system": system})
    }
}

/// `x.y.z-build` of a TG version, `unknown` when it has no such form.
fn build(version: &str) -> String {
    let mut parts = version.splitn(3, '-');
    match (parts.next(), parts.next()) {
        (Some(xyz), Some(build)) if version_xyz(version) != "unknown" => format!("{xyz}-{build}"),
        _ => "unknown".to_owned(),
    }
}

/// `x.y.z` of a TG version, `unknown` when it has no such form.
fn version_xyz(version: &str) -> String {
    let head = version.split('-').next().unwrap_or_default();
    let parts: Vec<&str> = head.split('.').collect();
    if parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        head.to_owned()
    } else {
        "unknown".to_owned()
    }
}

fn line(out: &mut String, depth: usize, text: &str) {
    // Three spaces per level, as the reference sample.
    let _ = writeln!(out, "{:width$}{text}", "", width = depth * 3);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::fleet::Fleet;

    #[test]
    fn a_dn_advertises_its_cns_as_active_cn_links() {
        let fleet = Fleet::demo();
        let ip = Ipv4Addr::new(127, 77, 0, 180);
        let tg = Tg::new(1, ip, fleet.profile(ip).expect("served"));
        assert_eq!(tg.cns.len(), 3);
        assert_eq!(tg.cns.iter().filter(|(_, reachable)| *reachable).count(), 2);
        let live = Live {
            date_time: "2023-08-17 06:30:32".into(),
            uptime: "00055:07:55:38".into(),
            location: tg.dn.location.clone(),
        };
        let common = tg
            .dn
            .section("radio-common", &live)
            .expect("section")
            .join("\n");
        for (cn, _) in &tg.cns {
            assert!(common.contains(&format!("active {} {{", cn.name)));
        }
        let expected = tg.dn.expected(&tg.dn.location);
        assert_eq!(expected["links"].as_array().map(Vec::len), Some(4));
        assert_eq!(expected["links"][3]["status"], "disconnected");
        assert_eq!(expected["links"][3]["type"], "dn1");
    }

    #[test]
    fn versions_normalise_like_the_reference() {
        assert_eq!(build("2.1.1-3215-af9ea50ff"), "2.1.1-3215");
        assert_eq!(version_xyz("not-exist / corrupted"), "unknown");
        assert_eq!(build("not-exist / corrupted"), "unknown");
    }
}
