//! Transports: how sikprobe reaches a device's command line. Every transport yields a [`Shell`]
//! (bytes in, bytes out) plus the facts it learnt about the server, and classifies its failures
//! by phase so the record's status says where a host stopped.

pub mod native;
pub mod telnet;

use std::future::Future;
use std::io;

/// An interactive shell on the device: what the CLI session reads and writes.
pub trait Shell: Send {
    /// Sends bytes as typed input.
    fn send(&mut self, data: &[u8]) -> impl Future<Output = io::Result<()>> + Send;

    /// The next chunk of output, or `None` once the device has closed the session.
    fn recv(&mut self) -> impl Future<Output = Option<Vec<u8>>> + Send;

    /// Closes the session politely; errors are of no interest by then.
    fn close(self) -> impl Future<Output = ()> + Send;
}
