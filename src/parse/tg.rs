//! MultiHaul TG `show` dumps: the brace-structured tree (see `tree`) read into the
//! sections of rows batchscanner's `show_tg_*` files hold (samples in `tests/data/tg/`).
//!
//! batchscanner turned the dump into YAML and looked keys up by substring. Here the dump is
//! parsed by its own grammar and keys are matched exactly, which removes the reference's
//! pitfalls: key-order dependence, `*-bitmap` keys counted as sectors, YAML typing
//! (`0.00` stays `0.00`, `false` stays `false`: values are the dump's text) and the link
//! uptime that lost the tens digit of its hours.

use std::net::Ipv4Addr;

use serde_json::{Map, Value};

use super::Parsed;
use super::text::{excerpt, xyz, xyz_build};
use super::tree::{self, Leaf, Node, Tree};

const INTERFACES: [&str; 4] = ["port", "status", "dup", "speed"];
const INVENTORY: [&str; 4] = ["sn", "model", "hw_rev", "sw_ver"];
const IP: [&str; 4] = ["address", "pref", "vlan", "gateway"];
const NODE: [&str; 8] = [
    "popdn", "sync", "mode", "sched", "ptx", "freq", "pol", "gol",
];
const SECTORS: [&str; 10] = [
    "sec", "admin", "cfg_f", "pol", "gol", "act_f", "ant", "sync", "Tmdm", "Trf",
];
const LINKS: [&str; 20] = [
    "remote",
    "admin",
    "role",
    "status",
    "uptime",
    "type",
    "cfg_lsec",
    "cfg_rsec",
    "act_lsec",
    "act_rsec",
    "rssi",
    "snr",
    "mcs_tx",
    "mcs_rx",
    "tiles_tx",
    "tiles_rx",
    "per_tx",
    "per_rx",
    "beam_index_tx",
    "beam_index_rx",
];
const SYSTEM: [&str; 8] = [
    "product",
    "uptime",
    "datetime",
    "location",
    "sw_active",
    "sw_passive",
    "gps_mode",
    "gps_sats",
];

/// Every section with its column labels, in batchscanner's file order: the
/// names of the record's `show` sections for TG, and the columns of the `show_tg_*` files.
pub const SECTIONS: [(&str, &[&str]); 7] = [
    ("interfaces", &INTERFACES),
    ("inventory", &INVENTORY),
    ("ip", &IP),
    ("links", &LINKS),
    ("node", &NODE),
    ("sectors", &SECTORS),
    ("system", &SYSTEM),
];

/// An active link's statistics: label and radio-common leaf.
const LINK_STATS: [(&str, &str); 12] = [
    ("act_lsec", "actual-local-sector-index"),
    ("act_rsec", "actual-remote-sector-index"),
    ("rssi", "rssi"),
    ("snr", "snr"),
    ("mcs_tx", "mcs-tx"),
    ("mcs_rx", "mcs-rx"),
    ("tiles_tx", "active-tile-count-tx"),
    ("tiles_rx", "active-tile-count-rx"),
    ("per_tx", "tx-per"),
    ("per_rx", "rx-per"),
    ("beam_index_tx", "beam-index-tx"),
    ("beam_index_rx", "beam-index-rx"),
];

/// Parses a TG `show` dump (or `show radio-common` + `show radio-dn` answers joined with
/// '\n') into sections (interfaces, inventory, ip, node, sectors, links, system), each an
/// array of row objects keyed by the reference's labels.
///
/// A cell the reference leaves empty (no duplex on a port that is down, no VLAN, the
/// statistics of a disconnected link) is `""`; a value the dump should have but does not,
/// or has empty or malformed, is null with a warning. A missing section is an empty array
/// with a warning, except `node`, which always has its one row.
pub fn parse(dump: &str) -> Parsed {
    let tree = tree::parse(dump);
    let mut warnings = tree.problems.clone();
    let mut fields = Map::new();
    let node = node(&tree, &mut warnings);
    let sections = [
        ("interfaces", interfaces(&tree, &mut warnings)),
        ("inventory", inventory(&tree, &mut warnings)),
        ("ip", ip(&tree, &mut warnings)),
        ("node", vec![node.cells.clone()]),
        ("sectors", sectors(&tree, &node, &mut warnings)),
        ("links", links(&tree, &mut warnings)),
        ("system", system(&tree, &mut warnings)),
    ];
    for (name, rows) in sections {
        let rows = rows.into_iter().map(Value::Object).collect();
        fields.insert(name.to_owned(), Value::Array(rows));
    }
    Parsed { fields, warnings }
}

/// The active client nodes of a DN: `remote` of every radio-common link whose status is
/// active and whose radio-dn configured entry says responder-node-type cn (as in
/// `tests/data/tg/dn1_show.txt`),
/// in order.
pub fn active_cns(parsed: &Parsed) -> Vec<String> {
    let Some(Value::Array(links)) = parsed.fields.get("links") else {
        return Vec::new();
    };
    links
        .iter()
        .filter(|row| row["status"] == "active" && row["type"] == "cn")
        .filter_map(|row| row["remote"].as_str().map(str::to_owned))
        .collect()
}

/// One row being built: every label starts as `""`, in the reference's column order.
struct Row<'w> {
    /// Where a warning points: `links[cn1]`, `node`.
    place: String,
    cells: Map<String, Value>,
    warnings: &'w mut Vec<String>,
}

impl<'w> Row<'w> {
    fn new(place: String, labels: &[&str], warnings: &'w mut Vec<String>) -> Row<'w> {
        let cells = labels
            .iter()
            .map(|l| ((*l).to_owned(), Value::from("")))
            .collect();
        Row {
            place,
            cells,
            warnings,
        }
    }

    /// Sets a cell: the value, or null and a warning.
    fn set(&mut self, label: &str, value: Result<String, String>) {
        let value = match value {
            Ok(text) => Value::String(text),
            Err(problem) => {
                self.warnings
                    .push(format!("{}.{label}: {problem}", self.place));
                Value::Null
            }
        };
        self.cells.insert(label.to_owned(), value);
    }

    fn text(&self, label: &str) -> Option<&str> {
        self.cells.get(label).and_then(Value::as_str)
    }
}

/// The leaf at `path` under `node`, which must be there with a value.
fn required(node: Option<&Node>, path: &[&str]) -> Result<String, String> {
    match node.map_or(Leaf::Missing, |n| n.leaf(path)) {
        Leaf::Text(text) => Ok(text.into_owned()),
        Leaf::Empty => Err(format!("empty '{}'", path.join("/"))),
        Leaf::Missing => Err(format!("no '{}'", path.join("/"))),
    }
}

/// The leaf at `path` under `node`, `""` when it is not there (the reference's empty cell).
fn optional(node: Option<&Node>, path: &[&str]) -> Result<String, String> {
    match node.map_or(Leaf::Missing, |n| n.leaf(path)) {
        Leaf::Text(text) => Ok(text.into_owned()),
        Leaf::Empty => Err(format!("empty '{}'", path.join("/"))),
        Leaf::Missing => Ok(String::new()),
    }
}

/// The section, or a warning that it is missing.
fn section<'t>(tree: &'t Tree, name: &str, warnings: &mut Vec<String>) -> Option<&'t Node> {
    let found = tree.section(name);
    if found.is_none() {
        warnings.push(format!("{name}: no '{name}' section in the dump"));
    }
    found
}

/// A list entry's name: the leaf `leaf` (old style, sw ≤ 2.0.0: `ports {` + `name eth1;`)
/// or the title's argument (new style: `ports eth1 {`).
fn entry_name(entry: &Node, leaf: &str) -> Option<String> {
    match entry.leaf(&[leaf]) {
        Leaf::Text(text) if !text.is_empty() => Some(text.into_owned()),
        _ => entry.arg().map(str::to_owned),
    }
}

/// `unspecified` as the reference shortens it in polarities and Golay indices.
fn short(value: String) -> String {
    if value == "unspecified" {
        "unspec".to_owned()
    } else {
        value
    }
}

/// The cell for a value that can only be computed from others, or the first reason one of
/// them is missing.
fn both(a: Result<String, String>, b: Result<String, String>) -> Result<(String, String), String> {
    Ok((a?, b?))
}

fn interfaces(tree: &Tree, warnings: &mut Vec<String>) -> Vec<Map<String, Value>> {
    let Some(sec) = section(tree, "interfaces", warnings) else {
        return Vec::new();
    };
    // batchscanner dropped the first entry, assuming it was `host`; drop `host` by name.
    let ports = sec.blocks().filter(|b| b.key != "host");
    ports
        .enumerate()
        .map(|(i, port)| {
            let name = entry_name(port, "name");
            let place = format!("interfaces[{}]", name.as_deref().unwrap_or(&ordinal(i)));
            let mut row = Row::new(place, &INTERFACES, warnings);
            row.set("port", name.ok_or_else(|| "no port name".to_owned()));
            let status = match port.leaf(&["admin-status"]) {
                Leaf::Text(admin) if admin == "down" => Ok("user-disabled".to_owned()),
                _ => required(Some(port), &["state", "oper-status"]),
            };
            row.set("status", status);
            let dup =
                optional(Some(port), &["state", "actual-duplex-mode"]).map(|d| match d.as_str() {
                    "full" => "FD".to_owned(),
                    "half" => "HD".to_owned(),
                    _ => d,
                });
            row.set("dup", dup);
            row.set(
                "speed",
                optional(Some(port), &["state", "actual-port-speed"]),
            );
            row.cells
        })
        .collect()
}

/// `#3` for the third entry of a list whose entry has no name.
fn ordinal(index: usize) -> String {
    format!("#{}", index + 1)
}

fn inventory(tree: &Tree, warnings: &mut Vec<String>) -> Vec<Map<String, Value>> {
    let Some(sec) = section(tree, "inventory", warnings) else {
        return Vec::new();
    };
    // The chassis is the component contained in nothing: no `parent` (new style), or a
    // `parent-index` of 0 (old style, as ENTITY-MIB's contained-in). batchscanner took the
    // first key *containing* "parent", so a `parent-rel-pos -1` listed first made the
    // chassis look contained.
    let has_parent = |c: &Node| match c.leaf(&["parent"]) {
        Leaf::Text(p) if !p.is_empty() => true,
        _ => matches!(c.leaf(&["parent-index"]), Leaf::Text(i) if !i.is_empty() && i != "0"),
    };
    let rows: Vec<_> = sec
        .blocks()
        .filter(|c| !has_parent(c))
        .enumerate()
        .map(|(i, c)| {
            let place = format!(
                "inventory[{}]",
                c.arg().map_or_else(|| ordinal(i), str::to_owned)
            );
            let mut row = Row::new(place, &INVENTORY, warnings);
            row.set("sn", required(Some(c), &["serial-num"]));
            row.set("model", required(Some(c), &["model-name"]));
            row.set("hw_rev", required(Some(c), &["hardware-rev"]));
            // The reference's tokens: `unavail` when the radio gives no version,
            // `unknown` when it has no `x.y.z-build` form.
            let sw = match c.leaf(&["software-rev"]) {
                Leaf::Text(v) if !v.is_empty() => {
                    xyz_build(&v).unwrap_or_else(|| "unknown".to_owned())
                }
                _ => "unavail".to_owned(),
            };
            row.set("sw_ver", Ok(sw));
            row.cells
        })
        .collect();
    if rows.is_empty() {
        warnings.push("inventory: no component without a parent".to_owned());
    }
    rows
}

fn ip(tree: &Tree, warnings: &mut Vec<String>) -> Vec<Map<String, Value>> {
    let Some(sec) = section(tree, "ip", warnings) else {
        return Vec::new();
    };
    let Some(ipv4) = sec.child("ipv4") else {
        warnings.push("ip: no 'ipv4' in the ip section".to_owned());
        return Vec::new();
    };
    let gateway = match ipv4.leaf(&["default-gateway"]) {
        Leaf::Text(gw) => Some(gw.into_owned()),
        _ => None,
    };
    let gateway_addr = gateway.as_deref().and_then(|g| g.parse::<Ipv4Addr>().ok());
    let mut gateway_placed = false;
    let mut rows = Vec::new();
    for (i, entry) in ipv4.blocks().enumerate() {
        let address = entry_name(entry, "ip");
        let place = format!("ip[{}]", address.as_deref().unwrap_or(&ordinal(i)));
        let mut row = Row::new(place, &IP, warnings);
        let pref = required(Some(entry), &["prefix-length"]);
        let network = address
            .as_deref()
            .and_then(|a| a.parse::<Ipv4Addr>().ok())
            .zip(pref.as_deref().ok().and_then(|p| p.parse::<u8>().ok()));
        row.set("address", address.ok_or_else(|| "no address".to_owned()));
        row.set("pref", pref);
        let vlan = optional(Some(entry), &["c-vlan"])
            .map(|v| if v.is_empty() { v } else { format!("c{v}") });
        row.set("vlan", vlan);
        // The gateway goes on the first row whose network holds it.
        if let (false, Some(gw), Some((addr, prefix))) = (gateway_placed, gateway_addr, network)
            && contains(addr, prefix, gw)
        {
            row.set("gateway", Ok(gw.to_string()));
            gateway_placed = true;
        }
        rows.push(row.cells);
    }
    if let (false, Some(gw)) = (gateway_placed, &gateway) {
        warnings.push(format!(
            "ip.gateway: default-gateway {} is in no listed network",
            excerpt(gw)
        ));
    }
    rows
}

/// Whether `addr/prefix` holds `other`.
fn contains(addr: Ipv4Addr, prefix: u8, other: Ipv4Addr) -> bool {
    if prefix > 32 {
        return false;
    }
    let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
    u32::from(addr) & mask == u32::from(other) & mask
}

/// The node row, kept whole: the sectors fall back on its frequency, polarity and Golay
/// indices.
struct NodeRow {
    cells: Map<String, Value>,
}

impl NodeRow {
    /// A sector's `unspecified` value resolved to the node's default.
    fn default(&self, label: &str) -> Result<String, String> {
        match self.cells.get(label) {
            Some(Value::String(text)) => Ok(text.clone()),
            _ => Err(format!(
                "'unspecified', and the node's default {label} is unknown"
            )),
        }
    }
}

fn node(tree: &Tree, warnings: &mut Vec<String>) -> NodeRow {
    let dn = tree
        .section("radio-dn")
        .and_then(|s| s.child("node-config"));
    let common = tree
        .section("radio-common")
        .and_then(|s| s.child("node-config"));
    let profile = dn.and_then(|n| n.child("default-radio-profile"));
    let mut row = Row::new("node".to_owned(), &NODE, warnings);
    // Only a DN has is-pop-dn: its absence on a CN is the reference's empty cell.
    row.set("popdn", optional(dn, &["is-pop-dn"]));
    row.set("sync", required(dn, &["sync-mode"]));
    row.set("mode", required(common, &["operation-mode"]));
    row.set("sched", required(common, &["link-distance"]));
    row.set("ptx", required(common, &["tx-power-control"]));
    // The reference does not shorten `unspecified` here (batchscanner's code missed it).
    row.set("freq", required(profile, &["frequency"]));
    row.set("pol", required(profile, &["polarity"]).map(short));
    let gol = both(
        required(profile, &["tx-golay-index"]),
        required(profile, &["rx-golay-index"]),
    );
    row.set(
        "gol",
        gol.map(|(tx, rx)| format!("{}|{}", short(tx), short(rx))),
    );
    NodeRow { cells: row.cells }
}

fn sectors(tree: &Tree, node: &NodeRow, warnings: &mut Vec<String>) -> Vec<Map<String, Value>> {
    let list = |name: &str| -> Vec<&Node> {
        tree.section(name)
            .and_then(|s| s.child("sectors-config"))
            .map(|c| c.blocks().collect())
            .unwrap_or_default()
    };
    let common = list("radio-common");
    let dn = list("radio-dn");
    let mut dn_used = vec![false; dn.len()];
    let mut rows = Vec::new();
    for (i, sector) in common.iter().enumerate() {
        let index = entry_name(sector, "index");
        let place = format!("sectors[{}]", index.as_deref().unwrap_or(&ordinal(i)));
        let mut row = Row::new(place, &SECTORS, warnings);
        row.set(
            "sec",
            index.clone().ok_or_else(|| "no sector index".to_owned()),
        );
        let admin = required(Some(sector), &["admin-status"]);
        let down = admin.as_deref() == Ok("down");
        row.set("admin", admin);
        if !down {
            let state = sector.child("state");
            row.set("act_f", required(state, &["frequency"]));
            row.set("ant", required(state, &["antenna-mode"]));
            row.set("sync", required(state, &["sync-mode"]));
            row.set(
                "Tmdm",
                required(state, &["temperatures", "modem-temperature"]),
            );
            row.set("Trf", rf_temperature(state));
        }
        let twin = index.as_deref().and_then(|index| {
            (0..dn.len())
                .find(|&j| !dn_used[j] && entry_name(dn[j], "index").as_deref() == Some(index))
        });
        if let Some(j) = twin {
            dn_used[j] = true;
            configured_sector(&mut row, dn[j], node);
        }
        check_frequency(&mut row);
        rows.push(row.cells);
    }
    // radio-dn sectors without a radio-common twin come after, alone.
    for (j, sector) in dn.iter().enumerate().filter(|(j, _)| !dn_used[*j]) {
        let index = entry_name(sector, "index");
        let place = format!("sectors[{}]", index.as_deref().unwrap_or(&ordinal(j)));
        let mut row = Row::new(place, &SECTORS, warnings);
        row.set("sec", index.ok_or_else(|| "no sector index".to_owned()));
        configured_sector(&mut row, sector, node);
        rows.push(row.cells);
    }
    rows
}

/// The first RF temperature: `temperatures { rf 1 { rf-temperature 45; } }`, or a flat
/// `rf-temperature` leaf. batchscanner took the first key *containing* `rf`.
fn rf_temperature(state: Option<&Node>) -> Result<String, String> {
    let temperatures = state.and_then(|s| s.child("temperatures"));
    let rf = temperatures.and_then(|t| t.blocks().find(|b| b.key == "rf"));
    match rf {
        Some(rf) => required(Some(rf), &["rf-temperature"]),
        None => required(temperatures, &["rf-temperature"])
            .map_err(|_| "no 'temperatures/rf/rf-temperature'".to_owned()),
    }
}

/// The radio-dn side of a sector: configured frequency, polarity and Golay indices, each
/// `unspecified` meaning the node's default.
fn configured_sector(row: &mut Row<'_>, sector: &Node, node: &NodeRow) {
    let profile = sector.child("radio-profile");
    match required(profile, &["frequency"]) {
        Ok(f) if f == "unspecified" => row.set("cfg_f", node.default("freq")),
        other => row.set("cfg_f", other),
    }
    match required(profile, &["polarity"]) {
        Ok(p) if p == "unspecified" => row.set("pol", node.default("pol")),
        other => row.set("pol", other),
    }
    let gol = both(
        required(profile, &["tx-golay-index"]),
        required(profile, &["rx-golay-index"]),
    );
    match gol {
        Ok((tx, rx)) if tx == "unspecified" && rx == "unspecified" => {
            row.set("gol", node.default("gol"));
        }
        other => row.set(
            "gol",
            other.map(|(tx, rx)| format!("{}|{}", short(tx), short(rx))),
        ),
    }
}

/// The reference's check of the actual against the configured frequency: `60480 (ok)` or
/// `60480 (KO!)`, when both are known.
fn check_frequency(row: &mut Row<'_>) {
    if let (Some(act), Some(cfg)) = (row.text("act_f"), row.text("cfg_f"))
        && !act.is_empty()
        && !cfg.is_empty()
    {
        let verdict = if act == cfg { "ok" } else { "KO!" };
        let value = format!("{act} ({verdict})");
        row.set("act_f", Ok(value));
    }
}

fn links(tree: &Tree, warnings: &mut Vec<String>) -> Vec<Map<String, Value>> {
    let list = |name: &str, keys: &[&str]| -> Vec<&Node> {
        tree.section(name)
            .and_then(|s| s.child("links"))
            .map(|l| {
                l.blocks()
                    .filter(|b| keys.contains(&b.key.as_str()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let common = list("radio-common", &["active", "disconnected"]);
    let configured = list("radio-dn", &["configured"]);
    let mut configured_used = vec![false; configured.len()];
    let mut rows = Vec::new();
    for (i, link) in common.iter().enumerate() {
        let remote = entry_name(link, "remote-assigned-name");
        let place = format!("links[{}]", remote.as_deref().unwrap_or(&ordinal(i)));
        let mut row = Row::new(place, &LINKS, warnings);
        row.set(
            "remote",
            remote.clone().ok_or_else(|| "no remote name".to_owned()),
        );
        row.set("status", Ok(link.key.clone()));
        if link.key == "active" {
            row.set(
                "uptime",
                required(Some(link), &["link-uptime"]).and_then(|u| link_uptime(&u)),
            );
            // `init` / `resp`, as the reference prints the role.
            let role = required(Some(link), &["local-role"]).map(|r| r.chars().take(4).collect());
            row.set("role", role);
            for (label, leaf) in LINK_STATS {
                row.set(label, required(Some(link), &[leaf]));
            }
        }
        let twin = remote.as_deref().and_then(|remote| {
            (0..configured.len()).find(|&j| {
                !configured_used[j]
                    && entry_name(configured[j], "remote-assigned-name").as_deref() == Some(remote)
            })
        });
        if let Some(j) = twin {
            configured_used[j] = true;
            configured_link(&mut row, configured[j]);
        }
        rows.push(row.cells);
    }
    // Configured links the radio does not see at all are disconnected.
    for (j, link) in configured
        .iter()
        .enumerate()
        .filter(|(j, _)| !configured_used[*j])
    {
        let remote = entry_name(link, "remote-assigned-name");
        let place = format!("links[{}]", remote.as_deref().unwrap_or(&ordinal(j)));
        let mut row = Row::new(place, &LINKS, warnings);
        row.set("remote", remote.ok_or_else(|| "no remote name".to_owned()));
        row.set("status", Ok("disconnected".to_owned()));
        configured_link(&mut row, link);
        rows.push(row.cells);
    }
    rows
}

/// The radio-dn side of a link: admin state, responder type and configured sectors.
fn configured_link(row: &mut Row<'_>, link: &Node) {
    row.set("admin", required(Some(link), &["admin-status"]));
    let kind = required(Some(link), &["responder-node-type"]).and_then(|kind| {
        if kind == "dn" {
            // `dn1`, `dnunspecified`: a DN responder is told by its control superframe.
            required(Some(link), &["control-superframe"]).map(|sf| format!("dn{sf}"))
        } else {
            Ok(kind)
        }
    });
    row.set("type", kind);
    row.set("cfg_lsec", Ok(sector_indices(link, "local-sector")));
    row.set("cfg_rsec", Ok(sector_indices(link, "remote-sector")));
}

/// The indices of a configured link's `local-sector`/`remote-sector` entries, concatenated
/// as the reference prints them (`12` for sectors 1 and 2). Matching the key exactly keeps
/// `local-sector-bitmap` out (batchscanner added a `None` for it).
fn sector_indices(link: &Node, key: &str) -> String {
    link.children
        .as_deref()
        .unwrap_or_default()
        .iter()
        .filter(|c| c.key == key)
        .filter_map(|c| match &c.children {
            Some(_) => entry_name(c, "index"),
            None => (!c.rest.is_empty()).then(|| c.rest.clone()),
        })
        .collect()
}

/// A link uptime: seconds become `DDDDD:HH:MM:SS` (batchscanner kept only the last digit
/// of the hours: 4469674 s gave `00051:07:34:34` instead of `00051:17:34:34`); any other
/// text is the radio's own format, kept as is.
fn link_uptime(value: &str) -> Result<String, String> {
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(value.to_owned());
    }
    let seconds: u64 = value
        .parse()
        .map_err(|_| format!("link-uptime {} out of range", excerpt(value)))?;
    Ok(dhms(seconds))
}

/// `DDDDD:HH:MM:SS`.
fn dhms(seconds: u64) -> String {
    format!(
        "{:05}:{:02}:{:02}:{:02}",
        seconds / 86_400,
        seconds / 3600 % 24,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// A system uptime in the reference's `DDDDD:HH:MM:SS` form: a shorter day field is padded
/// (`0055:07:56:02` → `00055:07:56:02`), plain seconds are converted.
fn system_uptime(value: &str) -> Result<String, String> {
    let parts: Vec<&str> = value.split(':').collect();
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    match parts[..] {
        [d, h, m, s] if [d, h, m, s].into_iter().all(digits) => Ok(format!("{d:0>5}:{h}:{m}:{s}")),
        [_] => link_uptime(value).and_then(|v| {
            if v == value {
                Err(format!("malformed uptime {}", excerpt(value)))
            } else {
                Ok(v)
            }
        }),
        _ => Err(format!("malformed uptime {}", excerpt(value))),
    }
}

fn system(tree: &Tree, warnings: &mut Vec<String>) -> Vec<Map<String, Value>> {
    let Some(sys) = section(tree, "system", warnings) else {
        return Vec::new();
    };
    let state = sys.child("state");
    let mut row = Row::new("system".to_owned(), &SYSTEM, warnings);
    row.set("product", required(state, &["product"]));
    row.set(
        "uptime",
        required(state, &["uptime"]).and_then(|u| system_uptime(&u)),
    );
    row.set("datetime", required(state, &["date-and-time"]));
    row.set(
        "location",
        required(Some(sys), &["location"]).map(|l| l.replace(',', ";")),
    );
    // batchscanner dropped the whole row when banks-info was missing; only the versions
    // are lost then.
    let banks: Vec<&Node> = state
        .and_then(|s| s.child("banks-info"))
        .map(|b| b.blocks().collect())
        .unwrap_or_default();
    for (label, status) in [("sw_active", "active"), ("sw_passive", "passive")] {
        let bank = banks
            .iter()
            .find(|b| matches!(b.leaf(&["status"]), Leaf::Text(s) if s == status));
        let version = match bank {
            Some(bank) => required(Some(bank), &["software-version"])
                .map(|v| xyz(&v).map_or_else(|| "unknown".to_owned(), str::to_owned)),
            None => Err(format!(
                "no bank with status {status} in 'state/banks-info'"
            )),
        };
        row.set(label, version);
    }
    // Only radios with a GPS report it: its absence is the reference's empty cell.
    row.set("gps_mode", optional(state, &["gps", "fix-mode"]));
    row.set(
        "gps_sats",
        optional(state, &["gps", "fix-satellites-number"]),
    );
    vec![row.cells]
}
