#!/usr/bin/env bash
# sikprobe -a backup against -a scan on the same fleet, in one run, on loopback only.
#
#   bench/backup.sh
#
# BACKUP_FLEET (10000) zero-latency radios served by siksim (EH, BU, TU and TG DNs in the
# proportions 4:2:2:2), sikprobe -j BACKUP_JOBS (1000). Each action runs ROUNDS (3) times,
# alternating, so both see the same machine; the best wall time of each is kept. Prints wall
# time, hosts/s, client CPU (user+sys) and peak RSS, and backup's wall time as a ratio to
# scan's (target: at most 2). Every record must be ok and every backup must hold a config.
set -euo pipefail
cd "$(dirname "$0")/.."
FLEET=${BACKUP_FLEET:-10000}
JOBS=${BACKUP_JOBS:-1000}
ROUNDS=${ROUNDS:-3}
PORT=${BACKUP_PORT:-2425}
[ -x /usr/bin/time ] || { echo "bench: GNU time is missing: apt-get install time" >&2; exit 2; }
cargo build --release --quiet --bins
bin=${CARGO_TARGET_DIR:-target}/release
. bench/lib.sh

first=127.203.64.1
last=$("$bin/ipgen" 127.203.64.0/18 --limit "$FLEET" | tail -n 1)
"$bin/ipgen" "$first-$last" > "$tmp/addresses"
# A fleet file: the block as EH, then every fifth address BU, TU and TG DNs carved out of it.
{
    echo '[[group]]'
    echo "addresses = \"$first-$last\""
    echo 'persona = "eh"'
    for persona in bu tu tg; do
        echo '[[group]]'
        echo "addresses = ["
        case $persona in bu) k=1 ;; tu) k=2 ;; tg) k=3 ;; esac
        awk -v k="$k" 'NR % 5 == k { printf "  \"%s\",\n", $0 }' "$tmp/addresses"
        echo "]"
        echo "persona = \"$persona\""
    done
} > "$tmp/fleet.toml"
serve_siksim "$bin" "$PORT" --fleet "$tmp/fleet.toml"

best_scan="" best_backup=""
for round in $(seq "$ROUNDS"); do
    for action in scan backup; do
        /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" \
            "$bin/sikprobe" -p "$PORT" -a "$action" -j "$JOBS" -q \
            < "$tmp/addresses" > "$tmp/records.$action" 2> "$tmp/err"
        read -r wall user sys rss < "$tmp/time"
        records=$(wc -l < "$tmp/records.$action")
        ok=$(jq -r .status "$tmp/records.$action" | grep -cx ok || true)
        configs=$(jq -r 'select(.config != null) | .ip' "$tmp/records.$action" | wc -l)
        echo "bench: round $round: -a $action: ${wall}s, $ok/$records ok, $configs configs" >&2
        if [ "$records" != "$FLEET" ] || [ "$ok" != "$FLEET" ]; then
            echo "bench: -a $action: not every radio is ok" >&2
            jq -r 'select(.status != "ok") | [.ip, .status, .error] | @tsv' \
                "$tmp/records.$action" | head >&2
            exit 1
        fi
        if [ "$action" = backup ] && [ "$configs" != "$FLEET" ]; then
            echo "bench: -a backup: $configs configs for $FLEET radios" >&2
            exit 1
        fi
        line="$wall $user $sys $rss"
        case $action in
            scan) if [ -z "$best_scan" ] || awk "BEGIN{exit !($wall < ${best_scan%% *})}"; then best_scan=$line; fi ;;
            backup) if [ -z "$best_backup" ] || awk "BEGIN{exit !($wall < ${best_backup%% *})}"; then best_backup=$line; fi ;;
        esac
    done
done

printf '\n%-22s %8s %10s %12s %10s\n' "sikprobe -j $JOBS" "wall s" "hosts/s" "CPU ms/host" "RSS MB"
for action in scan backup; do
    if [ "$action" = scan ]; then set -- $best_scan; else set -- $best_backup; fi
    awk -v a="-a $action" -v w="$1" -v u="$2" -v s="$3" -v r="$4" -v n="$FLEET" \
        'BEGIN { printf "%-22s %8.2f %10.0f %12.2f %10.0f\n", a, w, n / w, (u + s) * 1000 / n, r / 1024 }'
done
awk -v b="${best_backup%% *}" -v s="${best_scan%% *}" \
    'BEGIN { printf "\nbackup / scan wall time: %.2f (target <= 2)\n", b / s }'
bytes=$(jq -r '.config | length' "$tmp/records.backup" | awk '{ t += $1 } END { print t }')
echo "configuration text backed up: $bytes characters for $FLEET radios"
