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

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use sikscan::record::{Record, Status};
use support::{Siksim, Sshd, sikprobe};

/// The identity line a Siklu radio sends as its userauth banner.
const IDENTITY: &str = "EH-710TX, S/N: T.BJF943017B, Ver: 7.7.10-13186-d2f25a6";
/// The test accounts' password (test-only, never used anywhere else).
const PASSWORD: &str = "Sikscan-test-1x";

/// A local account for one test, removed (with its home) when dropped.
struct TestUser {
    name: &'static str,
}

impl TestUser {
    /// Creates `name` with `shell` and [`PASSWORD`]; `expired` makes PAM demand a new password
    /// at the next login (`chage -d 0`).
    fn create(name: &'static str, shell: &str, expired: bool) -> TestUser {
        support::require_root("it creates local accounts for sshd");
        // A run that was killed may have left the account behind.
        let _ = Command::new("userdel").args(["-r", name]).output();
        run("useradd", &["-m", "-s", shell, name]);
        let user = TestUser { name };
        // chpasswd reads the password on stdin, so it is never in an argv.
        let mut chpasswd = Command::new("chpasswd")
            .stdin(Stdio::piped())
            .spawn()
            .expect("chpasswd runs (apt-get install passwd)");
        chpasswd
            .stdin
            .take()
            .expect("stdin piped")
            .write_all(format!("{name}:{PASSWORD}\n").as_bytes())
            .expect("chpasswd reads the password");
        assert!(chpasswd.wait().expect("chpasswd exits").success());
        if expired {
            run("chage", &["-d", "0", name]);
        }
        user
    }
}

impl Drop for TestUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel").args(["-r", self.name]).output();
    }
}

fn run(program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs (apt-get install passwd): {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// sshd settings for password logins through PAM, with the identity line as its `Banner`.
fn pam_settings(dir: &Path, method: &str) -> String {
    let banner = dir.join("banner");
    std::fs::write(&banner, format!("{IDENTITY}\n")).expect("banner file");
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
    let banner = dir.path().join("banner");
    std::fs::write(&banner, format!("{IDENTITY}\n")).expect("banner file");
    let sshd = Sshd::start_with(2414, &format!("Banner {}\n", banner.display()));
    let key = sshd.key("user_key");
    let target = format!("127.0.0.1:{}\n", sshd.port);
    let contradicted =
        "although the banner names a Siklu radio (EH-710TX): the banner is not trusted";
    for transport in ["native", "openssh"] {
        let record = probe_over(transport, &["-u", "root", "-i", &key], &target);
        // A final status (not prompt-timeout, which every --skip-done run would retry).
        assert_eq!(
            record.status,
            Status::NotSiklu,
            "{transport}: {:?}",
            record.error
        );
        let error = error_of(&record);
        let shell = match transport {
            // With a PTY bash prompts; without one it prints nothing and answers the probe.
            "native" => error.starts_with("a shell prompt ('root@"),
            _ => error.starts_with(
                "a Unix shell that prints no prompt (it answered \"echo sikprobe'-'shell\")",
            ),
        };
        assert!(
            shell && error.ends_with(contradicted),
            "{transport}: {error}"
        );
        assert_eq!(record.banner.as_deref(), Some(IDENTITY), "{transport}");
        assert_eq!(
            (record.radio_type, &record.model, &record.sn, &record.sw),
            (None, &None, &None, &None),
            "{transport}: the banner's identity is not the record's"
        );
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
