//! The cheap check before a process is spent on a host: a TCP connection and the server's
//! `SSH-` line.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};

use crate::transport::{ConnectError, classify_connect, describe_non_ssh, ident_line};

/// The cheap check before a process is spent on a host: TCP connect and the server's `SSH-`
/// line, so dead, refused and non-SSH hosts cost no ssh process. Returns the line.
pub(super) async fn precheck(
    addr: SocketAddr,
    connect_timeout: Duration,
    handshake_timeout: Duration,
) -> Result<String, ConnectError> {
    let mut stream = match timeout(connect_timeout, TcpStream::connect(addr)).await {
        Err(_) => return Err(ConnectError::ConnectTimeout(connect_timeout)),
        Ok(Err(err)) => return Err(classify_connect(&err)),
        Ok(Ok(stream)) => stream,
    };
    let limit = Instant::now() + handshake_timeout;
    let mut seen = Vec::new();
    let mut chunk = [0u8; 512];
    loop {
        if let Some(line) = ident_line(&seen) {
            return Ok(line);
        }
        match timeout_at(limit, stream.read(&mut chunk)).await {
            Err(_) if seen.is_empty() => {
                return Err(ConnectError::NoSsh(format!(
                    "no SSH identification within {}",
                    humantime::format_duration(handshake_timeout)
                )));
            }
            Err(_) | Ok(Ok(0)) | Ok(Err(_)) => {
                return Err(ConnectError::NoSsh(describe_non_ssh(&seen)));
            }
            Ok(Ok(n)) => {
                seen.extend_from_slice(&chunk[..n]);
                // RFC 4253 allows lines before the identification, not pages of them.
                if seen.len() > 1024 {
                    return Err(ConnectError::NoSsh(describe_non_ssh(&seen)));
                }
            }
        }
    }
}
