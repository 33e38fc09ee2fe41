//! Golden tests of the `show` parsers on every sample in `tests/data/` (real radios' answers),
//! with the values batchscanner read from them, except where this tool deliberately differs
//! from batchscanner (each such cell is commented).

use serde_json::{Value, json};
use sikscan::parse::{Parsed, eh, tg};
use sikscan::record::RadioType;

/// The sample answers (`tests/data/eh/`) to the commands of `radio_type`, in order.
fn eh_answers(radio_type: RadioType) -> Vec<(&'static str, &'static str)> {
    eh::show_commands(radio_type)
        .iter()
        .map(|cmd| (*cmd, eh_sample(cmd)))
        .collect()
}

fn eh_sample(command: &str) -> &'static str {
    match command {
        "show system" => include_str!("data/eh/show_system.txt"),
        "show sw" => include_str!("data/eh/show_sw.txt"),
        "show inventory 1" => include_str!("data/eh/show_inventory_1.txt"),
        "show rf" => include_str!("data/eh/show_rf.txt"),
        "show rf-debug" => include_str!("data/eh/show_rf-debug.txt"),
        "show eth eth1" => include_str!("data/eh/show_eth_eth1.txt"),
        "show eth eth2" => include_str!("data/eh/show_eth_eth2.txt"),
        "show eth eth3" => include_str!("data/eh/show_eth_eth3.txt"),
        "show eth eth4" => include_str!("data/eh/show_eth_eth4.txt"),
        "show lldp-remote" => include_str!("data/eh/show_lldp-remote.txt"),
        "show log" => include_str!("data/eh/show_log.txt"),
        "show user-activity-log" => include_str!("data/eh/show_user-activity-log.txt"),
        "show base-unit" => include_str!("data/eh/show_base-unit.txt"),
        "show remote-terminal-unit" => include_str!("data/eh/show_remote-terminal-unit.txt"),
        "show terminal-unit" => include_str!("data/eh/show_terminal-unit.txt"),
        other => panic!("no sample for {other}"),
    }
}

const DN_SHOW: &str = include_str!("data/tg/dn1_show.txt");
const DN_SHOW_OLD_STYLE: &str = include_str!("data/tg/dn1_show_old_style.txt");
const DN_RADIO_COMMON: &str = include_str!("data/tg/dn1_show_radio-common.txt");
const DN_RADIO_DN: &str = include_str!("data/tg/dn1_show_radio-dn.txt");
const CN_SHOW: &str = include_str!("data/tg/cn1_show.txt");

/// The fields every classic type shares, as the reference's EH row states them.
fn common_fields() -> Value {
    json!({
        "system_descrip": "EH-710TX", "system_name": "EH-710TX", "system_location": "London",
        "system_date": "2023.08.16", "system_time": "07:15:52", "system_up_days": "12.22",
        "sw_active": "7.7.10", "sw_offline": "7.4.3", "inventory_sn": "T.BJF943017B",
    })
}

fn eth_fields(ports: usize) -> Value {
    let mut m = serde_json::Map::new();
    for n in 1..=ports {
        let (oper, speed, change) = if n == 1 {
            ("up", "1000xfd", "0000:00:00:47")
        } else {
            ("down", "unknown", "0000:00:00:00")
        };
        m.insert(format!("eth{n}_oper"), oper.into());
        m.insert(format!("eth{n}_speed"), speed.into());
        m.insert(format!("eth{n}_last_change"), change.into());
    }
    Value::Object(m)
}

fn logs() -> Value {
    json!({
        "lldp_remote": "00:24:a4:05:cd:20",
        "events_log": "Aug 16 06:51:40 sw cad: link up eth eth0; Aug 16 07:02:13 sw cad: modulation change qam64 to qam128",
        "user_activity_log": "Aug 16 07:15:52 admin ssh 192.168.0.10 set system time 07:15:52; Aug 16 07:15:53 admin ssh 192.168.0.10 set system date 2023.08.16",
    })
}

/// Concatenates JSON objects in order.
fn merge(parts: &[Value]) -> Value {
    let mut m = serde_json::Map::new();
    for part in parts {
        if let Value::Object(o) = part {
            m.extend(o.clone());
        }
    }
    Value::Object(m)
}

fn assert_fields(parsed: &Parsed, expected: &Value) {
    let expected = expected.as_object().expect("an object");
    // Same keys in the same (column) order, and the same values.
    let keys: Vec<&String> = parsed.fields.keys().collect();
    let want: Vec<&String> = expected.keys().collect();
    assert_eq!(keys, want);
    for (k, v) in expected {
        assert_eq!(&parsed.fields[k], v, "field {k}");
    }
}

#[test]
fn eh_sample_gives_the_reference_row() {
    let parsed = eh::parse(RadioType::Eh, &eh_answers(RadioType::Eh));
    let rf = json!({
        "rf_oper": "up", "rf_cinr": "17", "rf_rssi": "-43", "rf_freq": "74375",
        "rf_mode": "adaptive", "rfdebug_ptx": "5", "rfdebug_distance": "1234",
    });
    assert_fields(
        &parsed,
        &merge(&[common_fields(), rf, eth_fields(4), logs()]),
    );
    assert_eq!(parsed.warnings, Vec::<String>::new());
}

#[test]
fn bu_sample_gives_the_reference_row() {
    let parsed = eh::parse(RadioType::Bu, &eh_answers(RadioType::Bu));
    let mut bu = json!({
        "bu_mac": "00:24:a4:11:22:33", "bu_freq": "60480", "bu_guest": "disabled",
        "rtu1_mac": "00:24:a4:aa:bb:01", "rtu1_status": "connected", "rtu1_assoc": "associated",
        "rtu1_tx_msc": "9", "rtu1_rssi": "-55", "rtu1_sig_quality": "20", "rtu1_connect_days": "3.17",
        "rtu2_mac": "00:24:a4:aa:bb:02", "rtu2_status": "connected", "rtu2_assoc": "associated",
        "rtu2_tx_msc": "7", "rtu2_rssi": "-61", "rtu2_sig_quality": "15", "rtu2_connect_days": "0.5",
    });
    // Slots 3–8 hold no terminal unit: empty, as batchscanner prints them, and no warning.
    for i in 3..=8 {
        for f in [
            "mac",
            "status",
            "assoc",
            "tx_msc",
            "rssi",
            "sig_quality",
            "connect_days",
        ] {
            bu[format!("rtu{i}_{f}")] = "".into();
        }
    }
    assert_fields(
        &parsed,
        &merge(&[common_fields(), eth_fields(3), logs(), bu]),
    );
    assert_eq!(parsed.warnings, Vec::<String>::new());
}

#[test]
fn tu_sample_gives_the_reference_row() {
    let parsed = eh::parse(RadioType::Tu, &eh_answers(RadioType::Tu));
    let tu = json!({
        "tu_mac": "00:24:a4:aa:bb:01", "tu_status": "connected", "tu_bu_mac": "00:24:a4:11:22:33",
        "tu_tx_msc": "9", "tu_rssi": "-55", "tu_sig_quality": "20", "tu_connect_days": "3.17",
    });
    assert_fields(
        &parsed,
        &merge(&[common_fields(), eth_fields(3), logs(), tu]),
    );
    assert_eq!(parsed.warnings, Vec::<String>::new());
}

#[test]
fn eh_values_that_crashed_batchscanner_become_null_with_a_warning() {
    let system = include_str!("data/eh/show_system.txt")
        .replace(
            "system location           : London",
            "system location           : ",
        )
        .replace(
            "system name               : EH-710TX",
            "system name               :  EH-710TX",
        )
        .replace("0012:05:17:42", "12:00:00");
    let answers = [("show system", system.as_str())];
    let parsed = eh::parse(RadioType::Eh, &answers);
    assert_eq!(parsed.fields["system_location"], Value::Null);
    // Two spaces after the colon: batchscanner crashed, the value is plain to read.
    assert_eq!(parsed.fields["system_name"], "EH-710TX");
    assert_eq!(parsed.fields["system_up_days"], Value::Null);
    assert!(
        parsed
            .warnings
            .contains(&"system_location: empty value in 'show system'".to_owned())
    );
    assert!(
        parsed.warnings.contains(
            &"system_up_days: malformed time '12:00:00' in 'show system' (want DDDD:HH:MM:SS)"
                .to_owned()
        )
    );
    assert!(
        parsed
            .warnings
            .contains(&"rf_cinr: 'show rf' not answered".to_owned())
    );
    // Every null has its warning, and nothing else has one.
    let nulls = parsed.fields.values().filter(|v| v.is_null()).count();
    assert_eq!(parsed.warnings.len(), nulls);
}

#[test]
fn eh_keeps_a_quoted_name_and_reads_answers_with_crlf() {
    let system = include_str!("data/eh/show_system.txt")
        .replace(
            "system name               : EH-710TX",
            "system name               : \"Roof North\"",
        )
        .replace('\n', "\r\n");
    let parsed = eh::parse(RadioType::Eh, &[("show system", system.as_str())]);
    assert_eq!(parsed.fields["system_name"], "\"Roof North\"");
    assert_eq!(parsed.fields["system_location"], "London");
}

#[test]
fn a_tg_answer_to_show_goes_to_the_tg_parser() {
    assert_eq!(
        eh::parse(RadioType::Tg, &[("show", DN_SHOW)]),
        tg::parse(DN_SHOW)
    );
    let unanswered = eh::parse(RadioType::Tg, &[]);
    assert_eq!(unanswered.warnings[0], "show: 'show' not answered");
    assert_eq!(unanswered.fields["links"], json!([]));
}

fn dn_expected() -> Value {
    json!({
        "interfaces": [
            {"port": "eth1", "status": "up", "dup": "FD", "speed": "1Gbps"},
            {"port": "eth2", "status": "down", "dup": "", "speed": ""},
            {"port": "eth3", "status": "user-disabled", "dup": "", "speed": ""},
        ],
        "inventory": [
            {"sn": "FB18483274", "model": "MH-N366-CCP-PoE-MWB", "hw_rev": "A1", "sw_ver": "2.1.1-3215"},
        ],
        "ip": [
            {"address": "192.168.0.1", "pref": "24", "vlan": "", "gateway": "192.168.0.254"},
            {"address": "10.20.30.41", "pref": "24", "vlan": "c20", "gateway": ""},
        ],
        // The reference prints YAML's `False`; values here are the dump's text.
        "node": [
            {"popdn": "false", "sync": "gps-sync-holdover", "mode": "DN", "sched": "Long",
             "ptx": "auto", "freq": "60480", "pol": "even", "gol": "1|1"},
        ],
        "sectors": [
            {"sec": "1", "admin": "up", "cfg_f": "60480", "pol": "even", "gol": "1|1",
             "act_f": "60480 (ok)", "ant": "massive2", "sync": "gps", "Tmdm": "50", "Trf": "45"},
            {"sec": "2", "admin": "up", "cfg_f": "64800", "pol": "odd", "gol": "2|2",
             "act_f": "64800 (ok)", "ant": "massive2", "sync": "gps", "Tmdm": "49", "Trf": "50"},
            {"sec": "3", "admin": "down", "cfg_f": "", "pol": "", "gol": "", "act_f": "",
             "ant": "", "sync": "", "Tmdm": "", "Trf": ""},
        ],
        // cn1's uptime is 4469674 s = 51 d 17:34:34: the reference's `00051:07:34:34` is
        // batchscanner's hour truncation, fixed. `tx-per 0.00` stays `0.00` (YAML made 0.0).
        "links": [
            {"remote": "cn1", "admin": "up", "role": "init", "status": "active",
             "uptime": "00051:17:34:34", "type": "cn", "cfg_lsec": "1", "cfg_rsec": "1",
             "act_lsec": "1", "act_rsec": "1", "rssi": "-65", "snr": "11", "mcs_tx": "9",
             "mcs_rx": "10", "tiles_tx": "2", "tiles_rx": "2", "per_tx": "0.00", "per_rx": "0.50",
             "beam_index_tx": "71", "beam_index_rx": "72"},
            {"remote": "cn2", "admin": "up", "role": "init", "status": "active",
             "uptime": "00000:01:00:00", "type": "cn", "cfg_lsec": "2", "cfg_rsec": "",
             "act_lsec": "2", "act_rsec": "1", "rssi": "-58", "snr": "15", "mcs_tx": "12",
             "mcs_rx": "12", "tiles_tx": "2", "tiles_rx": "2", "per_tx": "0.00", "per_rx": "0.00",
             "beam_index_tx": "64", "beam_index_rx": "64"},
            {"remote": "dn2", "admin": "up", "role": "", "status": "disconnected",
             "uptime": "", "type": "dn1", "cfg_lsec": "3", "cfg_rsec": "4",
             "act_lsec": "", "act_rsec": "", "rssi": "", "snr": "", "mcs_tx": "",
             "mcs_rx": "", "tiles_tx": "", "tiles_rx": "", "per_tx": "", "per_rx": "",
             "beam_index_tx": "", "beam_index_rx": ""},
        ],
        "system": [
            {"product": "MH-N366", "uptime": "00055:07:55:38", "datetime": "2023-08-17 06:30:32",
             "location": "London; Main St", "sw_active": "2.1.1", "sw_passive": "1.3.1",
             "gps_mode": "3D", "gps_sats": "11"},
        ],
    })
}

/// Compares section by section and row by row, labels in the reference's order.
fn assert_sections(parsed: &Parsed, expected: &Value) {
    let expected = expected.as_object().expect("an object");
    let sections: Vec<&String> = parsed.fields.keys().collect();
    assert_eq!(
        sections,
        [
            "interfaces",
            "inventory",
            "ip",
            "node",
            "sectors",
            "links",
            "system"
        ]
    );
    for (name, rows) in expected {
        let got = parsed.fields[name].as_array().expect("rows");
        let want = rows.as_array().expect("rows");
        assert_eq!(got.len(), want.len(), "rows of {name}: {got:#?}");
        for (g, w) in got.iter().zip(want) {
            let g_keys: Vec<&String> = g.as_object().expect("row").keys().collect();
            let w_keys: Vec<&String> = w.as_object().expect("row").keys().collect();
            assert_eq!(g_keys, w_keys, "labels of {name}");
            assert_eq!(g, w, "a row of {name}");
        }
    }
}

#[test]
fn dn_sample_gives_the_reference_sections() {
    let parsed = tg::parse(DN_SHOW);
    assert_sections(&parsed, &dn_expected());
    assert_eq!(parsed.warnings, Vec::<String>::new());
}

#[test]
fn dn_sample_in_the_old_style_gives_the_same_sections() {
    // Keys as leaves (`ports {` + `name eth1;`, `banks {` + `number 0;` …), two spaces
    // per level instead of three.
    assert_eq!(tg::parse(DN_SHOW_OLD_STYLE), tg::parse(DN_SHOW));
}

#[test]
fn cn_sample_gives_the_reference_sections() {
    let parsed = tg::parse(CN_SHOW);
    let expected = json!({
        "interfaces": [{"port": "eth1", "status": "up", "dup": "FD", "speed": "1Gbps"}],
        "inventory": [
            {"sn": "FD08659404", "model": "MH-T265-CNN-N-MWB", "hw_rev": "A2", "sw_ver": "2.1.1-3215"},
        ],
        "ip": [{"address": "192.168.0.1", "pref": "24", "vlan": "", "gateway": ""}],
        "node": [
            {"popdn": "", "sync": "no-sync", "mode": "CN", "sched": "Long", "ptx": "auto",
             "freq": "unspecified", "pol": "unspec", "gol": "unspec|unspec"},
        ],
        "sectors": [
            {"sec": "1", "admin": "up", "cfg_f": "", "pol": "", "gol": "", "act_f": "60480",
             "ant": "massive2", "sync": "rf", "Tmdm": "30", "Trf": "23"},
        ],
        "links": [
            {"remote": "dn1", "admin": "", "role": "resp", "status": "active",
             "uptime": "00051:17:34:34", "type": "", "cfg_lsec": "", "cfg_rsec": "",
             "act_lsec": "1", "act_rsec": "1", "rssi": "-64", "snr": "12", "mcs_tx": "10",
             "mcs_rx": "9", "tiles_tx": "2", "tiles_rx": "2", "per_tx": "0.50", "per_rx": "0.00",
             "beam_index_tx": "72", "beam_index_rx": "71"},
        ],
        // `not-exist / corrupted` has no x.y.z: the reference's `unknown`.
        "system": [
            {"product": "MH-T265", "uptime": "00055:07:56:02", "datetime": "2023-08-17 06:30:35",
             "location": "", "sw_active": "2.1.1", "sw_passive": "unknown", "gps_mode": "",
             "gps_sats": ""},
        ],
    });
    assert_sections(&parsed, &expected);
    assert_eq!(parsed.warnings, Vec::<String>::new());
}

#[test]
fn dn_discovery_finds_the_active_cns() {
    let dump = format!("{DN_RADIO_COMMON}\n{DN_RADIO_DN}");
    let parsed = tg::parse(&dump);
    assert_eq!(tg::active_cns(&parsed), ["cn1", "cn2"]);
    assert_eq!(parsed.fields["links"], dn_expected()["links"]);
    assert_eq!(tg::active_cns(&tg::parse(DN_SHOW)), ["cn1", "cn2"]);
    // The CN's own link is to a DN with no configured entry: no CN there.
    assert_eq!(tg::active_cns(&tg::parse(CN_SHOW)), Vec::<String>::new());
}

#[test]
fn tg_fixes_batchscanner_pitfalls() {
    let dump = DN_SHOW
        // A bitmap leaf next to the sector entries (batchscanner added `None`).
        .replace(
            "         remote-sector 1 {",
            "         local-sector-bitmap 2;\n         remote-sector 1 {",
        )
        // A relative position listed before the parent index (batchscanner: "has a parent").
        .replace(
            "      description MH-N366;",
            "      parent-rel-pos -1;\n      parent-index 0;\n      description MH-N366;",
        )
        // An uptime with no value.
        .replace("link-uptime 3600;", "link-uptime;");
    let parsed = tg::parse(&dump);
    let links = &parsed.fields["links"];
    assert_eq!(links[0]["cfg_lsec"], "1");
    assert_eq!(links[1]["uptime"], Value::Null);
    assert_eq!(parsed.fields["inventory"][0]["sn"], "FB18483274");
    assert_eq!(parsed.warnings, ["links[cn2].uptime: empty 'link-uptime'"]);
}

#[test]
fn tg_keeps_the_system_row_without_banks_info() {
    let start = CN_SHOW.find("      banks-info {").expect("banks-info");
    let end = CN_SHOW[start..].find("\n      }\n").expect("its end") + start + 9;
    let dump = format!("{}{}", &CN_SHOW[..start], &CN_SHOW[end..]);
    let parsed = tg::parse(&dump);
    let system = &parsed.fields["system"][0];
    assert_eq!(system["product"], "MH-T265");
    assert_eq!(system["sw_active"], Value::Null);
    assert_eq!(system["sw_passive"], Value::Null);
    assert_eq!(parsed.warnings.len(), 2, "{:?}", parsed.warnings);
}

#[test]
fn tg_reports_what_does_not_fit_the_grammar() {
    let dump = format!("garbage line\n{CN_SHOW}}}\nradio-bridge-tg-x:x {{\n");
    let parsed = tg::parse(&dump);
    assert_eq!(
        parsed.warnings,
        [
            "show: 1 line(s) not understood, the first at line 1: 'garbage line'",
            "show: 1 unmatched '}'",
            "show: 1 block(s) not closed",
        ]
    );
    assert_eq!(parsed.fields["system"][0]["product"], "MH-T265");
}

#[test]
fn tg_deep_nesting_is_cut_without_overflowing_the_stack() {
    let depth = 200_000;
    let dump = format!("{}{}", "a {\n".repeat(depth), "}\n".repeat(depth));
    let parsed = tg::parse(&dump);
    assert!(
        parsed
            .warnings
            .iter()
            .any(|w| w.contains("nested deeper than"))
    );
    let unclosed = tg::parse(&"x y {\n".repeat(depth));
    assert!(unclosed.warnings.iter().any(|w| w.contains("not closed")));
}

#[test]
fn an_empty_dump_gives_empty_sections_and_one_node_row() {
    let parsed = tg::parse("");
    assert_eq!(parsed.fields["node"].as_array().map(Vec::len), Some(1));
    assert_eq!(parsed.fields["links"], json!([]));
    assert!(
        parsed
            .warnings
            .contains(&"system: no 'system' section in the dump".to_owned())
    );
}
