//! Local accounts for tests that log in to a real server (sshd through PAM, dropbear through
//! /etc/shadow) with a password: created for one test, removed with their home (and whatever
//! they still run) when dropped. Needs root.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::processes::processes_of;

/// The test accounts' password (test-only, never used anywhere else).
pub const PASSWORD: &str = "Sikscan-test-1x";

/// useradd, chpasswd and userdel lock /etc/passwd and /etc/shadow, and give up rather than
/// wait when another test holds the lock: the tests of one binary take turns.
static ACCOUNTS: Mutex<()> = Mutex::new(());

/// A local account for one test, removed (with its home) when dropped.
pub struct TestUser {
    pub name: &'static str,
    pub uid: u32,
}

impl TestUser {
    /// Creates `name` with `shell` and [`PASSWORD`]; `expired` makes PAM demand a new password
    /// at the next login (`chage -d 0`).
    #[track_caller]
    pub fn create(name: &'static str, shell: &str, expired: bool) -> TestUser {
        super::require_root("it creates local accounts to log in as");
        let _turn = ACCOUNTS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // A run that was killed may have left the account behind.
        let _ = Command::new("userdel").args(["-r", name]).output();
        run("useradd", &["-m", "-s", shell, name]);
        let uid = String::from_utf8(output("id", &["-u", name]))
            .ok()
            .and_then(|id| id.trim().parse().ok())
            .unwrap_or_else(|| panic!("id -u {name} prints a uid"));
        let user = TestUser { name, uid };
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

    /// The command lines of the processes the account still runs.
    pub fn processes(&self) -> Vec<String> {
        processes_of(self.uid)
            .into_iter()
            .map(|(_, cmdline)| cmdline)
            .collect()
    }

    /// The account's processes still running after waiting up to `grace` for them to go (a
    /// server ends a session's processes a moment after its client went away).
    pub fn processes_still_running(&self, grace: Duration) -> Vec<String> {
        let gone_by = Instant::now() + grace;
        let mut left = self.processes();
        while !left.is_empty() && Instant::now() < gone_by {
            std::thread::sleep(Duration::from_millis(50));
            left = self.processes();
        }
        left
    }
}

impl Drop for TestUser {
    fn drop(&mut self) {
        // userdel refuses an account that still runs something (a test that failed half-way).
        for (pid, _) in processes_of(self.uid) {
            // SAFETY: kill(2) on a process of the account this test created.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
        let _ = self.processes_still_running(Duration::from_secs(2));
        let _turn = ACCOUNTS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let _ = Command::new("userdel").args(["-r", self.name]).output();
    }
}

/// Runs `program` with `args`, panicking with its stderr unless it succeeds; returns stdout.
fn output(program: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs (apt-get install passwd): {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn run(program: &str, args: &[&str]) {
    output(program, args);
}
