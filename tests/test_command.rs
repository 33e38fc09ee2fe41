//! The one test command, `scripts/test.sh`: it installs every package a test requires
//! (tests/support/require.rs), README.md's "Running the tests" shows it, and `.ci/run` runs it.

mod support;

use std::path::Path;

use support::require::{PROGRAMS, PYTHON_MODULES, TEST_COMMAND};

fn read(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The words of the `packages=(…)` line of scripts/test.sh.
fn installed_packages() -> Vec<String> {
    let script = read(TEST_COMMAND);
    let line = script
        .lines()
        .find_map(|line| line.strip_prefix("packages=("))
        .unwrap_or_else(|| panic!("{TEST_COMMAND} has no packages=(...) line"));
    let list = line
        .split_once(')')
        .map(|(list, _)| list)
        .unwrap_or_else(|| panic!("{TEST_COMMAND}: the packages=( line is not closed"));
    list.split_whitespace().map(str::to_owned).collect()
}

#[test]
fn the_test_command_installs_every_package_a_test_requires() {
    let installed = installed_packages();
    let forgotten: Vec<String> = PROGRAMS
        .iter()
        .chain(PYTHON_MODULES)
        .filter(|(_, package)| !installed.iter().any(|p| p == package))
        .map(|(program, package)| format!("{package} (for {program})"))
        .collect();
    assert!(
        forgotten.is_empty(),
        "{TEST_COMMAND} does not install {forgotten:?}; it installs {installed:?}"
    );
}

#[test]
fn readme_shows_the_test_command_and_ci_runs_it() {
    let readme = read("README.md");
    let section = readme
        .split_once("## Running the tests\n")
        .and_then(|(_, rest)| rest.split("\n## ").next())
        .expect("README.md has a 'Running the tests' section");
    assert!(
        section.starts_with(&format!("\n```\n{TEST_COMMAND}\n```\n")),
        "README's 'Running the tests' opens with the command:\n{section}"
    );
    let ci = read(".ci/run");
    let last = ci
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .expect(".ci/run is not empty");
    assert_eq!(
        last,
        format!("exec {TEST_COMMAND}"),
        ".ci/run ends by running it"
    );
}
