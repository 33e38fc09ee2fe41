#!/usr/bin/env bash
# sikprobe -a backup on siksim fleets, in one run, on loopback only.
#
#   bench/backup.sh
#
# 1. Zero latency, against -a scan: BACKUP_FLEET (10000) radios (EH, BU, TU and TG DNs in the
#    proportions 4:2:2:2) on BACKUP_BLOCK (127.203.64.0/18), sikprobe -j BACKUP_JOBS (1000).
#    Each action runs ROUNDS (3) times, alternating, so both see the same machine; the best
#    wall time of each is kept. Prints wall time, hosts/s, client CPU (user+sys) and peak RSS,
#    and backup's wall time as a ratio to scan's (target: at most 2).
# 2. WAN: BACKUP_WAN_FLEET (2000) radios of the same mix on BACKUP_WAN_BLOCK (127.203.128.0/18),
#    each with a 1 s login and 200 ms per response, sikprobe -a backup -j BACKUP_WAN_JOBS
#    (2000), best of ROUNDS. Prints wall time and radios per minute (Oxidized reports 4-50
#    devices per minute), and the floor measured in the same run: one radio of each type backed
#    up alone (1 s login + one 200 ms response per command: 1.4 s for EH/BU/TU, 1.2 s for TG),
#    the slowest of them times ceil(BACKUP_WAN_FLEET / BACKUP_WAN_JOBS) waves, which no client
#    with that many logins at once can beat; and the fleet's wall time as a ratio to it.
# Every record must be ok and every backup must hold a config. Both fleets are served on
# BACKUP_PORT (2425). With BENCH_SUMMARY=FILE, also appends result lines to FILE (bench/all.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
FLEET=${BACKUP_FLEET:-10000}
JOBS=${BACKUP_JOBS:-1000}
ROUNDS=${ROUNDS:-3}
PORT=${BACKUP_PORT:-2425}
BLOCK=${BACKUP_BLOCK:-127.203.64.0/18}
WAN_FLEET=${BACKUP_WAN_FLEET:-2000}
WAN_JOBS=${BACKUP_WAN_JOBS:-2000}
WAN_BLOCK=${BACKUP_WAN_BLOCK:-127.203.128.0/18}
[ -x /usr/bin/time ] || { echo "bench: GNU time is missing: apt-get install time" >&2; exit 2; }
cargo build --release --quiet --bins
bin=${CARGO_TARGET_DIR:-target}/release
. bench/lib.sh

# fleet BLOCK COUNT NAME [KEY = VALUE ...]: writes $tmp/NAME.addresses (the first COUNT usable
# addresses of BLOCK) and $tmp/NAME.toml, a fleet file serving them as EH, with every fifth
# address (lines 1, 2, 3 of each five) carved out as BU, TU and TG DNs; every group gets the
# KEY = VALUE lines.
fleet() {
    local block=$1 count=$2 name=$3 first last
    shift 3
    "$bin/ipgen" "$block" --limit "$count" > "$tmp/$name.addresses"
    first=$(head -n 1 "$tmp/$name.addresses")
    last=$(tail -n 1 "$tmp/$name.addresses")
    {
        echo '[[group]]'
        echo "addresses = \"$first-$last\""
        echo 'persona = "eh"'
        [ $# -eq 0 ] || printf '%s\n' "$@"
        for persona in bu tu tg; do
            echo '[[group]]'
            echo "addresses = ["
            case $persona in bu) k=1 ;; tu) k=2 ;; tg) k=3 ;; esac
            awk -v k="$k" 'NR % 5 == k { printf "  \"%s\",\n", $0 }' "$tmp/$name.addresses"
            echo "]"
            echo "persona = \"$persona\""
            [ $# -eq 0 ] || printf '%s\n' "$@"
        done
    } > "$tmp/$name.toml"
}
stop_siksim() { kill "$sim_pid"; wait "$sim_pid" || true; sim_pid=""; }

# backup_run NAME ACTION JOBS ADDRESSES COUNT: sikprobe -a ACTION on ADDRESSES under GNU time
# (records in $tmp/records.NAME, "wall user sys rss" in $line); exits unless all COUNT records
# are ok and, for backup, hold a config.
backup_run() {
    local name=$1 action=$2 jobs=$3 addresses=$4 count=$5 wall user sys rss records ok configs
    /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" \
        "$bin/sikprobe" -p "$PORT" -a "$action" -j "$jobs" -q \
        < "$addresses" > "$tmp/records.$name" 2> "$tmp/err"
    read -r wall user sys rss < "$tmp/time"
    records=$(wc -l < "$tmp/records.$name")
    ok=$(jq -r .status "$tmp/records.$name" | grep -cx ok || true)
    configs=$(jq -r 'select(.config != null) | .ip' "$tmp/records.$name" | wc -l)
    echo "bench: $name: -a $action -j $jobs: ${wall}s, $ok/$records ok, $configs configs" >&2
    if [ "$records" != "$count" ] || [ "$ok" != "$count" ]; then
        echo "bench: $name: not every radio is ok" >&2
        jq -r 'select(.status != "ok") | [.ip, .status, .error] | @tsv' "$tmp/records.$name" | head >&2
        exit 1
    fi
    if [ "$action" = backup ] && [ "$configs" != "$count" ]; then
        echo "bench: $name: $configs configs for $count radios" >&2
        exit 1
    fi
    line="$wall $user $sys $rss"
}
# better BEST LINE: true when LINE's wall time beats BEST's (or BEST is empty).
better() { [ -z "$1" ] || awk "BEGIN{exit !(${2%% *} < ${1%% *})}"; }

summary() {
    if [ -n "${BENCH_SUMMARY:-}" ]; then printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$BENCH_SUMMARY"; fi
}

# 1. Zero latency: backup against scan.
fleet "$BLOCK" "$FLEET" zero
serve_siksim "$bin" "$PORT" --fleet "$tmp/zero.toml"
best_scan="" best_backup=""
for round in $(seq "$ROUNDS"); do
    backup_run "zero-scan" scan "$JOBS" "$tmp/zero.addresses" "$FLEET"
    if better "$best_scan" "$line"; then best_scan=$line; fi
    backup_run "zero-backup" backup "$JOBS" "$tmp/zero.addresses" "$FLEET"
    if better "$best_backup" "$line"; then best_backup=$line; fi
done
stop_siksim

printf '\n%-22s %8s %10s %12s %10s\n' "sikprobe -j $JOBS" "wall s" "hosts/s" "CPU ms/host" "RSS MB"
for action in scan backup; do
    if [ "$action" = scan ]; then set -- $best_scan; else set -- $best_backup; fi
    awk -v a="-a $action" -v w="$1" -v u="$2" -v s="$3" -v r="$4" -v n="$FLEET" \
        'BEGIN { printf "%-22s %8.2f %10.0f %12.2f %10.0f\n", a, w, n / w, (u + s) * 1000 / n, r / 1024 }'
done
awk -v b="${best_backup%% *}" -v s="${best_scan%% *}" \
    'BEGIN { printf "\nbackup / scan wall time: %.2f (target <= 2)\n", b / s }'
bytes=$(jq -r '.config | length' "$tmp/records.zero-backup" | awk '{ t += $1 } END { print t }')
echo "configuration text backed up: $bytes characters for $FLEET radios"
summary backup "zero latency, $FLEET radios: -a backup against -a scan (target <= 2x scan)" \
    "sikprobe -a backup -j $JOBS" "${best_backup%% *}" "sikprobe -a scan -j $JOBS" "${best_scan%% *}" s lower

# 2. WAN: 1 s per login, 200 ms per response.
fleet "$WAN_BLOCK" "$WAN_FLEET" wan 'login_delay = "1s"' 'response_delay = "200ms"'
serve_siksim "$bin" "$PORT" --fleet "$tmp/wan.toml"
# One radio of each type alone (lines 1-4 of the addresses are BU, TU, TG and EH): the floor.
floor=0
printf '\n%-6s %8s %10s %s\n' "alone" "wall s" "commands" "1 s login + commands x 200 ms"
for n in 1 2 3 4; do
    sed -n "${n}p" "$tmp/wan.addresses" > "$tmp/one"
    backup_run "wan-alone-$n" backup 1 "$tmp/one" 1
    wall=${line%% *}
    radio_type=$(jq -r .radio_type "$tmp/records.wan-alone-$n")
    commands=$(jq -r '.commands | length' "$tmp/records.wan-alone-$n")
    awk -v t="$radio_type" -v w="$wall" -v c="$commands" \
        'BEGIN { printf "%-6s %8.2f %10d %.2f s\n", t, w, c, 1 + c * 0.2 }'
    floor=$(awk -v f="$floor" -v w="$wall" 'BEGIN { print (w > f) ? w : f }')
done
waves=$(( (WAN_FLEET + WAN_JOBS - 1) / WAN_JOBS ))
least=$(awk -v f="$floor" -v n="$waves" 'BEGIN { printf "%.2f", f * n }')
best_wan=""
for round in $(seq "$ROUNDS"); do
    backup_run "wan-backup" backup "$WAN_JOBS" "$tmp/wan.addresses" "$WAN_FLEET"
    if better "$best_wan" "$line"; then best_wan=$line; fi
done
stop_siksim
set -- $best_wan
wan_wall=$1
per_minute=$(awk -v n="$WAN_FLEET" -v w="$wan_wall" 'BEGIN { printf "%.0f", n * 60 / w }')
echo
echo "WAN (1 s login, 200 ms/response), $WAN_FLEET radios, sikprobe -a backup -j $WAN_JOBS:"
awk -v w="$wan_wall" -v u="$2" -v s="$3" -v r="$4" -v n="$WAN_FLEET" -v m="$per_minute" \
    'BEGIN { printf "  wall %.2f s, %d radios/minute (Oxidized reports 4-50), client CPU %.2f ms/radio, RSS %.0f MB\n", w, m, (u + s) * 1000 / n, r / 1024 }'
awk -v w="$wan_wall" -v f="$floor" -v n="$waves" -v l="$least" \
    'BEGIN { printf "  floor: the slowest radio alone %.2f s x %d wave(s) = %.2f s; wall / floor: %.2f\n", f, n, l, w / l }'
summary backup "WAN (1 s login, 200 ms/response), $WAN_FLEET radios: radios per minute (Oxidized reports 4-50)" \
    "sikprobe -a backup -j $WAN_JOBS" "$per_minute" - - radios/min higher
summary backup "WAN, $WAN_FLEET radios: against the least possible ($waves x the slowest radio alone)" \
    "sikprobe -a backup -j $WAN_JOBS" "$wan_wall" "any client" "$least" s lower
