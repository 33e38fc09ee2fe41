//! batchsave: group an NDJSON record stream into durable, schema-stable CSV / JSON batches.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser};
use sikscan::batch::{self, Format, Layout, Options};
use sikscan::docs::{self, DocKind};
use sikscan::pipe::{self, Exit};

const LONG_ABOUT: &str = "\
Group an NDJSON record stream (sikprobe's output, or any JSON objects, one per line) into \
durable, schema-stable batch files in OUTDIR.

Batches: a batch closes after --batch-size records, --every DURATION after its first record, \
at the end of the input, and on the first SIGINT/SIGTERM; the last, partial batch is always \
written and empty batches never are. Batch N is written as OUTDIR/batch-00000N.<format> \
(with --by FIELD, one file per value: batch-00000N.<value>.<format>, a missing, null or \
empty value being 'none'). A new run into the same OUTDIR continues the numbering (saying \
on stderr which batches OUTDIR holds) and never overwrites a file.

Formats (--format, any of csv,json,ndjson; default csv,ndjson):
  csv     RFC 4180: CRLF line ends, fields quoted only when they hold a comma, a quote or a \
line break. Nested fields are flattened with dotted names (show.rf_status, \
commands.0.command); an array of scalars becomes one cell joined with ';'; null, {} and [] \
give an empty cell. The header is the union of the names in the file's records, ordered for \
a spreadsheet: top-level fields first (ip, port, status, error, radio_type, model, name, sw, \
sn, ...), then nested parsed fields (show.*), then each command's command, ok and \
elapsed_ms, each group in the order first seen. Raw device text (commands.N.output, \
commands.N.stderr, config, startup_config) is left out of the CSV unless --csv-raw (then \
last); JSON and NDJSON keep it. --fields fixes the columns instead (raw ones included when \
named). A cell longer than 32,767 characters (what a spreadsheet cell holds) is cut, and \
ends with ' [cut by batchsave: N characters, more than a spreadsheet cell holds]'. Cells \
that look like spreadsheet formulas (starting with = + - @) are written as they are, \
because the data is kept exact; --excel-safe prefixes them with ' (numbers such as -43 are \
left alone). For a spreadsheet, --fields or --layout batchscanner give fewer, fixed columns.
  json    one JSON array of the batch's records.
  ndjson  the batch's input lines, unchanged.

--layout batchscanner also writes batchscanner's files for each batch, with its columns, \
CRLF line ends and error strings (derived from each record's status): \
<YYYYmmdd_HHMMSS>_<batch>_scan_results.csv, _cmds_results.csv, _show_eh.csv, _show_bu.csv, \
_show_tu.csv and _show_tg_<section>.csv.

Durability: every file is written under a temporary name in OUTDIR, fsynced, renamed, and \
the directory fsynced; a crash or kill -9 leaves only whole files (a leftover temporary file \
is removed by the next run). OUTDIR/manifest.json lists every batch, its files, record \
counts and counts per status; it is replaced atomically once a batch is durable (batches \
that close while the disk is still syncing earlier ones are synced and listed together).

Configuration archive (--configs DIR): DIR becomes a git repository (created when missing; \
stock git reads it: git log -p, git blame, git diff HEAD~1) with one file per radio holding the \
configuration of its last record that had one ('sikprobe -a backup'), and index.tsv, a line per \
radio: file, ip, port, route, sn, name, model, sw, radio_type, config_saved and when its \
configuration last changed. Files are named by address: 10.0.0.6.cfg, 10.0.0.6_2222.cfg when \
the port is not 22, 10.0.0.5@cn1.cfg for TG client node cn1 reached through the DN 10.0.0.5 \
(IPv6: '-' for ':'). A run that changed something makes one commit, by 'sikscan \
<sikscan@localhost>', whose message counts and lists the radios that changed, appeared, could \
not be read and have unsaved changes; a run that changed nothing makes none. A radio whose \
record has no configuration keeps its last file; radios not in the input are left alone. \
Text that differs on every read is masked before it is archived: the clock's date and time in \
an EH/BU/TU 'set system' line, the pager's residue in TG's 'show startup' (backspaces, ESC[A, \
ESC[2K, a lone --More-- line), and whatever --mask REGEX matches; the header's software \
version is kept (it changes on upgrade). OUTDIR is optional with --configs; with both, both \
are written. The branch moves only once every object of the commit is on disk, so a kill -9 \
leaves the archive at its last commit or the new one; the next run removes the lock files it \
left and repairs the work tree.

Bad input: a line that is not a JSON object is appended to OUTDIR/rejects.ndjson (without \
OUTDIR: only counted) with its line number and the reason, and reported on stderr; batchsave \
then exits 1 (0 with --allow-rejects). Blank lines are skipped.

Interrupts: the first SIGINT/SIGTERM saves the open batch at once. When the input is a \
pipe, batchsave then keeps saving what arrives until the input ends (the producer upstream \
got the same Ctrl-C and is writing its last records) and exits 130; a second signal stops \
it at once, after saving what it has read.";

const AFTER_HELP: &str = "\
Examples:
  ipgen 10.0.0.0/24 | sikprobe -j 200 | batchsave out/
  sikprobe -f hosts.txt | batchsave -n 500 --every 1m --by radio_type out/
  batchsave -f scan.ndjson --format csv --fields ip,status,model,sw out/
  sikprobe ... | batchsave --layout batchscanner output/      # batchscanner's files too
  sikprobe ... | batchsave --tee out/ | jq -c 'select(.status != \"ok\")'
  batchsave --exec 'gzip {}' --format ndjson out/ < records.ndjson
  sikprobe -f hosts.txt -a backup | batchsave --configs archive/     # the git archive only
  sikprobe -f hosts.txt -a backup | batchsave --configs archive/ --mask '^# exported .*$' out/

Exit status:
  0    success
  1    some lines were rejected (see OUTDIR/rejects.ndjson; 0 with --allow-rejects), or an
       --exec command failed
  2    usage error, unreadable input, or an output directory or archive problem (the error
       names the path; batches already written stay whole, the archive at its last commit)
  130  interrupted (SIGINT/SIGTERM); everything read before it was saved
A closed standard output under --tee (for example '| head') is a clean stop with status 0,
after saving what was read.";

/// batchsave's command line.
#[derive(Debug, Parser)]
#[command(
    name = "batchsave",
    version,
    about = "Group an NDJSON record stream into durable, schema-stable CSV / JSON batches, and \
             keep the radios' configurations in a git archive",
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP,
    // OUTDIR is required but for --configs, which clap's own usage line cannot say.
    override_usage = "batchsave [OPTIONS] <OUTDIR>\n       batchsave [OPTIONS] --configs <DIR> [OUTDIR]"
)]
struct Args {
    /// Directory for the batch files (created if missing); optional with --configs.
    #[arg(value_name = "OUTDIR", required_unless_present = "configs")]
    outdir: Option<PathBuf>,

    /// Also keep every radio's configuration (records of 'sikprobe -a backup') in the git
    /// repository DIR, created if missing: one file per radio, index.tsv, one commit per run
    /// that changed something.
    #[arg(long, value_name = "DIR")]
    configs: Option<PathBuf>,

    /// With --configs: replace what REGEX matches in every configuration with <masked>
    /// before archiving it ('^' and '$' match at line ends); repeatable.
    #[arg(long, value_name = "REGEX", requires = "configs")]
    mask: Vec<String>,

    /// Read records from FILE instead of standard input ('-' is standard input).
    #[arg(short = 'f', long = "file", value_name = "FILE", default_value = "-")]
    file: PathBuf,

    /// Close a batch after N records.
    #[arg(short = 'n', long, value_name = "N", default_value = "1000")]
    batch_size: NonZeroUsize,

    /// Close a batch DURATION after its first record (500ms, 30s, 5m...), so no record waits
    /// longer than that to be saved.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    every: Option<Duration>,

    /// Formats written for each batch, comma-separated.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "csv,ndjson"
    )]
    format: Vec<Format>,

    /// Fix the CSV columns to these flattened names, comma-separated (other names are left
    /// out of the CSV; JSON and NDJSON keep everything).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    fields: Option<Vec<String>>,

    /// Write one file series per value of FIELD (a flattened name, such as radio_type or
    /// show.rf_oper).
    #[arg(long, value_name = "FIELD")]
    by: Option<String>,

    /// Also write another tool's files for each batch.
    #[arg(long, value_name = "LAYOUT")]
    layout: Option<Layout>,

    /// Keep raw device text (commands.N.output and .stderr, config, startup_config) in the
    /// CSV files, as their last columns; JSON and NDJSON always keep it.
    #[arg(long)]
    csv_raw: bool,

    /// Prefix CSV cells that start with = + - @ (formulas in a spreadsheet) with '.
    #[arg(long)]
    excel_safe: bool,

    /// Copy the input to standard output unchanged, so batchsave can sit mid-pipeline.
    #[arg(long)]
    tee: bool,

    /// Run CMD with 'sh -c' on each finished file, '{}' being the file's path (appended when
    /// CMD has no '{}'); its output goes to stderr.
    #[arg(long, value_name = "CMD")]
    exec: Option<String>,

    /// Exit 0 even when lines were rejected.
    #[arg(long)]
    allow_rejects: bool,

    /// Print nothing on stderr but errors and warnings (no notes, no summary).
    #[arg(short = 'q', long)]
    quiet: bool,

    /// Print a man page or a shell completion script.
    #[arg(long, value_name = "KIND", hide = true, exclusive = true)]
    generate: Option<DocKind>,
}

fn main() -> ExitCode {
    pipe::run("batchsave", || run(Args::parse()))
}

fn run(args: Args) -> anyhow::Result<Exit> {
    if let Some(kind) = args.generate {
        docs::print(Args::command(), kind)?;
        return Ok(Exit::Success);
    }
    if args.outdir.is_none() && args.configs.is_none() {
        anyhow::bail!("missing OUTDIR");
    }
    if args.file.as_os_str() == "-" && pipe::stdin_is_terminal() {
        anyhow::bail!("no input: pipe NDJSON records into batchsave, or give -f FILE");
    }
    if args.fields.as_ref().is_some_and(|fields| fields.is_empty()) {
        anyhow::bail!("--fields needs at least one name");
    }
    let mut formats: Vec<Format> = Vec::new();
    for format in args.format {
        if !formats.contains(&format) {
            formats.push(format);
        }
    }
    let options = Options {
        outdir: args.outdir,
        configs: args.configs,
        masks: args.mask,
        input: args.file,
        batch_size: args.batch_size,
        every: args.every,
        formats,
        fields: args.fields,
        csv_raw: args.csv_raw,
        by: args.by,
        layout: args.layout,
        excel_safe: args.excel_safe,
        tee: args.tee,
        exec: args.exec,
        allow_rejects: args.allow_rejects,
        quiet: args.quiet,
    };
    Ok(batch::run(&options)?)
}
