#!/usr/bin/env bash
# sikprobe --transport openssh side by side with the native transport, in one run, on loopback.
#
#   bench/openssh.sh             (OPENSSH_FLEET=1000 radios, OPENSSH_JOBS=200)
#
# siksim serves OPENSSH_FLEET EtherHaul radios at zero latency on port 2312 (sharing the CPUs);
# sikprobe scans them with each transport at -j OPENSSH_JOBS. Each run goes through
# bench/procstat.py, a child subreaper, so the daemonised ssh control masters are counted:
# client CPU is sikprobe plus every ssh and askpass process it started; peak processes and the
# RSS sum are sampled from /proc every 50 ms. Prints hosts/s, CPU per host, peak processes and
# RSS for each transport, and OpenSSH's figures as ratios to native's.
# With BENCH_SUMMARY=FILE, also appends a machine-readable result line to FILE (bench/all.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
FLEET=${OPENSSH_FLEET:-1000}
JOBS=${OPENSSH_JOBS:-200}
PORT=2312

cargo build --release --quiet --bins
bin=${CARGO_TARGET_DIR:-target}/release
. bench/lib.sh

last=$("$bin/ipgen" 127.93.0.0/16 --limit "$FLEET" | tail -n 1)
"$bin/ipgen" "127.93.0.1-$last" > "$tmp/addresses"
serve_siksim "$bin" "$PORT" --persona eh "127.93.0.1-$last"

echo "bench: $FLEET radios, -j $JOBS, port $PORT; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
printf '%-10s %8s %9s %14s %11s %13s %s\n' transport wall hosts/s "CPU/host (ms)" "peak procs" "peak RSS (MB)" statuses
declare -A wall cpu
for transport in native openssh; do
    line=$(python3 bench/procstat.py \
        "'$bin/sikprobe' --transport $transport -p $PORT -j $JOBS -q < '$tmp/addresses' > '$tmp/records'")
    eval "$(echo "$line" | tr ' ' '\n' | sed 's/^/m_/')"
    wall[$transport]=$m_wall
    cpu[$transport]=$m_cpu
    statuses=$(jq -r .status "$tmp/records" | sort | uniq -c | awk '{printf "%s %s ", $1, $2}')
    awk -v t="$transport" -v w="$m_wall" -v c="$m_cpu" -v n="$FLEET" -v p="$m_peak_procs" \
        -v r="$m_peak_rss_mb" -v s="$statuses" \
        'BEGIN { printf "%-10s %7.2fs %9.0f %14.2f %11d %13d %s\n", t, w, n / w, c * 1000 / n, p, r, s }'
done
awk -v wn="${wall[native]}" -v wo="${wall[openssh]}" -v cn="${cpu[native]}" -v co="${cpu[openssh]}" \
    'BEGIN { printf "openssh / native: wall %.1fx, CPU per host %.1fx\n", wo / wn, co / cn }'
if [ -n "${BENCH_SUMMARY:-}" ]; then
    printf 'sikprobe\tzero latency, %s hosts, -j %s: transports\tsikprobe --transport native\t%s\tsikprobe --transport openssh\t%s\ts\tlower\n' \
        "$FLEET" "$JOBS" "${wall[native]}" "${wall[openssh]}" >> "$BENCH_SUMMARY"
fi
