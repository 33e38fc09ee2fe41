#!/usr/bin/env bash
# Regenerates man/ and completions/ from the binaries' clap definitions.
# tests/docs.rs fails when the committed files differ from what this writes.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --bins
bindir="${CARGO_TARGET_DIR:-target}/debug"
mkdir -p man completions
for bin in $(ls src/bin/*.rs | xargs -n1 basename | sed 's/\.rs$//'); do
    "$bindir/$bin" --generate man > "man/$bin.1"
    "$bindir/$bin" --generate bash > "completions/$bin.bash"
    "$bindir/$bin" --generate zsh > "completions/_$bin"
    "$bindir/$bin" --generate fish > "completions/$bin.fish"
done
echo "regenerated man/ and completions/ for: $(ls src/bin/*.rs | xargs -n1 basename | sed 's/\.rs$//' | tr '\n' ' ')"
