//! One host, start to finish: connect, log in, find the prompt, identify, act, visit TG client
//! nodes, and always come back with records, however the device misbehaves.

use std::net::SocketAddr;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use crate::device::actions::{self, WallClock};
use crate::device::identify::{self, PromptKind};
use crate::device::session::{CliSession, PromptMatch, SessionError};
use crate::parse;
use crate::probe::credentials::CredentialBook;
use crate::record::{CommandResult, RadioType, Reachable, Record, Status, Transport};
use crate::transport::native::{self, NativeOptions};
use crate::transport::openssh::{self, OpensshOptions};
use crate::transport::telnet::{self, TelnetError, TelnetOptions};
use crate::transport::{ConnectError, Connection, Execute, ServerFacts, SharedFacts, Shell};

/// What to do on each radio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Identify and report.
    Scan,
    /// Send the per-type `show` commands and parse them into `show`.
    Show,
    /// Send these commands in order.
    Script(Vec<String>),
    /// Set the radio's clock and read it back.
    SetTod(ClockSource),
}

/// Which kind of device to expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Siklu radios: PTY shell, prompt-driven CLI, identification.
    Siklu,
    /// Any SSH host: each command on its own exec channel, judged by its exit status.
    Generic,
    /// Siklu first; a host that turns out not to be a radio runs the commands as `generic`.
    Auto,
}

/// Which SSH client reaches the hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SshClient {
    /// The built-in client (russh).
    Native,
    /// The system OpenSSH client.
    Openssh,
    /// Native first; a host whose key exchange or identification fails is tried once more
    /// with OpenSSH (never after an authentication failure).
    Auto,
}

/// How each host is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// SSH, with this client.
    Ssh(SshClient),
    /// Telnet, on the address's port.
    Telnet,
    /// No action: check which protocols accept a login (`--check`), SSH on the address's
    /// port and Telnet on `telnet_port`, at once.
    Check {
        /// Check SSH.
        ssh: bool,
        /// Check Telnet.
        telnet: bool,
        /// The Telnet port.
        telnet_port: u16,
    },
}

/// Where `set-tod` takes the time from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClockSource {
    /// The local clock plus a shift (may be negative), read just before sending.
    Local {
        /// Seconds added to the local time.
        shift_seconds: i64,
    },
    /// A fixed wall-clock time, as written (its offset is not converted).
    At(WallClock),
}

impl ClockSource {
    fn now(&self) -> WallClock {
        use chrono::{Datelike, Timelike};
        match self {
            ClockSource::At(clock) => *clock,
            ClockSource::Local { shift_seconds } => {
                let when =
                    chrono::Local::now().naive_local() + chrono::TimeDelta::seconds(*shift_seconds);
                WallClock {
                    date: (when.year(), when.month(), when.day()),
                    time: (when.hour(), when.minute(), when.second()),
                }
            }
        }
    }
}

/// Everything a probe needs that is the same for every host of a run.
#[derive(Debug)]
pub struct ProbeContext {
    /// How each host is reached.
    pub reach: Reach,
    /// The native transport's options.
    pub native: Arc<NativeOptions>,
    /// The OpenSSH transport's options, when it may be used.
    pub openssh: Option<OpensshOptions>,
    /// The Telnet transport's options.
    pub telnet: TelnetOptions,
    /// Which logins to try where.
    pub credentials: CredentialBook,
    /// How long to wait for the first prompt.
    pub prompt_timeout: Duration,
    /// How long to wait for each command's answer.
    pub command_timeout: Duration,
    /// The most time one host may take, whatever it does (its client nodes included).
    pub deadline: Duration,
    /// What to do on each radio.
    pub action: Action,
    /// Which kind of device to expect.
    pub platform: Platform,
    /// Stop a script at its first failed command.
    pub stop_on_error: bool,
    /// A failed command does not make the status `command-failed`.
    pub allow_errors: bool,
    /// Visit the active client nodes of TG DNs.
    pub client_nodes: bool,
    /// Visit only these client nodes (all when empty).
    pub only_cns: Vec<String>,
}

/// Which phase a host was in, to explain a deadline cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Connecting,
    Prompt,
    Identifying,
    Acting,
    ClientNodes,
    Closing,
}

impl Phase {
    fn describe(self) -> &'static str {
        match self {
            Phase::Connecting => "while connecting and logging in",
            Phase::Prompt => "while waiting for the CLI prompt",
            Phase::Identifying => "while identifying the device",
            Phase::Acting => "while running the action",
            Phase::ClientNodes => "while visiting client nodes",
            Phase::Closing => "while closing the session",
        }
    }
}

/// A host's records as they are being built: the first is the host's own, then one per TG
/// client node; `current` is the one being worked on, which a deadline cut marks.
struct HostWork {
    records: Vec<Record>,
    current: usize,
    phase: Phase,
}

/// Probes one host and returns its records (one, plus one per visited TG client node). Never
/// fails and never outlives the deadline: a cut host reports `deadline` with everything learnt
/// until then.
pub async fn probe(addr: SocketAddr, input: Option<String>, context: &ProbeContext) -> Vec<Record> {
    let clock = Instant::now();
    let mut record = Record::new(Some(addr.ip()), Some(addr.port()), Status::IoError);
    record.started = Some(now_rfc3339());
    record.transport = match context.reach {
        Reach::Ssh(SshClient::Native | SshClient::Auto) => Some(Transport::Native),
        Reach::Ssh(SshClient::Openssh) => Some(Transport::Openssh),
        Reach::Telnet => Some(Transport::Telnet),
        // Both transports speak for a check record.
        Reach::Check { .. } => None,
    };
    record.input = input;
    let facts: SharedFacts = Arc::default();
    let mut work = HostWork {
        records: vec![record],
        current: 0,
        phase: Phase::Connecting,
    };
    // Each way of reaching a host is boxed: a future is as large as its largest path (a check
    // runs two logins at once), and every live host would pay for it; boxed, it pays for its own.
    let work_done = async {
        match context.reach {
            Reach::Ssh(client) => Box::pin(scan(addr, client, context, &facts, &mut work)).await,
            Reach::Telnet => Box::pin(scan_telnet(addr, context, &mut work)).await,
            Reach::Check {
                ssh,
                telnet,
                telnet_port,
            } => {
                let telnet_addr = telnet.then(|| SocketAddr::new(addr.ip(), telnet_port));
                Box::pin(check(
                    addr,
                    ssh,
                    telnet_addr,
                    context,
                    &facts,
                    &mut work.records[0],
                ))
                .await;
            }
        }
    };
    let finished = tokio::time::timeout(context.deadline, work_done).await;
    let mut records = work.records;
    // A host cut while merely closing its finished session keeps its results' status.
    if finished.is_err()
        && work.phase != Phase::Closing
        && let Some(cut) = records.get_mut(work.current)
    {
        cut.status = Status::Deadline;
        cut.error = Some(format!(
            "deadline of {} reached {}",
            humantime::format_duration(context.deadline),
            work.phase.describe()
        ));
    }
    let facts: ServerFacts = facts.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let host = &mut records[0];
    if host.model.is_none() {
        // The banner still names an EH or classic MH radio whose login failed.
        apply_banner(host, facts.banner.as_deref());
    }
    host.banner = facts.banner;
    host.server_id = facts.server_id;
    host.host_key = facts.host_key;
    host.elapsed_ms = Some(millis(clock.elapsed()));
    records
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

fn millis(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
}

/// One host over SSH, with the client asked for (or native, then OpenSSH as a fallback).
async fn scan(
    addr: SocketAddr,
    client: SshClient,
    context: &ProbeContext,
    facts: &SharedFacts,
    work: &mut HostWork,
) {
    let logins = context.credentials.logins_for(addr.ip());
    match (client, &context.openssh) {
        (SshClient::Openssh, Some(options)) => {
            let opened = openssh::connect(addr, &logins, options, facts).await;
            session(opened, context, facts, work).await;
        }
        (SshClient::Auto, Some(options)) => {
            match native::connect(addr, &logins, &context.native, facts).await {
                Err(first) if first.worth_another_client() => {
                    work.records[0].transport = Some(Transport::Openssh);
                    let opened = openssh::connect(addr, &logins, options, facts)
                        .await
                        .map_err(|err| err.after(&first));
                    session(opened, context, facts, work).await;
                }
                opened => session(opened, context, facts, work).await,
            }
        }
        (SshClient::Native, _) => {
            let opened = native::connect(addr, &logins, &context.native, facts).await;
            session(opened, context, facts, work).await;
        }
        (SshClient::Openssh | SshClient::Auto, None) => {
            let record = &mut work.records[0];
            record.error = Some("the OpenSSH transport was not set up".to_owned());
        }
    }
}

/// Everything after the login attempt, whichever client made it.
async fn session<C: Connection>(
    opened: Result<(C, String), ConnectError>,
    context: &ProbeContext,
    facts: &SharedFacts,
    work: &mut HostWork,
) {
    let (connection, user) = match opened {
        Ok(opened) => opened,
        Err(err) => {
            let record = &mut work.records[0];
            record.status = status_of(&err);
            record.error = Some(err.to_string());
            return;
        }
    };
    if context.platform == Platform::Generic {
        let record = &mut work.records[0];
        record.user = Some(user);
        work.phase = Phase::Acting;
        exec_commands(&connection, context, record).await;
        work.phase = Phase::Closing;
        connection.close().await;
        return;
    }
    let shell = match connection.open_shell().await {
        Ok(shell) => shell,
        Err(err) => {
            let record = &mut work.records[0];
            record.user = Some(user);
            record.status = status_of(&err);
            record.error = Some(err.to_string());
            return;
        }
    };
    work.records[0].user = Some(user);
    let mut session = CliSession::new(shell);
    let banner = facts
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .banner
        .clone();
    if let Err(err) = drive(&mut session, banner.as_deref(), context, work).await {
        fail_session(&mut work.records[work.current], &err);
        return;
    }
    let record = &mut work.records[0];
    if record.status == Status::NotSiklu
        && context.platform == Platform::Auto
        && matches!(context.action, Action::Script(_))
    {
        // Not a radio, but a host all the same: run the commands as on any SSH host.
        work.phase = Phase::Acting;
        record.error = None;
        exec_commands(session.shell(), context, record).await;
    }
    work.phase = Phase::Closing;
    session.close().await;
}

/// One host over Telnet: log in, then the same CLI session as over SSH (no banner there, so
/// radios are identified by prompt and inventory).
async fn scan_telnet(addr: SocketAddr, context: &ProbeContext, work: &mut HostWork) {
    let logins = context.credentials.logins_for(addr.ip());
    let (shell, user) = match telnet::connect(addr, &logins, &context.telnet).await {
        Ok(opened) => opened,
        Err(err) => {
            let record = &mut work.records[0];
            record.status = telnet_status(&err);
            record.error = Some(err.to_string());
            return;
        }
    };
    work.records[0].user = Some(user);
    let mut session = CliSession::new(shell);
    if let Err(err) = drive(&mut session, None, context, work).await {
        fail_session(&mut work.records[work.current], &err);
        return;
    }
    work.phase = Phase::Closing;
    session.close().await;
}

/// `--check`: logs in over SSH and over Telnet at once (either may be skipped), closes at
/// once, and records which protocols accepted. `ok` when one did; otherwise the SSH
/// attempt's status (the Telnet one's when SSH was not checked), with both reasons.
async fn check(
    addr: SocketAddr,
    ssh: bool,
    telnet_addr: Option<SocketAddr>,
    context: &ProbeContext,
    facts: &SharedFacts,
    record: &mut Record,
) {
    let logins = context.credentials.logins_for(addr.ip());
    let over_ssh = async {
        if !ssh {
            return None;
        }
        Some(
            match native::connect(addr, &logins, &context.native, facts).await {
                Ok((connection, user)) => {
                    connection.close().await;
                    Ok(user)
                }
                Err(err) => Err((status_of(&err), err.to_string())),
            },
        )
    };
    let over_telnet = async {
        let telnet_addr = telnet_addr?;
        Some(
            match telnet::connect(telnet_addr, &logins, &context.telnet).await {
                Ok((shell, user)) => {
                    shell.close().await;
                    Ok(user)
                }
                Err(err) => Err((telnet_status(&err), err.to_string())),
            },
        )
    };
    let (ssh, telnet) = tokio::join!(over_ssh, over_telnet);
    record.reachable = Some(Reachable {
        ssh: matches!(ssh, Some(Ok(_))),
        telnet: matches!(telnet, Some(Ok(_))),
    });
    let accepted = [&ssh, &telnet]
        .into_iter()
        .flatten()
        .find_map(|result| result.as_ref().ok());
    if let Some(user) = accepted {
        record.user = Some(user.clone());
        record.status = Status::Ok;
        return;
    }
    let mut reasons = Vec::new();
    for (protocol, result) in [("ssh", &ssh), ("telnet", &telnet)] {
        if let Some(Err((status, why))) = result {
            if reasons.is_empty() {
                record.status = *status;
            }
            reasons.push(format!("{protocol}: {why}"));
        }
    }
    record.error = Some(reasons.join("; "));
}

/// Everything after login, on the open session.
async fn drive<S: Shell>(
    session: &mut CliSession<S>,
    banner: Option<&str>,
    context: &ProbeContext,
    work: &mut HostWork,
) -> Result<(), SessionError> {
    work.phase = Phase::Prompt;
    let prompt = session.acquire_prompt(context.prompt_timeout).await?;
    work.records[0].prompt = Some(prompt.clone());
    work.phase = Phase::Identifying;
    identify(session, &prompt, banner, context, &mut work.records[0]).await?;
    if work.records[0].status != Status::Ok {
        return Ok(());
    }
    work.phase = Phase::Acting;
    act(session, context, &mut work.records[0]).await?;
    if context.client_nodes && work.records[0].radio_type == Some(RadioType::Tg) {
        work.phase = Phase::ClientNodes;
        visit_client_nodes(session, context, work).await?;
    }
    Ok(())
}

/// Fills model, name, sn, sw and radio type; sets `ok` or `not-siklu`.
async fn identify<S: Shell>(
    session: &mut CliSession<S>,
    prompt: &str,
    banner: Option<&str>,
    context: &ProbeContext,
    record: &mut Record,
) -> Result<(), SessionError> {
    let name = match identify::parse_prompt(prompt) {
        PromptKind::Shell => {
            not_siklu(
                record,
                format!("a shell prompt ('{prompt}'), not a radio CLI"),
            );
            return Ok(());
        }
        PromptKind::Tg { model, name } => {
            identify_tg(session, context, record, model, name).await?;
            return Ok(());
        }
        PromptKind::Named { name } => name,
    };
    if apply_banner(record, banner) {
        record.name = Some(name);
        record.status = Status::Ok;
        return Ok(());
    }
    // No Siklu banner: radios that lost theirs still answer `show inventory 1`.
    let answer = session
        .command(
            "show inventory 1",
            context.command_timeout,
            PromptMatch::Known,
        )
        .await?;
    let found = identify::parse_inventory(&answer)
        .filter(|id| id.model.as_deref().and_then(identify::radio_type).is_some());
    match found {
        Some(id) => {
            record.radio_type = id.model.as_deref().and_then(identify::radio_type);
            record.model = id.model;
            record.sn = id.sn;
            record.sw = id.sw;
            record.name = Some(name);
            record.status = Status::Ok;
        }
        None => not_siklu(
            record,
            format!(
                "no Siklu identity in the banner, the prompt ('{prompt}') or 'show inventory 1'"
            ),
        ),
    }
    Ok(())
}

/// A TG radio (DN, or CN after `connect`): model and name from the prompt, serial and
/// software from the inventory, as TG radios send no banner.
async fn identify_tg<S: Shell>(
    session: &mut CliSession<S>,
    context: &ProbeContext,
    record: &mut Record,
    model: String,
    name: String,
) -> Result<(), SessionError> {
    record.radio_type = identify::radio_type(&model);
    record.model = Some(model);
    record.name = Some(name);
    let answer = session
        .command(
            "show inventory",
            context.command_timeout,
            PromptMatch::Known,
        )
        .await?;
    if let Some(id) = identify::parse_tg_inventory(&answer) {
        record.sn = id.sn;
        record.sw = id.sw;
    }
    record.status = Status::Ok;
    Ok(())
}

fn not_siklu(record: &mut Record, reason: String) {
    record.status = Status::NotSiklu;
    record.error = Some(reason);
}

/// Runs the action on an identified radio; commands are recorded as they complete, so a
/// deadline cut keeps them.
async fn act<S: Shell>(
    session: &mut CliSession<S>,
    context: &ProbeContext,
    record: &mut Record,
) -> Result<(), SessionError> {
    let Some(radio_type) = record.radio_type else {
        return Ok(());
    };
    match &context.action {
        Action::Scan => {}
        Action::Show => {
            let commands = parse::eh::show_commands(radio_type);
            for command in commands {
                send(session, context, record, command).await?;
            }
            let answers = record.commands.as_deref().unwrap_or_default();
            let parsed = match radio_type {
                RadioType::Tg => {
                    let dump = answers.first().map_or("", |c| c.output.as_str());
                    parse::tg::parse(dump)
                }
                RadioType::Eh | RadioType::Bu | RadioType::Tu => {
                    let pairs: Vec<(&str, &str)> = answers
                        .iter()
                        .map(|c| (c.command.as_str(), c.output.as_str()))
                        .collect();
                    parse::eh::parse(radio_type, &pairs)
                }
            };
            record.show = Some(parsed.fields);
            record.parse_warnings = (!parsed.warnings.is_empty()).then_some(parsed.warnings);
        }
        Action::Script(commands) => {
            for command in commands {
                let ok = send(session, context, record, command).await?;
                if !ok && context.stop_on_error {
                    break;
                }
            }
        }
        Action::SetTod(source) => {
            let before = read_clock(session, context, record, radio_type).await?;
            let clock = source.now();
            for command in actions::set_clock_commands(radio_type, clock) {
                send(session, context, record, &command).await?;
            }
            let after = read_clock(session, context, record, radio_type).await?;
            let (year, month, day) = clock.date;
            let (hour, minute, second) = clock.time;
            let mut show = serde_json::Map::new();
            show.insert("clock_before".into(), before.into());
            show.insert(
                "clock_set".into(),
                format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}").into(),
            );
            show.insert("clock_after".into(), after.into());
            record.show = Some(show);
        }
    }
    mark_failed_commands(context, record);
    Ok(())
}

/// Runs the script's commands on exec channels, judged by exit status; sets `ok` or
/// `command-failed` (any other action only checks the login).
async fn exec_commands<E: Execute>(target: &E, context: &ProbeContext, record: &mut Record) {
    record.status = Status::Ok;
    let Action::Script(commands) = &context.action else {
        return;
    };
    for command in commands {
        let clock = Instant::now();
        let ran = tokio::time::timeout(context.command_timeout, target.exec(command)).await;
        let (exit_status, output, stderr) = match ran {
            Ok(Ok(out)) => (
                out.exit_status.and_then(|s| i32::try_from(s).ok()),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ),
            Ok(Err(err)) => (None, String::new(), err.to_string()),
            Err(_) => (
                None,
                String::new(),
                format!(
                    "no exit within {}",
                    humantime::format_duration(context.command_timeout)
                ),
            ),
        };
        let ok = exit_status == Some(0);
        record
            .commands
            .get_or_insert_with(Vec::new)
            .push(CommandResult {
                command: command.clone(),
                ok,
                output,
                elapsed_ms: millis(clock.elapsed()),
                exit_status,
                stderr: Some(stderr),
            });
        if !ok && context.stop_on_error {
            break;
        }
    }
    mark_failed_commands(context, record);
}

/// `command-failed` when a command failed, unless `--allow-errors`.
fn mark_failed_commands(context: &ProbeContext, record: &mut Record) {
    let failed = record.commands.iter().flatten().find(|command| !command.ok);
    if let Some(failed) = failed
        && !context.allow_errors
    {
        let why = match failed.exit_status {
            Some(code) if code != 0 => format!("exited {code}"),
            _ => format!(
                "answered: {}",
                failed
                    .output
                    .lines()
                    .chain(failed.stderr.iter().flat_map(|e| e.lines()))
                    .next()
                    .unwrap_or_default()
            ),
        };
        record.error = Some(format!("'{}' {why}", failed.command));
        record.status = Status::CommandFailed;
    }
}

/// Sends one command and appends it to the record; returns whether it succeeded.
async fn send<S: Shell>(
    session: &mut CliSession<S>,
    context: &ProbeContext,
    record: &mut Record,
    command: &str,
) -> Result<bool, SessionError> {
    let result: CommandResult =
        actions::run_command(session, command, context.command_timeout).await?;
    let ok = result.ok;
    record.commands.get_or_insert_with(Vec::new).push(result);
    Ok(ok)
}

/// The radio's clock as `show system` reports it, `None` when it cannot be read.
async fn read_clock<S: Shell>(
    session: &mut CliSession<S>,
    context: &ProbeContext,
    record: &mut Record,
    radio_type: RadioType,
) -> Result<Option<String>, SessionError> {
    send(session, context, record, "show system").await?;
    let answer = record
        .commands
        .as_deref()
        .and_then(<[CommandResult]>::last)
        .map_or("", |c| c.output.as_str());
    let text =
        |value: Option<&serde_json::Value>| value.and_then(|v| v.as_str()).map(str::to_owned);
    Ok(match radio_type {
        RadioType::Tg => {
            let parsed = parse::tg::parse(answer);
            parsed
                .fields
                .get("system")
                .and_then(|rows| rows.get(0))
                .and_then(|row| text(row.get("datetime")))
        }
        RadioType::Eh | RadioType::Bu | RadioType::Tu => {
            let parsed = parse::eh::parse(radio_type, &[("show system", answer)]);
            match (
                text(parsed.fields.get("system_date")),
                text(parsed.fields.get("system_time")),
            ) {
                (Some(date), Some(time)) => Some(format!("{date} {time}")),
                _ => None,
            }
        }
    })
}

/// Discovers the DN's active client nodes and runs the action on each through
/// `connect <cn>` / `quit`, one record per node. A node that cannot be reached gets its own
/// record; it never stops the DN or the others.
async fn visit_client_nodes<S: Shell>(
    session: &mut CliSession<S>,
    context: &ProbeContext,
    work: &mut HostWork,
) -> Result<(), SessionError> {
    let dn = work.records[0].clone();
    let dn_prompt = session.prompt().unwrap_or_default().to_owned();
    let mut answers = Vec::new();
    for command in ["show radio-common", "show radio-dn"] {
        let result = actions::run_command(session, command, context.command_timeout).await?;
        answers.push(result.output.clone());
        work.records[0]
            .commands
            .get_or_insert_with(Vec::new)
            .push(result);
    }
    let parsed = parse::tg::parse(&answers.join("\n"));
    let nodes: Vec<String> = parse::tg::active_cns(&parsed)
        .into_iter()
        .filter(|cn| context.only_cns.is_empty() || context.only_cns.contains(cn))
        .collect();
    let dn_ip = dn.ip.map(|ip| ip.to_string()).unwrap_or_default();
    let dn_name = dn.name.clone().unwrap_or_default();
    for cn in nodes {
        let clock = Instant::now();
        let mut record = Record::new(dn.ip, dn.port, Status::IoError);
        record.started = Some(now_rfc3339());
        record.transport = dn.transport;
        record.user = dn.user.clone();
        record.route = Some(format!("{dn_ip}: {dn_name} -> {cn}"));
        record.parent = dn.ip;
        work.records.push(record);
        work.current = work.records.len() - 1;
        let record = &mut work.records[work.current];
        let answer = session
            .command(
                &format!("connect {cn}"),
                context.command_timeout,
                PromptMatch::Any,
            )
            .await?;
        let prompt = session.prompt().unwrap_or_default().to_owned();
        match identify::parse_prompt(&prompt) {
            PromptKind::Tg { model, name } if name == cn => {
                record.prompt = Some(prompt);
                identify_tg(session, context, record, model, name).await?;
                act(session, context, record).await?;
                let back = session
                    .command("quit", context.command_timeout, PromptMatch::Any)
                    .await?;
                if session.prompt() != Some(dn_prompt.as_str()) {
                    record.status = Status::IoError;
                    record.error = Some(format!(
                        "'quit' from {cn} did not return to {dn_prompt}: {back}"
                    ));
                    record.elapsed_ms = Some(millis(clock.elapsed()));
                    return Ok(());
                }
            }
            _ => {
                record.status = Status::Unreachable;
                record.error = Some(format!(
                    "the DN could not reach it: 'connect {cn}' answered '{}'",
                    answer.lines().next().unwrap_or_default()
                ));
            }
        }
        record.elapsed_ms = Some(millis(clock.elapsed()));
    }
    work.current = 0;
    Ok(())
}

/// Takes model, sn and sw from a Siklu banner; false when the banner names no Siklu model.
fn apply_banner(record: &mut Record, banner: Option<&str>) -> bool {
    let Some(id) = banner.map(identify::parse_banner) else {
        return false;
    };
    let Some(radio_type) = id.model.as_deref().and_then(identify::radio_type) else {
        return false;
    };
    record.radio_type = Some(radio_type);
    record.model = id.model;
    record.sn = id.sn;
    record.sw = id.sw;
    true
}

fn fail_session(record: &mut Record, err: &SessionError) {
    record.status = err.status();
    record.error = Some(err.to_string());
}

/// The record status for a Telnet login failure.
fn telnet_status(err: &TelnetError) -> Status {
    match err {
        TelnetError::Connect(err) => status_of(err),
        TelnetError::NoPrompt(_) => Status::PromptTimeout,
        TelnetError::AuthFailed(_) => Status::AuthFailed,
        TelnetError::Io(_) => Status::IoError,
    }
}

/// The record status for a connection failure.
pub fn status_of(err: &ConnectError) -> Status {
    match err {
        ConnectError::Refused => Status::Refused,
        ConnectError::Unreachable(_) => Status::Unreachable,
        ConnectError::ConnectTimeout(_) => Status::ConnectTimeout,
        ConnectError::NoSsh(_) => Status::NoSsh,
        ConnectError::HandshakeFailed(_) | ConnectError::HostKeyRejected(_) => {
            Status::HandshakeFailed
        }
        ConnectError::AuthFailed(_) => Status::AuthFailed,
        ConnectError::Io(_) => Status::IoError,
    }
}
