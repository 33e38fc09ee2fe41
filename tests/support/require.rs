//! What a test needs from outside the project, checked before it is used: a program or a
//! Python module (and the Debian package that has it) or root, so that a machine without it
//! fails the test with what to install instead of an error from deep inside the test.
//!
//! [`PROGRAMS`] and [`PYTHON_MODULES`] are what `scripts/test.sh` installs; `tests/test_command.rs`
//! checks they agree.

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
    ("dropbear", "dropbear-bin"),
    ("dropbearkey", "dropbear-bin"),
    ("parallel", "parallel"),
    ("rsync", "rsync"),
    ("jq", "jq"),
    ("git", "git"),
];

/// The Python that Debian's `python3-*` packages install modules for: tests run it by path, as
/// a `python3` earlier on PATH (pyenv, a virtualenv) does not see them.
pub const DEBIAN_PYTHON: &str = "/usr/bin/python3";

/// Every Python module a test imports (running [`DEBIAN_PYTHON`]), and the Debian package that
/// installs it (and, through its dependencies, that Python).
pub const PYTHON_MODULES: &[(&str, &str)] = &[("paramiko", "python3-paramiko")];

/// Panics unless [`DEBIAN_PYTHON`] can import `module`, naming its Debian package and the test
/// command; returns the Python to run.
#[track_caller]
pub fn require_python_module(module: &str) -> PathBuf {
    let Some(&(_, package)) = PYTHON_MODULES.iter().find(|(name, _)| *name == module) else {
        panic!("{module} is not in support::require::PYTHON_MODULES: add it with its package");
    };
    let imports = std::process::Command::new(DEBIAN_PYTHON)
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|out| out.status.success());
    if !imports {
        panic!(
            "this test runs {DEBIAN_PYTHON} with the Python module `{module}`, which is not \
             installed (Debian package {package}): run the tests with `{TEST_COMMAND}` as root, \
             which installs what they need, or `apt-get install {package}`"
        );
    }
    PathBuf::from(DEBIAN_PYTHON)
}

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
