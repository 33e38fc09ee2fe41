//! A Siklu radio's identity as a real server's userauth banner, and what sikprobe must make of
//! a real Linux host (bash) behind it: `not-siklu`, saying the banner was contradicted, with
//! none of the banner's identity in the record (issue 14 §5).

use std::path::{Path, PathBuf};

use sikscan::record::{Record, Status};

/// The identity line a Siklu radio sends as its userauth banner.
pub const IDENTITY: &str = "EH-710TX, S/N: T.BJF943017B, Ver: 7.7.10-13186-d2f25a6";

/// Writes [`IDENTITY`] to `dir/banner`, for a server's banner option; returns its path.
pub fn identity_banner(dir: &Path) -> PathBuf {
    let banner = dir.join("banner");
    std::fs::write(&banner, format!("{IDENTITY}\n")).expect("banner file");
    banner
}

/// Asserts that `record`, of a real Linux host with bash as `user`'s shell and [`IDENTITY`] as
/// its banner, probed over `transport` (`native`, with a PTY, or `openssh`, without), is
/// `not-siklu`: a final status, not `prompt-timeout` (which every `--skip-done` run would
/// retry); its error says what the shell showed and that it contradicted the banner; the
/// banner is kept, its identity is not the record's.
#[track_caller]
pub fn assert_a_linux_host_despite_the_banner(record: &Record, transport: &str, user: &str) {
    assert_eq!(
        record.status,
        Status::NotSiklu,
        "{transport}: {:?}",
        record.error
    );
    let error = record.error.as_deref().unwrap_or_default();
    let shell = match transport {
        // With a PTY bash prompts; without one it prints nothing and answers the probe.
        "native" => error.starts_with(&format!("a shell prompt ('{user}@")),
        _ => error.starts_with(
            "a Unix shell that prints no prompt (it answered \"echo sikprobe'-'shell\")",
        ),
    };
    let contradicted =
        "although the banner names a Siklu radio (EH-710TX): the banner is not trusted";
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
