#!/usr/bin/env bash
# ipgen benchmark: ipgen against prips (Debian package `prips`) and the pipe floor, in one run.
#
#   bench/ipgen.sh [RUNS]        (default 3 runs each; the best wall time counts)
#
# Every producer writes the /8 (about 230 MB of text) into a pipe read by `cat > /dev/null`;
# the floor is `cat` copying the same bytes, already in the page cache, through the same pipe.
# Targets: ipgen >= 10x faster than prips and within 1.5x of the floor; --shuffle >= 3x faster
# than prips in order; peak RSS under 10 MB for all of them. No networking happens here.
# With BENCH_SUMMARY=FILE, also appends machine-readable result lines to FILE (bench/all.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}

if ! command -v prips >/dev/null; then
    echo "bench: prips is missing: apt-get install prips" >&2
    exit 2
fi
if [ ! -x /usr/bin/time ]; then
    echo "bench: GNU time is missing: apt-get install time" >&2
    exit 2
fi
cargo build --release --quiet --bin ipgen
ipgen=${CARGO_TARGET_DIR:-target}/release/ipgen
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$ipgen" 10.0.0.0/8 > "$tmp/slash8.txt"

# best_of LABEL CMD...: runs CMD into `cat > /dev/null` $runs times; prints "seconds peak_kb".
best_of() {
    local best="" rss=0
    for _ in $(seq "$runs"); do
        /usr/bin/time -f '%e %M' -o "$tmp/time" "$@" | cat > /dev/null
        read -r secs kb < "$tmp/time"
        if [ -z "$best" ] || awk -v a="$secs" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$secs; fi
        [ "$kb" -gt "$rss" ] && rss=$kb
    done
    echo "$best $rss"
}

read -r floor floor_rss < <(best_of cat "$tmp/slash8.txt")
read -r prips_s prips_rss < <(best_of prips 10.0.0.0/8)
read -r ipgen_s ipgen_rss < <(best_of "$ipgen" 10.0.0.0/8)
read -r shuf_s shuf_rss < <(best_of "$ipgen" 10.0.0.0/8 --shuffle --seed 1)

# summary BENCH CASE SUBJECT VALUE BASELINE BASELINE_VALUE UNIT lower|higher: one tab-separated
# line for bench/all.sh's table, appended to $BENCH_SUMMARY when it is set.
summary() {
    if [ -n "${BENCH_SUMMARY:-}" ]; then printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$BENCH_SUMMARY"; fi
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b == 0) b = 0.005; printf "%.1f", a / b }'; }
printf '%-32s %8s %10s %s\n' "command (into a pipe)" "best s" "peak RSS" "ratio"
printf '%-32s %8s %7s KB %s\n' "cat (floor, $(du -m "$tmp/slash8.txt" | cut -f1) MB)" "$floor" "$floor_rss" "1.0x"
printf '%-32s %8s %7s KB %s\n' "prips 10.0.0.0/8" "$prips_s" "$prips_rss" "$(ratio "$prips_s" "$floor")x floor"
printf '%-32s %8s %7s KB %s\n' "ipgen 10.0.0.0/8" "$ipgen_s" "$ipgen_rss" "$(ratio "$ipgen_s" "$floor")x floor, prips/ipgen = $(ratio "$prips_s" "$ipgen_s")x"
printf '%-32s %8s %7s KB %s\n' "ipgen 10.0.0.0/8 --shuffle" "$shuf_s" "$shuf_rss" "prips/shuffle = $(ratio "$prips_s" "$shuf_s")x"
summary ipgen "10.0.0.0/8 into a pipe" "ipgen" "$ipgen_s" "prips" "$prips_s" s lower
summary ipgen "10.0.0.0/8 --shuffle (prips in order)" "ipgen --shuffle" "$shuf_s" "prips" "$prips_s" s lower
summary ipgen "10.0.0.0/8 into a pipe" "ipgen" "$ipgen_s" "cat of the same bytes" "$floor" s lower
