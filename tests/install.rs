//! `scripts/install.sh`, the install command README documents: run into a temporary PREFIX
//! with the binaries cargo built for this test run (`--from`), so nothing is rebuilt.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TOOLS: [&str; 5] = ["ipgen", "sikprobe", "batchsave", "sikdiff", "siksim"];

/// An empty PREFIX beside the build, not in TMPDIR: it receives copies of the five binaries,
/// as large as the build directory's own, and TMPDIR can be a small tmpfs (CI's filled up).
fn install_prefix() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir beside the build")
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The directory holding the binaries built for this test run.
fn bin_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_BIN_EXE_ipgen"))
        .parent()
        .expect("binary has a directory")
        .to_path_buf();
    for tool in TOOLS {
        assert!(dir.join(tool).exists(), "{tool} built beside ipgen");
    }
    dir
}

fn install(args: &[&str]) -> Output {
    Command::new(root().join("scripts/install.sh"))
        .args(args)
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .expect("scripts/install.sh runs")
}

/// Every file the docs install, as (installed path under PREFIX, source in the repository).
fn doc_files(prefix: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut files = Vec::new();
    for tool in TOOLS {
        let share = prefix.join("share");
        files.push((
            share.join(format!("man/man1/{tool}.1")),
            root().join(format!("man/{tool}.1")),
        ));
        files.push((
            share.join(format!("bash-completion/completions/{tool}")),
            root().join(format!("completions/{tool}.bash")),
        ));
        files.push((
            share.join(format!("zsh/site-functions/_{tool}")),
            root().join(format!("completions/_{tool}")),
        ));
        files.push((
            share.join(format!("fish/vendor_completions.d/{tool}.fish")),
            root().join(format!("completions/{tool}.fish")),
        ));
    }
    files
}

fn assert_docs_installed(prefix: &Path) {
    for (installed, source) in doc_files(prefix) {
        let got = std::fs::read(&installed)
            .unwrap_or_else(|e| panic!("{} not installed: {e}", installed.display()));
        let want = std::fs::read(&source).expect("committed doc file");
        assert!(!want.is_empty(), "{} is empty", source.display());
        assert_eq!(
            got,
            want,
            "{} differs from {}",
            installed.display(),
            source.display()
        );
    }
}

#[test]
fn installs_binaries_man_pages_and_completions_under_prefix() {
    let prefix = install_prefix();
    let from = bin_dir();
    let out = install(&[
        "--from",
        from.to_str().expect("UTF-8 path"),
        prefix.path().to_str().expect("UTF-8 path"),
    ]);
    assert!(
        out.status.success(),
        "install.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "install.sh prints nothing on stdout");
    for tool in TOOLS {
        let bin = prefix.path().join("bin").join(tool);
        let meta = std::fs::metadata(&bin)
            .unwrap_or_else(|e| panic!("{} not installed: {e}", bin.display()));
        assert!(
            meta.permissions().mode() & 0o111 != 0,
            "{tool} is executable"
        );
        let help = Command::new(&bin).arg("--help").output().expect("runs");
        assert!(help.status.success(), "installed {tool} --help works");
    }
    // The installed ipgen is the real one.
    let out = Command::new(prefix.path().join("bin/ipgen"))
        .arg("127.140.9.0/30")
        .output()
        .expect("installed ipgen runs");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "127.140.9.1\n127.140.9.2\n"
    );
    assert_docs_installed(prefix.path());
    // The man page is readable by man(1)'s formatter when it is installed.
    let man = prefix.path().join("share/man/man1/sikprobe.1");
    let text = std::fs::read_to_string(man).expect("man page");
    assert!(text.contains(".TH sikprobe 1"), "a roff man page");

    // Installing again over the same PREFIX works (an upgrade).
    let again = install(&[
        "--from",
        from.to_str().expect("UTF-8 path"),
        prefix.path().to_str().expect("UTF-8 path"),
    ]);
    assert!(again.status.success(), "a second install succeeds");
}

#[test]
fn docs_only_installs_no_binaries() {
    let prefix = install_prefix();
    let out = install(&["--docs-only", prefix.path().to_str().expect("UTF-8 path")]);
    assert!(
        out.status.success(),
        "install.sh --docs-only failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!prefix.path().join("bin").exists(), "no binaries");
    assert_docs_installed(prefix.path());
}

#[test]
fn help_goes_to_stdout_and_exits_0() {
    let out = install(&["--help"]);
    assert!(out.status.success(), "install.sh --help exits 0");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("scripts/install.sh [--from DIR | --docs-only] [PREFIX]"),
        "{text}"
    );
}

#[test]
fn usage_errors_exit_2_and_install_nothing() {
    let prefix = install_prefix();
    let target = prefix.path().join("p");
    let target = target.to_str().expect("UTF-8 path");
    let missing = prefix.path().join("no-such-dir");
    for args in [
        vec!["--bogus", target],
        vec!["--from", missing.to_str().expect("UTF-8 path"), target],
        vec!["--docs-only", "--from", "/", target],
        vec![target, "second-prefix"],
    ] {
        let out = install(&args);
        assert_eq!(out.status.code(), Some(2), "install.sh {args:?} exits 2");
        assert!(
            !out.stderr.is_empty(),
            "install.sh {args:?} says why on stderr"
        );
        assert!(
            !Path::new(target).exists(),
            "install.sh {args:?} installed nothing"
        );
    }
}
