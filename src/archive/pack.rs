//! A run's new configurations, stored as one git pack instead of one file per object.
//!
//! libgit2 stores each object it is given as a loose file: seven file opens, a link and a
//! rescan of the pack directory per new object, which for a first run of 20,000 radios on a
//! busy disk took over half a minute. Here the new blobs are deflated into a pack stream in
//! memory (git's pack format, version 2: a header, each object's type and size and its zlib
//! data, a SHA-1 trailer) and handed to libgit2's own indexer ([`git2::OdbPackwriter`]), which
//! checks the stream, writes the `.pack` and its `.idx` under temporary names and renames them
//! into `objects/pack`: the objects appear whole or not at all.

use std::collections::HashSet;
use std::io::{self, Write};

use flate2::Compression;
use flate2::write::ZlibEncoder;
use git2::Oid;
use sha1::{Digest, Sha1};

/// The pack format's object type of a blob.
const BLOB: u8 = 3;

/// Objects waiting for a pack, deflated.
#[derive(Debug, Default)]
pub struct Pending {
    entries: Vec<u8>,
    count: u32,
    seen: HashSet<Oid>,
}

impl Pending {
    /// Adds the blob `oid` holding `content` (once, however often it is added).
    pub fn add(&mut self, oid: Oid, content: &[u8]) -> io::Result<()> {
        if !self.seen.insert(oid) {
            return Ok(());
        }
        // Type and size: the low four bits of the size in the first byte, then seven bits a
        // byte, each byte's high bit saying another follows.
        let mut size = content.len();
        let mut byte = (BLOB << 4) | (size & 0x0f) as u8;
        size >>= 4;
        while size > 0 {
            self.entries.push(byte | 0x80);
            byte = (size & 0x7f) as u8;
            size >>= 7;
        }
        self.entries.push(byte);
        let mut encoder = ZlibEncoder::new(&mut self.entries, Compression::default());
        encoder.write_all(content)?;
        encoder.finish()?;
        self.count += 1;
        Ok(())
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.entries.len()
    }

    /// No object waits.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The pack stream of the objects added; the buffer is empty again after.
    pub fn take_stream(&mut self) -> Vec<u8> {
        let mut stream = Vec::with_capacity(12 + self.entries.len() + 20);
        stream.extend_from_slice(b"PACK");
        stream.extend_from_slice(&2u32.to_be_bytes());
        stream.extend_from_slice(&self.count.to_be_bytes());
        stream.append(&mut self.entries);
        let trailer = Sha1::digest(&stream);
        stream.extend_from_slice(&trailer);
        self.count = 0;
        self.seen.clear();
        stream
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libgit2_indexes_the_stream_and_reads_every_blob_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = git2::Repository::init(dir.path()).expect("a repository");
        let mut pending = Pending::default();
        let contents: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"short\n".to_vec(),
            "set system  name x\n".repeat(500).into_bytes(),
        ];
        let mut oids = Vec::new();
        for content in &contents {
            let oid = Oid::hash_object(git2::ObjectType::Blob, content).expect("hashed");
            pending.add(oid, content).expect("added");
            pending.add(oid, content).expect("added twice, stored once");
            oids.push(oid);
        }
        let stream = pending.take_stream();
        assert!(pending.is_empty());
        let odb = repo.odb().expect("odb");
        let mut writer = odb.packwriter().expect("a pack writer");
        writer.write_all(&stream).expect("written");
        writer.commit().expect("indexed");
        for (oid, content) in oids.iter().zip(&contents) {
            let blob = repo.find_blob(*oid).expect("in the pack");
            assert_eq!(blob.content(), content.as_slice());
        }
    }
}
