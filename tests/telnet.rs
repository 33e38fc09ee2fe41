//! Telnet: `--transport telnet` logs in at siksim's login and password prompts and drives the
//! same CLI session as over SSH; `--check ssh,telnet` reports which protocols accept a login.
//! Each test has its own range in 127.120.0.0/15, SSH on 2320 and Telnet on 2323.

mod support;

use std::collections::HashMap;
use std::net::IpAddr;

use sikscan::record::{Record, Status, Transport};
use support::fleet::{Fleet, fleet, group};
use support::{Siksim, addresses, sikprobe, temp_file};

const PORT: &str = "2320";
const TELNET_PORT: &str = "2323";

/// Serves `fleet` (SSH on PORT, Telnet on TELNET_PORT) and returns its ground truth by ip.
fn serve(fleet: &Fleet) -> (Siksim, HashMap<IpAddr, serde_json::Value>) {
    let siksim = Siksim::serve(fleet, &["--port", PORT, "--telnet-port", TELNET_PORT, "-q"]);
    let truth = siksim
        .describe()
        .into_iter()
        .filter(|device| device["route"].is_null())
        .map(|device| {
            let ip = device["ip"].as_str().and_then(|s| s.parse().ok());
            (ip.expect("an ip"), device)
        })
        .collect();
    (siksim, truth)
}

fn by_ip(records: &[Record]) -> HashMap<IpAddr, &Record> {
    records.iter().map(|r| (r.ip.expect("an ip"), r)).collect()
}

#[test]
fn telnet_logs_in_identifies_and_runs_scripts_with_ssh_statuses() {
    let (_siksim, truth) = serve(&fleet([
        group("127.120.0.1", "telnet").with("name", "Old Tower"),
        group("127.120.0.2", "tu").with("telnet", true),
        group("127.120.0.3", "wrong-password").with("telnet", true),
        group("127.120.0.4", "eh"),
    ]));
    let probe = sikprobe(
        &["--transport", "telnet", "-p", TELNET_PORT, "-j", "4"],
        &addresses("127.120.0.1-127.120.0.4"),
    );
    assert!(probe.status.success(), "{}", probe.stderr);
    assert_eq!(probe.records.len(), 4);
    let got = by_ip(&probe.records);
    for (ip, device) in &truth {
        let record = got[ip];
        assert_eq!(record.transport, Some(Transport::Telnet));
        assert_eq!(record.port, TELNET_PORT.parse().ok());
        let telnet = &device["telnet"];
        if telnet.is_null() {
            // No Telnet service on this radio: the port is closed.
            assert_eq!(record.status, Status::Refused, "{ip}: {:?}", record.error);
            continue;
        }
        let expected: Status = telnet["status"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("a status");
        assert_eq!(record.status, expected, "{ip}: {:?}", record.error);
        let text = |key: &str| telnet[key].as_str().map(str::to_owned);
        assert_eq!(record.model, text("model"), "{ip} model");
        assert_eq!(record.name, text("name"), "{ip} name");
        assert_eq!(record.sw, text("sw"), "{ip} sw");
        assert_eq!(record.sn, text("sn"), "{ip} sn");
        if expected == Status::Ok {
            assert_eq!(record.user.as_deref(), Some("admin"));
            assert_eq!(
                record.prompt.as_deref(),
                text("prompt").as_deref().map(str::trim_end)
            );
        }
    }
    let wrong = got[&"127.120.0.3".parse::<IpAddr>().expect("ip")];
    assert_eq!(wrong.status, Status::AuthFailed);
    assert!(
        wrong
            .error
            .as_deref()
            .is_some_and(|e| e.contains("refused")),
        "{:?}",
        wrong.error
    );
    // Over SSH the Telnet-only radio has no listener at all.
    let ssh = sikprobe(&["-p", PORT], "127.120.0.1\n");
    assert_eq!(ssh.records[0].status, Status::Refused);
    // Telnet to an SSH port: a connection, but never a login prompt.
    let no_login = sikprobe(
        &["--transport", "telnet", "-p", PORT, "--auth-timeout", "1s"],
        "127.120.0.4\n",
    );
    let record = &no_login.records[0];
    assert_eq!(record.status, Status::PromptTimeout, "{:?}", record.error);
    assert!(
        record
            .error
            .as_deref()
            .is_some_and(|e| e.contains("no telnet login prompt") && e.contains("SSH-2.0-")),
        "{:?}",
        record.error
    );
    // A refused password is never written anywhere.
    let (_secret_dir, secret) = temp_file("password", "hunter2-telnet\n");
    let refused = sikprobe(
        &[
            "--transport",
            "telnet",
            "-p",
            TELNET_PORT,
            "--password-file",
            secret.to_str().expect("UTF-8"),
        ],
        "127.120.0.1\n",
    );
    assert_eq!(refused.records[0].status, Status::AuthFailed);
    let written = serde_json::to_string(&refused.records).expect("json") + &refused.stderr;
    assert!(!written.contains("hunter2"), "{written}");

    let script = sikprobe(
        &[
            "--transport",
            "telnet",
            "-p",
            TELNET_PORT,
            "-c",
            "show sw",
            "-c",
            "set system location \"Hill 2\"",
            "-c",
            "show system",
        ],
        "127.120.0.1\n",
    );
    assert!(script.status.success(), "{}", script.stderr);
    let record = &script.records[0];
    assert_eq!(record.status, Status::Ok, "{:?}", record.error);
    let commands = record.commands.as_ref().expect("commands");
    assert_eq!(commands.len(), 3);
    assert!(commands.iter().all(|c| c.ok), "{commands:?}");
    let sw = truth[&"127.120.0.1".parse::<IpAddr>().expect("ip")]["telnet"]["sw"]
        .as_str()
        .expect("sw");
    let major = sw.split('.').next().expect("a version");
    assert!(
        commands[0].output.contains(major),
        "{:?}",
        commands[0].output
    );
    assert!(
        commands[2].output.contains("Hill 2"),
        "{:?}",
        commands[2].output
    );
    assert!(
        commands.iter().all(|c| !c.output.contains('\u{fffd}')),
        "no negotiation bytes leak into the output"
    );
}

#[test]
fn check_reports_which_protocols_accept_a_login_per_host() {
    let (_siksim, truth) = serve(&fleet([
        group("127.121.0.1-127.121.0.2", "eh"),
        group("127.121.0.3-127.121.0.4", "telnet"),
        group("127.121.0.5-127.121.0.6", "bu").with("telnet", true),
        group("127.121.0.7", "closed"),
        group("127.121.0.8", "wrong-password").with("telnet", true),
        group("127.121.0.9", "linux"),
    ]));
    let probe = sikprobe(
        &[
            "--check",
            "ssh,telnet",
            "-p",
            PORT,
            "--telnet-port",
            TELNET_PORT,
            "-j",
            "9",
        ],
        &addresses("127.121.0.1-127.121.0.9"),
    );
    assert!(probe.status.success(), "{}", probe.stderr);
    assert_eq!(probe.records.len(), 9, "one record per address");
    let got = by_ip(&probe.records);
    for (ip, device) in &truth {
        let record = got[ip];
        let check = &device["check"];
        let reachable = record.reachable.expect("reachable");
        assert_eq!(
            (reachable.ssh, reachable.telnet),
            (
                check["ssh"].as_bool().expect("bool"),
                check["telnet"].as_bool().expect("bool")
            ),
            "{ip} ({}): {:?}",
            device["persona"],
            record.error
        );
        let expected: Status = check["status"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("a status");
        assert_eq!(record.status, expected, "{ip}: {:?}", record.error);
        assert!(record.commands.is_none(), "a check runs no commands");
    }
    let closed = got[&"127.121.0.7".parse::<IpAddr>().expect("ip")];
    let error = closed.error.as_deref().unwrap_or_default();
    assert!(
        error.contains("ssh: ") && error.contains("telnet: "),
        "{error}"
    );
}
