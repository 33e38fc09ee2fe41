//! What one live host costs in memory: sikprobe's peak RSS is roughly `-j` times this, so these
//! sizes are what keeps it within 100 MB at `-j 1000` and 400 MB at `-j 5000` (issue 8;
//! measured by bench/sikprobe-memory.sh).

use std::mem::size_of;
use std::net::SocketAddr;

use sikscan::probe::host::{ProbeContext, probe};

/// The size of the future an async fn taking a context returns, without building a context.
fn future_size<'a, F, Fut>(_: F) -> usize
where
    F: Fn(SocketAddr, Option<String>, &'a ProbeContext) -> Fut,
{
    size_of::<Fut>()
}

#[test]
fn a_probe_future_is_small() {
    // Each running host is one task holding this future for its whole life; each way of
    // reaching a host (SSH, Telnet, a check) is boxed inside it, so a host pays for its own
    // path only, and only while it runs. Unboxed, every SSH host paid 14 KB for the check path.
    let size = future_size(probe);
    assert!(
        size <= 2048,
        "probe()'s future is {size} bytes: box the large sub-futures (see probe in host.rs)"
    );
}
