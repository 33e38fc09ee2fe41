//! Writing addresses as text, fast: ipgen's output is bounded by this loop and the pipe.

use std::io;
use std::net::{IpAddr, Ipv4Addr};

use crate::pipe::DataOut;

/// Bytes gathered before they are handed to the output in one write.
const CHUNK: usize = 64 * 1024;

/// Formats addresses one per line (or NUL-terminated) into large chunks.
///
/// Consecutive IPv4 addresses share their first three octets, so the `a.b.c.` prefix is
/// formatted once per /24 and only the last octet per address.
pub struct AddressWriter<'a> {
    out: &'a mut DataOut,
    chunk: Vec<u8>,
    terminator: u8,
    flush_each: bool,
    prefix_of: Option<u32>,
    prefix: Vec<u8>,
}

impl<'a> AddressWriter<'a> {
    /// Writes to `out`, ending each address with `terminator`; `flush_each` hands every
    /// address to the output at once (for `--line-buffered`).
    pub fn new(out: &'a mut DataOut, terminator: u8, flush_each: bool) -> Self {
        AddressWriter {
            out,
            chunk: Vec::with_capacity(CHUNK + 64),
            terminator,
            flush_each,
            prefix_of: None,
            prefix: Vec::with_capacity(16),
        }
    }

    /// Writes one address.
    pub fn push(&mut self, ip: IpAddr) -> io::Result<()> {
        match ip {
            IpAddr::V4(v4) => self.push_v4(v4),
            IpAddr::V6(v6) => {
                use std::io::Write;
                write!(self.chunk, "{v6}")?;
            }
        }
        self.chunk.push(self.terminator);
        if self.flush_each || self.chunk.len() >= CHUNK {
            self.out.write_record(&self.chunk)?;
            self.chunk.clear();
        }
        Ok(())
    }

    fn push_v4(&mut self, ip: Ipv4Addr) {
        let value = u32::from(ip);
        let upper = value >> 8;
        if self.prefix_of != Some(upper) {
            self.prefix.clear();
            for octet in &ip.octets()[..3] {
                push_decimal(&mut self.prefix, *octet);
                self.prefix.push(b'.');
            }
            self.prefix_of = Some(upper);
        }
        self.chunk.extend_from_slice(&self.prefix);
        // The low byte of the address is its last octet.
        push_decimal(&mut self.chunk, value as u8);
    }

    /// Writes whatever is still gathered.
    pub fn finish(mut self) -> io::Result<()> {
        if !self.chunk.is_empty() {
            self.out.write_record(&self.chunk)?;
            self.chunk.clear();
        }
        Ok(())
    }
}

fn push_decimal(buf: &mut Vec<u8>, value: u8) {
    if value >= 100 {
        buf.push(b'0' + value / 100);
    }
    if value >= 10 {
        buf.push(b'0' + (value / 10) % 10);
    }
    buf.push(b'0' + value % 10);
}

#[cfg(test)]
mod tests {
    #[test]
    fn decimal_octets_match_display() {
        for value in 0..=255u8 {
            let mut buf = Vec::new();
            super::push_decimal(&mut buf, value);
            assert_eq!(buf, value.to_string().into_bytes());
        }
    }
}
