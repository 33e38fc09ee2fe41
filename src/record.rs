//! The NDJSON record: what `sikprobe` writes for every input line and `batchsave` reads.
//!
//! One JSON object per line, failures included. Field names are snake_case and stable: new
//! fields may be added, none renamed. The core fields are always present (null when unknown) so
//! that every record has the same shape whatever happened to the host; the action-specific
//! fields are left out when the action did not produce them.
//!
//! [`Status`] is the closed taxonomy scripts branch on.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What happened to a host: the field scripts branch on. A closed set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Logged in, identified the radio and ran the action.
    Ok,
    /// The input line is not an address (`input` holds the raw line).
    InvalidInput,
    /// The TCP connection was refused (nothing listens on the port).
    Refused,
    /// No route to the host or its network.
    Unreachable,
    /// The TCP connection was not established within the connect timeout.
    ConnectTimeout,
    /// The TCP port is open but no SSH identification string came back.
    NoSsh,
    /// The SSH handshake failed: no common algorithm, or a key-exchange error.
    HandshakeFailed,
    /// Every credential was rejected (identification from the banner is still reported).
    AuthFailed,
    /// Logged in, but neither banner, prompt nor inventory identify a Siklu radio.
    NotSiklu,
    /// Logged in, but no CLI prompt appeared in time.
    PromptTimeout,
    /// A command answered with a CLI error (the other commands still ran).
    CommandFailed,
    /// The per-host deadline cut the work short; partial results are kept.
    Deadline,
    /// The connection broke or a read or write failed after it was established.
    IoError,
    /// Not attempted: already done in an earlier run, or not started before the run stopped
    /// (Ctrl-C, or a staged rollout: a failed canary, `--max-failures`).
    Skipped,
    /// Started, then abandoned unfinished when the run was made to quit (a second Ctrl-C).
    Interrupted,
    /// A guarded change (`--guard`) was not confirmed: the radio's rollback timer rebooted it,
    /// and it came back with the configuration it had before.
    Reverted,
    /// A guarded change was not confirmed, and the radio did not come back within
    /// `--revert-wait`, or came back with a configuration other than the one it had before:
    /// a person must look at it.
    Unconfirmed,
}

impl Status {
    /// Every status, in the order of the taxonomy.
    pub const ALL: [Status; 17] = [
        Status::Ok,
        Status::InvalidInput,
        Status::Refused,
        Status::Unreachable,
        Status::ConnectTimeout,
        Status::NoSsh,
        Status::HandshakeFailed,
        Status::AuthFailed,
        Status::NotSiklu,
        Status::PromptTimeout,
        Status::CommandFailed,
        Status::Deadline,
        Status::IoError,
        Status::Skipped,
        Status::Interrupted,
        Status::Reverted,
        Status::Unconfirmed,
    ];

    /// One line on what the status means, for `--help` and the man page.
    pub fn describe(self) -> &'static str {
        match self {
            Status::Ok => "logged in, identified the radio and ran the action",
            Status::InvalidInput => "the input line is not an address ('input' holds it)",
            Status::Refused => "the TCP connection was refused",
            Status::Unreachable => {
                "no route to the host or its network (client node: its DN could not reach it)"
            }
            Status::ConnectTimeout => "no TCP connection within --connect-timeout",
            Status::NoSsh => "TCP open, but no SSH identification came back",
            Status::HandshakeFailed => {
                "no common algorithm, key-exchange error, or host key rejected by --host-keys"
            }
            Status::AuthFailed => "every credential was rejected (banner identity still reported)",
            Status::NotSiklu => {
                "logged in, but no Siklu identity (a Linux shell, a Router> prompt)"
            }
            Status::PromptTimeout => "logged in, but no CLI prompt (or command answer) in time",
            Status::CommandFailed => "a command answered with a CLI error",
            Status::Deadline => "--deadline cut the host short; what it had is kept",
            Status::IoError => "the connection broke, or a read or write failed",
            Status::Skipped => {
                "not attempted: done in an earlier run (--skip-done), or not started when Ctrl-C, \
                 a failed --canary or --max-failures stopped the run ('error' says which)"
            }
            Status::Interrupted => "started, then abandoned unfinished by a second Ctrl-C",
            Status::Reverted => {
                "--guard: the change was not confirmed; the rollback timer rebooted the radio and \
                 it came back as it was before"
            }
            Status::Unconfirmed => {
                "--guard: the change was not confirmed and the radio did not come back as it was \
                 within --revert-wait: look at it"
            }
        }
    }

    /// The status as it appears in records (`auth-failed`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::InvalidInput => "invalid-input",
            Status::Refused => "refused",
            Status::Unreachable => "unreachable",
            Status::ConnectTimeout => "connect-timeout",
            Status::NoSsh => "no-ssh",
            Status::HandshakeFailed => "handshake-failed",
            Status::AuthFailed => "auth-failed",
            Status::NotSiklu => "not-siklu",
            Status::PromptTimeout => "prompt-timeout",
            Status::CommandFailed => "command-failed",
            Status::Deadline => "deadline",
            Status::IoError => "io-error",
            Status::Skipped => "skipped",
            Status::Interrupted => "interrupted",
            Status::Reverted => "reverted",
            Status::Unconfirmed => "unconfirmed",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not one of the [`Status`] names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status '{0}'")]
pub struct UnknownStatus(pub String);

impl FromStr for Status {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

/// The Siklu product family, as batchscanner classified it from the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RadioType {
    /// EtherHaul (`EH-…`).
    #[serde(rename = "EH")]
    Eh,
    /// Classic MultiHaul base unit (`MH-B100…`).
    #[serde(rename = "BU")]
    Bu,
    /// Classic MultiHaul terminal unit (`MH-T200…`, `MH-T201…`).
    #[serde(rename = "TU")]
    Tu,
    /// MultiHaul TG (any other `MH-…`).
    #[serde(rename = "TG")]
    Tg,
}

impl RadioType {
    /// The type as it appears in records and batchscanner's files (`EH`, `BU`, `TU`, `TG`).
    pub fn as_str(self) -> &'static str {
        match self {
            RadioType::Eh => "EH",
            RadioType::Bu => "BU",
            RadioType::Tu => "TU",
            RadioType::Tg => "TG",
        }
    }
}

impl fmt::Display for RadioType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What produced a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transport {
    /// The built-in SSH client (russh).
    Native,
    /// The system OpenSSH client.
    Openssh,
    /// Telnet.
    Telnet,
}

/// One command sent to a device and what came back, or, under `--dry-run`, one it would send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandResult {
    /// The command text as sent.
    pub command: String,
    /// False when the command got no answer, answered with a CLI error, or was not sent.
    pub ok: bool,
    /// The device's answer, echo and prompts removed.
    pub output: String,
    /// Time from sending the command to the end of its answer.
    pub elapsed_ms: u64,
    /// The remote exit status, on exec channels only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_status: Option<i32>,
    /// The remote standard error, on exec channels only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr: Option<String>,
    /// False for a command `--dry-run` only planned: written as `"sent": false`, and absent
    /// from every command that was sent, as from the records written before the field existed.
    #[serde(default = "sent_by_default", skip_serializing_if = "is_sent")]
    pub sent: bool,
}

impl CommandResult {
    /// A command that would be sent, and was not (`--dry-run`): not `ok`, as it has no answer.
    pub fn unsent(command: impl Into<String>) -> Self {
        CommandResult {
            command: command.into(),
            ok: false,
            output: String::new(),
            elapsed_ms: 0,
            exit_status: None,
            stderr: None,
            sent: false,
        }
    }
}

fn sent_by_default() -> bool {
    true
}

// serde's skip_serializing_if hands the field by reference.
fn is_sent(sent: &bool) -> bool {
    *sent
}

/// Model, serial and software version, as far as one source (a banner, a prompt, an
/// inventory) told them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// Model, e.g. `EH-710TX`.
    pub model: Option<String>,
    /// Serial number.
    pub sn: Option<String>,
    /// Software version.
    pub sw: Option<String>,
}

/// An attempt at a host that failed, after which it was tried again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// How it ended.
    pub status: Status,
    /// Why.
    pub error: Option<String>,
    /// When it started (RFC 3339).
    pub started: Option<String>,
    /// How long it took.
    pub elapsed_ms: Option<u64>,
}

/// Which management protocols accept a login, for `sikprobe --check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reachable {
    /// An SSH login succeeded.
    pub ssh: bool,
    /// A Telnet login succeeded.
    pub telnet: bool,
}

/// One host's result: one JSON object per line of `sikprobe` output.
///
/// The core fields (up to `transport`) are always serialised, as null when unknown, so every
/// record has the same shape; the fields after them appear only when the action produced them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The target address (null when the input line was not an address).
    pub ip: Option<IpAddr>,
    /// The target TCP port.
    pub port: Option<u16>,
    /// What happened (see [`Status`]).
    pub status: Status,
    /// Human-readable reason; null on success.
    pub error: Option<String>,
    /// `EH`, `BU`, `TU`, `TG`, or null (not a Siklu radio, or unknown).
    pub radio_type: Option<RadioType>,
    /// Model, from the banner, the prompt or `show inventory 1`.
    pub model: Option<String>,
    /// System name, from the prompt (without the quotes of a quoted prompt).
    pub name: Option<String>,
    /// Software version.
    pub sw: Option<String>,
    /// Serial number.
    pub sn: Option<String>,
    /// The SSH userauth banner.
    pub banner: Option<String>,
    /// The server's `SSH-2.0-…` identification string.
    pub server_id: Option<String>,
    /// The host key as `ALGORITHM SHA256:…`.
    pub host_key: Option<String>,
    /// The username that logged in (never a password).
    pub user: Option<String>,
    /// The CLI prompt seen.
    pub prompt: Option<String>,
    /// When work on this host started, RFC 3339.
    pub started: Option<String>,
    /// Total time spent on this host.
    pub elapsed_ms: Option<u64>,
    /// What produced the record.
    pub transport: Option<Transport>,
    /// The raw input line, when it was not a plain address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// The commands sent, for actions that send commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commands: Option<Vec<CommandResult>>,
    /// Parsed `show` fields: a flat map for EH/BU/TU, sections of rows for TG.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show: Option<serde_json::Map<String, serde_json::Value>>,
    /// For a TG client node reached through a DN: `"<ip>: <dn> -> <cn>"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// For a TG client node reached through a DN: the DN's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<IpAddr>,
    /// `show` fields a parser could not read (their value is then null).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parse_warnings: Option<Vec<String>>,
    /// The earlier attempts at this host, when it was tried again (`--retries`): how each
    /// ended. The record's own fields are the last attempt's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<Vec<Attempt>>,
    /// For `--check`: which management services answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reachable: Option<Reachable>,
    /// `-a backup`: the running configuration as the radio printed it (TG: `show startup`),
    /// line ends normalised to LF.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// `-a backup`: the saved (startup) configuration, EH/BU/TU only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup_config: Option<String>,
    /// `-a backup`: whether the running configuration equals the startup one (null where
    /// unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_saved: Option<bool>,
    /// `-a backup`: the SHA-256 of `config`, lowercase hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_sha256: Option<String>,
    /// `--guard`: how the guarded change went.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard: Option<GuardReport>,
}

/// How a guarded change (`--guard`) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GuardOutcome {
    /// Verified from a new session, the rollback cleared (and saved with `--save`).
    Confirmed,
    /// Not verified: the radio rebooted and came back with its configuration from before.
    Reverted,
    /// Not verified, and the radio did not come back as it was in time.
    Unconfirmed,
}

/// One `--verify` command, run in a new session, and whether its answer matched `--expect`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyResult {
    /// The command.
    pub command: String,
    /// Its answer matched the expected pattern.
    pub ok: bool,
    /// Its answer (of the last attempt), or why there was none.
    pub output: String,
}

/// The record's `guard`: what a guarded change armed, verified and saw come back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardReport {
    /// The rollback timeout armed, in seconds.
    pub timeout_s: u64,
    /// Verified from a new session.
    pub verified: bool,
    /// The `--verify` commands of the last verification attempt.
    pub verify: Vec<VerifyResult>,
    /// How it ended (null while it had not ended: a deadline cut it short).
    pub outcome: Option<GuardOutcome>,
    /// After an unconfirmed change: from the rollback timer's expiry until the radio took a
    /// login again.
    pub back_after_ms: Option<u64>,
    /// The SHA-256 of the running configuration before the change, lowercase hex.
    pub before_sha256: Option<String>,
}

impl GuardReport {
    /// A guard of `timeout_s` seconds, armed and not yet verified.
    pub fn armed(timeout_s: u64) -> Self {
        GuardReport {
            timeout_s,
            verified: false,
            verify: Vec::new(),
            outcome: None,
            back_after_ms: None,
            before_sha256: None,
        }
    }
}

impl Record {
    /// A record with only the target and the status known; every other field null or absent.
    pub fn new(ip: Option<IpAddr>, port: Option<u16>, status: Status) -> Self {
        Record {
            ip,
            port,
            status,
            error: None,
            radio_type: None,
            model: None,
            name: None,
            sw: None,
            sn: None,
            banner: None,
            server_id: None,
            host_key: None,
            user: None,
            prompt: None,
            started: None,
            elapsed_ms: None,
            transport: None,
            input: None,
            commands: None,
            show: None,
            route: None,
            parent: None,
            parse_warnings: None,
            attempts: None,
            reachable: None,
            config: None,
            startup_config: None,
            config_saved: None,
            config_sha256: None,
            guard: None,
        }
    }

    /// The host failed here: what happened and why.
    pub fn fail(&mut self, status: Status, error: impl Into<String>) {
        self.status = status;
        self.error = Some(error.into());
    }

    /// The host answered, but it is not a Siklu radio.
    pub fn not_siklu(&mut self, reason: impl Into<String>) {
        self.fail(Status::NotSiklu, reason);
    }

    /// Everything asked of the host so far went well.
    pub fn succeed(&mut self) {
        self.status = Status::Ok;
        self.error = None;
    }

    /// The radio is of this type, with what a source told of its identity.
    pub fn identified(&mut self, radio_type: RadioType, identity: Identity) {
        self.radio_type = Some(radio_type);
        self.model = identity.model;
        self.sn = identity.sn;
        self.sw = identity.sw;
    }

    /// One more command was sent, and this came back.
    pub fn push_command(&mut self, result: CommandResult) {
        self.commands.get_or_insert_with(Vec::new).push(result);
    }

    /// The answer to the last command sent, empty when none was.
    pub fn last_output(&self) -> &str {
        self.commands
            .as_deref()
            .and_then(<[CommandResult]>::last)
            .map_or("", |command| command.output.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_text_and_json() {
        for status in Status::ALL {
            assert_eq!(status.as_str().parse::<Status>(), Ok(status));
            assert_eq!(status.to_string(), status.as_str());
            let json = serde_json::to_string(&status).expect("a status serialises");
            assert_eq!(json, format!("\"{}\"", status.as_str()));
            assert_eq!(
                serde_json::from_str::<Status>(&json).expect("and parses back"),
                status
            );
        }
        assert_eq!(
            "success".parse::<Status>(),
            Err(UnknownStatus("success".into()))
        );
    }

    #[test]
    fn core_fields_are_always_present_and_action_fields_only_when_set() {
        let record = Record::new(
            Some("127.0.0.1".parse().expect("ip")),
            Some(22),
            Status::Refused,
        );
        let value = serde_json::to_value(&record).expect("serialises");
        let object = value.as_object().expect("an object");
        let keys: Vec<&str> = object.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "ip",
                "port",
                "status",
                "error",
                "radio_type",
                "model",
                "name",
                "sw",
                "sn",
                "banner",
                "server_id",
                "host_key",
                "user",
                "prompt",
                "started",
                "elapsed_ms",
                "transport"
            ]
        );
        assert_eq!(object["status"], "refused");
        assert!(object["error"].is_null());

        let mut with_commands = record.clone();
        with_commands.commands = Some(vec![CommandResult {
            command: "show system".into(),
            ok: true,
            output: "system name : x".into(),
            elapsed_ms: 3,
            exit_status: None,
            stderr: None,
            sent: true,
        }]);
        let value = serde_json::to_value(&with_commands).expect("serialises");
        assert_eq!(
            value["commands"][0]
                .as_object()
                .expect("a command object")
                .keys()
                .collect::<Vec<_>>(),
            ["command", "ok", "output", "elapsed_ms"]
        );
        let back: Record = serde_json::from_value(value).expect("parses back");
        assert_eq!(back, with_commands);

        let mut planned = record.clone();
        planned.commands = Some(vec![CommandResult::unsent("set system name x")]);
        let value = serde_json::to_value(&planned).expect("serialises");
        assert_eq!(
            value["commands"][0],
            serde_json::json!({
                "command": "set system name x",
                "ok": false,
                "output": "",
                "elapsed_ms": 0,
                "sent": false
            })
        );
        let back: Record = serde_json::from_value(value).expect("parses back");
        assert_eq!(back, planned);
    }

    #[test]
    fn a_minimal_record_parses_with_missing_core_fields_as_null() {
        let record: Record =
            serde_json::from_str(r#"{"ip":"127.0.0.9","status":"auth-failed","radio_type":"EH"}"#)
                .expect("parses");
        assert_eq!(record.status, Status::AuthFailed);
        assert_eq!(record.radio_type, Some(RadioType::Eh));
        assert_eq!(record.port, None);
        assert_eq!(record.commands, None);
    }
}
