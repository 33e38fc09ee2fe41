//! Writing addresses as text, fast: ipgen's output is bounded by this loop and the pipe.
//!
//! Lines are assembled in a fixed buffer with fixed-size copies (a 16-byte line template, 4-byte
//! octet cells) and the cursor advanced by the real length, so the hot loop has no
//! variable-length copies and no formatting machinery.

use std::io::{self, Write};
use std::net::IpAddr;

use super::set::Family;
use crate::pipe::DataOut;

/// Bytes gathered before they are handed to the output in one write.
const CHUNK: usize = 128 * 1024;
/// Room past `CHUNK` for the widest line (an IPv6 address) plus a fixed-size copy's overshoot.
const SLACK: usize = 64;

/// An octet's decimal digits followed by one byte (`.` or the terminator), padded to 4 bytes.
#[derive(Clone, Copy)]
struct Cell {
    bytes: [u8; 4],
    len: usize,
}

fn cells(follow: u8) -> [Cell; 256] {
    std::array::from_fn(|value| {
        let digits = value.to_string();
        let mut bytes = [0u8; 4];
        bytes[..digits.len()].copy_from_slice(digits.as_bytes());
        bytes[digits.len()] = follow;
        Cell {
            bytes,
            len: digits.len() + 1,
        }
    })
}

/// Formats addresses one per line (or NUL-terminated) into large chunks.
pub struct AddressWriter<'a> {
    out: &'a mut DataOut,
    buf: Vec<u8>,
    pos: usize,
    terminator: u8,
    flush_each: bool,
    dotted: [Cell; 256],
    last: [Cell; 256],
}

impl<'a> AddressWriter<'a> {
    /// Writes to `out`, ending each address with `terminator`; `flush_each` hands every
    /// address to the output at once (for `--line-buffered`).
    pub fn new(out: &'a mut DataOut, terminator: u8, flush_each: bool) -> Self {
        AddressWriter {
            out,
            buf: vec![0; CHUNK + SLACK],
            pos: 0,
            terminator,
            flush_each,
            dotted: cells(b'.'),
            last: cells(terminator),
        }
    }

    /// Writes one address.
    pub fn push(&mut self, ip: IpAddr) -> io::Result<()> {
        match ip {
            IpAddr::V4(v4) => {
                let mut line = [0u8; 16];
                let prefix = self.prefix(&mut line, u32::from(v4) >> 8);
                let cell = self.last[usize::from(v4.octets()[3])];
                line[prefix..prefix + 4].copy_from_slice(&cell.bytes);
                self.buf[self.pos..self.pos + 16].copy_from_slice(&line);
                self.pos += prefix + cell.len;
            }
            IpAddr::V6(v6) => {
                let mut cursor = &mut self.buf[self.pos..];
                let room = cursor.len();
                write!(cursor, "{v6}")?;
                let written = room - cursor.len();
                self.buf[self.pos + written] = self.terminator;
                self.pos += written + 1;
            }
        }
        self.written()
    }

    /// Writes every address from `start` to `end` inclusive, ascending.
    pub fn push_run(&mut self, family: Family, start: u128, end: u128) -> io::Result<()> {
        match (family, u32::try_from(start), u32::try_from(end)) {
            (Family::V4, Ok(start), Ok(end)) => self.push_v4_run(start, end),
            _ => {
                let mut value = start;
                loop {
                    self.push(family.address(value))?;
                    if value == end {
                        return Ok(());
                    }
                    value += 1;
                }
            }
        }
    }

    /// The hot path of `ipgen 10.0.0.0/8`: the `a.b.c.` prefix is formatted once per /24 and
    /// each line costs two fixed-size copies.
    fn push_v4_run(&mut self, start: u32, end: u32) -> io::Result<()> {
        let mut block = start;
        loop {
            let block_end = end.min(block | 0xff);
            let mut line = [0u8; 16];
            let prefix = self.prefix(&mut line, block >> 8);
            for low in (block & 0xff)..=(block_end & 0xff) {
                let cell = self.last[low as usize];
                line[prefix..prefix + 4].copy_from_slice(&cell.bytes);
                self.buf[self.pos..self.pos + 16].copy_from_slice(&line);
                self.pos += prefix + cell.len;
                self.written()?;
            }
            if block_end == end {
                return Ok(());
            }
            block = block_end + 1;
        }
    }

    /// Formats the first three octets (`upper` = address >> 8) with their dots into `line`.
    fn prefix(&self, line: &mut [u8; 16], upper: u32) -> usize {
        let mut len = 0;
        for shift in [16, 8, 0] {
            let cell = self.dotted[((upper >> shift) & 0xff) as usize];
            line[len..len + 4].copy_from_slice(&cell.bytes);
            len += cell.len;
        }
        len
    }

    fn written(&mut self) -> io::Result<()> {
        if self.flush_each || self.pos >= CHUNK {
            self.out.write_record(&self.buf[..self.pos])?;
            self.pos = 0;
        }
        Ok(())
    }

    /// Writes whatever is still gathered.
    pub fn finish(mut self) -> io::Result<()> {
        if self.pos > 0 {
            self.out.write_record(&self.buf[..self.pos])?;
            self.pos = 0;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_hold_every_octet_in_decimal() {
        for (value, cell) in cells(b'\n').iter().enumerate() {
            assert_eq!(&cell.bytes[..cell.len], format!("{value}\n").as_bytes());
        }
    }
}
