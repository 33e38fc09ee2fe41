//! Man pages and shell completions, generated from each binary's clap definition.
//!
//! Every binary has a hidden `--generate KIND` flag that prints one of these; `scripts/gen-docs.sh`
//! writes them into `man/` and `completions/`, and `tests/docs.rs` fails when a committed file
//! differs from what the binary generates.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::ValueEnum;
use clap_complete::Shell;

/// A generated document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DocKind {
    /// The roff man page (section 1).
    Man,
    /// bash completion.
    Bash,
    /// zsh completion.
    Zsh,
    /// fish completion.
    Fish,
}

impl DocKind {
    /// Where the document for `program` lives in the repository.
    pub fn path(self, program: &str) -> PathBuf {
        match self {
            DocKind::Man => PathBuf::from(format!("man/{program}.1")),
            DocKind::Bash => PathBuf::from(format!("completions/{program}.bash")),
            DocKind::Zsh => PathBuf::from(format!("completions/_{program}")),
            DocKind::Fish => PathBuf::from(format!("completions/{program}.fish")),
        }
    }
}

/// Renders the document of `kind` for a command; a man page's SYNOPSIS is the command's usage
/// line, as `--help` prints it.
pub fn render(mut command: clap::Command, kind: DocKind) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let name = command.get_name().to_owned();
    match kind {
        DocKind::Man => {
            // clap_mangen's own SYNOPSIS names the flags without their values and the
            // arguments without saying which are required; the usage line of `--help` does both.
            let usage = command.render_usage().to_string();
            let usage = usage.strip_prefix("Usage: ").unwrap_or(&usage).to_owned();
            clap_mangen::Man::new(command.override_usage(usage)).render(&mut out)?
        }
        DocKind::Bash => clap_complete::generate(Shell::Bash, &mut command, name, &mut out),
        DocKind::Zsh => clap_complete::generate(Shell::Zsh, &mut command, name, &mut out),
        DocKind::Fish => clap_complete::generate(Shell::Fish, &mut command, name, &mut out),
    }
    Ok(out)
}

/// Writes the document of `kind` for a command to stdout (the hidden `--generate` flag).
pub fn print(command: clap::Command, kind: DocKind) -> io::Result<()> {
    let rendered = render(command, kind)?;
    let mut stdout = io::stdout().lock();
    stdout.write_all(&rendered)?;
    stdout.flush()
}
