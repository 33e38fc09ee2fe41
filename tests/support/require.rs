//! What a test needs from outside the project, checked before it is used: a program (and the
//! Debian package that has it) or root, so that a machine without it fails the test with what
//! to install instead of an error from deep inside the test.
//!
//! [`PROGRAMS`] is the list `scripts/test.sh` installs from; `tests/test_command.rs` checks the
//! two agree.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The command that installs what the tests need and runs them all (README, "Running the tests").
pub const TEST_COMMAND: &str = "scripts/test.sh";

/// Every outside program a test runs, and the Debian package that installs it. Programs of
/// every Debian system (coreutils' `tee` and `timeout`, bash) are not listed.
pub const PROGRAMS: &[(&str, &str)] = &[
    ("ssh", "openssh-client"),
    ("ssh-keygen", "openssh-client"),
    ("/usr/sbin/sshd", "openssh-server"),
    ("parallel", "parallel"),
    ("rsync", "rsync"),
    ("git", "git"),
];

/// Panics unless `program` (a name looked up on PATH, or an absolute path) is installed,
/// naming it, its Debian package and the test command; returns where it is.
#[track_caller]
pub fn require(program: &str) -> PathBuf {
    // No closures below: #[track_caller] blames the caller's line only for panics in this body.
    let Some(&(_, package)) = PROGRAMS.iter().find(|(name, _)| *name == program) else {
        panic!("{program} is not in support::require::PROGRAMS: add it with its package");
    };
    match find(program) {
        Some(path) => path,
        None => panic!(
            "this test runs `{program}`, which is not installed (Debian package {package}): \
             run the tests with `{TEST_COMMAND}` as root, which installs what they need, or \
             `apt-get install {package}`"
        ),
    }
}

/// Panics unless the test runs as root, saying what needs it.
#[track_caller]
pub fn require_root(what: &str) {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    assert!(
        euid == 0,
        "this test needs root ({what}) and runs as uid {euid}: run the tests with \
         `{TEST_COMMAND}` as root"
    );
}

/// The executable `program` names: itself when it is a path, else the first on PATH.
fn find(program: &str) -> Option<PathBuf> {
    let executable = |path: &Path| {
        path.metadata()
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let path = PathBuf::from(program);
        return executable(&path).then_some(path);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| executable(candidate))
}
