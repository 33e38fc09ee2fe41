#!/usr/bin/env bash
# sikprobe's peak memory and CPU at several -j, against the zero-latency fleet of
# bench/sikprobe.sh (EtherHaul radios served by siksim, sharing the CPUs) on an unprivileged port.
#
#   bench/sikprobe-memory.sh [JOBS...]      default: 200 1000 5000
#
# Env: FLEET (10000 radios), ROUNDS (1: each address once; 3 probes the fleet three times, to
# see whether memory climbs with churn), REPEAT (1 run per -j), PORT (2356), BIN (target dir
# of a build to measure instead of building this tree).
# Prints, per run: peak RSS, wall time, hosts/s, client CPU per host (user+sys), the records and
# ok counts, and the 1-minute load average at the end of the run (the box may be shared: repeat
# runs and compare under similar load). Targets (README, Performance): RSS <= 100 MB at -j 1000 and
# <= 400 MB at -j 5000; at -j 200 >= 1,200 hosts/s and <= 0.9 ms CPU per host.
# With BENCH_SUMMARY=FILE, also appends each figure that has a target as a result line to FILE
# (bench/all.sh; the format is summary() in bench/ipgen.sh), the target as the baseline.
set -euo pipefail
cd "$(dirname "$0")/.."
FLEET=${FLEET:-10000}
ROUNDS=${ROUNDS:-1}
REPEAT=${REPEAT:-1}
PORT=${PORT:-2356}
[ -x /usr/bin/time ] || { echo "bench: GNU time is missing: apt-get install time" >&2; exit 2; }
if [ -z "${BIN:-}" ]; then
    cargo build --release --quiet --bins
    BIN=${CARGO_TARGET_DIR:-target}/release
fi
[ "$#" -gt 0 ] || set -- 200 1000 5000
# -j 5000 needs 5,000 sockets here and as many in siksim: lib.sh raises the limit.
. bench/lib.sh

# Its own range of 127/8 (bench/openssh.sh uses 127.93, bench/sikprobe.sh 127.90-92).
last=$("$BIN/ipgen" 127.96.0.0/16 --limit "$FLEET" | tail -n 1)
for _ in $(seq "$ROUNDS"); do "$BIN/ipgen" "127.96.0.1-$last"; done > "$tmp/addresses"
hosts=$(wc -l < "$tmp/addresses")
serve_siksim "$BIN" "$PORT" --persona eh "127.96.0.1-$last"

echo "machine: $(nproc) cores; $hosts hosts ($FLEET radios x $ROUNDS); siksim shares the CPUs"
for jobs in "$@"; do
    for _ in $(seq "$REPEAT"); do
        status=0
        /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" \
            "$BIN/sikprobe" -p "$PORT" -j "$jobs" -q < "$tmp/addresses" > "$tmp/records" 2> "$tmp/err" \
            || status=$?
        if [ "$status" -ne 0 ]; then
            echo "bench: sikprobe -j $jobs exited $status:" >&2
            tail -n 5 "$tmp/err" >&2
        fi
        read -r wall user sys rss < "$tmp/time"
        records=$(wc -l < "$tmp/records")
        ok=$(grep -c '"status":"ok"' "$tmp/records" || true)
        load=$(cut -d' ' -f1 /proc/loadavg)
        awk -v j="$jobs" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v n="$hosts" \
            -v rec="$records" -v ok="$ok" -v load="$load" 'BEGIN {
                printf "-j %-5d  peak RSS %6.1f MB  wall %6.2f s  %5.0f hosts/s  CPU %5.3f ms/host  records %d (ok %d)  load %s\n",
                    j, r / 1024, w, n / w, (u + s) * 1000 / n, rec, ok, load
            }'
        if [ -n "${BENCH_SUMMARY:-}" ]; then
            awk -v j="$jobs" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v n="$hosts" 'BEGIN {
                what = "zero latency, " n " hosts"
                label = "sikprobe -a scan -j " j
                if (j == 1000 || j == 5000)
                    printf "sikprobe\t%s: peak RSS\t%s\t%.0f\ttarget\t%d\tMB\tlower\n", what, label, r / 1024, j == 1000 ? 100 : 400
                if (j == 200) {
                    printf "sikprobe\t%s: throughput\t%s\t%.0f\ttarget\t1200\thosts/s\thigher\n", what, label, n / w
                    printf "sikprobe\t%s: client CPU per host\t%s\t%.2f\ttarget\t0.9\tms\tlower\n", what, label, (u + s) * 1000 / n
                }
            }' >> "$BENCH_SUMMARY"
        fi
    done
done
