#!/usr/bin/env bash
# sikprobe benchmark against the tools our users run today, in one run, on loopback only.
#
#   bench/sikprobe.sh            (as root: batchscanner can only connect to port 22)
#
# 1. Zero latency: ZERO_FLEET (10000) EtherHaul radios served by siksim, sharing the CPUs.
#    sikprobe -j 200 / 1000 / 5000, batchscanner 0.1.7 '-a scan' (its default 50 processes) and
#    the netmiko + ThreadPoolExecutor pattern (200 workers, 'show system').
# 2. WAN latency: WAN_FLEET (2000) radios of siksim's slow persona (1 s per login, 200 ms per
#    response). sikprobe -j 2000 against the same two baselines; then '-a show' against
#    batchscanner '-a show'. One radio alone is timed too: no client with 2000 logins at once
#    can take less than ceil(WAN_FLEET / 2000) times that, which bounds every ratio here, and
#    the bound is printed beside the measured ratios.
# 3. '-a show' at zero latency on SHOW_FLEET (2000) radios.
# 4. '--check ssh,telnet' on the demo fleet (254 addresses, SSH on 22 and Telnet on 23, its
#    failure personas included: the slowest hosts, a 2 s login and silent ones cut by a 2 s
#    handshake timeout, bound the wall time).
# Prints wall time, hosts/s, client CPU per host (user+sys, children included) and peak RSS,
# and each baseline's wall time as a ratio to sikprobe's.
# With BENCH_SUMMARY=FILE, also appends machine-readable result lines to FILE (bench/all.sh):
# every baseline against its scenario's sikprobe row, and sikprobe rows without a baseline.
set -euo pipefail
cd "$(dirname "$0")/.."
ZERO_FLEET=${ZERO_FLEET:-10000}
WAN_FLEET=${WAN_FLEET:-2000}
SHOW_FLEET=${SHOW_FLEET:-2000}
venv=${SIKSCAN_BENCH_VENV:-$HOME/.cache/sikscan-bench-venv}

if [ "$(id -u)" != 0 ]; then
    echo "bench: batchscanner only connects to port 22; run as root" >&2
    exit 2
fi
[ -x /usr/bin/time ] || { echo "bench: GNU time is missing: apt-get install time" >&2; exit 2; }
cargo build --release --quiet --bins
bin=${CARGO_TARGET_DIR:-target}/release
if [ ! -x "$venv/bin/batchscanner" ] || ! "$venv/bin/python" -c 'import netmiko' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q batchscanner-siklu==0.1.7 netmiko
fi
. bench/lib.sh

# serve ARGS...: starts siksim on port 22 and waits for its ready line.
serve() { serve_siksim "$bin" 22 "$@"; }
stop() { kill "$sim_pid"; wait "$sim_pid" || true; sim_pid=""; }

# timed CMD...: runs CMD under GNU time; sets wall, user, sys and rss.
timed() {
    /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "$@" > "$tmp/out" 2> "$tmp/err" || true
    read -r wall user sys rss < "$tmp/time"
}

# result SCENARIO LABEL HOSTS OUTCOME: records the figures of the last timed run.
result() {
    echo "$1|$2|$3|$wall|$user|$sys|$rss|$4" >> "$tmp/results"
}

# sikprobe_run SCENARIO JOBS HOSTS [ACTION]
sikprobe_run() {
    local scenario=$1 jobs=$2 hosts=$3 action=${4:-scan}
    echo "bench: $scenario: sikprobe -a $action -j $jobs ..." >&2
    timed sh -c "'$bin/sikprobe' -p 22 -a $action -j $jobs -q < '$tmp/addresses' > '$tmp/records'"
    result "$scenario" "sikprobe -a $action -j $jobs" "$hosts" \
        "$(jq -r .status "$tmp/records" | sort | uniq -c | awk '{printf "%s %s ", $1, $2}')"
}

# batchscanner_run SCENARIO FIRST LAST HOSTS [ACTION]
batchscanner_run() {
    local scenario=$1 first=$2 last=$3 hosts=$4 action=${5:-scan}
    echo "bench: $scenario: batchscanner -a $action ..." >&2
    rm -rf "$tmp/bs" && mkdir -p "$tmp/bs"
    printf '%s - %s\n' "$first" "$last" > "$tmp/bs/network.txt"
    printf 'output_directory = "output"\n' > "$tmp/bs/config.toml"
    (cd "$tmp/bs" && timed sh -c "echo | '$venv/bin/batchscanner' -a $action -n network.txt -c config.toml")
    read -r wall user sys rss < "$tmp/time"
    result "$scenario" "batchscanner -a $action (50 proc)" "$hosts" \
        "identified $(cat "$tmp"/bs/output/*_scan_results.csv 2>/dev/null | grep -c ',EH,' || true)"
}

# floor_run SCENARIO JOBS HOSTS: one radio of the fleet alone; ceil(HOSTS / JOBS) times its wall
# time is the least any client at -j JOBS could take, which bounds every ratio of the scenario.
floor_run() {
    local scenario=$1 jobs=$2 hosts=$3
    echo "bench: $scenario: one radio alone ..." >&2
    head -n 1 "$tmp/addresses" > "$tmp/one"
    timed sh -c "'$bin/sikprobe' -p 22 -q < '$tmp/one' > '$tmp/records'"
    result "$scenario" "sikprobe, one radio alone" 1 "$(jq -r .status "$tmp/records")"
    echo "$scenario|$wall|$(( (hosts + jobs - 1) / jobs ))|$jobs" >> "$tmp/floors"
}

netmiko_run() {
    local scenario=$1 hosts=$2
    echo "bench: $scenario: netmiko ..." >&2
    timed sh -c "'$venv/bin/python' bench/netmiko_pool.py 200 22 < '$tmp/addresses'"
    result "$scenario" "netmiko pool (200 threads)" "$hosts" "$(cat "$tmp/out")"
}

: > "$tmp/results"

# 1. Zero latency.
zero_first=127.90.0.1
zero_last=$("$bin/ipgen" 127.90.0.0/16 --limit "$ZERO_FLEET" | tail -n 1)
"$bin/ipgen" "$zero_first-$zero_last" > "$tmp/addresses"
serve --persona eh "$zero_first-$zero_last"
for jobs in 200 1000 5000; do sikprobe_run zero "$jobs" "$ZERO_FLEET"; done
batchscanner_run zero "$zero_first" "$zero_last" "$ZERO_FLEET"
netmiko_run zero "$ZERO_FLEET"
stop

# 2. WAN latency.
wan_first=127.91.0.1
wan_last=$("$bin/ipgen" 127.91.0.0/16 --limit "$WAN_FLEET" | tail -n 1)
"$bin/ipgen" "$wan_first-$wan_last" > "$tmp/addresses"
cat > "$tmp/wan.toml" <<TOML
[[group]]
addresses = "$wan_first-$wan_last"
persona = "slow"
login_delay = "1s"
response_delay = "200ms"
TOML
serve --fleet "$tmp/wan.toml"
sikprobe_run wan 2000 "$WAN_FLEET"
floor_run wan 2000 "$WAN_FLEET"
batchscanner_run wan "$wan_first" "$wan_last" "$WAN_FLEET"
netmiko_run wan "$WAN_FLEET"
# 3. --action show: the same WAN fleet, then SHOW_FLEET radios at zero latency.
sikprobe_run wan-show 2000 "$WAN_FLEET" show
batchscanner_run wan-show "$wan_first" "$wan_last" "$WAN_FLEET" show
stop

show_last=$("$bin/ipgen" 127.92.0.0/16 --limit "$SHOW_FLEET" | tail -n 1)
"$bin/ipgen" "127.92.0.1-$show_last" > "$tmp/addresses"
serve --persona eh "127.92.0.1-$show_last"
sikprobe_run zero-show 200 "$SHOW_FLEET" show
stop

# 4. Reachability over both protocols (--check ssh,telnet).
"$bin/ipgen" 127.77.0.0/24 > "$tmp/addresses"
serve --demo
echo "bench: check: sikprobe --check ssh,telnet ..." >&2
timed sh -c "'$bin/sikprobe' -p 22 --telnet-port 23 --check ssh,telnet -j 254 --connect-timeout 1s --handshake-timeout 2s -q < '$tmp/addresses' > '$tmp/records'"
result check "sikprobe --check ssh,telnet -j 254" 254 \
    "$(jq -r '"ssh=\(.reachable.ssh),telnet=\(.reachable.telnet)"' "$tmp/records" | sort | uniq -c | awk '{printf "%s %s ", $1, $2}')"
stop

echo
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; siksim shares the CPUs"
awk -F'|' '
    $2 ~ /^sikprobe -a [a-z-]+ -j (200|2000)$/ { base[$1] = $4 }
    { rows[NR] = $0 }
    END {
        printf "%-10s %-32s %6s %8s %8s %11s %9s %9s  %s\n", "", "tool", "hosts", "wall s", "hosts/s", "CPU ms/host", "RSS MB", "vs sikprobe", "outcome"
        for (i = 1; i <= NR; i++) {
            split(rows[i], f, "|")
            cpu = (f[5] + f[6]) * 1000 / f[3]
            ratio = (f[2] ~ /^sikprobe/) ? "" : sprintf("%.1fx", f[4] / base[f[1]])
            printf "%-10s %-32s %6d %8.2f %8.0f %11.2f %9.1f %9s  %s\n", f[1], f[2], f[3], f[4], f[3] / f[4], cpu, f[7] / 1024, ratio, f[8]
        }
    }' "$tmp/results"
# What the fastest possible client would show: the floor of each scenario that measured one.
awk -F'|' '
    FILENAME == ARGV[1] { floor[$1] = $2 * $3; waves[$1] = $3; one[$1] = $2; jobs[$1] = $4; next }
    ($1 in floor) && $2 !~ /^sikprobe/ {
        printf "%s: one radio alone takes %.2f s, so no client with %d logins at once finishes in less than %d x %.2f s: the best ratio possible against %s is %.1fx\n", $1, one[$1], jobs[$1], waves[$1], one[$1], $2, $4 / floor[$1]
    }' "$tmp/floors" "$tmp/results"

# The same results for bench/all.sh (tab-separated, see summary() in bench/ipgen.sh).
if [ -n "${BENCH_SUMMARY:-}" ]; then
    awk -F'|' '
        BEGIN {
            name["zero"] = "zero latency"; name["wan"] = "WAN (1 s login, 200 ms/response)"
            name["wan-show"] = "WAN, -a show"; name["zero-show"] = "zero latency, -a show"
            name["check"] = "demo fleet, --check ssh,telnet"
        }
        { rows[NR] = $0 }
        $2 ~ /^sikprobe/ && !($1 in base) { base[$1] = $4; label[$1] = $2 }
        $2 ~ /^sikprobe -a [a-z-]+ -j (200|2000)$/ { base[$1] = $4; label[$1] = $2 }
        $2 !~ /^sikprobe/ { compared[$1] = 1 }
        END {
            for (i = 1; i <= NR; i++) {
                split(rows[i], f, "|")
                what = (f[1] in name ? name[f[1]] : f[1]) ", " f[3] " hosts"
                if (f[2] !~ /^sikprobe/)
                    printf "sikprobe\t%s\t%s\t%s\t%s\t%s\ts\tlower\n", what, label[f[1]], base[f[1]], f[2], f[4]
                else if (f[2] != label[f[1]] || !(f[1] in compared))
                    printf "sikprobe\t%s\t%s\t%s\t-\t-\ts\tlower\n", what, f[2], f[4]
            }
        }' "$tmp/results" >> "$BENCH_SUMMARY"
    # The bound: a client as fast as the radios allow, against each baseline.
    awk -F'|' '
        FILENAME == ARGV[1] { floor[$1] = $2 * $3; waves[$1] = $3; next }
        ($1 in floor) && $2 !~ /^sikprobe/ {
            printf "sikprobe\tWAN, %s hosts: the least possible (%d x one radio alone)\tany client\t%.2f\t%s\t%s\ts\tlower\n", $3, waves[$1], floor[$1], $2, $4
        }' "$tmp/floors" "$tmp/results" >> "$BENCH_SUMMARY"
fi
