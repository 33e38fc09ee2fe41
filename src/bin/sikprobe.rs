//! sikprobe: log in to every address on stdin over SSH, identify the radio, run an action, and
//! write one NDJSON record per input line.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{CommandFactory, Parser, ValueEnum};
use sikscan::device::actions::{self, WallClock};
use sikscan::docs::{self, DocKind};
use sikscan::pipe::{self, Exit};
use sikscan::probe::credentials::CredentialBook;
use sikscan::probe::engine::{self, EngineOptions, Progress, Shutdown};
use sikscan::probe::host::{Action, ClockSource, Platform, ProbeContext, Reach, SshClient};
use sikscan::probe::progress::Display;
use sikscan::probe::resume::{DoneSet, FINAL_BY_DEFAULT};
use sikscan::record::Status;
use sikscan::secret::Secret;
use sikscan::transport::Login;
use sikscan::transport::askpass;
use sikscan::transport::known_hosts::{HostKeyPolicy, KnownHosts};
use sikscan::transport::native::NativeOptions;
use sikscan::transport::openssh::{OpensshOptions, OpensshSettings};
use sikscan::transport::telnet::TelnetOptions;

const LONG_ABOUT: &str = "\
Log in to every address on standard input over SSH, identify the Siklu radio behind it, run an
action, and write one NDJSON record per input line, failures included, as soon as each host
finishes.

Input lines are 'ip', 'ip:port' or '[ipv6]:port'; blank lines and '#' comments are skipped; any
other line gives an 'invalid-input' record and the run goes on. Input is read lazily: a /8 piped
from ipgen never sits in memory.

Identification follows batchscanner: the SSH banner 'MODEL, S/N: SERIAL, Ver: VERSION' of
EtherHaul and classic MultiHaul radios, the prompt 'MODEL@NAME>' of MultiHaul TG radios, the
prompt NAME> (quotes removed), and 'show inventory 1' for radios without a banner. A Linux shell
or a router is 'not-siklu', never 'ok' with empty fields.

Passwords come from SIKPROBE_PASSWORD, --password-file, --ask-password, or --credentials; when
none is given the password is 'admin', as batchscanner's default. Keys (-i) and the agent at
SSH_AUTH_SOCK are tried before passwords. No password ever appears in a record, a log or argv.

--transport telnet reaches devices that only offer Telnet (port 23 unless the line or -p says
otherwise): the server's offers to echo and suppress go-ahead are accepted, every other option
refused; the login answers the 'login:'/'Username:' and 'Password:' prompts, and the login
prompt coming back means 'auth-failed'. Then the same CLI session, identification (prompt and
'show inventory 1', as Telnet has no banner) and actions as over SSH; records say
transport 'telnet'.

--transport openssh drives the system ssh client instead, for radios that need the user's own
SSH setup (~/.ssh/config, bastions through ProxyJump, an agent, GSSAPI) or whose SSH server
defeats the built-in client. -F FILE and -o OPTION go to ssh (-o before sikprobe's own
defaults, so they win); --legacy-algorithms, --host-keys and -i map onto ssh's options. Each
password reaches ssh through sikprobe itself as ssh's askpass program, over a private unix
socket with a one-off token: never through argv, the environment or a file. A plain TCP check
first (connect, read the 'SSH-' line) keeps dead and refused hosts from costing a process
(skipped when -o or the config names a proxy). ssh's control connection gives no PTY, so the
CLI runs on a plain shell channel; devices that echo or not both work. --transport auto uses
the built-in client and tries a host once more with ssh when its identification or key
exchange fails (never after an authentication failure); records say which transport produced
them.

--check ssh,telnet runs no action: for each address it logs in over SSH (the line's port) and
over Telnet (--telnet-port) at once, closes, and writes one record with reachable {ssh,
telnet}: status 'ok' when either accepted a login, else the SSH attempt's status, with both
reasons in 'error'.";

const AFTER_HELP: &str = "\
Examples:
  ipgen 10.0.0.0/24 | sikprobe -j 200 | batchsave out/
  ipgen -f network.txt | sikprobe --credentials network.txt --total $(ipgen -f network.txt -c)
  sikprobe -f hosts.txt | jq -r 'select(.status == \"ok\") | [.ip, .model, .sw] | @tsv'
  ipgen 10.0.0.0/16 | sikprobe --skip-done out/ | batchsave out/    # resume
  ipgen 10.0.0.0/24 | sikprobe --check ssh,telnet | jq -c '[.ip, .reachable]'
  sikprobe --transport telnet -f old-radios.txt -a show
  sikprobe --transport openssh -o ProxyJump=bastion -f site-b.txt | batchsave out/";

fn after_long_help() -> String {
    let mut help = String::from(AFTER_HELP);
    help.push_str("\n\nRecord fields (one JSON object per line):\n");
    help.push_str(
        "  ip, port, status, error, radio_type (EH, BU, TU, TG or null), model, name, sw, sn,\n  \
         banner, server_id, host_key ('ALG SHA256:...'), user, prompt, started (RFC 3339),\n  \
         elapsed_ms, transport; and when present: input, commands, show, route, parent,\n  \
         parse_warnings, reachable.\n",
    );
    help.push_str("\nStatuses:\n");
    for status in Status::ALL {
        help.push_str(&format!("  {:<18}{}\n", status.as_str(), status.describe()));
    }
    help.push('\n');
    help.push_str(pipe::EXIT_STATUS_HELP);
    help
}

/// What to do with SSH host keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum HostKeyMode {
    /// Accept any key and record its fingerprint in `host_key`.
    Record,
    /// Trust on first use: remember unknown keys in --known-hosts, reject changed ones.
    Tofu,
    /// Accept only keys already in --known-hosts.
    Strict,
}

/// Which kind of device to expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PlatformName {
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
enum TransportName {
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
enum Protocol {
    /// SSH, on the address's port.
    Ssh,
    /// Telnet, on --telnet-port.
    Telnet,
}

/// What to do on each radio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ActionName {
    /// Identify the radio and report it.
    Scan,
    /// Send the radio type's show commands and parse them into the record's 'show'.
    Show,
    /// Send the commands of -c / --script.
    Script,
    /// Set the radio's clock (local clock + --time-shift, or --at) and read it back.
    SetTod,
}

/// sikprobe's command line.
#[derive(Debug, Parser)]
#[command(
    name = "sikprobe",
    version,
    about = "Log in to each address over SSH, identify the Siklu radio, write one NDJSON record per line",
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP,
    after_long_help = after_long_help()
)]
struct Args {
    /// Read addresses from FILE instead of standard input ('-' is standard input).
    #[arg(short = 'f', long = "file", value_name = "FILE", default_value = "-")]
    file: PathBuf,

    /// What to do on each radio [default: scan, or script with -c/--script].
    #[arg(short = 'a', long, value_enum)]
    action: Option<ActionName>,

    /// Which kind of device to expect.
    #[arg(long, value_enum, default_value_t = PlatformName::Auto)]
    platform: PlatformName,

    /// How to reach the devices.
    #[arg(long, value_enum, value_name = "NAME", default_value_t = TransportName::Native)]
    transport: TransportName,

    /// --transport openssh/auto: use this ssh_config file instead of ~/.ssh/config.
    #[arg(short = 'F', long = "ssh-config", value_name = "FILE")]
    ssh_config: Option<PathBuf>,

    /// --transport openssh/auto: an ssh option ('ProxyJump=bastion',
    /// 'KexAlgorithms=+diffie-hellman-group1-sha1'); repeatable; beats the config file and
    /// sikprobe's own defaults.
    #[arg(short = 'o', long = "ssh-option", value_name = "OPTION")]
    ssh_options: Vec<String>,

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
    check: Vec<Protocol>,

    /// Telnet port for --check.
    #[arg(long, value_name = "PORT", default_value_t = 23)]
    telnet_port: u16,

    /// A command to send (implies --action script); repeatable, sent in order.
    #[arg(short = 'c', long = "command", value_name = "CMD")]
    commands: Vec<String>,

    /// Send the commands of FILE, one per line ('#' comments and blank lines skipped).
    #[arg(long, value_name = "FILE")]
    script: Option<PathBuf>,

    /// Stop a radio's script at its first failed command.
    #[arg(long)]
    stop_on_error: bool,

    /// Report 'ok' even when a command answered with a CLI error (each command's 'ok' still
    /// says so).
    #[arg(long)]
    allow_errors: bool,

    /// set-tod: hours ('2.5', '-1') or a duration ('90m', '-30s') added to the local clock.
    #[arg(long, value_name = "SHIFT", allow_hyphen_values = true, value_parser = parse_shift)]
    time_shift: Option<i64>,

    /// set-tod: set this wall-clock time instead (RFC 3339, set as written).
    #[arg(long, value_name = "TIME", conflicts_with = "time_shift")]
    at: Option<String>,

    /// Also visit the active client nodes of each TG DN (connect / quit) and write one record
    /// per node, with 'route' and 'parent'.
    #[arg(long)]
    cns: bool,

    /// Visit only this client node (implies --cns); repeatable.
    #[arg(long = "cn", value_name = "NAME")]
    only_cns: Vec<String>,

    /// Hosts probed at once.
    #[arg(
        short = 'j',
        long = "concurrency",
        value_name = "N",
        default_value_t = 100
    )]
    concurrency: usize,

    /// Start at most N new connections per second.
    #[arg(long, value_name = "N")]
    rate: Option<f64>,

    /// Port for input lines that name none [default: 22, or 23 with --transport telnet].
    #[arg(short = 'p', long, value_name = "PORT")]
    port: Option<u16>,

    /// Username to log in with (a --credentials file may scope others).
    #[arg(short = 'u', long, value_name = "USER", default_value = "admin")]
    user: String,

    /// Read the password from the first line of FILE.
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,

    /// Ask for the password on the terminal.
    #[arg(long)]
    ask_password: bool,

    /// batchscanner network file whose 'username = ...' / 'password = ...' lines scope the
    /// addresses below them; an address in several sets tries them in order.
    #[arg(long, value_name = "FILE")]
    credentials: Option<PathBuf>,

    /// Private key to offer before passwords; repeatable (unencrypted keys; use the agent for
    /// encrypted ones).
    #[arg(short = 'i', long = "identity", value_name = "KEY")]
    identities: Vec<PathBuf>,

    /// Do not offer the identities of the SSH agent at SSH_AUTH_SOCK.
    #[arg(long)]
    no_agent: bool,

    /// Also offer legacy algorithms (diffie-hellman-group14-sha1, group1-sha1,
    /// group-exchange-sha1, ssh-rsa, aes-cbc, 3des-cbc, hmac-sha1) after the modern ones.
    #[arg(long)]
    legacy_algorithms: bool,

    /// Host-key policy.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = HostKeyMode::Record)]
    host_keys: HostKeyMode,

    /// known_hosts file for --host-keys tofu or strict.
    #[arg(long, value_name = "FILE", required_if_eq_any = [("host_keys", "tofu"), ("host_keys", "strict")])]
    known_hosts: Option<PathBuf>,

    /// TCP connect timeout.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = humantime::parse_duration)]
    connect_timeout: Duration,

    /// Timeout for the SSH identification and key exchange.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    handshake_timeout: Duration,

    /// Timeout for each authentication attempt (over Telnet: for each login prompt).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    auth_timeout: Duration,

    /// Timeout for the first CLI prompt after login.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    prompt_timeout: Duration,

    /// Timeout for each command's answer.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    command_timeout: Duration,

    /// The most time one host may take, whatever it does; a cut host reports 'deadline'.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = humantime::parse_duration)]
    deadline: Duration,

    /// Write records in input order (a reorder window of max(4 x -j, 1024) records bounds the
    /// memory; a slow host holds back at most that many).
    #[arg(long)]
    ordered: bool,

    /// Skip hosts that already have a final record in these NDJSON files or batchsave output
    /// directories; repeatable.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    skip_done: Vec<PathBuf>,

    /// Statuses to try again although --skip-done counts them as final (final by default:
    /// ok, auth-failed, not-siklu, refused).
    #[arg(long, value_name = "STATUS,...", value_delimiter = ',')]
    retry: Vec<Status>,

    /// Write a 'skipped' record for each host skipped by --skip-done.
    #[arg(long)]
    emit_skipped: bool,

    /// Expected number of hosts, for the progress bar's ETA (e.g. from 'ipgen --count').
    #[arg(long, value_name = "N")]
    total: Option<u64>,

    /// Write the final summary as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    summary: Option<PathBuf>,

    /// Flush every record as soon as it is written.
    #[arg(long)]
    line_buffered: bool,

    /// Print nothing on stderr but errors (no progress, no summary).
    #[arg(short = 'q', long)]
    quiet: bool,

    /// Print a man page or a shell completion script.
    #[arg(long, value_name = "KIND", hide = true)]
    generate: Option<DocKind>,
}

fn main() -> ExitCode {
    // ssh runs sikprobe as its askpass program: answer and leave before anything else.
    if let Some(code) = askpass::answer_if_asked() {
        return ExitCode::from(code);
    }
    pipe::run("sikprobe", || run(Args::parse()))
}

fn run(args: Args) -> anyhow::Result<Exit> {
    if let Some(kind) = args.generate {
        docs::print(Args::command(), kind)?;
        return Ok(Exit::Success);
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
    let host_keys = Arc::new(match (args.host_keys, &args.known_hosts) {
        (HostKeyMode::Record, _) => HostKeyPolicy::Record,
        (HostKeyMode::Tofu, Some(path)) => HostKeyPolicy::Tofu(KnownHosts::load(path)?),
        (HostKeyMode::Strict, Some(path)) => HostKeyPolicy::Strict(KnownHosts::load(path)?),
        (_, None) => anyhow::bail!("--host-keys tofu and strict need --known-hosts FILE"),
    });
    let mut native = NativeOptions::new(
        args.connect_timeout,
        args.handshake_timeout,
        args.auth_timeout,
        args.legacy_algorithms,
        host_keys.clone(),
    );
    let client = match args.transport {
        TransportName::Native | TransportName::Telnet => SshClient::Native,
        TransportName::Openssh => SshClient::Openssh,
        TransportName::Auto => SshClient::Auto,
    };
    let uses_openssh = matches!(args.transport, TransportName::Openssh | TransportName::Auto);
    if !uses_openssh && (args.ssh_config.is_some() || !args.ssh_options.is_empty()) {
        anyhow::bail!("-F/--ssh-config and -o/--ssh-option go with --transport openssh or auto");
    }
    // The OpenSSH client reads its own keys (encrypted ones through the agent); only the
    // native client needs them loaded here.
    let native_keys = if args.transport == TransportName::Openssh {
        &[][..]
    } else {
        &args.identities[..]
    };
    for path in native_keys {
        let key = russh::keys::load_secret_key(path, None)
            .with_context(|| format!("reading private key {}", path.display()))?;
        native.keys.push(Arc::new(key));
    }
    native.use_agent = !args.no_agent && std::env::var_os("SSH_AUTH_SOCK").is_some();

    let final_statuses: Vec<Status> = FINAL_BY_DEFAULT
        .into_iter()
        .filter(|s| !args.retry.contains(s))
        .collect();
    let default_port = args.port.unwrap_or(match args.transport {
        TransportName::Telnet => 23,
        TransportName::Native | TransportName::Openssh | TransportName::Auto => 22,
    });
    let done = DoneSet::load(&args.skip_done, &final_statuses, default_port)?;
    if !args.quiet && !args.skip_done.is_empty() {
        pipe::note(format!(
            "--skip-done: {} hosts already done in {} files{}",
            done.len(),
            done.files,
            if done.unreadable_lines > 0 {
                format!(" ({} lines were not records)", done.unreadable_lines)
            } else {
                String::new()
            }
        ));
        for path in &done.missing {
            pipe::note(format!(
                "--skip-done: {} does not exist yet, so nothing there is done",
                path.display()
            ));
        }
    }

    let wanted_files = args.concurrency as u64 + 64;
    let limit = pipe::raise_open_files_limit(wanted_files);
    if limit < wanted_files && !args.quiet {
        pipe::warn(format!(
            "-j {} needs about {wanted_files} open files but the limit is {limit}; \
             hosts beyond it will fail with io-error (raise 'ulimit -n' or lower -j)",
            args.concurrency
        ));
    }

    let action = resolve_action(&args)?;
    let reach = match (args.transport, args.check.as_slice()) {
        (TransportName::Telnet, _) => Reach::Telnet,
        (_, []) => Reach::Ssh(client),
        (_, protocols) => Reach::Check {
            ssh: protocols.contains(&Protocol::Ssh),
            telnet: protocols.contains(&Protocol::Telnet),
            telnet_port: args.telnet_port,
        },
    };
    if reach == Reach::Telnet && args.platform == PlatformName::Generic {
        anyhow::bail!("--platform generic runs commands on SSH exec channels, not over Telnet");
    }
    let (_, input) = pipe::open_input(&args.file)?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let openssh = if uses_openssh {
        // The askpass listener runs on the runtime.
        let _entered = runtime.enter();
        Some(OpensshOptions::new(OpensshSettings {
            program: None,
            config: args.ssh_config.clone(),
            options: args.ssh_options.clone(),
            identities: args.identities.clone(),
            connect_timeout: args.connect_timeout,
            handshake_timeout: args.handshake_timeout,
            auth_timeout: args.auth_timeout,
            legacy_algorithms: args.legacy_algorithms,
            deadline: args.deadline,
            host_keys,
        })?)
    } else {
        None
    };
    let context = Arc::new(ProbeContext {
        reach,
        native: Arc::new(native),
        openssh,
        telnet: TelnetOptions {
            connect_timeout: args.connect_timeout,
            auth_timeout: args.auth_timeout,
        },
        credentials,
        prompt_timeout: args.prompt_timeout,
        command_timeout: args.command_timeout,
        deadline: args.deadline,
        platform: match args.platform {
            PlatformName::Siklu => Platform::Siklu,
            PlatformName::Generic => Platform::Generic,
            PlatformName::Auto => Platform::Auto,
        },
        action,
        stop_on_error: args.stop_on_error,
        allow_errors: args.allow_errors,
        client_nodes: args.cns || !args.only_cns.is_empty(),
        only_cns: args.only_cns.clone(),
    });
    let options = EngineOptions {
        concurrency: args.concurrency,
        rate: args.rate,
        ordered: args.ordered,
        line_buffered: args.line_buffered,
        emit_skipped: args.emit_skipped,
        default_port,
    };
    runtime.block_on(scan(args, input, context, options, Arc::new(done)))
}

async fn scan(
    args: Args,
    input: Box<dyn BufRead + Send>,
    context: Arc<ProbeContext>,
    options: EngineOptions,
    done: Arc<DoneSet>,
) -> anyhow::Result<Exit> {
    let shutdown = Arc::new(Shutdown::default());
    watch_signals(shutdown.clone(), context.clone(), args.quiet)?;
    let progress = Arc::new(Progress::default());
    let display = (!args.quiet && pipe::stderr_is_terminal())
        .then(|| Display::start(progress.clone(), args.total));
    let outcome = engine::run(input, context, options, done, shutdown, progress).await;
    if let Some(display) = display {
        display.finish();
    }
    let outcome = outcome?;
    if !args.quiet && !outcome.stdout_closed {
        pipe::note(outcome.summary.line());
    }
    if let Some(path) = &args.summary {
        let json = serde_json::to_vec_pretty(&outcome.summary)?;
        std::fs::write(path, json)
            .with_context(|| format!("writing the summary to {}", path.display()))?;
    }
    Ok(if outcome.stdout_closed {
        Exit::Success
    } else if outcome.summary.interrupted {
        Exit::Interrupted
    } else {
        Exit::Success
    })
}

/// The action to run, from --action and the flags that feed it.
fn resolve_action(args: &Args) -> anyhow::Result<Action> {
    let mut commands = args.commands.clone();
    if let Some(path) = &args.script {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading --script {}", path.display()))?;
        commands.extend(actions::script_commands(&text));
    }
    let named = args
        .action
        .unwrap_or(if commands.is_empty() && args.script.is_none() {
            ActionName::Scan
        } else {
            ActionName::Script
        });
    if named != ActionName::Script && !commands.is_empty() {
        anyhow::bail!("-c and --script go with --action script");
    }
    if args.platform == PlatformName::Generic
        && !matches!(named, ActionName::Script | ActionName::Scan)
    {
        anyhow::bail!("--platform generic runs -c/--script commands (or checks the login) only");
    }
    if named != ActionName::SetTod && (args.time_shift.is_some() || args.at.is_some()) {
        anyhow::bail!("--time-shift and --at go with --action set-tod");
    }
    Ok(match named {
        ActionName::Scan => Action::Scan,
        ActionName::Show => Action::Show,
        ActionName::Script if commands.is_empty() => {
            anyhow::bail!("--action script needs commands: -c CMD or --script FILE")
        }
        ActionName::Script => Action::Script(commands),
        ActionName::SetTod => Action::SetTod(match &args.at {
            Some(text) => ClockSource::At(parse_at(text)?),
            None => ClockSource::Local {
                shift_seconds: args.time_shift.unwrap_or(0),
            },
        }),
    })
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

/// `--at`: an RFC 3339 time, whose wall-clock part is what the radio is set to.
fn parse_at(text: &str) -> anyhow::Result<WallClock> {
    use chrono::{Datelike, Timelike};
    let when = chrono::DateTime::parse_from_rfc3339(text)
        .with_context(|| format!("--at '{text}' is not an RFC 3339 time"))?;
    Ok(WallClock {
        date: (when.year(), when.month(), when.day()),
        time: (when.hour(), when.minute(), when.second()),
    })
}

/// First SIGINT/SIGTERM: stop dispatching and drain; a second one: exit at once, taking the
/// run's ssh processes down first (they are in process groups of their own, so the terminal's
/// signal did not reach them).
fn watch_signals(
    shutdown: Arc<Shutdown>,
    context: Arc<ProbeContext>,
    quiet: bool,
) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("watching SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("watching SIGTERM")?;
    tokio::spawn(async move {
        let mut seen = 0;
        loop {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            seen += 1;
            if seen == 1 {
                if !quiet {
                    pipe::note("interrupted: finishing the hosts in flight (again to quit now)");
                }
                shutdown.request();
            } else {
                if let Some(openssh) = &context.openssh {
                    openssh.abandon();
                }
                std::process::exit(i32::from(Exit::Interrupted.code()));
            }
        }
    });
    Ok(())
}

/// The password from the environment, a file or the terminal; `admin` when none is given.
fn read_password(args: &Args) -> anyhow::Result<Secret> {
    if let Some(path) = &args.password_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading --password-file {}", path.display()))?;
        let first = text.lines().next().unwrap_or_default();
        return Ok(Secret::new(first));
    }
    if args.ask_password {
        let typed = rpassword::prompt_password(format!("password for {}: ", args.user))
            .context("--ask-password needs a terminal")?;
        return Ok(Secret::new(typed));
    }
    if let Ok(password) = std::env::var("SIKPROBE_PASSWORD") {
        return Ok(Secret::new(password));
    }
    Ok(Secret::new("admin"))
}
