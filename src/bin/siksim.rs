//! siksim: a simulated Siklu radio fleet served over real SSH on loopback.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory, Parser};
use sikscan::docs::{self, DocKind};
use sikscan::pipe::{self, DataOut, Exit};
use sikscan::sim::describe;
use sikscan::sim::events::Events;
use sikscan::sim::fleet::{DEMO_BLOCK, Fleet};
use sikscan::sim::persona::Persona;
use sikscan::sim::server::{FD_HEADROOM, Server};
use sikscan::sim::workers;

/// The largest fleet served. An idle /16 takes about 100 MB in 6 processes, so a /12 is about
/// 1.6 GB; a slip such as 127.0.0.0/8 (16.7 million sockets) is refused before binding anything.
const MAX_SERVED: usize = 1 << 20;

const LONG_ABOUT: &str = "\
Serve a simulated fleet of Siklu radios (EtherHaul, classic MultiHaul BU/TU, MultiHaul TG) and
failure cases over real SSH on loopback, for demos, tests and benchmarks of sikprobe and of
any other SSH tool (batchscanner included) before it meets real radios.

Every simulated device has its own address in 127.0.0.0/8 (Linux routes all of it to
loopback, no setup needed); all listen on one port (22 by default, which needs root; use
--port 2222 otherwise). Identity and state (serial, software, name, location, link values,
MACs, uptime, clock) are drawn deterministically from --seed and the address, and
--describe prints the ground truth as NDJSON, one line per device (plus one per TG client
node): ip, port, persona, status (what sikprobe reports with its default action, scan),
show_status (with -a show), backup_status (with -a backup), radio_type, model, name, sw, sn, banner, host_key, prompt, user,
auth_methods, algorithms, clock_offset_s, show (parsed show values with batchscanner's field
names; values that move are null), route, parent, reachable (TG CNs), config (the running configuration's text at start; TG: what
'show startup' prints), startup_config and config_saved (EH/BU/TU), behaviour, telnet (for
devices that serve Telnet: port, and the status, model, name, sw, sn and prompt that
'sikprobe --transport telnet' reports), check (what 'sikprobe --check ssh,telnet' reports:
ssh, telnet, status) and rollback (the armed rollback timeout in seconds, null: disarmed, as
every radio starts).

The fleet comes from SPEC arguments (the ipgen grammar: 127.1.0.0/24, 127.1.0.1-127.1.0.9,
127.1.1-3.*) served as one --persona, from a --fleet file, or from --demo (254 devices on
127.77.0.0/24). A fleet file (TOML, or JSON when named *.json) maps address specs to
personas; later groups win where they overlap:

  user = \"admin\"                 # credentials every device accepts (default admin/admin)
  password = \"admin\"
  [[group]]
  addresses = \"127.1.0.0/24\"     # or a list: [\"127.1.0.1\", \"127.1.0.5-127.1.0.9\"]
  persona = \"eh\"
  [[group]]
  addresses = \"127.1.0.7\"
  persona = \"tg\"
  cns = 4                        # client nodes behind the DN
  unreachable_cns = 1            # the last one is advertised but 'connect' fails

Group keys: addresses, persona, model, name, location, banner (true/false), user, password,
cns, unreachable_cns (TG), login_delay, response_delay (durations: 500ms, 2s), hang_on
(command prefix), close_on (command prefix: commands starting with it print half their output,
then the session closes), unsaved_changes (EH/BU/TU: true starts the radio with a location its
startup configuration does not have), reboot_time (EH/BU/TU: how long a radio whose rollback
timer ran out stays down, default 60s), rf_down_on (EH: an accepted command starting with this
prefix takes the RF link down until the next reboot), log_bytes (size of 'show log'),
page_lines (pager), legacy_only, kbd_interactive_only, telnet (true: also serve the CLI over
Telnet). Any radio persona accepts the behaviour keys.

Personas:
  eh               EtherHaul: EH-710TX, EH-600TX, EH-1200F, or EH-8010FX (no banner: clients
                   identify it with 'show inventory 1'); banner 'MODEL, S/N: X, Ver: Y'
  bu, tu           classic MultiHaul base unit (MH-B100) and terminal unit (MH-T200/T201)
  tg               MultiHaul TG DN, prompt MH-N366@dnN>, no banner, 'connect cnK'/'quit'
  wrong-password   a radio whose password is not the fleet's; its banner is still sent
  linux            Linux host: no banner, 'user@host:~$ ' prompt, 'command not found'; exec
                   of uname -a, whoami, pwd, ls -a, echo; 'ls /missing' exits 2, unknown 127;
                   a shell without a PTY reads a script as bash does (no prompt, no echo)
  router           another vendor: banner 'Authorized access only', prompt Router>
  closed           nothing listens: connection refused
  silent           TCP accepted, no SSH identification ever sent
  black-hole       connect times out: a listener with a full accept queue (Linux drops the
                   SYNs), filled by siksim's own connections at start
  garbage          sends '220 ProFTPD Server (siksim) ready.' and closes
  slow             a radio that waits login_delay (2s) per login, response_delay (500ms) per
                   command
  hang             commands starting with hang_on ('show') print half, then hang forever
  huge             'show log' is log_bytes (4 MiB) long
  legacy-only      offers only diffie-hellman-group14-sha1/group1-sha1, ssh-rsa,
                   aes128-cbc/aes256-cbc/3des-cbc, hmac-sha1
  kbd-interactive  keyboard-interactive authentication only
  pager            '--More--' every page_lines (10) lines until a key ('q' stops)
  telnet           an EtherHaul that offers only Telnet (no SSH listener, no banner)

Telnet (the telnet persona, and any group with 'telnet = true') listens on --telnet-port
(default --port + 1, so 23 beside 22): IAC WILL ECHO, IAC WILL SUPPRESS-GO-AHEAD, 'login: ',
'Password: ', then the same CLI as over SSH; wrong credentials print 'Login incorrect' and the
login prompt again, and the third failure closes the connection.

The radio CLI follows the Siklu CLI as batchscanner expects it: the prompt alone when the
shell opens, echo, CRLF, a double prompt after 'cmd' + empty line, every 'show' command of
EH/BU/TU (system, sw, inventory 1, rf, rf-debug, eth ethN, lldp-remote, log,
user-activity-log, base-unit, remote-terminal-unit, terminal-unit) and TG ('show', 'show
SECTION'), 'Error: unknown command' / 'CLI syntax error in: \"cmd\": Unknown command',
'set system time HH:MM:SS' / 'set system date YYYY.MM.DD' (TG: 'set time', 'set date
YYYY-MM-DD'), 'set system name|location|contact VALUE', 'set ip 1 ip-addr ADDR prefix-len N
vlan N' (ADDR: dhcp, or static A.B.C.D in single quotes), 'set rf tx-power N' (EH), the configuration generated from that state in
the EtherHaul format ('copy running-configuration display', 'copy startup-configuration
display', saved by 'copy running-configuration startup-configuration') and TG 'show startup'
(paged every 20 lines, the '--More--' erased with backspaces and ESC[2K), all kept for the life
of the process.
Commands also run on exec channels (ssh host 'show system').

EH/BU/TU radios have the rollback timer: 'set rollback timeout N' (N seconds, 0-86400; 0
disarms) answers 'Set done: rollbacktimeout: N', 'clear rollback' answers 'rollback cleared',
'show rollback' says 'rollback timeout                   : not started' or the armed N. While
armed, every command in any session starts the timer over; when it runs out, the radio reboots:
its sessions end, its address refuses connections for reboot_time, then it listens again
running its startup configuration (unsaved changes gone, timer disarmed, RF link up, uptime
from zero; the clock is kept). 'set ip 1 ip-addr 'static X'' with X not the radio's own
address is answered, then cuts management: every session ends and the address refuses
connections until a reboot (never, unless the timer is armed).

--events FILE appends one JSON line per event as it happens: {t_ms, ip, node (a TG client
node, else null), session (unique per connection, null for the radio's own events), event,
command (command events only)}, event one of login, command, disconnect, rollback-armed,
rollback-cleared, rollback-expired, reboot (down: sessions gone, connects refused), up
(listening again), management-cut, saved. Passwords are never logged.

Once every listener is up, siksim prints one line on stderr:
  siksim: ready: N addresses, M listening on port P, pid PID
and serves until SIGINT or SIGTERM, then stops cleanly (exit 0) and removes --pidfile.

Every address has its own listening socket (so a closed address refuses connections). At start
siksim raises its open-file limit as far as it may; when one process still cannot hold a
socket per address (a /16 under a hard limit of 20000), it serves the fleet from several
worker processes, each owning a slice of the addresses, and the ready line ends with
'(K worker processes)'. Stopping the main process stops them all.";

const AFTER_HELP: &str = "\
Examples:
  siksim --demo --port 2222 &                   # 254 devices on 127.77.0.0/24
  ssh -p 2222 admin@127.77.0.1 show system      # password: admin
  siksim --demo --describe | jq -c 'select(.persona == \"tg\")'
  siksim 127.100.0.0/16 --persona eh --port 2222 --pidfile /tmp/siksim.pid
  siksim --fleet fleet.toml                     # port 22: run as root

Exit status:
  0    stopped by SIGINT/SIGTERM, or --describe done
  2    usage error, invalid fleet, or an address/port that cannot be served";

/// siksim's command line.
#[derive(Debug, Parser)]
#[command(
    name = "siksim",
    version,
    about = "Serve a simulated Siklu radio fleet over real SSH on loopback",
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP
)]
struct Args {
    /// Addresses to serve as --persona (ipgen grammar, 127.0.0.0/8 only).
    #[arg(value_name = "SPEC", conflicts_with_all = ["fleet", "demo"])]
    specs: Vec<String>,

    /// The persona of the SPEC addresses.
    #[arg(
        long,
        value_name = "PERSONA",
        value_enum,
        default_value_t = Persona::Eh,
        hide_possible_values = true
    )]
    persona: Persona,

    /// Read the fleet from FILE (TOML, or JSON when it ends in .json).
    #[arg(short = 'f', long, value_name = "FILE", conflicts_with = "demo")]
    fleet: Option<PathBuf>,

    /// Serve the demo fleet on 127.77.0.0/24.
    #[arg(long)]
    demo: bool,

    /// TCP port every device listens on.
    #[arg(short = 'p', long, value_name = "PORT", default_value_t = 22)]
    port: u16,

    /// TCP port of the Telnet service of devices that serve Telnet (the telnet persona, groups
    /// with 'telnet = true') [default: --port + 1, so 23 beside 22].
    #[arg(long, value_name = "PORT")]
    telnet_port: Option<u16>,

    /// Seed of every per-device value: the same seed serves the same fleet.
    #[arg(long, value_name = "N", default_value_t = 1)]
    seed: u64,

    /// Print the ground truth as NDJSON (one line per device and per TG client node), then
    /// exit without serving.
    #[arg(long)]
    describe: bool,

    /// Write the process id to FILE once serving; removed on a clean stop.
    #[arg(long, value_name = "FILE")]
    pidfile: Option<PathBuf>,

    /// Append one JSON line per event (login, command, disconnect, rollback-armed,
    /// rollback-cleared, rollback-expired, reboot, up, management-cut, saved) to FILE as it
    /// happens.
    #[arg(long, value_name = "FILE")]
    events: Option<PathBuf>,

    /// Serve the fleet from N worker processes (default: one process, or as many as the
    /// open-file limit requires).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    workers: Option<u16>,

    /// Print nothing on stderr but errors and the ready line.
    #[arg(short = 'q', long)]
    quiet: bool,

    /// Print a man page or a shell completion script.
    #[arg(long, value_name = "KIND", hide = true)]
    generate: Option<DocKind>,

    /// Serve slice K of N of the fleet as a worker of another siksim.
    #[arg(long, value_name = "K/N", hide = true, value_parser = workers::parse_worker)]
    worker: Option<(usize, usize)>,
}

fn main() -> ExitCode {
    pipe::run("siksim", || run(Args::parse()))
}

fn run(args: Args) -> anyhow::Result<Exit> {
    if let Some(kind) = args.generate {
        docs::print(Args::command(), kind)?;
        return Ok(Exit::Success);
    }
    let fleet = if let Some(path) = &args.fleet {
        Fleet::load(path)?
    } else if args.demo {
        Fleet::demo()
    } else if !args.specs.is_empty() {
        Fleet::from_specs(&args.specs, args.persona)?
    } else {
        anyhow::bail!(
            "no fleet: give address specs (siksim 127.1.0.0/24), --fleet FILE, or --demo ({DEMO_BLOCK})"
        );
    };

    let telnet_port = telnet_port(&args)?;
    if args.describe {
        let mut out = DataOut::stdout(false);
        for record in describe::records(&fleet, args.seed, args.port, telnet_port)? {
            let mut line = serde_json::to_vec(&record)?;
            line.push(b'\n');
            out.write_record(&line)?;
        }
        out.finish()?;
        return Ok(Exit::Success);
    }

    if fleet.len() > MAX_SERVED {
        anyhow::bail!(
            "refusing to serve {} addresses: each needs its own listening socket, and more than \
             {MAX_SERVED} (a /12) would exhaust the machine; serve a smaller range",
            fleet.len()
        );
    }
    let limit = pipe::raise_open_files_limit(fleet.len() as u64 + FD_HEADROOM);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(serve(fleet, limit, telnet_port, &args))
}

/// The Telnet port: as given, else the one after the SSH port (23 beside 22), so a fleet on
/// an unprivileged SSH port also serves Telnet unprivileged.
fn telnet_port(args: &Args) -> anyhow::Result<u16> {
    match args.telnet_port {
        Some(port) => Ok(port),
        None => args
            .port
            .checked_add(1)
            .context("--port 65535 leaves no default --telnet-port; give one"),
    }
}

async fn serve(fleet: Fleet, limit: u64, telnet_port: u16, args: &Args) -> anyhow::Result<Exit> {
    use tokio::signal::unix::{SignalKind, signal};
    let events = match &args.events {
        Some(path) => Events::open(path)
            .with_context(|| format!("cannot open the events log {}", path.display()))?,
        None => Events::default(),
    };
    let ports = (args.port, telnet_port);
    // Install the handlers before announcing readiness, so a stop right after it is clean.
    let mut interrupt = signal(SignalKind::interrupt()).context("installing SIGINT handler")?;
    let mut terminate = signal(SignalKind::terminate()).context("installing SIGTERM handler")?;
    let addresses = fleet.len();
    if let Some((k, n)) = args.worker {
        let part = workers::slice(addresses, k, n);
        let server = Server::start(fleet, args.seed, ports, part, events).await?;
        eprintln!("{}{} listening", workers::WORKER_READY, server.listening());
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        return Ok(Exit::Success);
    }
    let needed = workers::worker_count(addresses, limit);
    let count = args
        .workers
        .map_or(needed, |n| usize::from(n).max(needed).min(addresses));
    let (server, mut pool, listening) = if count == 1 && args.workers.is_none() {
        let server = Server::start(fleet, args.seed, ports, 0..addresses, events).await?;
        let listening = server.listening();
        (Some(server), None, listening)
    } else {
        // One process may not hold a socket per address: run slices in worker processes.
        let exe = std::env::current_exe().context("finding the siksim executable")?;
        let argv: Vec<_> = std::env::args_os().skip(1).collect();
        let pool = workers::Workers::start(&exe, &argv, count).await?;
        let listening = pool.listening();
        (None, Some(pool), listening)
    };
    if let Some(path) = &args.pidfile {
        std::fs::write(path, format!("{}\n", std::process::id()))
            .with_context(|| format!("writing pidfile {}", path.display()))?;
    }
    let processes = match &pool {
        Some(pool) => format!(" ({} worker processes)", pool.len()),
        None => String::new(),
    };
    eprintln!(
        "siksim: ready: {addresses} addresses, {listening} listening on port {}, pid {}{processes}",
        args.port,
        std::process::id()
    );
    let mut failed = false;
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
        status = async {
            match pool.as_mut() {
                Some(pool) => pool.any_exit().await,
                None => std::future::pending().await,
            }
        } => {
            pipe::warn(format!("a worker process exited ({status:?}); stopping"));
            failed = true;
        }
    }
    drop(server);
    if let Some(pool) = pool {
        pool.stop().await;
    }
    if let Some(path) = &args.pidfile {
        // Already gone is fine: the goal is that it does not outlive us.
        let _ = std::fs::remove_file(path);
    }
    if !args.quiet {
        pipe::note("stopped");
    }
    Ok(if failed { Exit::Error } else { Exit::Success })
}
