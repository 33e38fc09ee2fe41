#!/usr/bin/env bash
# batchsave benchmark: NDJSON -> CSV + NDJSON batches, against jq and the read floor, in one run.
#
#   bench/batchsave.sh [RECORDS] [RUNS]     (default 1000000 records, 3 runs each; best wall time counts)
#
# The input is RECORDS sikprobe-shaped records (the 17 core fields; one in ten ok records also
# carries two commands, so the CSV header drifts) generated once and read from the page cache:
#   cat      cat input > /dev/null                                   (the floor: reading the bytes)
#   jq       jq -r '[the 17 core fields] | @csv' input > out.csv     (one CSV, no batches, no NDJSON)
#   batchsave  batchsave -f input OUTDIR                              (default: 1000-record batches,
#            CSV + NDJSON per batch, every file fsynced and renamed, manifest after each batch)
#   batchsave -n 100000                                              (fewer, larger batches)
# Target: batchsave >= 5x faster than jq. Peak RSS shows that memory follows the batch size, not
# the input size. No networking happens here.
# With BENCH_SUMMARY=FILE, also appends machine-readable result lines to FILE (bench/all.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-1000000}
runs=${2:-3}

for tool in jq /usr/bin/time; do
    if ! command -v "$tool" >/dev/null; then
        echo "bench: $tool is missing (apt-get install jq time)" >&2
        exit 2
    fi
done
cargo build --release --quiet --bin batchsave
batchsave=${CARGO_TARGET_DIR:-target}/release/batchsave
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

awk -v n="$records" 'BEGIN {
    for (i = 0; i < n; i++) {
        ip = sprintf("10.%d.%d.%d", int(i / 65536) % 256, int(i / 256) % 256, i % 256)
        started = sprintf("2026-11-21T05:%02d:%02d.%03dZ", int(i / 60000) % 60, int(i / 1000) % 60, i % 1000)
        kind = i % 20
        if (kind < 16) {
            name = (i % 3 == 0) ? "\\\"Roof North\\\"" : "EH-710TX"
            commands = ""
            if (kind == 0)
                commands = ",\"commands\":[{\"command\":\"show system\",\"ok\":true,\"output\":\"system name : EH-710TX\\r\\nsystem location : London, Main St\",\"elapsed_ms\":41},{\"command\":\"show rf\",\"ok\":true,\"output\":\"rf operational : up\",\"elapsed_ms\":38}]"
            printf "{\"ip\":\"%s\",\"port\":22,\"status\":\"ok\",\"error\":null,\"radio_type\":\"EH\",\"model\":\"EH-710TX\",\"name\":\"%s\",\"sw\":\"7.7.10-13186-d2f25a6\",\"sn\":\"T.BJF%06d\",\"banner\":\"EH-710TX, S/N: T.BJF%06d, Ver: 7.7.10-13186-d2f25a6\",\"server_id\":\"SSH-2.0-OpenSSH_7.4\",\"host_key\":\"ssh-rsa SHA256:Jr8Ckr5b5cH1JqmO0Xq1QmZ0w6QH8U6tI1cNQm1Wb2E\",\"user\":\"admin\",\"prompt\":\"%s>\",\"started\":\"%s\",\"elapsed_ms\":%d,\"transport\":\"native\"%s}\n", ip, name, i % 1000000, i % 1000000, name, started, 300 + i % 700, commands
        } else if (kind < 18) {
            printf "{\"ip\":\"%s\",\"port\":22,\"status\":\"refused\",\"error\":\"connection refused\",\"radio_type\":null,\"model\":null,\"name\":null,\"sw\":null,\"sn\":null,\"banner\":null,\"server_id\":null,\"host_key\":null,\"user\":null,\"prompt\":null,\"started\":\"%s\",\"elapsed_ms\":%d,\"transport\":\"native\"}\n", ip, started, 1 + i % 5
        } else if (kind == 18) {
            printf "{\"ip\":\"%s\",\"port\":22,\"status\":\"auth-failed\",\"error\":\"authentication failed for admin\",\"radio_type\":\"EH\",\"model\":\"EH-1200F\",\"name\":null,\"sw\":\"7.7.12-13214-f614d18\",\"sn\":\"F%09d\",\"banner\":\"EH-1200F, S/N: F%09d, Ver: 7.7.12-13214-f614d18\",\"server_id\":\"SSH-2.0-OpenSSH_7.4\",\"host_key\":\"ssh-rsa SHA256:Jr8Ckr5b5cH1JqmO0Xq1QmZ0w6QH8U6tI1cNQm1Wb2E\",\"user\":null,\"prompt\":null,\"started\":\"%s\",\"elapsed_ms\":%d,\"transport\":\"native\"}\n", ip, i, i, started, 200 + i % 300
        } else {
            printf "{\"ip\":\"%s\",\"port\":22,\"status\":\"connect-timeout\",\"error\":\"no TCP answer within 5s\",\"radio_type\":null,\"model\":null,\"name\":null,\"sw\":null,\"sn\":null,\"banner\":null,\"server_id\":null,\"host_key\":null,\"user\":null,\"prompt\":null,\"started\":\"%s\",\"elapsed_ms\":5000,\"transport\":\"native\"}\n", ip, started
        }
    }
}' > "$tmp/input.ndjson"
size_mb=$(du -m "$tmp/input.ndjson" | cut -f1)

core='.ip,.port,.status,.error,.radio_type,.model,.name,.sw,.sn,.banner,.server_id,.host_key,.user,.prompt,.started,.elapsed_ms,.transport'

# best_of CMD...: runs CMD $runs times (output directory emptied before each); prints "seconds peak_kb".
best_of() {
    local best="" rss=0
    for _ in $(seq "$runs"); do
        rm -rf "$tmp/out" && mkdir "$tmp/out"
        /usr/bin/time -f '%e %M' -o "$tmp/time" "$@"
        read -r secs kb < "$tmp/time"
        if [ -z "$best" ] || awk -v a="$secs" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$secs; fi
        [ "$kb" -gt "$rss" ] && rss=$kb
    done
    echo "$best $rss"
}

read -r cat_s cat_rss < <(best_of sh -c 'cat "$0" > /dev/null' "$tmp/input.ndjson")
read -r jq_s jq_rss < <(best_of sh -c 'jq -r "[$1] | @csv" "$0" > "$2"' "$tmp/input.ndjson" "$core" "$tmp/out/jq.csv")
read -r bs_s bs_rss < <(best_of "$batchsave" -q -f "$tmp/input.ndjson" "$tmp/out/bs")
batches=$(ls "$tmp/out/bs" | grep -c '^batch-.*\.csv$')
read -r big_s big_rss < <(best_of "$batchsave" -q -n 100000 -f "$tmp/input.ndjson" "$tmp/out/bs")

# summary BENCH CASE SUBJECT VALUE BASELINE BASELINE_VALUE UNIT lower|higher: one tab-separated
# line for bench/all.sh's table, appended to $BENCH_SUMMARY when it is set.
summary() {
    if [ -n "${BENCH_SUMMARY:-}" ]; then printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$BENCH_SUMMARY"; fi
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b == 0) b = 0.005; printf "%.1f", a / b }'; }
rate() { awk -v n="$records" -v s="$1" 'BEGIN{ if (s == 0) s = 0.005; printf "%.0f", n / s }'; }
echo "input: $records records, $size_mb MB; best of $runs runs"
printf '%-40s %8s %12s %10s %s\n' "command" "best s" "records/s" "peak RSS" "ratio"
printf '%-40s %8s %12s %7s KB %s\n' "cat input > /dev/null (floor)" "$cat_s" "$(rate "$cat_s")" "$cat_rss" "1.0x"
printf '%-40s %8s %12s %7s KB %s\n' "jq -r '[17 fields] | @csv'" "$jq_s" "$(rate "$jq_s")" "$jq_rss" "$(ratio "$jq_s" "$cat_s")x floor"
printf '%-40s %8s %12s %7s KB %s\n' "batchsave (-n 1000: $batches batches)" "$bs_s" "$(rate "$bs_s")" "$bs_rss" "$(ratio "$bs_s" "$cat_s")x floor, jq/batchsave = $(ratio "$jq_s" "$bs_s")x"
printf '%-40s %8s %12s %7s KB %s\n' "batchsave -n 100000" "$big_s" "$(rate "$big_s")" "$big_rss" "$(ratio "$big_s" "$cat_s")x floor, jq/batchsave = $(ratio "$jq_s" "$big_s")x"
summary batchsave "$records records to CSV + NDJSON, -n 1000, fsynced" "batchsave" "$bs_s" "jq @csv (one CSV)" "$jq_s" s lower
summary batchsave "$records records to CSV + NDJSON, -n 100000, fsynced" "batchsave -n 100000" "$big_s" "jq @csv (one CSV)" "$jq_s" s lower
