//! Non-Siklu SSH hosts in a mixed fleet: with --platform auto (the default) a host that is not
//! a radio runs -c/--script commands on exec channels; with --platform siklu it is not-siklu.

mod support;

use sikscan::record::{RadioType, Status};
use support::fleet::{fleet, group};
use support::{Siksim, addresses, sikprobe};

const PORT: &str = "2303";

#[test]
fn a_mixed_fleet_runs_commands_on_linux_hosts_and_the_cli_on_radios() {
    let mixed = fleet([
        group("127.116.0.1-127.116.0.2", "linux"),
        group("127.116.0.3", "eh"),
    ]);
    let _fleet = Siksim::serve(&mixed, &["--port", PORT, "-q"]);
    let input = addresses("127.116.0.1-127.116.0.3");
    let probe = sikprobe(
        &["-p", PORT, "--ordered", "-c", "whoami", "-c", "uname -a"],
        &input,
    );
    assert!(probe.status.success(), "{}", probe.stderr);
    let [linux_a, linux_b, radio] = &probe.records[..] else {
        panic!("three records: {:?}", probe.records);
    };
    for linux in [linux_a, linux_b] {
        assert_eq!(linux.status, Status::Ok, "{:?}", linux.error);
        assert_eq!(linux.radio_type, None);
        let commands = linux.commands.as_ref().expect("commands");
        assert_eq!(commands[0].output, "admin\n");
        assert!(
            commands[1].output.starts_with("Linux "),
            "{:?}",
            commands[1].output
        );
        assert!(commands.iter().all(|c| c.exit_status == Some(0)));
    }
    // The radio ran the same commands through its CLI: it has no 'whoami'.
    assert_eq!(radio.radio_type, Some(RadioType::Eh));
    assert_eq!(radio.status, Status::CommandFailed);
    assert!(
        radio
            .commands
            .as_ref()
            .is_some_and(|c| c[0].exit_status.is_none())
    );
    assert!(
        probe.stderr.contains("ran 6 commands across 3 hosts"),
        "{}",
        probe.stderr
    );

    let failing = sikprobe(&["-p", PORT, "-q", "-c", "ls /missing"], "127.116.0.1\n");
    let record = &failing.records[0];
    assert_eq!(record.status, Status::CommandFailed);
    assert_eq!(
        record.commands.as_ref().map(|c| c[0].exit_status),
        Some(Some(2))
    );

    let strict = sikprobe(
        &["-p", PORT, "-q", "--platform", "siklu", "-c", "whoami"],
        "127.116.0.1\n",
    );
    assert_eq!(strict.records[0].status, Status::NotSiklu);
}
