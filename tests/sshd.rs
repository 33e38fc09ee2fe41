//! sikprobe against a real OpenSSH sshd on loopback: key authentication, and a Linux host
//! reported as not-siklu with a clean prompt.

mod support;

use sikscan::record::Status;
use support::{Sshd, sikprobe};

#[test]
fn a_private_key_logs_in_and_a_linux_shell_is_not_a_radio() {
    let sshd = Sshd::start(2398);
    let target = format!("127.0.0.1:{}\n", sshd.port);
    let user_key = sshd.key("user_key");
    let probe = sikprobe(
        &["-q", "--no-agent", "-u", "root", "-i", &user_key],
        &target,
    );
    assert!(probe.status.success(), "{}", probe.stderr);
    let record = &probe.records[0];
    assert_eq!(record.status, Status::NotSiklu, "{:?}", record.error);
    assert_eq!(record.user.as_deref(), Some("root"));
    let prompt = record.prompt.as_deref().expect("the shell prompt");
    assert!(prompt.ends_with('#') || prompt.ends_with('$'), "{prompt:?}");
    assert!(
        !prompt.contains('\u{1b}'),
        "terminal escapes are stripped: {prompt:?}"
    );
    support::assert_from_the_test_sshd(record);

    let other_key = sshd.key("other_key");
    let refused = sikprobe(
        &["-q", "--no-agent", "-u", "root", "-i", &other_key],
        &target,
    );
    let record = &refused.records[0];
    assert_eq!(record.status, Status::AuthFailed, "{:?}", record.error);
    assert_eq!(record.user, None);
}

#[test]
fn generic_hosts_run_commands_on_exec_channels_judged_by_exit_status() {
    let sshd = Sshd::start(2397);
    let target = format!("127.0.0.1:{}\n", sshd.port);
    let user_key = sshd.key("user_key");
    let probe = sikprobe(
        &[
            "--no-agent",
            "-u",
            "root",
            "-i",
            &user_key,
            "--platform",
            "generic",
            "-c",
            "echo hello",
            "-c",
            "echo oops >&2; exit 3",
        ],
        &target,
    );
    assert!(probe.status.success(), "{}", probe.stderr);
    let record = &probe.records[0];
    assert_eq!(record.status, Status::CommandFailed, "{:?}", record.error);
    assert_eq!(record.prompt, None, "no PTY, no prompt");
    let commands = record.commands.as_ref().expect("commands");
    assert_eq!(commands[0].output, "hello\n");
    assert_eq!((commands[0].ok, commands[0].exit_status), (true, Some(0)));
    assert_eq!((commands[1].ok, commands[1].exit_status), (false, Some(3)));
    assert_eq!(commands[1].stderr.as_deref(), Some("oops\n"));
    assert!(
        probe.stderr.contains("ran 2 commands across 1 hosts"),
        "{}",
        probe.stderr
    );
}
