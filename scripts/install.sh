#!/usr/bin/env bash
# Installs sikscan: the five binaries, their man pages and bash/zsh/fish completions.
#
#   scripts/install.sh [--from DIR | --docs-only] [PREFIX]
#
# PREFIX defaults to /usr/local when run as root, else ~/.local. Files land in
#   PREFIX/bin/{ipgen,sikprobe,batchsave,sikdiff,siksim} (cargo install --locked --path . --root PREFIX)
#   PREFIX/share/man/man1/<tool>.1
#   PREFIX/share/bash-completion/completions/<tool>
#   PREFIX/share/zsh/site-functions/_<tool>
#   PREFIX/share/fish/vendor_completions.d/<tool>.fish
# --from DIR copies already built binaries from DIR (e.g. target/release) instead of running
# cargo install; --docs-only installs the man pages and completions only. Man pages and
# completions come from man/ and completions/, which scripts/gen-docs.sh keeps in step with
# --help. Exit status: 0 installed, 2 usage error or a missing file.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=(ipgen sikprobe batchsave sikdiff siksim)

# usage [STATUS]: the header above, on stdout for --help (0), else on stderr (2).
usage() {
    if [ "${1:-2}" = 0 ]; then sed -n '2,16s/^# \{0,1\}//p' "$0"; exit 0; fi
    sed -n '2,16s/^# \{0,1\}//p' "$0" >&2
    exit "${1:-2}"
}

from="" docs_only=false prefix=""
while [ $# -gt 0 ]; do
    case $1 in
        --from) [ $# -ge 2 ] || usage; from=$2; shift 2 ;;
        --from=*) from=${1#--from=}; shift ;;
        --docs-only) docs_only=true; shift ;;
        -h|--help) usage 0 ;;
        -*) echo "install.sh: unknown option '$1'" >&2; usage ;;
        *) [ -z "$prefix" ] || usage; prefix=$1; shift ;;
    esac
done
if [ -z "$prefix" ]; then
    if [ "$(id -u)" = 0 ]; then prefix=/usr/local; else prefix=$HOME/.local; fi
fi
if [ -n "$from" ] && $docs_only; then
    echo "install.sh: --from and --docs-only exclude each other" >&2
    exit 2
fi
for tool in "${tools[@]}"; do
    for file in "man/$tool.1" "completions/$tool.bash" "completions/_$tool" "completions/$tool.fish"; do
        [ -f "$file" ] || { echo "install.sh: $file is missing (run scripts/gen-docs.sh)" >&2; exit 2; }
    done
    if [ -n "$from" ] && [ ! -x "$from/$tool" ]; then
        echo "install.sh: $from/$tool is missing or not executable (cargo build --release?)" >&2
        exit 2
    fi
done

if ! $docs_only; then
    if [ -n "$from" ]; then
        for tool in "${tools[@]}"; do
            install -Dm755 "$from/$tool" "$prefix/bin/$tool"
        done
    else
        echo "install.sh: cargo install --locked --path . --root $prefix" >&2
        cargo install --locked --quiet --path . --root "$prefix"
    fi
fi
for tool in "${tools[@]}"; do
    install -Dm644 "man/$tool.1" "$prefix/share/man/man1/$tool.1"
    install -Dm644 "completions/$tool.bash" "$prefix/share/bash-completion/completions/$tool"
    install -Dm644 "completions/_$tool" "$prefix/share/zsh/site-functions/_$tool"
    install -Dm644 "completions/$tool.fish" "$prefix/share/fish/vendor_completions.d/$tool.fish"
done

what="man pages and completions"
$docs_only || what="${tools[*]}, $what"
echo "install.sh: installed $what under $prefix" >&2
if ! $docs_only; then
    case ":$PATH:" in
        *":$prefix/bin:"*) ;;
        *) echo "install.sh: add $prefix/bin to PATH" >&2 ;;
    esac
fi
case $prefix in
    /usr|/usr/local) ;;
    *) echo "install.sh: zsh users add $prefix/share/zsh/site-functions to fpath (before compinit)" >&2 ;;
esac
