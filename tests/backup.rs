//! `sikprobe -a backup` against simulated radios: the configuration text exactly as siksim
//! holds it (its `--describe`), unsaved changes, changes made with `-a script` and saved, TG
//! client nodes, and radios that hang or close in the middle of a backup.

mod support;

use sha2::{Digest, Sha256};
use sikscan::record::{Record, Status};
use support::fleet::{fleet, group};
use support::{Siksim, addresses, record_for, sikprobe, truth_for};

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The record reports the configuration the ground truth says, byte for byte, with its digest.
#[track_caller]
fn assert_backup_matches(record: &Record, truth: &serde_json::Value) {
    let at = format!("{:?} {:?}", record.ip, record.route);
    assert_eq!(record.status, Status::Ok, "{at}: {:?}", record.error);
    let config = record
        .config
        .as_deref()
        .unwrap_or_else(|| panic!("{at}: no config"));
    assert_eq!(Some(config), truth["config"].as_str(), "{at}: config");
    assert_eq!(
        record.startup_config.as_deref(),
        truth["startup_config"].as_str(),
        "{at}: startup_config"
    );
    assert_eq!(
        record.config_saved,
        truth["config_saved"].as_bool(),
        "{at}: config_saved"
    );
    assert_eq!(
        record.config_sha256.as_deref(),
        Some(sha256_hex(config).as_str()),
        "{at}: config_sha256"
    );
    for command in record.commands.iter().flatten() {
        assert!(command.ok, "{at}: {} failed", command.command);
    }
}

#[test]
fn every_radio_type_backs_up_exactly_what_the_radio_holds() {
    const PORT: &str = "2421";
    let at = |last: u8| format!("127.203.1.{last}");
    let radios = fleet([
        group(&at(1), "eh"),
        group(&at(2), "eh").with("model", "EH-8010FX"),
        group(&at(3), "bu"),
        group(&at(4), "tu"),
        group(&at(5), "tg")
            .with("cns", 3)
            .with("unreachable_cns", 1),
        group(&at(6), "pager").with("page_lines", 3),
        group(&at(7), "eh")
            .with("name", "Roof North")
            .with("location", "Main St")
            .with("unsaved_changes", true),
        group(&at(8), "tu").with("unsaved_changes", true),
    ]);
    let siksim = Siksim::serve(&radios, &["--port", PORT, "-q"]);
    let truth = siksim.describe();
    let probe = sikprobe(
        &["-p", PORT, "-q", "-a", "backup", "--cns"],
        &addresses("127.203.1.1-127.203.1.8"),
    );
    assert!(probe.status.success(), "{}", probe.stderr);
    // Eight radios and the TG DN's three client nodes.
    assert_eq!(probe.records.len(), 11, "{:?}", probe.records);
    for last in 1..=8 {
        let ip = at(last);
        let expected = truth_for(&truth, &ip, None);
        assert_backup_matches(record_for(&probe.records, &ip, None), expected);
        assert_eq!(expected["backup_status"], "ok", "{ip}");
    }
    // Running and startup differ only where the fleet says the radio has unsaved changes.
    for (last, saved) in [(1, true), (3, true), (4, true), (7, false), (8, false)] {
        let record = record_for(&probe.records, &at(last), None);
        assert_eq!(record.config_saved, Some(saved), "{}", at(last));
        assert_eq!(
            record.config == record.startup_config,
            saved,
            "{}",
            at(last)
        );
    }
    // A configuration ends with a blank line on these radios: nothing was trimmed.
    let eh = record_for(&probe.records, &at(1), None);
    assert!(eh.config.as_deref().is_some_and(|c| c.ends_with("\n\n")));
    // TG: show startup, through the pager, on the DN and each client node reached.
    let tg = record_for(&probe.records, &at(5), None);
    assert_eq!(tg.config_saved, None);
    assert_eq!(tg.startup_config, None);
    let dn = tg.name.clone().expect("the DN's name");
    for cn in ["cn1", "cn2"] {
        let route = format!("{}: {dn} -> {cn}", at(5));
        let record = record_for(&probe.records, &at(5), Some(&route));
        assert_backup_matches(record, truth_for(&truth, &at(5), Some(&route)));
        let sent = support::command_names(record);
        assert_eq!(sent, ["show startup"], "{route}");
    }
    let unreachable = format!("{}: {dn} -> cn3", at(5));
    let record = record_for(&probe.records, &at(5), Some(&unreachable));
    assert_eq!(record.status, Status::Unreachable);
    assert_eq!(record.config, None);
    // The configuration is stored once: the backup commands' outputs are left empty.
    let sent: Vec<(&str, &str)> = eh
        .commands
        .iter()
        .flatten()
        .map(|c| (c.command.as_str(), c.output.as_str()))
        .collect();
    assert_eq!(
        sent,
        [
            ("copy running-configuration display", ""),
            ("copy startup-configuration display", "")
        ]
    );
}

#[test]
fn changes_made_with_a_script_show_in_the_next_backup_until_saved() {
    const PORT: &str = "2422";
    let radios = fleet([
        group("127.203.2.1", "eh").with("name", "EH-A"),
        group("127.203.2.2", "bu").with("name", "BU-A"),
    ]);
    let siksim = Siksim::serve(&radios, &["--port", PORT, "-q"]);
    let truth = siksim.describe();
    let input = addresses("127.203.2.1-127.203.2.2");
    let backup = || {
        let probe = sikprobe(&["-p", PORT, "-q", "-a", "backup"], &input);
        assert!(probe.status.success(), "{}", probe.stderr);
        probe.records
    };
    let before = backup();
    for ip in ["127.203.2.1", "127.203.2.2"] {
        assert_backup_matches(record_for(&before, ip, None), truth_for(&truth, ip, None));
    }
    let script = sikprobe(
        &[
            "-p",
            PORT,
            "-q",
            "-c",
            "set system name X",
            "-c",
            "set system location Oslo Harbour",
            "-c",
            // Not the address: a radio given another one stops answering at its own
            // (tests/siksim_rollback.rs).
            "set ip 1 prefix-len 24",
        ],
        &input,
    );
    assert!(script.status.success(), "{}", script.stderr);
    support::assert_all_ok(&script.records);
    let tx_power = sikprobe(
        &["-p", PORT, "-q", "-c", "set rf tx-power 14"],
        "127.203.2.1\n",
    );
    support::assert_all_ok(&tx_power.records);
    let after = backup();
    for ip in ["127.203.2.1", "127.203.2.2"] {
        let record = record_for(&after, ip, None);
        let original = truth_for(&truth, ip, None)["config"]
            .as_str()
            .expect("a config");
        let name = if ip.ends_with(".1") { "EH-A" } else { "BU-A" };
        let location = truth_for(&truth, ip, None)["show"]["system_location"]
            .as_str()
            .expect("a location")
            .to_owned();
        let mut expected = original.replace(
            &format!("  location {location}  name {name}\n"),
            "  location 'Oslo Harbour'  name X\n",
        );
        let (prefix, vlan) = original
            .lines()
            .find_map(|line| line.strip_prefix("set ip 1  "))
            .and_then(|line| line.split_once("  prefix-len "))
            .and_then(|(_, rest)| rest.split_once("  vlan "))
            .expect("an ip line");
        expected = expected.replace(
            &format!("prefix-len {prefix}  vlan {vlan}"),
            &format!("prefix-len 24  vlan {vlan}"),
        );
        if ip.ends_with(".1") {
            let line = original
                .lines()
                .find(|line| line.starts_with("set rf "))
                .expect("an rf line");
            let power = line
                .split("  ")
                .find_map(|pair| pair.strip_prefix("tx-power "))
                .expect("a tx-power");
            expected = expected.replace(&format!("  tx-power {power}  "), "  tx-power 14  ");
        }
        assert_ne!(expected, original, "{ip}: the edits apply to the text");
        assert_eq!(record.name.as_deref(), Some("X"), "{ip}");
        assert_eq!(record.config.as_deref(), Some(expected.as_str()), "{ip}");
        assert_eq!(
            record.startup_config.as_deref(),
            truth_for(&truth, ip, None)["startup_config"].as_str(),
            "{ip}: not saved yet"
        );
        assert_eq!(record.config_saved, Some(false), "{ip}");
    }
    let save = sikprobe(
        &[
            "-p",
            PORT,
            "-q",
            "-c",
            "copy running-configuration startup-configuration",
        ],
        &input,
    );
    support::assert_all_ok(&save.records);
    let saved = backup();
    for ip in ["127.203.2.1", "127.203.2.2"] {
        let record = record_for(&saved, ip, None);
        let changed = record_for(&after, ip, None);
        assert_eq!(record.config, changed.config, "{ip}");
        assert_eq!(record.startup_config, changed.config, "{ip}");
        assert_eq!(record.config_saved, Some(true), "{ip}");
    }
}

#[test]
fn a_radio_failing_mid_backup_gets_its_error_and_no_config() {
    const PORT: &str = "2423";
    let at = |last: u8| format!("127.203.3.{last}");
    let radios = fleet([
        // Hangs on the second command, after the running configuration came whole.
        group(&at(1), "eh").with("hang_on", "copy startup"),
        // Closes the session in the middle of the running configuration.
        group(&at(2), "bu").with("close_on", "copy running"),
        // Closes the session in the middle of the startup configuration.
        group(&at(3), "tu").with("close_on", "copy startup"),
        group(&at(4), "tg")
            .with("cns", 1)
            .with("hang_on", "show startup"),
        group(&at(5), "eh"),
    ]);
    let siksim = Siksim::serve(&radios, &["--port", PORT, "-q"]);
    let truth = siksim.describe();
    // describe's backup_status assumes the deadline cuts a hung command before its timeout.
    let probe = sikprobe(
        &[
            "-p",
            PORT,
            "-q",
            "-a",
            "backup",
            "--cns",
            "--deadline",
            "3s",
            "--command-timeout",
            "5s",
        ],
        &addresses("127.203.3.1-127.203.3.5"),
    );
    assert!(probe.status.success(), "{}", probe.stderr);
    assert_eq!(probe.records.len(), 5, "one record per radio");
    for (last, status) in [
        (1, Status::Deadline),
        (2, Status::IoError),
        (3, Status::IoError),
        (4, Status::Deadline),
    ] {
        let ip = at(last);
        let record = record_for(&probe.records, &ip, None);
        let expected = truth_for(&truth, &ip, None);
        assert_eq!(expected["backup_status"], status.as_str(), "{ip}");
        assert_eq!(record.status, status, "{ip}: {:?}", record.error);
        assert!(record.error.is_some(), "{ip}: an error says why");
        assert_eq!(
            (
                &record.config,
                &record.startup_config,
                record.config_saved,
                &record.config_sha256
            ),
            (&None, &None, None, &None),
            "{ip}: no partial configuration"
        );
    }
    assert_backup_matches(
        record_for(&probe.records, &at(5), None),
        truth_for(&truth, &at(5), None),
    );
}
