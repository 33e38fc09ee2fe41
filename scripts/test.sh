#!/usr/bin/env bash
# The whole test suite, as README.md's "Running the tests" shows it (and .ci/run runs it):
#
#   scripts/test.sh
#
# 1. Installs with apt-get what the tests need and Debian lacks (apt-get update first, and
#    only when a package is missing). Not root: prints the one apt-get line to run and exits 1,
#    as the tests that start sshd or serve port 22 need root anyway.
# 2. cargo test --locked --no-fail-fast: every unit, integration and docs test, with TMPDIR a
#    directory of its own; whatever a test leaves there is listed and fails the run.
# 3. scripts/interop-batchscanner.sh: the unmodified batchscanner 0.1.7 against siksim
#    (about 40 s; needs PyPI), when the tests passed.
# The last line is "N passed, M failed" over every test of the run (the interop script counts
# as one). Exit status: 0 when all passed, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

# What the tests run, by Debian package (tests/support/require.rs names the same packages;
# tests/test_command.rs checks the two lists agree):
#   openssh-client  ssh, ssh-keygen: tests/siksim.rs, tests/openssh.rs, tests/scale_out.rs
#   openssh-server  sshd: tests/sshd.rs, tests/openssh.rs, tests/scale_out.rs
#   dropbear-bin    dropbear, dropbearkey: a second real SSH server, tests/dropbear.rs
#   parallel, rsync GNU parallel --sshlogin, docs/scale-out.md's recipe: tests/scale_out.rs
#   jq              ./demo.sh's table: tests/demo.rs
#   git             reads batchsave's configuration archive as a user would: tests/archive.rs,
#                   tests/fleet_memory.rs
#   python3-venv    the virtualenv of scripts/interop-batchscanner.sh
#   python3-paramiko  paramiko, a real client of siksim: tests/real_clients.rs
packages=(openssh-client openssh-server dropbear-bin parallel rsync jq git python3-venv python3-paramiko)

note() { echo "test.sh: $*" >&2; }

missing=()
if command -v dpkg-query >/dev/null; then
    for package in "${packages[@]}"; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
        [ "$status" = installed ] || missing+=("$package")
    done
    command -v cc >/dev/null || missing+=(gcc libc6-dev)
else
    note "no dpkg: not installing anything; the tests need what these Debian packages hold:" \
        "${packages[*]}"
fi
install=(apt-get install -y --no-install-recommends "${missing[@]}")
if [ "$(id -u)" != 0 ]; then
    if [ "${#missing[@]}" -gt 0 ]; then
        note "packages missing; as root, run: apt-get update && ${install[*]}"
    fi
    note "run it as root: the tests start sshd (privilege separation, logins as root) and" \
        "scripts/interop-batchscanner.sh serves port 22"
    exit 1
fi
if [ "${#missing[@]}" -gt 0 ]; then
    note "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -qq update
    "${install[@]}" -qq >/dev/null
fi
command -v cargo >/dev/null || {
    note "cargo not found: install the Rust toolchain (1.89 or newer, https://rustup.rs)"
    exit 1
}

# A TMPDIR of the run's own, so that what the tests leave behind is seen (and removed).
TMPDIR=$(mktemp -d -t sikscan-test.XXXXXX)
export TMPDIR
log=$(mktemp -p "$TMPDIR" test-log.XXXXXX)
trap 'rm -rf "$TMPDIR"' EXIT

set +e
cargo test --locked --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
read -r passed failed < <(
    grep -E '^test result: ' "$log" |
        sed -E 's/.* ([0-9]+) passed; ([0-9]+) failed.*/\1 \2/' |
        awk '{ p += $1; f += $2 } END { printf "%d %d\n", p, f }'
)
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    note "cargo test stopped before its tests ran (exit $status)"
fi

if [ "$status" -eq 0 ]; then
    note "batchscanner interop (scripts/interop-batchscanner.sh)"
    if scripts/interop-batchscanner.sh; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        status=1
    fi
fi

left=$(find "$TMPDIR" -mindepth 1 -maxdepth 1 ! -path "$log" -printf '  %f\n' | sort)
if [ -n "$left" ]; then
    note "the tests left these in TMPDIR (removed now):"
    echo "$left" >&2
    status=1
fi

echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] || exit 1
