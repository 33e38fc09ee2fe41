//! ipgen: expand, merge, exclude, shuffle and shard address sets, one address per line.

use std::hash::{BuildHasher, RandomState};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory, Parser};
use sikscan::docs::{self, DocKind};
use sikscan::pipe::{self, DataOut, Exit};
use sikscan::targets::format::AddressWriter;
use sikscan::targets::walk::selected_size;
use sikscan::targets::{Collector, Hosts, LocatedError, Order, Origin, Shard, Size, Walk};

/// Output larger than this needs `--no-size-limit` (an IPv6 /64 is not expanded by accident).
const SIZE_GUARD: u128 = 1 << 32;

/// Errors printed before the rest are summarised.
const ERRORS_SHOWN: usize = 20;

const LONG_ABOUT: &str = "\
Expand, merge, exclude, shuffle and shard address sets, one address per line.

Each SPEC (argument, or line of a -f file) is one of:
  10.0.0.1  2001:db8::1           a single IPv4 or IPv6 address
  10.0.0.0/24  2001:db8::/120     CIDR (usable hosts, see --all); a netmask also works after '/'
  10.0.0.5-10.0.0.9               inclusive range, also written '10.0.0.5 - 10.0.0.9'
  10.0.1-3.1-254  192.168.0,2.*   nmap-style octet ranges and lists ('*' or '-' is 0-255)

Files may hold blank lines, '#' comments (whole-line or after a spec), and batchscanner's
'username = ...' / 'password = ...' lines, which ipgen ignores: a batchscanner network file
works unchanged. With no SPEC and no -f, ipgen reads standard input when it is not a terminal.

All inputs merge into one set: overlaps appear once, output is ascending (IPv4 first), and
memory grows with the number of ranges, never with the number of addresses. Every input is
validated before the first address is printed; a bad token is reported as
'ipgen: FILE:LINE: 'TOKEN': reason' (or 'argument N') with exit status 2 and empty stdout.

CIDR blocks give usable hosts as Python's ipaddress hosts() does: an IPv4 /24 gives 254
addresses, /31 and /32 give all; IPv6 blocks drop the subnet-router anycast address (the
first) except /127 and /128. Ranges are inclusive and keep every address. Exclusions always
remove whole blocks.";

const AFTER_HELP: &str = "\
Examples:
  ipgen 10.0.0.0/24 | sikprobe -j 200 | batchsave out/
  ipgen -f network.txt --exclude-file blocklist.txt --count
  ipgen 10.0.0.0/16 --shuffle --seed 7 --shard 2/4     # this machine's quarter
  ipgen 10.0.1-3.* -0 | xargs -0 -n 64 echo
  ipgen 2001:db8::/64 --count                           # 18446744073709551615

Exit status:
  0    success (an empty set prints nothing and warns)
  2    usage error or invalid input; nothing is printed on stdout

A closed standard output (for example '| head') is a clean stop with status 0.";

/// ipgen's command line.
#[derive(Debug, Parser)]
#[command(
    name = "ipgen",
    version,
    about = "Expand, merge, exclude, shuffle and shard address sets, one address per line",
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP
)]
struct Args {
    /// Address specifications: addresses, CIDR blocks, ranges and octet patterns, such as
    /// 10.0.0.1 10.0.0.0/24 10.0.0.5-10.0.0.9 10.0.1-3.* (--help gives the grammar).
    #[arg(
        value_name = "SPEC",
        long_help = "Address specifications (the grammar is above). With none and no -f, \
                     ipgen reads standard input."
    )]
    specs: Vec<String>,

    /// Read specifications from FILE, one per line ('-' is standard input); repeatable.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    files: Vec<PathBuf>,

    /// Remove the addresses of SPEC from the set; repeatable.
    #[arg(short = 'x', long, value_name = "SPEC")]
    exclude: Vec<String>,

    /// Remove every address listed in FILE (one spec per line, '#' comments, zmap blocklist
    /// style); repeatable.
    #[arg(long, value_name = "FILE")]
    exclude_file: Vec<PathBuf>,

    /// Give every address of a CIDR block, network and broadcast included.
    #[arg(short = 'a', long)]
    all: bool,

    /// Print the set in a pseudo-random order (a seeded permutation, O(1) memory).
    #[arg(short = 's', long)]
    shuffle: bool,

    /// Seed for --shuffle: the same seed and input give the same order. When omitted, one is
    /// chosen and printed on stderr.
    #[arg(long, value_name = "N", requires = "shuffle")]
    seed: Option<u64>,

    /// Print only shard K of N (1-based): the N shards are disjoint and cover the set exactly
    /// once, shuffled or not. With --shuffle every shard must use the same --seed.
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,

    /// Print how many addresses would be printed, without expanding them (any size).
    #[arg(short = 'c', long)]
    count: bool,

    /// Print at most N addresses.
    #[arg(short = 'n', long, value_name = "N")]
    limit: Option<u128>,

    /// End each address with NUL instead of newline (for xargs -0).
    #[arg(short = '0', long)]
    null: bool,

    /// Allow printing more than 2^32 addresses.
    #[arg(long)]
    no_size_limit: bool,

    /// Flush every address as soon as it is printed.
    #[arg(long)]
    line_buffered: bool,

    /// Print nothing on stderr but errors (not even the chosen seed).
    #[arg(short = 'q', long)]
    quiet: bool,

    /// Print a man page or a shell completion script.
    #[arg(long, value_name = "KIND", hide = true)]
    generate: Option<DocKind>,
}

fn main() -> ExitCode {
    pipe::run("ipgen", || run(Args::parse()))
}

fn run(args: Args) -> anyhow::Result<Exit> {
    if let Some(kind) = args.generate {
        docs::print(Args::command(), kind)?;
        return Ok(Exit::Success);
    }
    if args.shuffle && args.shard.is_some() && args.seed.is_none() {
        anyhow::bail!(
            "--shard with --shuffle needs --seed, so that every shard walks the same order"
        );
    }

    let hosts = if args.all { Hosts::All } else { Hosts::Usable };
    let mut include = Collector::new(hosts);
    for (n, spec) in args.specs.iter().enumerate() {
        include.add_line(Origin::Argument(n + 1), spec);
    }
    let mut files = args.files.clone();
    if args.specs.is_empty() && files.is_empty() {
        if pipe::stdin_is_terminal() {
            anyhow::bail!(
                "no input: give address specifications as arguments, with -f FILE, or on standard input"
            );
        }
        files.push(PathBuf::from("-"));
    }
    read_all(&mut include, &files)?;

    let mut exclude = Collector::new(Hosts::All);
    for (n, spec) in args.exclude.iter().enumerate() {
        exclude.add_line(Origin::ExcludeArgument(n + 1), spec);
    }
    read_all(&mut exclude, &args.exclude_file)?;

    let (include, exclude) = match (include.finish(), exclude.finish()) {
        (Ok(include), Ok(exclude)) => (include, exclude),
        (include, exclude) => {
            let errors = [include.err(), exclude.err()]
                .into_iter()
                .flatten()
                .flatten();
            report(errors.collect());
            return Ok(Exit::Error);
        }
    };
    let set = include.difference(&exclude);

    let seed = args.shuffle.then(|| {
        args.seed.unwrap_or_else(|| {
            let seed = RandomState::new().hash_one(std::process::id());
            if !args.quiet {
                pipe::note(format!(
                    "shuffle seed {seed} (repeat this order with --seed {seed})"
                ));
            }
            seed
        })
    });
    let order = Order {
        seed,
        shard: args.shard,
        limit: args.limit,
    };
    let selected = selected_size(set.size(), &order)?;

    let mut out = DataOut::stdout(args.line_buffered);
    if args.count {
        out.write_record(format!("{selected}\n").as_bytes())?;
        out.finish()?;
        return Ok(Exit::Success);
    }
    if !args.no_size_limit && selected > Size::from_u128(SIZE_GUARD) {
        anyhow::bail!(
            "refusing to print {selected} addresses (more than 2^32); narrow the input, add --limit N, \
             or pass --no-size-limit (--count prints the size of any set)"
        );
    }
    if set.is_empty() && !args.quiet {
        pipe::warn("the address set is empty");
    }

    let terminator = if args.null { b'\0' } else { b'\n' };
    let mut writer = AddressWriter::new(&mut out, terminator, args.line_buffered);
    let mut walk = Walk::new(&set, &order)?;
    while let Some((family, first, last)) = walk.next_run() {
        writer.push_run(family, first, last)?;
    }
    writer.finish()?;
    out.finish()?;
    Ok(Exit::Success)
}

fn read_all(collector: &mut Collector, files: &[PathBuf]) -> anyhow::Result<()> {
    for path in files {
        let (name, reader) = pipe::open_input(path)?;
        collector
            .add_reader(&name, reader)
            .with_context(|| format!("reading {name}"))?;
    }
    Ok(())
}

fn report(errors: Vec<LocatedError>) {
    for error in errors.iter().take(ERRORS_SHOWN) {
        eprintln!("ipgen: {error}");
    }
    if errors.len() > ERRORS_SHOWN {
        eprintln!(
            "ipgen: ... and {} more invalid lines",
            errors.len() - ERRORS_SHOWN
        );
    }
}
