//! What the ssh client makes of the user's setup: `ssh -G` validates `-F`/`-o` and tells
//! whether a proxy or the key exchanges were chosen, `ssh -Q` which algorithms exist, and from
//! those the defaults sikprobe adds after the user's options.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use crate::transport::known_hosts::HostKeyPolicy;

/// Key exchanges put before OpenSSH's own first choice (the sntrup761 hybrid costs the client
/// about six times the CPU per login, and radio firmware does not offer it).
const PREFERRED_KEX: [&str; 2] = ["curve25519-sha256", "curve25519-sha256@libssh.org"];
/// What `--legacy-algorithms` adds, per ssh option, after OpenSSH's defaults.
const LEGACY: [(&str, &str, &[&str]); 4] = [
    (
        "KexAlgorithms",
        "kex",
        &[
            "diffie-hellman-group14-sha1",
            "diffie-hellman-group1-sha1",
            "diffie-hellman-group-exchange-sha1",
        ],
    ),
    ("HostKeyAlgorithms", "key", &["ssh-rsa"]),
    (
        "Ciphers",
        "cipher",
        &["aes128-cbc", "aes192-cbc", "aes256-cbc", "3des-cbc"],
    ),
    ("MACs", "mac", &["hmac-sha1", "hmac-sha1-etm@openssh.com"]),
];
/// What the user asked of the OpenSSH transport.
#[derive(Debug, Clone)]
pub struct OpensshSettings {
    /// The ssh program (`ssh` on PATH by default).
    pub program: Option<PathBuf>,
    /// `-F FILE`: an ssh_config instead of the user's.
    pub config: Option<PathBuf>,
    /// `-o OPTION` values, passed before sikprobe's own defaults so they take precedence
    /// (OpenSSH keeps the first value it sees).
    pub options: Vec<String>,
    /// Private keys (`-o IdentityFile=`), besides those of the config and the agent.
    pub identities: Vec<PathBuf>,
    /// TCP connect timeout (the pre-check's, and ssh's `ConnectTimeout` without it).
    pub connect_timeout: Duration,
    /// Identification and key exchange timeout.
    pub handshake_timeout: Duration,
    /// Authentication timeout.
    pub auth_timeout: Duration,
    /// Append the legacy algorithms after OpenSSH's defaults.
    pub legacy_algorithms: bool,
    /// A master left behind by a crash exits after idling this long.
    pub deadline: Duration,
    /// The host-key policy (shared with the native transport).
    pub host_keys: Arc<HostKeyPolicy>,
}

/// The OpenSSH transport cannot start.
#[derive(Debug, thiserror::Error)]
pub enum OpensshError {
    /// The ssh program does not run.
    #[error("--transport openssh: cannot run '{program}': {source}")]
    Program {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// ssh rejected the configuration or options.
    #[error("--transport openssh: '{program} -G' rejects the ssh options: {message}")]
    Options {
        /// The program.
        program: String,
        /// ssh's complaint.
        message: String,
    },
    /// The run directory or the askpass socket cannot be made.
    #[error("--transport openssh: setting up a private directory for control sockets: {0}")]
    RunDir(#[source] io::Error),
}

/// The ssh client as this run uses it: the program, the user's configuration and options, and
/// the defaults sikprobe adds after them. Plain data, fixed for the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ClientSetup {
    /// The ssh program.
    pub(super) program: PathBuf,
    /// `-F FILE`.
    pub(super) config: Option<PathBuf>,
    /// The user's `-o` options, in order.
    pub(super) options: Vec<String>,
    /// `-i` keys, as `IdentityFile` options.
    pub(super) identities: Vec<PathBuf>,
    /// TCP connect timeout.
    pub(super) connect_timeout: Duration,
    /// Identification and key exchange timeout.
    pub(super) handshake_timeout: Duration,
    /// Authentication timeout.
    pub(super) auth_timeout: Duration,
    /// sikprobe's own defaults (key exchange order, legacy algorithms), after the user's.
    pub(super) defaults: Vec<String>,
    /// Whether a plain TCP check comes before each ssh (not through a proxy).
    pub(super) precheck: bool,
    /// `ControlPersist`: a master orphaned by a crash exits after idling this long.
    pub(super) persist_seconds: u64,
}

impl ClientSetup {
    /// Asks the ssh client what it makes of the user's configuration and options (`ssh -G`,
    /// which also validates them) and which algorithms it supports (`ssh -Q`).
    pub(super) fn probe(settings: &OpensshSettings) -> Result<Self, OpensshError> {
        let program = settings
            .program
            .clone()
            .unwrap_or_else(|| PathBuf::from("ssh"));
        let run = |command: &mut std::process::Command| {
            command
                .stdin(Stdio::null())
                .output()
                .map_err(|source| OpensshError::Program {
                    program: program.display().to_string(),
                    source,
                })
        };
        let query = |what: &str| -> Result<Vec<String>, OpensshError> {
            let out = run(std::process::Command::new(&program).args(["-Q", what]))?;
            Ok(String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_owned)
                .collect())
        };
        // The effective configuration of a sample host: validates -F and -o, and tells
        // whether the user chose key exchanges or a proxy themselves.
        let mut probe = std::process::Command::new(&program);
        probe.arg("-G");
        if let Some(config) = &settings.config {
            probe.arg("-F").arg(config);
        }
        for option in &settings.options {
            probe.arg("-o").arg(option);
        }
        let effective = run(probe.arg("sikprobe.invalid"))?;
        if !effective.status.success() {
            return Err(OpensshError::Options {
                program: program.display().to_string(),
                message: String::from_utf8_lossy(&effective.stderr).trim().to_owned(),
            });
        }
        let effective = String::from_utf8_lossy(&effective.stdout).into_owned();
        let setting = |name: &str| {
            effective
                .lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
                .map(str::to_owned)
        };
        let user_chose = |name: &str| {
            let lower = name.to_ascii_lowercase();
            let in_options = settings
                .options
                .iter()
                .any(|o| o.to_ascii_lowercase().starts_with(&lower));
            in_options || config_mentions(settings.config.as_deref(), &lower)
        };
        // A proxy means the target is reached through another host: a direct TCP pre-check
        // would test the wrong path.
        let precheck = !(user_chose("proxyjump") || user_chose("proxycommand"))
            && setting("proxyjump").is_none()
            && setting("proxycommand").is_none();
        let mut defaults = Vec::new();
        if !user_chose("kexalgorithms")
            && let Some(kex) = setting("kexalgorithms")
        {
            let supported = query("kex")?;
            let mut list: Vec<String> = PREFERRED_KEX
                .iter()
                .filter(|k| supported.iter().any(|s| s == *k))
                .map(|k| (*k).to_owned())
                .collect();
            list.extend(
                kex.split(',')
                    .filter(|k| !PREFERRED_KEX.contains(k))
                    .map(str::to_owned),
            );
            if settings.legacy_algorithms {
                list.extend(legacy_supported(&supported, LEGACY[0].2));
            }
            defaults.push(format!("KexAlgorithms={}", list.join(",")));
        }
        if settings.legacy_algorithms {
            for (index, (option, kind, names)) in LEGACY.iter().enumerate() {
                if index == 0 && defaults.iter().any(|d| d.starts_with("KexAlgorithms=")) {
                    continue;
                }
                let extra = legacy_supported(&query(kind)?, names);
                if !extra.is_empty() {
                    defaults.push(format!("{option}=+{}", extra.join(",")));
                    if *option == "HostKeyAlgorithms" {
                        defaults.push(format!("PubkeyAcceptedAlgorithms=+{}", extra.join(",")));
                    }
                }
            }
        }
        Ok(ClientSetup {
            program,
            config: settings.config.clone(),
            options: settings.options.clone(),
            identities: settings.identities.clone(),
            connect_timeout: settings.connect_timeout,
            handshake_timeout: settings.handshake_timeout,
            auth_timeout: settings.auth_timeout,
            defaults,
            precheck,
            persist_seconds: settings.deadline.as_secs().max(1) + 5,
        })
    }
}

fn legacy_supported(supported: &[String], names: &[&str]) -> Vec<String> {
    names
        .iter()
        .filter(|name| supported.iter().any(|s| s == *name))
        .map(|name| (*name).to_owned())
        .collect()
}

/// Whether an ssh_config file in effect sets `keyword` anywhere (the user's config and the
/// system one, or the `-F` file alone). Host-specific settings cannot be told apart here, so
/// any mention counts.
fn config_mentions(config: Option<&Path>, keyword: &str) -> bool {
    let mut files: Vec<PathBuf> = Vec::new();
    match config {
        Some(path) => files.push(path.to_owned()),
        None => {
            if let Some(home) = std::env::var_os("HOME") {
                files.push(Path::new(&home).join(".ssh/config"));
            }
            files.push(PathBuf::from("/etc/ssh/ssh_config"));
            if let Ok(entries) = std::fs::read_dir("/etc/ssh/ssh_config.d") {
                files.extend(entries.flatten().map(|e| e.path()));
            }
        }
    }
    files.iter().any(|path| {
        std::fs::read_to_string(path).is_ok_and(|text| {
            text.lines().any(|line| {
                let line = line.trim_start().to_ascii_lowercase();
                !line.starts_with('#') && line.starts_with(keyword)
            })
        })
    })
}
