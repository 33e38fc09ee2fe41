//! What one live host costs in memory: sikprobe's peak RSS is roughly `-j` times this, so these
//! sizes are what keeps it within 100 MB at `-j 1000` and 400 MB at `-j 5000` (the targets
//! README's Performance section states; measured by bench/sikprobe-memory.sh).

use std::mem::size_of;
use std::net::SocketAddr;

use sikscan::probe::{ProbeContext, probe};

/// The size of the future an async fn taking a context returns, without building a context.
fn future_size<'a, F, Fut>(_: F) -> usize
where
    F: Fn(SocketAddr, Option<String>, &'a ProbeContext) -> Fut,
{
    size_of::<Fut>()
}

#[test]
fn russh_session_messages_are_small() {
    // Every russh connection holds four tokio mpsc channels of these, and tokio allocates their
    // slots 32 at a time: at 552 bytes (upstream russh 0.65.1) that was 70 KB per connection.
    // vendor/russh boxes the large variants; this fails if the patch is lost in an upgrade.
    assert!(
        size_of::<russh::client::Msg>() <= 96,
        "russh::client::Msg is {} bytes: is vendor/russh still patched in (Cargo.toml)?",
        size_of::<russh::client::Msg>()
    );
}

#[test]
fn a_probe_future_is_small() {
    // Each running host is one task holding this future for its whole life; each way of
    // reaching a host (SSH, Telnet, a check) is boxed inside it, so a host pays for its own
    // path only, and only while it runs. Unboxed, every SSH host paid 14 KB for the check path.
    let size = future_size(probe);
    assert!(
        size <= 2048,
        "probe()'s future is {size} bytes: box the large sub-futures (see probe in src/probe/one_host.rs)"
    );
}
