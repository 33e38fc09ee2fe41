#!/usr/bin/env bash
# The whole pipeline against the simulated demo fleet, in one command:
#
#   ./demo.sh [OUTDIR]        (default: out/)
#
# Builds the tools, serves siksim's demo fleet (254 radios and failure cases on
# 127.77.0.0/24, port 2222, loopback only) in the background, runs
#   ipgen 127.77.0.0/24 | sikprobe -p 2222 -j 200 ... | batchsave OUTDIR
# (it prints the exact command), prints the files this run wrote and a table of what it
# found, and stops siksim. Run again into the same OUTDIR, it adds batches and the table
# shows the new run only.
#
# DEMO_BIN=DIR uses the tools already built in DIR instead of building them; DEMO_PORT
# serves the fleet on another port than 2222 (tests/demo.rs runs the demo that way).
set -euo pipefail
cd "$(dirname "$0")"
out=${1:-out}
port=${DEMO_PORT:-2222}

if [ -n "${DEMO_BIN:-}" ]; then
    bin=$DEMO_BIN
else
    echo "demo: building (cargo build --release) ..." >&2
    cargo build --release --quiet --bins
    bin=${CARGO_TARGET_DIR:-target}/release
fi

log=$(mktemp)
before=$(mktemp)
"$bin/siksim" --demo --port "$port" 2> "$log" &
sim=$!
trap 'kill "$sim" 2>/dev/null; wait "$sim" 2>/dev/null; rm -f "$log" "$before"' EXIT
for _ in $(seq 300); do
    grep -q ': ready: ' "$log" && break
    kill -0 "$sim" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.1
done
grep ': ready: ' "$log" >&2 || { echo "demo: siksim did not start" >&2; cat "$log" >&2; exit 1; }

# What OUTDIR held before, so that the table shows this run's batches only.
ls "$out" 2>/dev/null | sort > "$before" || true

probe=(sikprobe -p "$port" -j 200 --connect-timeout 2s --handshake-timeout 3s --deadline 15s)
save=(batchsave "$out")
echo "demo: ipgen 127.77.0.0/24 | ${probe[*]} | ${save[*]}" >&2
"$bin/ipgen" 127.77.0.0/24 \
    | "$bin/${probe[0]}" "${probe[@]:1}" \
    | "$bin/${save[0]}" "${save[@]:1}"

mapfile -t written < <(ls "$out" | sort | comm -13 "$before" -)
echo
echo "This run wrote in $out/ (manifest.json lists every file):"
printf '%s\n' "${written[@]}"
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
for file in "${written[@]}"; do
    case $file in batch-*.ndjson) cat "$out/$file" ;; esac
done | tabulate | sort | uniq -c | sort -rn \
    | awk '{ printf "  %5d  %-17s %-4s %s\n", $1, $2, $3, $4 }'
