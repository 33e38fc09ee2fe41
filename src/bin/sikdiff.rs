//! sikdiff: what changed in the fleet between two snapshots, one NDJSON event per radio.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser};
use sikscan::diff::{self, Format, Options, rules};
use sikscan::docs::{self, DocKind};
use sikscan::pipe::{self, DataOut, Exit, InputName};

const LONG_ABOUT: &str = "\
Compare two snapshots of a fleet and write one NDJSON change event per radio that differs.

OLD and NEW are each a sikprobe NDJSON file, a batchsave output directory (its *.ndjson \
batches in batch order; rejects.ndjson is left out), or '-' for standard input (one of the \
two at most). Where a snapshot holds several records for one address (a run resumed with \
sikprobe --skip-done appends the retries), the last one counts.

Radios are matched by serial number where both records know it, else by address (ip and \
port; a TG client node by its DN's address and its name in 'route'). Records without an \
address (invalid-input) are not radios. Each event:
  {\"change\": \"appeared\" | \"vanished\" | \"moved\" | \"changed\", \"ip\", \"port\", \
\"route\" (client nodes), \"sn\", \"name\", \"fields\": {\"sw\": [OLD, NEW], ...}, \
\"config_diff\", \"startup_config_diff\", \"config_missing\"}
'moved' is a serial found at another address (fields.ip holds both; its other changes are \
listed too). ip, port and route are where the radio is now (OLD's for a vanished radio); sn \
and name are NEW's when known, else OLD's. For an appeared or vanished radio, fields holds \
its identity and status with null on the missing side. A radio matched by address whose \
serial differs was replaced (fields.sn).

Compared: radio_type, model, name, sw, sn, status, route, every show field, and the \
configuration (config, startup_config, config_saved). A value that is null or absent on \
either side is unknown there and not compared. config_diff and startup_config_diff are \
unified diffs labelled with the snapshot and the radio; when one side has a configuration \
the other could not read, config_missing names the text and that side instead (it is no \
difference by itself). TG show sections are compared row by row, a row named by its first \
cell (show.links[cn1].rssi).

Volatile fields, ignored or compared within a tolerance unless --all-fields is given \
(* is any part of one name; rows of a TG section are left out of the name):
";

const AFTER_HELP: &str = "\
Lines that are not records (not a JSON object with a 'status', an 'ip' that is not an \
address, a line longer than 64 MiB) are named on stderr (the first ten, then counted), \
skipped, and make the exit status 2: the rest is still compared and written.

Examples:
  sikdiff yesterday/ today/                      # two batchsave directories
  sikdiff --format text old.ndjson new.ndjson | mail -s 'fleet changes' noc@example.net
  sikprobe -f hosts.txt -a backup | sikdiff last.ndjson - | jq -c 'select(.change == \"moved\")'
  sikdiff old.ndjson new.ndjson | jq -r 'select(.fields.sw) | [.ip, .fields.sw[1]] | @tsv'

Exit status (as diff(1)):
  0    no differences
  1    differences
  2    trouble: usage error, an unreadable snapshot, or lines that were not records
A closed standard output (for example '| head') is a clean stop with status 0.";

/// sikdiff's command line.
#[derive(Debug, Parser)]
#[command(
    name = "sikdiff",
    version,
    about = "What changed in the fleet between two snapshots: one NDJSON event per radio that differs",
    after_help = AFTER_HELP
)]
struct Args {
    /// The earlier snapshot: an NDJSON file, a batchsave directory, or '-'.
    #[arg(value_name = "OLD", required = true)]
    old: Option<PathBuf>,

    /// The later snapshot: an NDJSON file, a batchsave directory, or '-'.
    #[arg(value_name = "NEW", required = true)]
    new: Option<PathBuf>,

    /// How to write the events: ndjson (one JSON object per radio) or text (counts first,
    /// then one block per radio, for a mail or a cron log).
    #[arg(long, value_name = "FORMAT", default_value = "ndjson")]
    format: Format,

    /// Compare every field of the records exactly, the volatile ones included (not the
    /// timing of the run: started, elapsed_ms).
    #[arg(long)]
    all_fields: bool,

    /// Flush each event as soon as it is written.
    #[arg(long)]
    line_buffered: bool,

    /// Print nothing on stderr but errors and warnings (no summary).
    #[arg(short = 'q', long)]
    quiet: bool,

    /// Print a man page or a shell completion script.
    #[arg(long, value_name = "KIND", hide = true, exclusive = true)]
    generate: Option<DocKind>,
}

/// The command line, with the volatile fields listed from the table the comparison uses.
fn command() -> clap::Command {
    Args::command().long_about(format!("{LONG_ABOUT}{}", rules::volatile_help()))
}

fn main() -> ExitCode {
    pipe::run("sikdiff", || {
        let args = Args::from_arg_matches(&command().get_matches())?;
        if let Some(kind) = args.generate {
            docs::print(command(), kind)?;
            return Ok(Exit::Success);
        }
        let (Some(old), Some(new)) = (args.old, args.new) else {
            anyhow::bail!("OLD and NEW are both required");
        };
        let options = Options {
            all_fields: args.all_fields,
            format: args.format,
            line_buffered: args.line_buffered,
        };
        let mut out = DataOut::stdout(args.line_buffered);
        let outcome = diff::run(&old, &new, &options, &mut out)?;
        out.finish()?;
        if !args.quiet {
            let mut summary = outcome.tally.line(
                &outcome.counts,
                &InputName::from_arg(&old).to_string(),
                &InputName::from_arg(&new).to_string(),
            );
            for (superseded, side) in [
                (outcome.counts.old_superseded, "OLD"),
                (outcome.counts.new_superseded, "NEW"),
            ] {
                if superseded > 0 {
                    summary.push_str(&format!(
                        "; {superseded} {side} records replaced by a newer one for the same address"
                    ));
                }
            }
            pipe::note(summary);
        }
        Ok(if outcome.bad_lines > 0 {
            Exit::Error
        } else if outcome.tally.total() > 0 {
            Exit::Partial
        } else {
            Exit::Success
        })
    })
}
