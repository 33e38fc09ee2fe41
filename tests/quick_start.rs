//! What README's quick start (and `./demo.sh`) write into the clone is ignored by git, so a
//! newcomer who follows it gets no untracked files in `git status`.

use std::path::Path;

fn read(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The files and directories the quick start's commands write: redirect targets
/// (`> radios.ndjson`) and batchsave's OUTDIR (the last word of a `batchsave` stage).
fn written_by_quick_start(readme: &str) -> Vec<String> {
    let section = readme
        .split_once("## Quick start\n")
        .and_then(|(_, rest)| rest.split("\n## ").next())
        .expect("README.md has a 'Quick start' section");
    let mut written = Vec::new();
    let mut in_code = false;
    for line in section.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if !in_code {
            continue;
        }
        let command = line.split(" #").next().unwrap_or_default();
        let words: Vec<&str> = command.split_whitespace().collect();
        for pair in words.windows(2) {
            if pair[0] == ">" {
                written.push(pair[1].to_owned());
            }
        }
        for stage in command.split('|') {
            let words: Vec<&str> = stage.split_whitespace().collect();
            if words.first() == Some(&"batchsave") && words.len() > 1 {
                written.push(words[words.len() - 1].to_owned());
            }
        }
    }
    written
}

/// True when a line of `.gitignore` names `path` (a name at the top of the repository).
fn ignored(gitignore: &str, path: &str) -> bool {
    let name = path.trim_end_matches('/');
    gitignore
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .any(|line| line.trim_start_matches('/').trim_end_matches('/') == name)
}

#[test]
fn what_the_quick_start_writes_is_git_ignored() {
    let mut written = written_by_quick_start(&read("README.md"));
    assert!(
        written.len() >= 2,
        "the quick start names what it writes: {written:?}"
    );
    let demo_default = read("demo.sh")
        .lines()
        .find_map(|line| line.strip_prefix("out=${1:-"))
        .and_then(|rest| rest.strip_suffix('}'))
        .map(str::to_owned)
        .expect("demo.sh sets its default OUTDIR with out=${1:-...}");
    written.push(demo_default);

    let gitignore = read(".gitignore");
    let missing: Vec<&String> = written
        .iter()
        .filter(|path| !ignored(&gitignore, path))
        .collect();
    assert!(
        missing.is_empty(),
        ".gitignore lacks {missing:?}, which the quick start writes ({written:?})"
    );
}
