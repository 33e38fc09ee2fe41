//! sikprobe: log in to every address on stdin over SSH, identify the radio, run an action, and
//! write one NDJSON record per input line.

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use sikscan::docs::{self, DocKind};
use sikscan::pipe::{self, Exit};
use sikscan::probe::args::{ProbeArgs, ProbeConfig};
use sikscan::record::Status;
use sikscan::transport::askpass;

const LONG_ABOUT: &str = "\
Log in to every address on standard input (or -f FILE, or given as arguments) over SSH,
identify the Siklu radio behind it, run an action, and write one NDJSON record per input line,
failures included, as soon as each host finishes. With no addresses and a terminal on standard
input, sikprobe refuses at once ('no input').

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

-a backup reads each radio's configuration as the radio prints it: EH, BU and TU answer 'copy
running-configuration display' (into 'config') and 'copy startup-configuration display' (into
'startup_config'), TG answers 'show startup' through its '--More--' pager (into 'config'; with
--cns on each client node too, one record per node). The text is the radio's own byte for byte
but for line ends (CRLF becomes LF): no echo, no prompt, no pager residue, blank lines kept.
'config_saved' says whether running equals startup (null on TG), 'config_sha256' is the SHA-256
of 'config'. A radio that fails midway gets its error and no configuration at all. The
commands are listed in 'commands'; their 'output' stays empty when the text went to 'config' or
'startup_config', so a configuration is stored once.

--dry-run logs in to and identifies each radio, and records the commands its action would
send (-a script, -a set-tod) in 'commands' with \"sent\": false and \"ok\": false, sending none of
them; the radio is 'ok' once identified. A command that was sent has no 'sent' field.

Staged rollout: --canary N probes the first N hosts of the input alone (invalid lines and
lines --skip-done skips are not hosts); the rest start only when all N ended 'ok', else every
other line gets a 'skipped' record ('canary failed: ADDR STATUS, ...') and no other host is
contacted. --max-failures N (or P%) starts no new host once more than N hosts (more than P% of
the finished ones, counting at least 10 as finished) ended other than 'ok'; hosts in flight
finish and every other line gets a 'skipped' record ('stopped after K of M finished hosts
failed ...'). A host is 'ok' when every record it wrote is (its TG client nodes' too); a host
whose own record is 'skipped' does not count towards --max-failures. Either way every input line
still gets one record, the summary says why the run stopped, and sikprobe exits 1.

Guarded changes: --guard DURATION makes -c/--script a change that cannot strand a radio (EH,
BU, TU). sikprobe reads the running configuration (its sha256 is guard.before_sha256), sends
'set rollback timeout N' (the answer must be 'Set done: rollbacktimeout: N', else
'command-failed' and nothing else is sent), the commands (a CLI error stops them), then logs in
again in a NEW session and runs each --verify CMD, matching --expect REGEX against its answer,
tried again every second until half the guard has passed. Verified: 'clear rollback' (answer
'rollback cleared'), then with --save 'copy running-configuration startup-configuration'; the
change is never saved before it is confirmed; status 'ok'. Not verified: nothing is cleared;
the radio reboots to its startup configuration when the timer runs out, sikprobe waits for it
(--revert-wait from the expiry), logs in and compares the running configuration with the one
before: 'reverted' when they match, 'unconfirmed' when it did not come back in time or came
back different. The record's guard says {timeout_s, verified, verify [{command, ok, output}],
outcome (confirmed, reverted, unconfirmed), back_after_ms, before_sha256}. The summary names
the unconfirmed radios and sikprobe exits 1 when there are any. TG radios have no rollback
timer: 'skipped', and no command is sent to them. --deadline must leave room for the guard,
the revert wait and a minute of logins and commands (its default does); --dry-run records the
whole sequence, verification included, unsent.

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
  sikprobe -f hosts.txt -a backup --cns | jq -r 'select(.config_saved == false) | .ip'
  sikprobe --transport openssh -o ProxyJump=bastion -f site-b.txt | batchsave out/
  sikprobe -f hosts.txt --dry-run -c 'set system location Depot' | jq -c '[.ip, .commands]'
  sikprobe -f hosts.txt --canary 5 --max-failures 2% -c 'set system location Depot'
  sikprobe -f hosts.txt --guard 5m --verify 'show rf' --expect 'rf operational\\s*:\\s*up' \\
    --save -c 'set rf tx-power 14' | batchsave out/";

fn after_long_help() -> String {
    let mut help = String::from(AFTER_HELP);
    help.push_str("\n\nRecord fields (one JSON object per line):\n");
    help.push_str(
        "  ip, port, status, error, radio_type (EH, BU, TU, TG or null), model, name, sw, sn,\n  \
         banner, server_id, host_key ('ALG SHA256:...'), user, prompt, started (RFC 3339),\n  \
         elapsed_ms, transport; and when present: input, commands, show, route, parent,\n  \
         parse_warnings, attempts, reachable, config, startup_config, config_saved,\n  \
         config_sha256, guard.\n",
    );
    help.push_str("\nStatuses:\n");
    for status in Status::ALL {
        help.push_str(&format!("  {:<18}{}\n", status.as_str(), status.describe()));
    }
    help.push('\n');
    help.push_str(pipe::EXIT_STATUS_HELP);
    help
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
    #[command(flatten)]
    probe: ProbeArgs,

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
    sikscan::probe::run::run(ProbeConfig::from_args(args.probe)?)
}
