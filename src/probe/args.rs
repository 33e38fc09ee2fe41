//! sikprobe's flags and what they make of a run: the flag definitions (flattened into the
//! binary's command line), the rules between flags, the files they name (password,
//! credentials, keys, script, known hosts, earlier output) and the options of each part of the
//! run. A flag combination that cannot work is a [`ArgsError`] naming the flags.

use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::ValueEnum;
use regex::Regex;

use super::context::{Platform, ProbeContext, Reach, RetryPolicy, SshClient};
use super::credentials::{CredentialBook, CredentialsError};
use super::engine::EngineOptions;
use super::resume::{DoneSet, FINAL_BY_DEFAULT, ResumeError};
use super::rollout::{FailureLimit, RolloutOptions};
use crate::device::actions::guard::TIMEOUT_RANGE;
use crate::device::actions::script::script_commands;
use crate::device::actions::{Action, ActionOptions, Check, ClockSource, Guard, WallClock};
use crate::pipe::{self, OpenError};
use crate::record::Status;
use crate::secret::Secret;
use crate::transport::Login;
use crate::transport::known_hosts::{HostKeyPolicy, KnownHosts, KnownHostsError};
use crate::transport::native::NativeOptions;
use crate::transport::openssh::OpensshSettings;
use crate::transport::telnet::TelnetOptions;

/// What to do with SSH host keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HostKeyMode {
    /// Accept any key and record its fingerprint in `host_key`.
    Record,
    /// Trust on first use: remember unknown keys in --known-hosts, reject changed ones.
    Tofu,
    /// Accept only keys already in --known-hosts.
    Strict,
}

/// Which kind of device to expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlatformName {
    /// Siklu radios only: a host that is not one is 'not-siklu'.
    Siklu,
    /// Any SSH host: each -c/--script command on its own exec channel (no PTY, no prompt),
    /// 'ok' or 'command-failed' by exit status.
    Generic,
    /// Siklu first; a host that is not a radio runs the commands as generic.
    Auto,
}

/// How to reach the devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransportName {
    /// SSH with the built-in client.
    Native,
    /// SSH with the system OpenSSH client (honours ~/.ssh/config, -F and -o).
    Openssh,
    /// Native first; a host whose identification or key exchange fails is tried once more
    /// with OpenSSH (never after an authentication failure).
    Auto,
    /// Telnet, logging in at the login and password prompts.
    Telnet,
}

/// A protocol --check tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Protocol {
    /// SSH, on the address's port.
    Ssh,
    /// Telnet, on --telnet-port.
    Telnet,
}

/// What to do on each radio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ActionName {
    /// Identify the radio and report it.
    Scan,
    /// Send the radio type's show commands and parse them into the record's 'show'.
    Show,
    /// Send the commands of -c / --script.
    Script,
    /// Set the radio's clock (local clock + --time-shift, or --at) and read it back.
    SetTod,
    /// Read the configuration into 'config' (EH/BU/TU: running; TG: show startup), and on
    /// EH/BU/TU 'startup_config', with 'config_saved' and 'config_sha256'.
    Backup,
}

/// sikprobe's flags (every one but the documentation generator's).
#[derive(Debug, Clone, clap::Args)]
pub struct ProbeArgs {
    /// Addresses to probe ('ip', 'ip:port', '[ipv6]:port'), instead of reading them from
    /// standard input or -f; ranges go through ipgen first.
    #[arg(value_name = "ADDRESS", conflicts_with = "file")]
    pub addresses: Vec<String>,

    /// Read addresses from FILE instead of standard input ('-' is standard input).
    #[arg(short = 'f', long = "file", value_name = "FILE", default_value = "-")]
    pub file: PathBuf,

    /// What to do on each radio [default: scan, or script with -c/--script].
    #[arg(short = 'a', long, value_enum)]
    pub action: Option<ActionName>,

    /// Which kind of device to expect.
    #[arg(long, value_enum, default_value_t = PlatformName::Auto)]
    pub platform: PlatformName,

    /// How to reach the devices.
    #[arg(long, value_enum, value_name = "NAME", default_value_t = TransportName::Native)]
    pub transport: TransportName,

    /// --transport openssh/auto: use this ssh_config file instead of ~/.ssh/config.
    #[arg(short = 'F', long = "ssh-config", value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,

    /// --transport openssh/auto: an ssh option ('ProxyJump=bastion',
    /// 'KexAlgorithms=+diffie-hellman-group1-sha1'); repeatable; beats the config file and
    /// sikprobe's own defaults.
    #[arg(short = 'o', long = "ssh-option", value_name = "OPTION")]
    pub ssh_options: Vec<String>,

    /// Instead of an action, check which protocols accept a login (one record per address
    /// with 'reachable'); a protocol not listed is reported false.
    #[arg(
        long,
        value_enum,
        value_name = "PROTO,...",
        value_delimiter = ',',
        num_args = 1..,
        conflicts_with_all = ["action", "commands", "script", "transport", "cns", "only_cns"]
    )]
    pub check: Vec<Protocol>,

    /// Telnet port for --check.
    #[arg(long, value_name = "PORT", default_value_t = 23)]
    pub telnet_port: u16,

    /// A command to send (implies --action script); repeatable, sent in order.
    #[arg(short = 'c', long = "command", value_name = "CMD")]
    pub commands: Vec<String>,

    /// Send the commands of FILE, one per line ('#' comments and blank lines skipped).
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,

    /// Stop a radio's script at its first failed command.
    #[arg(long)]
    pub stop_on_error: bool,

    /// Report 'ok' even when a command answered with a CLI error (each command's 'ok' still
    /// says so).
    #[arg(long)]
    pub allow_errors: bool,

    /// Log in and identify each radio, and record the commands the action would send in
    /// 'commands' with "sent": false, sending none of them (-a script and -a set-tod only).
    #[arg(long, conflicts_with = "check")]
    pub dry_run: bool,

    /// Make the script a guarded change (EH, BU, TU): read the running configuration, arm the
    /// radio's rollback timer for DURATION ('set rollback timeout N'), send the commands, verify
    /// from a new session (--verify, --expect; tried again for half the guard), then 'clear
    /// rollback' (and --save). Not verified, the timer reverts the radio, which is waited for
    /// (--revert-wait) and compared with its configuration before: 'reverted', or 'unconfirmed'
    /// for a person to look at. TG radios, which have no timer, are 'skipped'.
    #[arg(long, value_name = "DURATION", value_parser = parse_guard)]
    pub guard: Option<Duration>,

    /// With --guard: a command to run in the new session; repeatable, each paired with the
    /// --expect of the same rank.
    #[arg(long = "verify", value_name = "CMD", requires = "guard")]
    pub verify: Vec<String>,

    /// With --guard: a regular expression the answer of the --verify command of the same rank
    /// must match, e.g. 'rf operational\s*:\s*up'.
    #[arg(long = "expect", value_name = "REGEX", requires = "guard", value_parser = parse_regex)]
    pub expect: Vec<Regex>,

    /// With --guard: once a change is confirmed (never before), save it as the startup
    /// configuration ('copy running-configuration startup-configuration').
    #[arg(long, requires = "guard")]
    pub save: bool,

    /// With --guard: how long an unconfirmed radio may take, from its rollback timer's expiry,
    /// to come back.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = humantime::parse_duration)]
    pub revert_wait: Duration,

    /// set-tod: hours ('2.5', '-1') or a duration ('90m', '-30s') added to the local clock.
    #[arg(long, value_name = "SHIFT", allow_hyphen_values = true, value_parser = parse_shift)]
    pub time_shift: Option<i64>,

    /// set-tod: set this wall-clock time instead (RFC 3339, set as written).
    #[arg(long, value_name = "TIME", conflicts_with = "time_shift")]
    pub at: Option<String>,

    /// Also visit the active client nodes of each TG DN (connect / quit) and write one record
    /// per node, with 'route' and 'parent'.
    #[arg(long)]
    pub cns: bool,

    /// Visit only this client node (implies --cns); repeatable.
    #[arg(long = "cn", value_name = "NAME")]
    pub only_cns: Vec<String>,

    /// Hosts probed at once.
    #[arg(
        short = 'j',
        long = "concurrency",
        value_name = "N",
        default_value_t = 100
    )]
    pub concurrency: usize,

    /// Start at most N new connections per second.
    #[arg(long, value_name = "N")]
    pub rate: Option<f64>,

    /// Probe the first N hosts of the input alone (up to -j at once); start the rest only when
    /// all N ended 'ok', else give every other line a 'skipped' record and exit 1.
    #[arg(long, value_name = "N", value_parser = parse_canary)]
    pub canary: Option<u64>,

    /// Start no new host once more than N hosts (or P% of the finished hosts, counting at
    /// least 10 as finished) ended other than 'ok'; the hosts in flight finish, every other
    /// line gets a 'skipped' record, and sikprobe exits 1.
    #[arg(long, value_name = "N|P%", value_parser = clap::value_parser!(FailureLimit))]
    pub max_failures: Option<FailureLimit>,

    /// Port for input lines that name none [default: 22, or 23 with --transport telnet].
    #[arg(short = 'p', long, value_name = "PORT")]
    pub port: Option<u16>,

    /// Username to log in with (a --credentials file may scope others).
    #[arg(short = 'u', long, value_name = "USER", default_value = "admin")]
    pub user: String,

    /// Read the password from the first line of FILE.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,

    /// Ask for the password on the terminal.
    #[arg(long)]
    pub ask_password: bool,

    /// batchscanner network file whose 'username = ...' / 'password = ...' lines scope the
    /// addresses below them; an address in several sets tries them in order.
    #[arg(long, value_name = "FILE")]
    pub credentials: Option<PathBuf>,

    /// Private key to offer before passwords; repeatable (unencrypted keys; use the agent for
    /// encrypted ones).
    #[arg(short = 'i', long = "identity", value_name = "KEY")]
    pub identities: Vec<PathBuf>,

    /// Do not offer the identities of the SSH agent at SSH_AUTH_SOCK.
    #[arg(long)]
    pub no_agent: bool,

    /// Also offer legacy algorithms (diffie-hellman-group14-sha1, group1-sha1,
    /// group-exchange-sha1, ssh-rsa, aes-cbc, 3des-cbc, hmac-sha1) after the modern ones.
    #[arg(long)]
    pub legacy_algorithms: bool,

    /// Host-key policy.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = HostKeyMode::Record)]
    pub host_keys: HostKeyMode,

    /// known_hosts file for --host-keys tofu or strict.
    #[arg(long, value_name = "FILE", required_if_eq_any = [("host_keys", "tofu"), ("host_keys", "strict")])]
    pub known_hosts: Option<PathBuf>,

    /// TCP connect timeout.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = humantime::parse_duration)]
    pub connect_timeout: Duration,

    /// Timeout for the SSH identification and key exchange.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    pub handshake_timeout: Duration,

    /// Timeout for each authentication attempt (over Telnet: for each login prompt).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    pub auth_timeout: Duration,

    /// Timeout for the first CLI prompt after login.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    pub prompt_timeout: Duration,

    /// Timeout for each command's answer.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    pub command_timeout: Duration,

    /// The most time one host may take, whatever it does (its retries included); a cut host
    /// reports 'deadline' [default: 60s; with --guard: the guard, --revert-wait and 2m].
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub deadline: Option<Duration>,

    /// Try a host again up to N times when it failed before anything was sent to it in a way
    /// that can pass (connect-timeout, no-ssh, a key exchange that timed out, io-error);
    /// never after auth-failed (lockouts) or once the login succeeded. The earlier attempts
    /// are listed in the record's 'attempts'.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub retries: u32,

    /// Wait this long before the first retry, twice as long before each next one (each wait
    /// varied by up to a quarter, so that retried hosts do not come back in step).
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = humantime::parse_duration)]
    pub retry_backoff: Duration,

    /// Write records in input order (a reorder window of max(4 x -j, 1024) records bounds the
    /// memory; a slow host holds back at most that many).
    #[arg(long)]
    pub ordered: bool,

    /// Skip hosts that already have a final record in these NDJSON files or batchsave output
    /// directories; repeatable.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub skip_done: Vec<PathBuf>,

    /// Statuses to try again although --skip-done counts them as final (final by default:
    /// ok, auth-failed, not-siklu, refused, unconfirmed).
    #[arg(long, value_name = "STATUS,...", value_delimiter = ',')]
    pub retry: Vec<Status>,

    /// Write a 'skipped' record for each host skipped by --skip-done.
    #[arg(long)]
    pub emit_skipped: bool,

    /// Expected number of hosts, for the progress bar's ETA (e.g. from 'ipgen --count').
    #[arg(long, value_name = "N")]
    pub total: Option<u64>,

    /// Write the final summary as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,

    /// Flush every record as soon as it is written.
    #[arg(long)]
    pub line_buffered: bool,

    /// Print nothing on stderr but errors (no progress, no summary).
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// A flag combination or a file named by a flag that makes the run impossible.
#[derive(Debug, thiserror::Error)]
pub enum ArgsError {
    /// Two flags that do not go together, or a flag missing another.
    #[error("{0}")]
    Flags(&'static str),
    /// A file named by a flag cannot be read.
    #[error("reading {flag} {path}")]
    Read {
        /// The flag, e.g. `--script`.
        flag: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A private key cannot be loaded.
    #[error("reading private key {path}")]
    Key {
        /// The key file.
        path: PathBuf,
        /// Why.
        #[source]
        source: russh::keys::Error,
    },
    /// `--deadline` is shorter than a guarded change may need.
    #[error(
        "--deadline {given} leaves no room for a guarded change: --guard and --revert-wait \
         need {waits}, and the logins and commands around them {room}; give --deadline {needed} \
         or more"
    )]
    Deadline {
        /// The deadline given.
        given: String,
        /// The guard and the revert wait.
        waits: String,
        /// The room added for logins and commands.
        room: String,
        /// The least deadline that works.
        needed: String,
    },
    /// `--at` is not an RFC 3339 time.
    #[error("--at '{text}' is not an RFC 3339 time")]
    At {
        /// What was given.
        text: String,
        /// Why.
        #[source]
        source: chrono::ParseError,
    },
    /// Standard input is a terminal and no addresses were given another way.
    #[error(
        "no input: pipe addresses into sikprobe (ipgen 10.0.0.0/24 | sikprobe), give them as \
         arguments (sikprobe 10.0.0.1 10.0.0.2) or with -f FILE"
    )]
    NoInput,
    /// `--ask-password` without a terminal to ask on.
    #[error("--ask-password needs a terminal")]
    AskPassword(#[source] std::io::Error),
    /// The input or the credentials file cannot be opened.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// The credentials file is not valid.
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// The known-hosts file is not valid.
    #[error(transparent)]
    KnownHosts(#[from] KnownHostsError),
    /// An earlier run's output cannot be read.
    #[error(transparent)]
    Resume(#[from] ResumeError),
}

/// A run, as the flags configured it: ready to start (see [`super::run`]).
pub struct ProbeConfig {
    /// What every host shares; its OpenSSH options are set up when the run starts.
    pub context: ProbeContext,
    /// The OpenSSH transport's settings, when it may be used.
    pub openssh: Option<OpensshSettings>,
    /// How the run is shaped.
    pub engine: EngineOptions,
    /// Hosts already done in earlier runs (`--skip-done`).
    pub done: DoneSet,
    /// The addresses to read.
    pub input: Box<dyn BufRead + Send>,
    /// Print nothing on stderr but errors.
    pub quiet: bool,
    /// Expected number of hosts, for the progress bar.
    pub total: Option<u64>,
    /// Where to write the summary as JSON.
    pub summary: Option<PathBuf>,
    /// Whether `--skip-done` was given (its notes are printed at start).
    pub skip_done: bool,
}

impl ProbeConfig {
    /// Checks the flags against each other and reads the files they name.
    pub fn from_args(args: ProbeArgs) -> Result<Self, ArgsError> {
        let uses_openssh = matches!(args.transport, TransportName::Openssh | TransportName::Auto);
        if !uses_openssh && (args.ssh_config.is_some() || !args.ssh_options.is_empty()) {
            return Err(ArgsError::Flags(
                "-F/--ssh-config and -o/--ssh-option go with --transport openssh or auto",
            ));
        }
        let host_keys = Arc::new(match (args.host_keys, &args.known_hosts) {
            (HostKeyMode::Record, _) => HostKeyPolicy::Record,
            (HostKeyMode::Tofu, Some(path)) => HostKeyPolicy::Tofu(KnownHosts::load(path)?),
            (HostKeyMode::Strict, Some(path)) => HostKeyPolicy::Strict(KnownHosts::load(path)?),
            (_, None) => {
                return Err(ArgsError::Flags(
                    "--host-keys tofu and strict need --known-hosts FILE",
                ));
            }
        });
        let action = resolve_action(&args)?;
        let deadline = resolve_deadline(&args, &action)?;
        if args.dry_run && !action.changes_radios() {
            return Err(ArgsError::Flags(
                "--dry-run goes with an action that changes radios: -a script (-c/--script) or \
                 -a set-tod; scan, show and backup send nothing to plan",
            ));
        }
        let reach = match (args.transport, args.check.as_slice()) {
            (TransportName::Telnet, _) => Reach::Telnet,
            (_, []) => Reach::Ssh(match args.transport {
                TransportName::Native | TransportName::Telnet => SshClient::Native,
                TransportName::Openssh => SshClient::Openssh,
                TransportName::Auto => SshClient::Auto,
            }),
            (_, protocols) => Reach::Check {
                ssh: protocols.contains(&Protocol::Ssh),
                telnet: protocols.contains(&Protocol::Telnet),
                telnet_port: args.telnet_port,
            },
        };
        if reach == Reach::Telnet && args.platform == PlatformName::Generic {
            return Err(ArgsError::Flags(
                "--platform generic runs commands on SSH exec channels, not over Telnet",
            ));
        }
        let password = read_password(&args)?;
        let default_login = Login {
            user: args.user.clone(),
            password,
        };
        let credentials = match &args.credentials {
            None => CredentialBook::single(default_login),
            Some(path) => {
                let (name, reader) = pipe::open_input(path)?;
                CredentialBook::load(default_login, &name, reader)?
            }
        };
        let mut native = NativeOptions::new(
            args.connect_timeout,
            args.handshake_timeout,
            args.auth_timeout,
            args.legacy_algorithms,
            host_keys.clone(),
        );
        // The OpenSSH client reads its own keys (encrypted ones through the agent); only the
        // native client needs them loaded here.
        if args.transport != TransportName::Openssh {
            for path in &args.identities {
                let key =
                    russh::keys::load_secret_key(path, None).map_err(|source| ArgsError::Key {
                        path: path.clone(),
                        source,
                    })?;
                native.keys.push(Arc::new(key));
            }
        }
        native.use_agent = !args.no_agent && std::env::var_os("SSH_AUTH_SOCK").is_some();
        let default_port = args.port.unwrap_or(match args.transport {
            TransportName::Telnet => 23,
            TransportName::Native | TransportName::Openssh | TransportName::Auto => 22,
        });
        let final_statuses: Vec<Status> = FINAL_BY_DEFAULT
            .into_iter()
            .filter(|s| !args.retry.contains(s))
            .collect();
        let done = DoneSet::load(&args.skip_done, &final_statuses, default_port)?;
        let input = addresses_to_read(&args)?;
        let openssh = uses_openssh.then(|| OpensshSettings {
            program: None,
            config: args.ssh_config.clone(),
            options: args.ssh_options.clone(),
            identities: args.identities.clone(),
            connect_timeout: args.connect_timeout,
            handshake_timeout: args.handshake_timeout,
            auth_timeout: args.auth_timeout,
            legacy_algorithms: args.legacy_algorithms,
            deadline,
            host_keys,
        });
        let context = ProbeContext {
            reach,
            native: Arc::new(native),
            openssh: None,
            telnet: TelnetOptions {
                connect_timeout: args.connect_timeout,
                auth_timeout: args.auth_timeout,
            },
            credentials,
            prompt_timeout: args.prompt_timeout,
            deadline,
            retries: RetryPolicy {
                retries: args.retries,
                backoff: args.retry_backoff,
                least_attempt: args.connect_timeout,
            },
            action,
            action_options: ActionOptions {
                command_timeout: args.command_timeout,
                stop_on_error: args.stop_on_error,
                allow_errors: args.allow_errors,
                dry_run: args.dry_run,
            },
            platform: match args.platform {
                PlatformName::Siklu => Platform::Siklu,
                PlatformName::Generic => Platform::Generic,
                PlatformName::Auto => Platform::Auto,
            },
            client_nodes: args.cns || !args.only_cns.is_empty(),
            only_cns: args.only_cns,
        };
        Ok(ProbeConfig {
            context,
            openssh,
            engine: EngineOptions {
                concurrency: args.concurrency,
                rate: args.rate,
                ordered: args.ordered,
                line_buffered: args.line_buffered,
                emit_skipped: args.emit_skipped,
                default_port,
                rollout: RolloutOptions {
                    canary: args.canary.unwrap_or(0),
                    max_failures: args.max_failures,
                },
            },
            done,
            input,
            quiet: args.quiet,
            total: args
                .total
                .or((!args.addresses.is_empty()).then_some(args.addresses.len() as u64)),
            summary: args.summary,
            skip_done: !args.skip_done.is_empty(),
        })
    }
}

/// The action to run, from --action and the flags that feed it.
fn resolve_action(args: &ProbeArgs) -> Result<Action, ArgsError> {
    let mut commands = args.commands.clone();
    if let Some(path) = &args.script {
        let text = std::fs::read_to_string(path).map_err(|source| ArgsError::Read {
            flag: "--script",
            path: path.clone(),
            source,
        })?;
        commands.extend(script_commands(&text));
    }
    let named = args
        .action
        .unwrap_or(if commands.is_empty() && args.script.is_none() {
            ActionName::Scan
        } else {
            ActionName::Script
        });
    if named != ActionName::Script && !commands.is_empty() {
        return Err(ArgsError::Flags("-c and --script go with --action script"));
    }
    if args.platform == PlatformName::Generic
        && !matches!(named, ActionName::Script | ActionName::Scan)
    {
        return Err(ArgsError::Flags(
            "--platform generic runs -c/--script commands (or checks the login) only",
        ));
    }
    if args.guard.is_some()
        && (named != ActionName::Script || args.platform == PlatformName::Generic)
    {
        return Err(ArgsError::Flags(
            "--guard goes with -a script (-c/--script) on Siklu radios, not --platform generic",
        ));
    }
    if named != ActionName::SetTod && (args.time_shift.is_some() || args.at.is_some()) {
        return Err(ArgsError::Flags(
            "--time-shift and --at go with --action set-tod",
        ));
    }
    Ok(match named {
        ActionName::Scan => Action::Scan,
        ActionName::Show => Action::Show,
        ActionName::Script if commands.is_empty() => {
            return Err(ArgsError::Flags(
                "--action script needs commands: -c CMD or --script FILE",
            ));
        }
        ActionName::Script => match args.guard {
            None => Action::Script(commands),
            Some(timeout) => {
                if args.verify.len() != args.expect.len() {
                    return Err(ArgsError::Flags(
                        "--verify and --expect go in pairs: one --expect for each --verify",
                    ));
                }
                let checks = args.verify.iter().zip(&args.expect);
                Action::GuardedScript(Box::new(Guard {
                    commands,
                    timeout,
                    checks: checks
                        .map(|(command, expect)| Check {
                            command: command.clone(),
                            expect: expect.clone(),
                        })
                        .collect(),
                    save: args.save,
                    revert_wait: args.revert_wait,
                }))
            }
        },
        ActionName::SetTod => Action::SetTod(match &args.at {
            Some(text) => ClockSource::At(parse_at(text)?),
            None => ClockSource::Local {
                shift_seconds: args.time_shift.unwrap_or(0),
            },
        }),
        ActionName::Backup => Action::Backup,
    })
}

/// The most time a guarded change needs beside its waits: the logins (the first, the
/// verifying one, the one after the revert) and the commands around them.
pub const GUARD_ROOM: Duration = Duration::from_secs(60);

/// The deadline default when a guarded change leaves it unset: its waits and twice the room.
const GUARD_DEFAULT_ROOM: Duration = Duration::from_secs(120);

/// `--deadline`, or its default: 60s, or under `--guard` room for the guard and the revert
/// wait; one too short for a guarded change is refused before any login.
fn resolve_deadline(args: &ProbeArgs, action: &Action) -> Result<Duration, ArgsError> {
    let Action::GuardedScript(guard) = action else {
        return Ok(args.deadline.unwrap_or(Duration::from_secs(60)));
    };
    let waits = guard.longest_wait();
    match args.deadline {
        None => Ok(waits + GUARD_DEFAULT_ROOM),
        Some(given) if given < waits + GUARD_ROOM && !args.dry_run => Err(ArgsError::Deadline {
            given: humantime::format_duration(given).to_string(),
            waits: humantime::format_duration(waits).to_string(),
            room: humantime::format_duration(GUARD_ROOM).to_string(),
            needed: humantime::format_duration(waits + GUARD_ROOM).to_string(),
        }),
        Some(given) => Ok(given),
    }
}

/// `--guard`: a rollback timeout in whole seconds the radio accepts.
fn parse_guard(text: &str) -> Result<Duration, String> {
    let timeout = humantime::parse_duration(text).map_err(|e| format!("'{text}': {e}"))?;
    let seconds = timeout.as_secs();
    if timeout.subsec_nanos() != 0 || !TIMEOUT_RANGE.contains(&seconds) {
        return Err(format!(
            "'{text}': the rollback timeout is whole seconds from {} to {} (1s to 24h)",
            TIMEOUT_RANGE.start(),
            TIMEOUT_RANGE.end()
        ));
    }
    Ok(timeout)
}

/// `--expect`: a regular expression.
fn parse_regex(text: &str) -> Result<Regex, String> {
    Regex::new(text).map_err(|e| format!("'{text}' is not a regular expression: {e}"))
}

/// `--time-shift`: hours as a number (batchscanner's time_shift), or a signed duration.
fn parse_shift(text: &str) -> Result<i64, String> {
    if let Ok(hours) = text.parse::<f64>() {
        if hours.is_finite() && hours.abs() < 24.0 * 366.0 {
            return Ok((hours * 3600.0).round() as i64);
        }
        return Err(format!("'{text}' hours is not a sensible clock shift"));
    }
    let (sign, rest) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    humantime::parse_duration(rest)
        .map_err(|e| format!("'{text}' is neither hours nor a duration: {e}"))
        .and_then(|d| i64::try_from(d.as_secs()).map_err(|e| e.to_string()))
        .map(|seconds| sign * seconds)
}

/// `--canary`: a number of hosts, one at least.
fn parse_canary(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(0) => Err("a canary stage needs at least one host".to_owned()),
        Ok(hosts) => Ok(hosts),
        Err(_) => Err(format!("'{text}' is not a number of hosts")),
    }
}

/// `--at`: an RFC 3339 time, whose wall-clock part is what the radio is set to.
fn parse_at(text: &str) -> Result<WallClock, ArgsError> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(WallClock::from)
        .map_err(|source| ArgsError::At {
            text: text.to_owned(),
            source,
        })
}

/// Where the addresses come from: the arguments, -f FILE, or standard input when it is not a
/// terminal (a terminal would leave sikprobe waiting behind its progress line for input that
/// nobody meant to type).
fn addresses_to_read(args: &ProbeArgs) -> Result<Box<dyn BufRead + Send>, ArgsError> {
    if !args.addresses.is_empty() {
        let mut lines = args.addresses.join("\n");
        lines.push('\n');
        return Ok(Box::new(std::io::Cursor::new(lines.into_bytes())));
    }
    let (name, input) = pipe::open_input(&args.file)?;
    if matches!(name, pipe::InputName::Stdin) && pipe::stdin_is_terminal() {
        return Err(ArgsError::NoInput);
    }
    Ok(input)
}

/// The password from a file, the terminal or the environment; `admin` when none is given.
fn read_password(args: &ProbeArgs) -> Result<Secret, ArgsError> {
    if let Some(path) = &args.password_file {
        let text = std::fs::read_to_string(path).map_err(|source| ArgsError::Read {
            flag: "--password-file",
            path: path.clone(),
            source,
        })?;
        let first = text.lines().next().unwrap_or_default();
        return Ok(Secret::new(first));
    }
    if args.ask_password {
        let typed = rpassword::prompt_password(format!("password for {}: ", args.user))
            .map_err(ArgsError::AskPassword)?;
        return Ok(Secret::new(typed));
    }
    if let Ok(password) = std::env::var("SIKPROBE_PASSWORD") {
        return Ok(Secret::new(password));
    }
    Ok(Secret::new("admin"))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    /// The flags as the binary flattens them.
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        probe: ProbeArgs,
    }

    /// The flags, reading addresses from an empty file: a test run from a terminal must not
    /// meet the refusal to read addresses from one.
    fn parse(args: &[&str]) -> Result<ProbeArgs, clap::Error> {
        let input = ["-f", "/dev/null"];
        Cli::try_parse_from(
            std::iter::once("sikprobe")
                .chain(args.iter().copied())
                .chain(input.into_iter().filter(|_| !args.contains(&"-f"))),
        )
        .map(|cli| cli.probe)
    }

    fn config(args: &[&str]) -> Result<ProbeConfig, ArgsError> {
        ProbeConfig::from_args(parse(args).expect("clap accepts the flags"))
    }

    fn ok(args: &[&str]) -> ProbeConfig {
        config(args).unwrap_or_else(|err| panic!("{args:?} refused: {err}"))
    }

    fn refused(args: &[&str]) -> String {
        match config(args) {
            Err(ArgsError::Flags(why)) => why.to_owned(),
            Err(other) => panic!("{args:?}: not a flag rule: {other}"),
            Ok(_) => panic!("{args:?} was accepted"),
        }
    }

    #[test]
    fn ssh_options_need_the_openssh_client() {
        let why = "-F/--ssh-config and -o/--ssh-option go with --transport openssh or auto";
        assert_eq!(refused(&["-o", "ProxyJump=b"]), why);
        assert_eq!(refused(&["-F", "cfg", "--transport", "telnet"]), why);
        for transport in ["openssh", "auto"] {
            let config = ok(&["-o", "ProxyJump=b", "--transport", transport]);
            let openssh = config.openssh.expect("OpenSSH settings");
            assert_eq!(openssh.options, ["ProxyJump=b"]);
        }
        assert!(ok(&[]).openssh.is_none());
    }

    #[test]
    fn commands_make_a_script_and_go_with_it_only() {
        assert_eq!(
            ok(&["-c", "show rf", "-c", "show system"]).context.action,
            Action::Script(vec!["show rf".into(), "show system".into()])
        );
        assert_eq!(
            refused(&["-c", "show rf", "-a", "show"]),
            "-c and --script go with --action script"
        );
        assert_eq!(
            refused(&["-a", "script"]),
            "--action script needs commands: -c CMD or --script FILE"
        );
        assert_eq!(ok(&[]).context.action, Action::Scan);
    }

    #[test]
    fn a_script_file_is_read_and_a_missing_one_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("change.txt");
        std::fs::write(&path, "# rename\nset system name a\n\nshow system\n").expect("write");
        let path = path.to_str().expect("UTF-8 path");
        assert_eq!(
            ok(&["--script", path]).context.action,
            Action::Script(vec!["set system name a".into(), "show system".into()])
        );
        let missing = dir.path().join("missing.txt");
        let missing = missing.to_str().expect("UTF-8 path");
        match config(&["--script", missing]) {
            Err(
                err @ ArgsError::Read {
                    flag: "--script", ..
                },
            ) => {
                assert_eq!(err.to_string(), format!("reading --script {missing}"));
            }
            _ => panic!("a missing script is not named"),
        }
    }

    #[test]
    fn generic_hosts_run_scripts_over_ssh_only() {
        let why = "--platform generic runs -c/--script commands (or checks the login) only";
        assert_eq!(refused(&["--platform", "generic", "-a", "show"]), why);
        assert_eq!(refused(&["--platform", "generic", "-a", "set-tod"]), why);
        assert_eq!(refused(&["--platform", "generic", "-a", "backup"]), why);
        assert_eq!(
            ok(&["--platform", "generic", "-c", "uname"])
                .context
                .platform,
            Platform::Generic
        );
        assert_eq!(
            refused(&["--platform", "generic", "--transport", "telnet"]),
            "--platform generic runs commands on SSH exec channels, not over Telnet"
        );
    }

    #[test]
    fn clock_flags_go_with_set_tod() {
        let why = "--time-shift and --at go with --action set-tod";
        assert_eq!(refused(&["--time-shift", "2"]), why);
        assert_eq!(refused(&["--at", "2026-01-02T03:04:05Z"]), why);
        assert_eq!(
            ok(&["-a", "set-tod", "--time-shift", "-30m"])
                .context
                .action,
            Action::SetTod(ClockSource::Local {
                shift_seconds: -1800
            })
        );
        assert_eq!(
            ok(&["-a", "set-tod", "--at", "2026-01-02T03:04:05+02:00"])
                .context
                .action,
            Action::SetTod(ClockSource::At(WallClock {
                date: (2026, 1, 2),
                time: (3, 4, 5)
            }))
        );
        assert!(matches!(
            config(&["-a", "set-tod", "--at", "tomorrow"]),
            Err(ArgsError::At { .. })
        ));
        assert!(
            parse(&["--at", "2026-01-02T03:04:05Z", "--time-shift", "1"]).is_err(),
            "--at and --time-shift exclude each other"
        );
    }

    #[test]
    fn dry_run_goes_with_actions_that_change_radios() {
        let why = "--dry-run goes with an action that changes radios: -a script (-c/--script) \
                   or -a set-tod; scan, show and backup send nothing to plan";
        for action in ["scan", "show", "backup"] {
            assert_eq!(refused(&["--dry-run", "-a", action]), why);
        }
        assert_eq!(refused(&["--dry-run"]), why);
        for args in [&["-c", "set system name a"][..], &["-a", "set-tod"][..]] {
            let config = ok(&[&["--dry-run"][..], args].concat());
            assert!(config.context.action_options.dry_run, "{args:?}");
        }
        assert!(!ok(&["-c", "show rf"]).context.action_options.dry_run);
        assert!(
            parse(&["--dry-run", "--check", "ssh"]).is_err(),
            "--check runs no action to plan"
        );
    }

    #[test]
    fn rollout_flags_stage_the_engine() {
        assert_eq!(ok(&[]).engine.rollout, RolloutOptions::default());
        assert_eq!(
            ok(&["--canary", "3", "--max-failures", "10%"])
                .engine
                .rollout,
            RolloutOptions {
                canary: 3,
                max_failures: Some(FailureLimit::Percent(10)),
            }
        );
        assert_eq!(
            ok(&["--max-failures", "0"]).engine.rollout.max_failures,
            Some(FailureLimit::Hosts(0))
        );
        for bad in [
            &["--canary", "0"][..],
            &["--canary", "x"][..],
            &["--max-failures", "ten"][..],
            &["--max-failures", "101%"][..],
        ] {
            let err = parse(bad)
                .err()
                .unwrap_or_else(|| panic!("{bad:?} accepted"));
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::ValueValidation,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_default_port_follows_the_transport() {
        assert_eq!(ok(&[]).engine.default_port, 22);
        assert_eq!(ok(&["--transport", "telnet"]).engine.default_port, 23);
        assert_eq!(
            ok(&["--transport", "telnet", "-p", "2323"])
                .engine
                .default_port,
            2323
        );
    }

    #[test]
    fn transports_and_checks_choose_how_hosts_are_reached() {
        assert_eq!(ok(&[]).context.reach, Reach::Ssh(SshClient::Native));
        assert_eq!(
            ok(&["--transport", "auto"]).context.reach,
            Reach::Ssh(SshClient::Auto)
        );
        assert_eq!(ok(&["--transport", "telnet"]).context.reach, Reach::Telnet);
        assert_eq!(
            ok(&["--check", "telnet", "--telnet-port", "2323"])
                .context
                .reach,
            Reach::Check {
                ssh: false,
                telnet: true,
                telnet_port: 2323
            }
        );
        assert!(
            parse(&["--check", "ssh", "-c", "show rf"]).is_err(),
            "--check runs no action"
        );
    }

    #[test]
    fn one_client_node_implies_visiting_client_nodes() {
        let config = ok(&["--cn", "cn1"]);
        assert!(config.context.client_nodes);
        assert_eq!(config.context.only_cns, ["cn1"]);
        assert!(ok(&["--cns"]).context.client_nodes);
        assert!(!ok(&[]).context.client_nodes);
    }

    #[test]
    fn host_key_policies_need_a_known_hosts_file() {
        assert!(parse(&["--host-keys", "tofu"]).is_err());
        assert!(parse(&["--host-keys", "strict"]).is_err());
        let dir = tempfile::tempdir().expect("temp dir");
        let known = dir.path().join("known_hosts");
        let known = known.to_str().expect("UTF-8 path");
        let config = ok(&["--host-keys", "tofu", "--known-hosts", known]);
        assert!(matches!(
            *config.context.native.host_keys,
            HostKeyPolicy::Tofu(_)
        ));
    }

    #[test]
    fn keys_are_loaded_for_the_native_client_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("id_missing");
        let missing = missing.to_str().expect("UTF-8 path");
        assert!(matches!(
            config(&["-i", missing]),
            Err(ArgsError::Key { .. })
        ));
        let config = ok(&["-i", missing, "--transport", "openssh"]);
        assert!(config.context.native.keys.is_empty());
        assert_eq!(
            config.openssh.expect("OpenSSH settings").identities,
            [PathBuf::from(missing)]
        );
    }

    #[test]
    fn retry_makes_final_statuses_count_as_not_done() {
        let dir = tempfile::tempdir().expect("temp dir");
        let earlier = dir.path().join("earlier.ndjson");
        std::fs::write(
            &earlier,
            "{\"ip\":\"127.0.0.1\",\"port\":22,\"status\":\"refused\"}\n\
             {\"ip\":\"127.0.0.2\",\"port\":22,\"status\":\"ok\"}\n",
        )
        .expect("write");
        let earlier = earlier.to_str().expect("UTF-8 path");
        assert_eq!(ok(&["--skip-done", earlier]).done.len(), 2);
        assert_eq!(
            ok(&["--skip-done", earlier, "--retry", "refused"])
                .done
                .len(),
            1
        );
        assert!(ok(&["--skip-done", earlier]).skip_done);
    }

    #[test]
    fn the_password_comes_from_its_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("none");
        let missing = missing.to_str().expect("UTF-8 path");
        assert!(matches!(
            config(&["--password-file", missing]),
            Err(ArgsError::Read {
                flag: "--password-file",
                ..
            })
        ));
    }
}
