#!/usr/bin/env bash
# A guarded change (sikprobe --guard) on a WAN fleet, in one run, on loopback only.
#
#   bench/guard.sh
#
# GUARD_FLEET (2000) EH radios on GUARD_BLOCK (127.237.0.0/20), served on GUARD_PORT (2426),
# each with a 1 s login, 200 ms per response and a GUARD_REBOOT (2s) reboot; every second
# radio takes its RF link down on 'set rf tx-power', so half the fleet (and the radios whose
# simulated link is down already) fails verification ('show rf' must say 'rf operational :
# up') and is reverted by its rollback timer.
# sikprobe -j GUARD_JOBS (2000) --guard GUARD_TIMEOUT (10s) --save -c 'set rf tx-power 5'.
#
# The floor is measured in the same run: one radio of each kind alone (-j 1), a confirmed
# one (two logins and the commands: read, arm, change, verify, clear, save) and a reverted one
# (the verification tried for half the guard, then the rest of the timer, the reboot and the
# login after it). The fleet cannot finish before its slowest kind does alone; the script
# prints the fleet's wall time as a ratio to that floor, client CPU per radio and peak RSS,
# and fails unless every radio ended as it should (ok / reverted; see "expected" below). With
# BENCH_SUMMARY=FILE, also appends result lines to FILE (bench/all.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
FLEET=${GUARD_FLEET:-2000}
JOBS=${GUARD_JOBS:-2000}
PORT=${GUARD_PORT:-2426}
BLOCK=${GUARD_BLOCK:-127.237.0.0/20}
TIMEOUT=${GUARD_TIMEOUT:-10s}
REBOOT=${GUARD_REBOOT:-2s}
[ -x /usr/bin/time ] || { echo "bench: GNU time is missing: apt-get install time" >&2; exit 2; }
cargo build --release --quiet --bins
bin=${CARGO_TARGET_DIR:-target}/release
. bench/lib.sh

summary() {
    if [ -n "${BENCH_SUMMARY:-}" ]; then printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$BENCH_SUMMARY"; fi
}

# The fleet: odd lines of the addresses keep their RF up, even lines take it down.
"$bin/ipgen" "$BLOCK" --limit "$FLEET" > "$tmp/addresses"
{
    for kind in healthy failing; do
        echo '[[group]]'
        echo 'addresses = ['
        if [ "$kind" = healthy ]; then k=1; else k=0; fi
        awk -v k="$k" 'NR % 2 == k { printf "  \"%s\",\n", $0 }' "$tmp/addresses"
        echo ']'
        echo 'persona = "eh"'
        echo 'login_delay = "1s"'
        echo 'response_delay = "200ms"'
        echo "reboot_time = \"$REBOOT\""
        [ "$kind" = healthy ] || echo 'rf_down_on = "set rf tx-power"'
    done
} > "$tmp/fleet.toml"
serve_siksim "$bin" "$PORT" --fleet "$tmp/fleet.toml"

# guarded NAME JOBS ADDRESSES: the guarded change on ADDRESSES under GNU time (records in
# $tmp/records.NAME, "wall user sys rss" in $line); exits unless every radio ended as
# $tmp/expected says.
guarded() {
    local name=$1 jobs=$2 addresses=$3 wall user sys rss wrong
    /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" \
        "$bin/sikprobe" -p "$PORT" -j "$jobs" -q --guard "$TIMEOUT" --revert-wait 60s --save \
        --verify 'show rf' --expect 'rf operational\s*:\s*up' -c 'set rf tx-power 5' \
        < "$addresses" > "$tmp/records.$name" 2> "$tmp/err" || {
        echo "bench: $name: sikprobe failed" >&2
        cat "$tmp/err" >&2
        exit 1
    }
    read -r wall user sys rss < "$tmp/time"
    # Each radio's expected status by its line in the whole fleet's addresses.
    jq -r '[.ip, .status, .error] | @tsv' "$tmp/records.$name" |
        awk -F'\t' 'NR == FNR { want[$1] = $2; next } want[$1] != $2 { print }' \
            "$tmp/expected" - > "$tmp/wrong.$name"
    wrong=$(wc -l < "$tmp/wrong.$name")
    echo "bench: $name: -j $jobs: ${wall}s, $(wc -l < "$tmp/records.$name") records, $wrong wrong" >&2
    if [ "$wrong" != 0 ]; then
        sed -n 1,10p "$tmp/wrong.$name" >&2
        cut -f2 "$tmp/wrong.$name" | sort | uniq -c >&2
        exit 1
    fi
    line="$wall $user $sys $rss"
}

# What each radio should end as: ok where its link is up and stays up, reverted where the
# change takes it down, and reverted too where the simulated fleet has it down already (siksim
# gives some radios a link that is down), as read with 'show rf' before the change.
"$bin/sikprobe" -p "$PORT" -j "$JOBS" -q -c 'show rf' < "$tmp/addresses" |
    jq -r '[.ip, (.commands[0].output | test("rf operational\\s*:\\s*up"))] | @tsv' |
    awk -F'\t' 'NR == FNR { line[$0] = FNR; next }
                { print $1 "\t" ((line[$1] % 2 == 1 && $2 == "true") ? "ok" : "reverted") }' \
        "$tmp/addresses" - > "$tmp/expected"
[ "$(wc -l < "$tmp/expected")" = "$FLEET" ] || { echo "bench: show rf before: not every radio" >&2; exit 1; }
echo "bench: expected: $(cut -f2 "$tmp/expected" | sort | uniq -c | tr -s ' \n' ' ')" >&2

printf '%-10s %8s  %s\n' "alone" "wall s" "outcome"
floor=0
# One radio of each kind alone: the first expected to be confirmed, the first to revert.
for want in ok reverted; do
    n=$(awk -F'\t' -v w="$want" '$2 == w { print $1; exit }' "$tmp/expected")
    echo "$n" > "$tmp/one"
    guarded "alone-$want" 1 "$tmp/one"
    wall=${line%% *}
    printf '%-10s %8.2f  %s\n' "$want" "$wall" "$(jq -r '.guard.outcome' "$tmp/records.alone-$want")"
    floor=$(awk -v f="$floor" -v w="$wall" 'BEGIN { print (w > f) ? w : f }')
done
guarded fleet "$JOBS" "$tmp/addresses"
kill "$sim_pid"; wait "$sim_pid" || true; sim_pid=""
set -- $line
echo
echo "guarded change on $FLEET WAN radios (1 s login, 200 ms/response, $REBOOT reboot), half reverted, sikprobe -j $JOBS --guard $TIMEOUT:"
awk -v w="$1" -v u="$2" -v s="$3" -v r="$4" -v n="$FLEET" -v f="$floor" \
    'BEGIN { printf "  wall %.2f s; floor (the slowest kind alone) %.2f s; wall / floor %.2f; client CPU %.2f ms/radio; peak RSS %.0f MB\n", w, f, w / f, (u + s) * 1000 / n, r / 1024 }'
summary guard "guarded change, $FLEET WAN radios, half reverted: against the slowest radio alone" \
    "sikprobe --guard $TIMEOUT -j $JOBS" "$1" "one radio alone" "$floor" s lower
