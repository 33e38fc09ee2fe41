#!/usr/bin/env bash
# The whole pipeline against the simulated demo fleet, in one command:
#
#   ./demo.sh [OUTDIR]        (default: out/)
#
# Builds the tools, serves siksim's demo fleet (254 radios and failure cases on
# 127.77.0.0/24, port 2222, loopback only) in the background, runs
#   ipgen 127.77.0.0/24 | sikprobe -j 200 | batchsave OUTDIR
# prints where the results are and what was found, and stops siksim.
set -euo pipefail
cd "$(dirname "$0")"
out=${1:-out}
port=2222

echo "demo: building (cargo build --release) ..." >&2
cargo build --release --quiet --bins
bin=${CARGO_TARGET_DIR:-target}/release

log=$(mktemp)
"$bin/siksim" --demo --port "$port" 2> "$log" &
sim=$!
trap 'kill "$sim" 2>/dev/null; wait "$sim" 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 300); do
    grep -q ': ready: ' "$log" && break
    kill -0 "$sim" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.1
done
grep ': ready: ' "$log" >&2 || { echo "demo: siksim did not start" >&2; cat "$log" >&2; exit 1; }

echo "demo: ipgen 127.77.0.0/24 | sikprobe -p $port -j 200 | batchsave $out/" >&2
"$bin/ipgen" 127.77.0.0/24 \
    | "$bin/sikprobe" -p "$port" -j 200 --connect-timeout 2s --handshake-timeout 3s --deadline 15s \
    | "$bin/batchsave" "$out"

echo
echo "Results in $out/ (manifest.json lists every file):"
ls "$out"
echo
echo "What was found (count, status, radio type, model):"
tabulate() {
    if command -v jq >/dev/null; then
        jq -r '[.status, (.radio_type // "-"), (.model // "-")] | @tsv'
    else
        python3 -c 'import json, sys
for line in sys.stdin:
    r = json.loads(line)
    print("\t".join([r["status"], r.get("radio_type") or "-", r.get("model") or "-"]))'
    fi
}
cat "$out"/*.ndjson | tabulate | sort | uniq -c | sort -rn \
    | awk '{ printf "  %5d  %-17s %-4s %s\n", $1, $2, $3, $4 }'
