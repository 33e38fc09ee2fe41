//! The committed man pages and completions are exactly what the binaries generate.
//! Regenerate with `scripts/gen-docs.sh` after changing a flag.

use std::path::Path;
use std::process::Command;

use sikscan::docs::DocKind;

/// Every binary and its path; a binary missing here fails `every_binary_is_documented`.
const BINARIES: &[(&str, &str)] = &[
    ("batchsave", env!("CARGO_BIN_EXE_batchsave")),
    ("ipgen", env!("CARGO_BIN_EXE_ipgen")),
    ("sikdiff", env!("CARGO_BIN_EXE_sikdiff")),
    ("siksim", env!("CARGO_BIN_EXE_siksim")),
    ("sikprobe", env!("CARGO_BIN_EXE_sikprobe")),
];

const KINDS: [DocKind; 4] = [DocKind::Man, DocKind::Bash, DocKind::Zsh, DocKind::Fish];

#[test]
fn generated_docs_are_committed_and_fresh() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stale = Vec::new();
    for (name, exe) in BINARIES {
        for kind in KINDS {
            let output = Command::new(exe)
                .args(["--generate", &format!("{kind:?}").to_lowercase()])
                .output()
                .expect("binary runs");
            assert!(output.status.success(), "{name} --generate {kind:?} failed");
            let path = root.join(kind.path(name));
            let committed = std::fs::read(&path).unwrap_or_default();
            if committed != output.stdout {
                stale.push(path.display().to_string());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "stale or missing generated docs (run scripts/gen-docs.sh): {stale:?}"
    );
}

#[test]
fn every_binary_is_documented() {
    let bins = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bin");
    for entry in std::fs::read_dir(bins).expect("src/bin exists") {
        let path = entry.expect("readable dir").path();
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        assert!(
            BINARIES.iter().any(|(bin, _)| *bin == name),
            "src/bin/{name}.rs has no entry in tests/docs.rs BINARIES"
        );
    }
}

/// The usage line `-h` prints, without its `Usage: ` heading.
fn usage(exe: &str) -> String {
    let output = Command::new(exe).arg("-h").output().expect("binary runs");
    assert!(output.status.success());
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("Usage: "))
        .unwrap_or_else(|| panic!("{exe} -h has no Usage line"))
        .to_owned()
}

/// The man page's SYNOPSIS as text: the line after `.SH SYNOPSIS`, font changes and roff's
/// escaped dashes undone.
fn synopsis(exe: &str) -> String {
    let output = Command::new(exe)
        .args(["--generate", "man"])
        .output()
        .expect("binary runs");
    let page = String::from_utf8_lossy(&output.stdout).into_owned();
    let line = page
        .lines()
        .skip_while(|line| *line != ".SH SYNOPSIS")
        .nth(1)
        .unwrap_or_else(|| panic!("{exe}'s man page has no SYNOPSIS"));
    line.replace("\\fB", "")
        .replace("\\fR", "")
        .replace("\\fI", "")
        .replace("\\-", "-")
        .trim_end()
        .to_owned()
}

#[test]
fn man_page_synopses_are_the_usage_lines_with_their_placeholders() {
    for (name, exe) in BINARIES {
        let usage = usage(exe);
        assert!(usage.starts_with(&format!("{name} [OPTIONS]")), "{usage}");
        assert_eq!(synopsis(exe), usage, "{name}'s SYNOPSIS");
    }
}

#[test]
fn required_arguments_are_shown_required() {
    for (name, expected) in [
        ("batchsave", "batchsave [OPTIONS] <OUTDIR>"),
        ("sikdiff", "sikdiff [OPTIONS] <OLD> <NEW>"),
    ] {
        let (_, exe) = BINARIES
            .iter()
            .find(|(bin, _)| *bin == name)
            .expect("a binary");
        assert_eq!(usage(exe), expected);
    }
}
