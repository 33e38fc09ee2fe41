#!/usr/bin/env bash
# Every benchmark of the project in one run, then one table of ratios against the baselines
# each benchmark measures in the same run (prips, jq, batchscanner 0.1.7, the netmiko pattern,
# and siksim's targets). Loopback only, like the benchmarks it runs.
#
#   bench/all.sh              full sizes (about 9 minutes on 2 cores)
#   QUICK=1 bench/all.sh      smaller inputs and fleets, one run each (a few minutes)
#
# Runs bench/ipgen.sh, bench/batchsave.sh, bench/archive.sh (batchsave --configs),
# bench/siksim.sh, bench/sikprobe.sh (as root only:
# batchscanner connects to port 22 alone), bench/sikprobe-memory.sh (memory, throughput and CPU
# per host against README's targets), bench/backup.sh (sikprobe -a backup against -a scan, and
# radios per minute over a WAN), bench/guard.sh (a guarded change on a WAN fleet, half of it
# reverted, against the slowest radio alone) and bench/openssh.sh (the OpenSSH transport beside
# the native one). Each appends tab-separated result lines to $BENCH_SUMMARY (see summary() in
# each script); this script prints them as a Markdown table with the machine it ran on. Every benchmark's own output is kept in the directory printed at
# the end. Exit status: 0 when every benchmark ran, 1 when one failed (the others still run).
set -euo pipefail
cd "$(dirname "$0")/.."
quick=${QUICK:-0}
[ "$quick" = 0 ] || [ "$quick" = 1 ] || { echo "bench/all.sh: QUICK is 0 or 1" >&2; exit 2; }

logs=$(mktemp -d -t sikscan-bench.XXXXXX)
export BENCH_SUMMARY=$logs/summary.tsv
: > "$BENCH_SUMMARY"
failed=()
notes=()

cargo build --release --quiet --bins

# run NAME CMD...: runs one benchmark, its output into $logs/NAME.log.
run() {
    local name=$1 started status=0
    shift
    started=$(date +%s)
    echo "bench/all.sh: $name: $* ..." >&2
    "$@" > "$logs/$name.log" 2>&1 || status=$?
    if [ "$status" -ne 0 ]; then
        echo "bench/all.sh: $name failed (exit $status); the end of its output:" >&2
        tail -n 15 "$logs/$name.log" >&2
        failed+=("$name")
    fi
    echo "bench/all.sh: $name took $(( $(date +%s) - started )) s" >&2
}

machine() {
    local cpu mem os
    cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    mem=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
    os=$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME" || uname -o)
    echo "$(nproc) cores ($cpu), $mem RAM, $os, Linux $(uname -r); load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
}
started_on=$(machine)

if [ "$quick" = 1 ]; then
    run ipgen bench/ipgen.sh 1
    run batchsave bench/batchsave.sh 200000 1
    run archive bench/archive.sh 2000 20
    run siksim bench/siksim.sh 500 100 300
else
    run ipgen bench/ipgen.sh
    run batchsave bench/batchsave.sh
    run archive bench/archive.sh
    run siksim bench/siksim.sh
fi
if [ "$(id -u)" = 0 ]; then
    if [ "$quick" = 1 ]; then
        run sikprobe env ZERO_FLEET=2000 WAN_FLEET=500 SHOW_FLEET=500 bench/sikprobe.sh
    else
        run sikprobe bench/sikprobe.sh
    fi
else
    notes+=("sikprobe: skipped (bench/sikprobe.sh needs root: batchscanner only connects to port 22)")
fi
if [ "$quick" = 1 ]; then
    run sikprobe-memory env FLEET=2000 bench/sikprobe-memory.sh
else
    run sikprobe-memory bench/sikprobe-memory.sh
fi
if [ "$quick" = 1 ]; then
    run backup env BACKUP_FLEET=2000 BACKUP_WAN_FLEET=500 ROUNDS=1 bench/backup.sh
else
    run backup bench/backup.sh
fi
if [ "$quick" = 1 ]; then
    run guard env GUARD_FLEET=500 GUARD_JOBS=500 bench/guard.sh
else
    run guard bench/guard.sh
fi
if [ "$quick" = 1 ]; then
    run openssh env OPENSSH_FLEET=300 bench/openssh.sh
else
    run openssh bench/openssh.sh
fi

echo
echo "machine: $started_on"
[ "$quick" = 1 ] && echo "mode: QUICK=1 (smaller inputs and fleets, one run each)"
echo
# The "vs baseline" column says how many times better sikscan did: baseline / sikscan for
# lower-is-better figures (seconds, MB), sikscan / baseline for higher-is-better ones.
awk -F'\t' '
    function num(v, unit) { return unit == "s" ? sprintf("%.2f s", v) : sprintf("%g %s", v, unit) }
    BEGIN {
        print "| benchmark | case | sikscan | result | baseline | result | vs baseline |"
        print "|---|---|---|---|---|---|---|"
    }
    {
        # A zero is a run that failed (its log says why), never a result.
        ratio = "-"
        if ($5 != "-" && $6 + 0 > 0 && $4 + 0 > 0)
            ratio = sprintf("%.1fx", $8 == "higher" ? $4 / $6 : $6 / $4)
        value = $4 + 0 > 0 ? num($4, $7) : "failed"
        base = $5 == "-" ? "-" : $6 + 0 > 0 ? num($6, $7) : "failed"
        printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, value, $5, base, ratio
    }' "$BENCH_SUMMARY"
for note in "${notes[@]}"; do echo; echo "$note"; done
echo
echo "each benchmark's full output: $logs/<name>.log; the figures: $BENCH_SUMMARY"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "bench/all.sh: failed: ${failed[*]}" >&2
    exit 1
fi
