//! ipgen, run as a user runs it: arguments, files and stdin in; addresses, counts and errors out.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::IpAddr;
use std::process::{Command, Output, Stdio};

use proptest::prelude::*;

const IPGEN: &str = env!("CARGO_BIN_EXE_ipgen");

fn ipgen_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(IPGEN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ipgen starts");
    let mut input = child.stdin.take().expect("stdin piped");
    input.write_all(stdin).expect("stdin accepts input");
    drop(input);
    child.wait_with_output().expect("ipgen finishes")
}

fn ipgen(args: &[&str]) -> Output {
    ipgen_with_stdin(args, b"")
}

/// Runs ipgen, requires success and an empty stderr, and parses every output line.
fn addresses(args: &[&str]) -> Vec<IpAddr> {
    let out = ipgen(args);
    assert!(
        out.status.success(),
        "ipgen {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_lines(&out.stdout)
}

fn parse_lines(stdout: &[u8]) -> Vec<IpAddr> {
    String::from_utf8(stdout.to_vec())
        .expect("output is UTF-8")
        .lines()
        .map(|line| {
            line.parse()
                .unwrap_or_else(|_| panic!("not an address: {line:?}"))
        })
        .collect()
}

fn ips(list: &[&str]) -> Vec<IpAddr> {
    list.iter()
        .map(|s| s.parse().expect("test address"))
        .collect()
}

fn count(args: &[&str]) -> String {
    let mut full = vec!["--count"];
    full.extend_from_slice(args);
    let out = ipgen(&full);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .trim()
        .to_owned()
}

/// An error run: exit 2, nothing on stdout, and the stderr lines.
fn error_lines(args: &[&str], stdin: &[u8]) -> Vec<String> {
    let out = ipgen_with_stdin(args, stdin);
    assert_eq!(out.status.code(), Some(2), "ipgen {args:?} should fail");
    assert!(out.stdout.is_empty(), "stdout must stay empty on errors");
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_grammar_form_expands() {
    assert_eq!(addresses(&["10.0.0.1"]), ips(&["10.0.0.1"]));
    assert_eq!(addresses(&["2001:db8::1"]), ips(&["2001:db8::1"]));
    assert_eq!(addresses(&["10.0.0.0/30"]), ips(&["10.0.0.1", "10.0.0.2"]));
    assert_eq!(
        addresses(&["10.0.0.0/255.255.255.252"]),
        ips(&["10.0.0.1", "10.0.0.2"])
    );
    assert_eq!(
        addresses(&["10.0.0.0/0.0.0.3"]),
        ips(&["10.0.0.1", "10.0.0.2"])
    );
    assert_eq!(
        addresses(&["10.0.0.254-10.0.1.1"]),
        ips(&["10.0.0.254", "10.0.0.255", "10.0.1.0", "10.0.1.1"])
    );
    assert_eq!(
        addresses(&["10.0.0.8 - 10.0.0.9"]),
        ips(&["10.0.0.8", "10.0.0.9"])
    );
    assert_eq!(
        addresses(&["10.0.1-2.1-2"]),
        ips(&["10.0.1.1", "10.0.1.2", "10.0.2.1", "10.0.2.2"])
    );
    assert_eq!(
        addresses(&["192.168.0,2.7,9"]),
        ips(&["192.168.0.7", "192.168.0.9", "192.168.2.7", "192.168.2.9"])
    );
    assert_eq!(addresses(&["10.0.0.*"]).len(), 256);
    assert_eq!(
        addresses(&["2001:db8::fe-2001:db8::101"]),
        ips(&[
            "2001:db8::fe",
            "2001:db8::ff",
            "2001:db8::100",
            "2001:db8::101"
        ])
    );
}

#[test]
fn cidr_edges_and_counts() {
    assert_eq!(count(&["10.0.0.0/24"]), "254");
    assert_eq!(count(&["--all", "10.0.0.0/24"]), "256");
    assert_eq!(addresses(&["10.0.0.0/31"]), ips(&["10.0.0.0", "10.0.0.1"]));
    assert_eq!(addresses(&["10.0.0.5/32"]), ips(&["10.0.0.5"]));
    assert_eq!(count(&["0.0.0.0/0"]), "4294967294");
    assert_eq!(count(&["--all", "0.0.0.0/0"]), "4294967296");
    // IPv6 as Python's hosts(): the subnet-router anycast address is dropped, the last kept.
    assert_eq!(
        addresses(&["2001:db8::/126"]),
        ips(&["2001:db8::1", "2001:db8::2", "2001:db8::3"])
    );
    assert_eq!(
        addresses(&["2001:db8::/127"]),
        ips(&["2001:db8::", "2001:db8::1"])
    );
    assert_eq!(count(&["2001:db8::/64"]), "18446744073709551615");
    assert_eq!(count(&["::/0"]), "340282366920938463463374607431768211455");
    assert_eq!(
        count(&["--all", "::/0", "0.0.0.0/0"]),
        "340282366920938463463374607436063178752"
    );
}

#[test]
fn inputs_merge_into_one_ascending_set() {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(
        file.path(),
        "# batchscanner-style network file\r\nusername = admin\r\npassword = s3cret # not a comment\r\n\
         10.0.0.5-10.0.0.9   # inline comment\r\n\r\n10.0.0.1\r\n",
    )
    .expect("write network file");
    let path = file.path().to_str().expect("UTF-8 path");
    assert_eq!(
        addresses(&["-f", path, "10.0.0.8-10.0.0.12", "2001:db8::1", "10.0.0.1"]),
        ips(&[
            "10.0.0.1",
            "10.0.0.5",
            "10.0.0.6",
            "10.0.0.7",
            "10.0.0.8",
            "10.0.0.9",
            "10.0.0.10",
            "10.0.0.11",
            "10.0.0.12",
            "2001:db8::1"
        ])
    );
}

#[test]
fn stdin_is_read_when_no_spec_is_given_and_with_dash() {
    let out = ipgen_with_stdin(&[], b"10.0.0.2\n10.0.0.1\n");
    assert_eq!(parse_lines(&out.stdout), ips(&["10.0.0.1", "10.0.0.2"]));
    let out = ipgen_with_stdin(&["-f", "-", "10.0.0.3"], b"10.0.0.2\n");
    assert_eq!(parse_lines(&out.stdout), ips(&["10.0.0.2", "10.0.0.3"]));
}

#[test]
fn exclusions_from_arguments_and_files() {
    let blocklist = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(
        blocklist.path(),
        "# zmap style\n10.0.0.0/30   # lab\n\n10.0.0.8\n",
    )
    .expect("write blocklist");
    let got = addresses(&[
        "10.0.0.0/28",
        "--exclude",
        "10.0.0.10-10.0.0.12",
        "--exclude-file",
        blocklist.path().to_str().expect("UTF-8 path"),
    ]);
    assert_eq!(
        got,
        ips(&[
            "10.0.0.4",
            "10.0.0.5",
            "10.0.0.6",
            "10.0.0.7",
            "10.0.0.9",
            "10.0.0.13",
            "10.0.0.14"
        ])
    );
}

#[test]
fn errors_name_file_line_and_token_and_print_nothing() {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), "10.0.0.1\n10.0.0.1/24\n\n10.0.0.9-10.0.0.1\n").expect("write");
    let path = file.path().to_str().expect("UTF-8 path");
    let errors = error_lines(&["-f", path, "10.0.0.0/33", "bogus"], b"");
    assert_eq!(
        errors,
        [
            "ipgen: argument 1: '10.0.0.0/33': '33' after '/' is not a prefix length (0-32) or a netmask".to_owned(),
            "ipgen: argument 2: 'bogus': not an IPv4 or IPv6 address".to_owned(),
            format!("ipgen: {path}:2: '10.0.0.1/24': host bits set; did you mean 10.0.0.0/24 (the block) or 10.0.0.1 (one address)?"),
            format!("ipgen: {path}:4: '10.0.0.9-10.0.0.1': range is reversed (10.0.0.9 is after 10.0.0.1); did you mean 10.0.0.1-10.0.0.9?"),
        ]
    );
    let errors = error_lines(&["-x", "10.0.0.300", "10.0.0.1"], b"");
    assert_eq!(
        errors,
        ["ipgen: --exclude 1: '10.0.0.300': not an IPv4 or IPv6 address"]
    );
    let errors = error_lines(&["-f", "/nonexistent/net.txt"], b"");
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("ipgen: /nonexistent/net.txt: "),
        "{errors:?}"
    );
}

#[test]
fn garbage_input_is_an_error_not_a_panic() {
    let mut garbage: Vec<u8> = (0..=255u8).cycle().take(20_000).collect();
    garbage.extend_from_slice(b"\n10.0.0.1\n\xff\xfe\n");
    let errors = error_lines(&[], &garbage);
    assert!(!errors.is_empty());
    let (located, summary) = errors.split_at(errors.len() - 1);
    assert_eq!(located.len(), 20, "the first 20 errors are listed");
    assert!(
        located.iter().all(|e| e.starts_with("ipgen: <stdin>:")),
        "{errors:?}"
    );
    assert!(summary[0].contains("more invalid lines"), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("not UTF-8")), "{errors:?}");
    assert!(
        errors.iter().all(|e| !e.contains('\u{1b}')),
        "control characters reach the terminal: {errors:?}"
    );

    let huge_line = vec![b'1'; 10_000_000];
    let errors = error_lines(&[], &huge_line);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("ipgen: <stdin>:1: '1111"),
        "{errors:?}"
    );
    assert!(
        errors[0].ends_with("line longer than 4096 bytes"),
        "{errors:?}"
    );
}

#[test]
fn a_closed_stdout_is_a_clean_stop() {
    let mut child = Command::new(IPGEN)
        .arg("10.0.0.0/8")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ipgen starts");
    let stdout = child.stdout.take().expect("stdout piped");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("one line");
    assert_eq!(first, "10.0.0.1\n");
    // The reader is dropped here, closing the pipe as `head -1` does.
    let out = child.wait_with_output().expect("ipgen exits");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn size_guard_refuses_huge_sets_but_counts_them() {
    let errors = error_lines(&["2001:db8::/64"], b"");
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("--no-size-limit"), "{errors:?}");
    assert_eq!(count(&["2001:db8::/64"]), "18446744073709551615");
    assert_eq!(addresses(&["2001:db8::/64", "--limit", "2"]).len(), 2);
    assert_eq!(
        addresses(&[
            "2001:db8::/64",
            "--no-size-limit",
            "--shard",
            "1/1",
            "--limit",
            "3"
        ]),
        ips(&["2001:db8::1", "2001:db8::2", "2001:db8::3"])
    );
}

#[test]
fn limit_null_and_count_follow_the_selection() {
    assert_eq!(
        addresses(&["10.0.0.0/24", "--limit", "3"]),
        ips(&["10.0.0.1", "10.0.0.2", "10.0.0.3"])
    );
    let out = ipgen(&["10.0.0.1-10.0.0.3", "-0"]);
    assert_eq!(out.stdout, b"10.0.0.1\x0010.0.0.2\x0010.0.0.3\x00");
    assert_eq!(count(&["10.0.0.0/24", "--shard", "3/4"]), "63");
    assert_eq!(
        count(&["10.0.0.0/24", "--shard", "2/4", "--limit", "10"]),
        "10"
    );
}

#[test]
fn shuffle_seed_is_printed_and_reproduces_the_order() {
    let out = ipgen(&["10.0.0.0/24", "--shuffle"]);
    assert!(out.status.success());
    let note = String::from_utf8(out.stderr).expect("UTF-8");
    let seed = note
        .split("--seed ")
        .nth(1)
        .and_then(|rest| rest.trim_end().strip_suffix(')'))
        .expect("the note names the seed");
    let first = parse_lines(&out.stdout);
    assert_eq!(
        addresses(&["10.0.0.0/24", "--shuffle", "--seed", seed]),
        first
    );
    let mut sorted = first.clone();
    sorted.sort();
    assert_eq!(sorted, addresses(&["10.0.0.0/24"]));
    assert_ne!(first, sorted, "a shuffled /24 is not ascending");

    let errors = error_lines(&["10.0.0.0/24", "--shuffle", "--shard", "1/2"], b"");
    assert!(errors[0].contains("needs --seed"), "{errors:?}");
}

fn spec_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u8..4, 0u8..=255).prop_map(|(c, d)| format!("10.0.{c}.{d}")),
        (0u8..4, 24u8..=32).prop_map(|(c, len)| {
            let host = 32 - u32::from(len);
            let base = (u32::from(c) << 8) >> host << host;
            format!("10.0.{}.{}/{len}", base >> 8, base & 0xff)
        }),
        (0u32..1024, 0u32..300).prop_map(|(start, width)| {
            let end = (start + width).min(1023);
            format!(
                "10.0.{}.{}-10.0.{}.{}",
                start >> 8,
                start & 0xff,
                end >> 8,
                end & 0xff
            )
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The shards of any input, shuffled or not, are disjoint and cover the set exactly once,
    /// and a shuffle is a permutation of the ascending output.
    #[test]
    fn shards_partition_and_shuffles_permute(
        specs in prop::collection::vec(spec_strategy(), 1..6),
        shards in 1u64..6,
        seed: u64,
    ) {
        let spec_args: Vec<&str> = specs.iter().map(String::as_str).collect();
        let ascending = addresses(&spec_args);
        let expected: BTreeSet<IpAddr> = ascending.iter().copied().collect();
        prop_assert_eq!(expected.len(), ascending.len(), "ascending output has duplicates");
        let seed_text = seed.to_string();
        for shuffled in [false, true] {
            let mut union = Vec::new();
            for k in 1..=shards {
                let shard = format!("{k}/{shards}");
                let mut args = spec_args.clone();
                args.extend(["--shard", &shard]);
                if shuffled {
                    args.extend(["--shuffle", "--seed", &seed_text]);
                }
                union.extend(addresses(&args));
            }
            let got: BTreeSet<IpAddr> = union.iter().copied().collect();
            prop_assert_eq!(got.len(), union.len(), "shards overlap (shuffled: {})", shuffled);
            prop_assert_eq!(&got, &expected);
        }
    }
}

#[test]
fn short_help_shows_the_spec_forms_instead_of_pointing_at_a_grammar_it_does_not_show() {
    let out = ipgen(&["-h"]);
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).expect("UTF-8");
    let spec_help: String = help
        .lines()
        .skip_while(|line| !line.trim_start().starts_with("[SPEC]..."))
        .take_while(|line| !line.starts_with("Options:"))
        .collect::<Vec<_>>()
        .join(" ");
    assert!(!spec_help.is_empty(), "no [SPEC] argument in -h:\n{help}");
    // -h prints no grammar, so its SPEC help must not refer to one above it.
    assert!(!help.contains("above"), "{help}");
    let examples: Vec<&str> = spec_help
        .split_whitespace()
        .filter(|word| word.starts_with(|c: char| c.is_ascii_digit()) && word.contains('.'))
        .collect();
    assert!(examples.len() >= 4, "examples of each form: {spec_help}");
    for example in examples {
        let out = ipgen(&["--count", example]);
        assert!(
            out.status.success(),
            "the example {example} of -h is not a valid SPEC: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
