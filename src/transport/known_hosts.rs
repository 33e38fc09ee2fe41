//! Host-key policies shared by the SSH transports: record, trust on first use, or strict
//! against a known_hosts file kept in memory.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use russh::keys::PublicKey;

/// What to do with host keys.
#[derive(Debug)]
pub enum HostKeyPolicy {
    /// Accept any key and record its fingerprint (batchscanner's AutoAddPolicy, made visible).
    Record,
    /// Trust on first use: accept and remember unknown keys, reject changed ones.
    Tofu(KnownHosts),
    /// Accept only keys already in the file.
    Strict(KnownHosts),
}

/// A known_hosts file held in memory, so thousands of concurrent checks cost no file reads,
/// and appended to under a lock, so concurrent sessions never interleave lines.
#[derive(Debug)]
pub struct KnownHosts {
    path: PathBuf,
    keys: Mutex<HashMap<String, Vec<PublicKey>>>,
}

/// A known_hosts file that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("known-hosts file {path}: {source}")]
pub struct KnownHostsError {
    path: String,
    #[source]
    source: std::io::Error,
}

impl KnownHosts {
    /// Loads the file (a missing file is an empty one). Hashed host names are not understood
    /// and are skipped, as are lines that do not parse.
    pub fn load(path: &Path) -> Result<Self, KnownHostsError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => {
                return Err(KnownHostsError {
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        let mut keys: HashMap<String, Vec<PublicKey>> = HashMap::new();
        for line in text.lines() {
            let mut fields = line.split_whitespace();
            let (Some(hosts), Some(algorithm), Some(blob)) =
                (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            if hosts.starts_with('#') || hosts.starts_with('|') {
                continue;
            }
            let Ok(key) = PublicKey::from_openssh(&format!("{algorithm} {blob}")) else {
                continue;
            };
            for host in hosts.split(',') {
                keys.entry(host.to_owned()).or_default().push(key.clone());
            }
        }
        Ok(KnownHosts {
            path: path.to_owned(),
            keys: Mutex::new(keys),
        })
    }

    fn changed(&self, addr: SocketAddr) -> String {
        format!(
            "host key changed: {} holds another key for {addr}",
            self.path.display()
        )
    }

    /// The file this policy reads and appends to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The keys known for `addr`, as known_hosts lines under the name OpenSSH looks up
    /// (`IP`, or `[IP]:PORT` off port 22).
    pub fn lines_for(&self, addr: SocketAddr) -> Vec<String> {
        let name = Self::entry_name(addr);
        let keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        keys.get(&name)
            .into_iter()
            .flatten()
            .filter_map(|key| key.to_openssh().ok())
            .map(|key| format!("{name} {key}"))
            .collect()
    }

    fn entry_name(addr: SocketAddr) -> String {
        match addr.port() {
            22 => addr.ip().to_string(),
            port => format!("[{}]:{port}", addr.ip()),
        }
    }

    /// `Some(true)`: known and equal; `Some(false)`: known with a different key of the same
    /// algorithm (changed); `None`: unknown.
    fn check(&self, addr: SocketAddr, key: &PublicKey) -> Option<bool> {
        let keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        let known = keys.get(&Self::entry_name(addr))?;
        if known.iter().any(|k| k.key_data() == key.key_data()) {
            Some(true)
        } else if known.iter().any(|k| k.algorithm() == key.algorithm()) {
            Some(false)
        } else {
            None
        }
    }

    /// Remembers a key for `addr`: in memory, and appended to the file under the lock.
    pub(crate) fn learn(&self, addr: SocketAddr, key: &PublicKey) -> std::io::Result<()> {
        use std::io::Write;
        let name = Self::entry_name(addr);
        let line = format!(
            "{name} {}\n",
            key.to_openssh()
                .map_err(|e| std::io::Error::other(e.to_string()))?
        );
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        file.write_all(line.as_bytes())?;
        keys.entry(name).or_default().push(key.clone());
        Ok(())
    }
}

impl HostKeyPolicy {
    /// Whether `key` may be trusted for `addr`; the reason when it may not. Under `tofu` an
    /// unknown key is learnt (appended to the file) on the way.
    pub fn verify(&self, addr: SocketAddr, key: &PublicKey) -> Result<(), String> {
        match self {
            HostKeyPolicy::Record => Ok(()),
            HostKeyPolicy::Tofu(known) => match known.check(addr, key) {
                Some(true) => Ok(()),
                Some(false) => Err(known.changed(addr)),
                None => known.learn(addr, key).map_err(|e| {
                    format!(
                        "cannot record the host key in {}: {e}",
                        known.path.display()
                    )
                }),
            },
            HostKeyPolicy::Strict(known) => match known.check(addr, key) {
                Some(true) => Ok(()),
                Some(false) => Err(known.changed(addr)),
                None => Err(format!(
                    "host key unknown: {} has no key for {}",
                    known.path.display(),
                    addr
                )),
            },
        }
    }
}
