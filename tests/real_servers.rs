//! sikprobe's native client against what real servers do at login: a real OpenSSH sshd on
//! 127.0.0.1 (ports 2371-2375) that insists on SHA-1 `ssh-rsa` host keys, sends two userauth
//! banners and demands a new password through PAM, runs `/usr/sbin/nologin` as a shell, or
//! accepts only keys; and a radio whose prompt changes when it is renamed (siksim on
//! 127.137.0.1, port 2376). Both transports against a real Linux host with bash behind a
//! Siklu-like banner (sshd on port 2414) and the linux persona (siksim on 127.202.3.1, port
//! 2415), and a radio renamed over both (siksim on 127.202.4.1, port 2416).
//!
//! The PAM tests create local accounts, so they need root (as `.ci/run` runs them).

mod support;

use std::path::Path;
use std::process::Command;

use sikscan::record::{Record, Status};
use support::accounts::{PASSWORD, TestUser};
use support::banner::{IDENTITY, assert_a_linux_host_despite_the_banner, identity_banner};
use support::{Siksim, Sshd, sikprobe};

/// sshd settings for password logins through PAM, with the identity line as its `Banner`.
fn pam_settings(dir: &Path, method: &str) -> String {
    let banner = identity_banner(dir);
    let (password, prompts) = match method {
        "password" => ("yes", "no"),
        _ => ("no", "yes"),
    };
    format!(
        "UsePAM yes\nPasswordAuthentication {password}\nKbdInteractiveAuthentication {prompts}\n\
         Banner {}\n",
        banner.display()
    )
}

/// Probes the sshd as `user` with [`PASSWORD`] (never in argv) and returns its one record.
fn probe_with_password(sshd: &Sshd, user: &str) -> Record {
    let dir = tempfile::tempdir().expect("temp dir");
    let password_file = dir.path().join("password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).expect("password file");
    let password_file = password_file.display().to_string();
    let probe = sikprobe(
        &[
            "-q",
            "--no-agent",
            "-u",
            user,
            "--password-file",
            &password_file,
            "--prompt-timeout",
            "10s",
        ],
        &format!("127.0.0.1:{}\n", sshd.port),
    );
    assert!(probe.status.success(), "{}", probe.stderr);
    assert_eq!(probe.records.len(), 1, "{}", probe.stderr);
    probe.records.into_iter().next().expect("one record")
}

fn error_of(record: &Record) -> &str {
    record.error.as_deref().unwrap_or_default()
}

#[test]
fn sha1_ssh_rsa_host_keys_are_offered_only_with_legacy_algorithms() {
    let keys = tempfile::tempdir().expect("temp dir");
    let rsa_key = keys.path().join("rsa_host_key");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f"])
        .arg(&rsa_key)
        .status()
        .expect("ssh-keygen runs (apt-get install openssh-client)");
    assert!(made.success());
    let sshd = Sshd::start_with(
        2371,
        &format!("HostKey {}\nHostKeyAlgorithms ssh-rsa\n", rsa_key.display()),
    );
    let target = format!("127.0.0.1:{}\n", sshd.port);
    let user_key = sshd.key("user_key");
    let login = ["-q", "--no-agent", "-u", "root", "-i", &user_key];

    let refused = sikprobe(&login, &target);
    assert!(refused.status.success(), "{}", refused.stderr);
    let record = &refused.records[0];
    assert_eq!(record.status, Status::HandshakeFailed, "{:?}", record.error);
    assert_eq!(
        error_of(record),
        "no common host-key algorithm: the server offers only ssh-rsa \
         (SHA-1; --legacy-algorithms allows it)"
    );
    assert_eq!(record.user, None);

    let mut widened = login.to_vec();
    widened.push("--legacy-algorithms");
    let probe = sikprobe(&widened, &target);
    let record = &probe.records[0];
    assert_eq!(record.status, Status::NotSiklu, "{:?}", record.error);
    assert_eq!(record.user.as_deref(), Some("root"));
    assert!(
        record
            .host_key
            .as_deref()
            .is_some_and(|key| key.starts_with("ssh-rsa SHA256:")),
        "{:?}",
        record.host_key
    );
}

#[test]
fn an_expired_password_is_auth_failed_and_every_banner_is_kept() {
    let user = TestUser::create("sikt-expired-pw", "/bin/bash", true);
    let dir = tempfile::tempdir().expect("temp dir");
    let sshd = Sshd::start_with(2372, &pam_settings(dir.path(), "password"));
    let record = probe_with_password(&sshd, user.name);

    assert_eq!(record.status, Status::AuthFailed, "{:?}", record.error);
    assert!(
        error_of(&record).starts_with("the password has expired"),
        "{:?}",
        record.error
    );
    // The Banner file's identity line, then PAM's demand, both kept and in order.
    let banner = record.banner.as_deref().expect("the banners");
    let banners: Vec<&str> = banner.lines().collect();
    assert_eq!(banners.len(), 2, "{banner:?}");
    assert_eq!(banners[0], IDENTITY);
    assert!(
        banners[1].starts_with("You are required to change your password immediately"),
        "{banner:?}"
    );
    assert_eq!(record.model.as_deref(), Some("EH-710TX"));
    assert_eq!(record.sn.as_deref(), Some("T.BJF943017B"));
    assert_eq!(record.sw.as_deref(), Some("7.7.10-13186-d2f25a6"));
}

#[test]
fn an_expired_password_asked_by_keyboard_interactive_prompts_is_auth_failed() {
    let user = TestUser::create("sikt-expired-kbd", "/bin/bash", true);
    let dir = tempfile::tempdir().expect("temp dir");
    let sshd = Sshd::start_with(2373, &pam_settings(dir.path(), "keyboard-interactive"));
    let record = probe_with_password(&sshd, user.name);

    assert_eq!(record.status, Status::AuthFailed, "{:?}", record.error);
    let expected = format!("the password of {} has expired", user.name);
    assert!(
        error_of(&record).starts_with(&expected),
        "{:?}",
        record.error
    );
    assert_eq!(record.model.as_deref(), Some("EH-710TX"));
}

#[test]
fn a_nologin_shell_is_quoted() {
    let user = TestUser::create("sikt-nologin", "/usr/sbin/nologin", false);
    let dir = tempfile::tempdir().expect("temp dir");
    let sshd = Sshd::start_with(2374, &pam_settings(dir.path(), "password"));
    let record = probe_with_password(&sshd, user.name);

    assert_eq!(record.status, Status::IoError, "{:?}", record.error);
    assert_eq!(
        error_of(&record),
        "the device closed the session after printing 'This account is currently not available.'"
    );
}

#[test]
fn a_publickey_only_server_says_which_methods_it_accepts() {
    let sshd = Sshd::start(2375);
    let target = format!("127.0.0.1:{}\n", sshd.port);

    let probe = sikprobe(&["-q", "--no-agent", "-u", "root"], &target);
    let records = probe.records;
    let record = &records[0];
    assert_eq!(record.status, Status::AuthFailed, "{:?}", record.error);
    assert_eq!(
        error_of(record),
        "the server accepts only publickey; no key was offered (-i KEY or an agent)"
    );

    let other_key = sshd.key("other_key");
    let refused = sikprobe(
        &["-q", "--no-agent", "-u", "root", "-i", &other_key],
        &target,
    );
    let record = &refused.records[0];
    assert_eq!(record.status, Status::AuthFailed, "{:?}", record.error);
    assert_eq!(
        error_of(record),
        "the server accepts only publickey; the key offered for root was refused"
    );
}

#[test]
fn a_command_that_renames_the_radio_keeps_the_session() {
    let _fleet = Siksim::start(&["127.137.0.1", "--persona", "eh", "--port", "2376", "-q"]);
    let probe = sikprobe(
        &[
            "-q",
            "-p",
            "2376",
            "--command-timeout",
            "5s",
            "-c",
            "set system name Roof-North",
            "-c",
            "show system",
        ],
        "127.137.0.1\n",
    );
    assert!(probe.status.success(), "{}", probe.stderr);
    let record = &probe.records[0];
    assert_eq!(record.status, Status::Ok, "{:?}", record.error);
    let commands = record.commands.as_deref().expect("the commands");
    assert_eq!(commands.len(), 2);
    assert!(commands.iter().all(|c| c.ok), "{commands:?}");
    let parsed = sikscan::parse::eh::parse(
        sikscan::record::RadioType::Eh,
        &[("show system", commands[1].output.as_str())],
    );
    assert_eq!(
        parsed.fields.get("system_name").and_then(|v| v.as_str()),
        Some("Roof-North"),
        "{}",
        commands[1].output
    );
}

/// sikprobe's record of one host over `transport` (`native` or `openssh`) with `args`.
fn probe_over(transport: &str, args: &[&str], target: &str) -> Record {
    let mut all = vec!["-q", "--no-agent", "--transport", transport];
    all.extend_from_slice(args);
    let probe = sikprobe(&all, target);
    assert!(probe.status.success(), "{}", probe.stderr);
    assert_eq!(probe.records.len(), 1, "{}", probe.stderr);
    probe.records.into_iter().next().expect("one record")
}

#[test]
fn a_real_linux_host_behind_a_siklu_banner_is_not_siklu_over_both_transports() {
    let dir = tempfile::tempdir().expect("temp dir");
    let banner = identity_banner(dir.path());
    let sshd = Sshd::start_with(2414, &format!("Banner {}\n", banner.display()));
    let key = sshd.key("user_key");
    let target = format!("127.0.0.1:{}\n", sshd.port);
    for transport in ["native", "openssh"] {
        let record = probe_over(transport, &["-u", "root", "-i", &key], &target);
        assert_a_linux_host_despite_the_banner(&record, transport, "root");
    }
}

#[test]
fn the_linux_persona_is_not_siklu_over_both_transports() {
    let _fleet = Siksim::start(&["127.202.3.1", "--persona", "linux", "--port", "2415", "-q"]);
    for transport in ["native", "openssh"] {
        let record = probe_over(transport, &["-p", "2415"], "127.202.3.1\n");
        assert_eq!(
            record.status,
            Status::NotSiklu,
            "{transport}: {:?}",
            record.error
        );
        assert_eq!(record.radio_type, None, "{transport}");
    }
}

#[test]
fn a_renamed_radio_is_recorded_by_its_new_name_over_both_transports() {
    let _fleet = Siksim::start(&["127.202.4.1", "--persona", "eh", "--port", "2416", "-q"]);
    for (transport, name, prompt) in [
        ("native", "X", "X>"),
        ("openssh", "Roof North", "\"Roof North\">"),
    ] {
        let rename = format!("set system name {}", prompt.trim_end_matches('>'));
        let record = probe_over(
            transport,
            &["-p", "2416", "-c", &rename, "-c", "show system"],
            "127.202.4.1\n",
        );
        assert_eq!(record.status, Status::Ok, "{transport}: {:?}", record.error);
        assert_eq!(record.name.as_deref(), Some(name), "{transport}");
        assert_eq!(record.prompt.as_deref(), Some(prompt), "{transport}");
    }
}
