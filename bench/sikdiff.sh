#!/usr/bin/env bash
# sikdiff benchmark: two snapshots of a fleet compared, against a jq + diff baseline, in one run.
#
#   bench/sikdiff.sh [RECORDS] [RUNS]     (default 100000 records per snapshot, 3 runs of sikdiff and
#                                          cat, 1 of the slow baseline; best wall time counts)
#
# The snapshots are RECORDS sikprobe-shaped `-a backup` records each (identity, the 17 core
# fields, 39 EH `show` fields, a running and a startup configuration of about 2 KB each),
# generated once and read from the page cache. NEW differs from OLD in every record's
# started, elapsed_ms, uptime, clock and RSSI (within its tolerance), and in about 10 % of the
# radios for real: 5 % a changed configuration line (tx-power), 2 % a new sw, 1 % a status
# (auth-failed), 1 % moved to another address, 0.5 % vanished and 0.5 % appeared.
#   baseline  diff <(jq -cS 'del(volatile fields)' OLD) <(jq -cS ... NEW)   (a line diff of
#             the records with the volatile fields deleted: no matching by serial, no config diff)
#   sikdiff   sikdiff OLD NEW > events
# Targets: sikdiff < 3 s and < 300 MB peak RSS for 100000 records. CPU time (user + sys) is
# printed beside the wall time: on a machine shared with other work the wall time says more
# about the others than about sikdiff. No networking happens here.
# With BENCH_SUMMARY=FILE, also appends machine-readable result lines to FILE (bench/all.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-100000}
runs=${2:-3}

for tool in jq python3 /usr/bin/time; do
    if ! command -v "$tool" >/dev/null; then
        echo "bench: $tool is missing (apt-get install jq time python3)" >&2
        exit 2
    fi
done
cargo build --release --quiet --bin sikdiff
sikdiff=${CARGO_TARGET_DIR:-target}/release/sikdiff
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 - "$records" "$tmp/old.ndjson" "$tmp/new.ndjson" <<'PY'
import json, random, sys

records, old_path, new_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rng = random.Random(16)

def config(i, name, tx_power, sw):
    lines = [f"# EH-8010FX running configuration, software {sw}",
             f'set system name "{name}"', f'set system location "Site {i % 977}, mast {i % 7}"',
             f"set system contact noc{i % 13}@example.net",
             f"set ip 1 ip-address 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255} prefix-len 24",
             f"set ip 1 default-gateway 10.{i >> 16 & 255}.{i >> 8 & 255}.1",
             f"set rf tx-power {tx_power}", "set rf mode adaptive", f"set rf frequency {71000 + i % 9 * 250}",
             "set rf role auto", "set rf cinr-low -2", f"set rf channel-width 500"]
    for port in range(1, 5):
        lines += [f"set eth eth{port} admin up", f"set eth eth{port} eth-type 1000xfd",
                  f"set eth eth{port} description \"port {port} of {name}\""]
    for vlan in range(1, 9):
        lines.append(f"set vlan eth{vlan % 4 + 1} {100 + vlan} egress tagged ingress tagged")
    for n in range(1, 9):
        lines.append(f"set snmp-agent community{n} community-name public{n} access read-only")
    for n in range(1, 9):
        lines.append(f"set ntp {n} server 10.250.{n}.{i % 200} tmz {n % 3}")
    lines += [f"set user admin{n} access-level admin" for n in range(1, 6)]
    return "\n".join(lines) + "\n"

def record(i, ip, sw, status, tx_power, hour, rssi):
    name = f"radio-{i:06d}"
    r = {"ip": ip, "port": 22, "status": status, "error": None, "radio_type": "EH",
         "model": "EH-8010FX", "name": name, "sw": sw, "sn": f"F{i:09d}",
         "banner": f"EH-8010FX, S/N: F{i:09d}, Ver: {sw}", "server_id": "SSH-2.0-OpenSSH_7.4",
         "host_key": "ssh-rsa SHA256:Jr8Ckr5b5cH1JqmO0Xq1QmZ0w6QH8U6tI1cNQm1Wb2E", "user": "admin",
         "prompt": f"{name}>", "started": f"2026-11-2{hour}T05:{i // 60000 % 60:02d}:{i // 1000 % 60:02d}Z",
         "elapsed_ms": rng.randrange(300, 2000), "transport": "native"}
    if status != "ok":
        r.update(error="authentication failed for admin", name=None, user=None, prompt=None)
        return r
    show = {"system_descrip": "EH-8010FX", "system_name": name, "system_location": f"Site {i % 977}",
            "system_date": f"2026.11.2{hour}", "system_time": f"05:{i % 60:02d}:00",
            "system_up_days": f"{hour * 1.5 + i % 100:.2f}", "sw_active": sw[:6], "sw_offline": "7.4.3",
            "inventory_sn": f"F{i:09d}", "rf_oper": "up", "rf_cinr": "18", "rf_rssi": str(rssi),
            "rf_freq": str(71000 + i % 9 * 250), "rf_mode": "adaptive qam64", "rfdebug_ptx": str(tx_power),
            "rfdebug_distance": str(100 + i % 900)}
    for port in range(1, 5):
        show.update({f"eth{port}_oper": "up", f"eth{port}_speed": "1000xfd",
                     f"eth{port}_last_change": f"00{hour}:{i % 24:02d}:00:00"})
    show.update(lldp_remote=f"00:24:a4:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}",
                events_log=f"2026-11-2{hour} sw cad: link up eth eth1; 2026-11-2{hour} sw cad: modulation change",
                user_activity_log=f"2026-11-2{hour} admin logged in from 10.0.0.1; admin show system")
    text = config(i, name, tx_power, sw)
    r.update(show=show, config=text, startup_config=text, config_saved=True,
             config_sha256=f"{hash(text) & (2**256 - 1):064x}")
    return r

def ip(i):
    return f"127.{20 + (i >> 16)}.{i >> 8 & 255}.{i & 255}"

with open(old_path, "w") as old, open(new_path, "w") as new:
    for i in range(records):
        kind = i % 200
        rssi = -40 - i % 20
        old.write(json.dumps(record(i, ip(i), "7.7.10-13186-d2f25a6", "ok", 10, 1, rssi)) + "\n")
        if kind == 0:      # vanished
            continue
        sw, status, tx, where = "7.7.10-13186-d2f25a6", "ok", 10, ip(i)
        if kind < 11:      # 5 %: a configuration change
            tx = 12
        elif kind < 15:    # 2 %: an upgrade
            sw = "7.7.12-13214-f614d18"
        elif kind < 17:    # 1 %: a login that now fails
            status = "auth-failed"
        elif kind < 19:    # 1 %: moved
            where = ip(i + records)
        new.write(json.dumps(record(i, where, sw, status, tx, 2, rssi - 1 + kind % 3)) + "\n")
        if kind == 100:    # appeared
            new.write(json.dumps(record(i + 2 * records, ip(i + 2 * records), sw, "ok", 10, 2, rssi)) + "\n")
PY
size_mb=$(du -m "$tmp/old.ndjson" | cut -f1)

volatile='del(.started, .elapsed_ms, .show.system_date?, .show.system_time?, .show.system_up_days?, .show.eth1_last_change?, .show.eth2_last_change?, .show.eth3_last_change?, .show.eth4_last_change?, .show.events_log?, .show.user_activity_log?, .show.rf_rssi?, .show.rf_cinr?)'

# best_of RUNS CMD...: runs CMD RUNS times; prints "seconds peak_kb cpu_seconds" of the run with
# the best wall time (peak RSS of the largest process; an exit status of 1, differences, is fine).
best_of() {
    local n=$1 best="" rss=0 cpu=0
    shift
    for _ in $(seq "$n"); do
        /usr/bin/time -f '%e %M %U %S' -o "$tmp/time" "$@" || [ $? -le 1 ]
        read -r secs kb user sys < <(tail -n 1 "$tmp/time")
        if [ -z "$best" ] || awk -v a="$secs" -v b="$best" 'BEGIN{exit !(a<b)}'; then
            best=$secs
            cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN{printf "%.2f", u + s}')
        fi
        [ "$kb" -gt "$rss" ] && rss=$kb
    done
    echo "$best $rss $cpu"
}

read -r cat_s cat_rss cat_cpu < <(best_of "$runs" sh -c 'cat "$0" "$1" > /dev/null' "$tmp/old.ndjson" "$tmp/new.ndjson")
read -r jq_s jq_rss jq_cpu < <(best_of 1 bash -c 'diff <(jq -cS "$0" "$1") <(jq -cS "$0" "$2") > "$3"' "$volatile" "$tmp/old.ndjson" "$tmp/new.ndjson" "$tmp/jq.diff")
read -r sd_s sd_rss sd_cpu < <(best_of "$runs" sh -c '"$0" -q "$1" "$2" > "$3"' "$sikdiff" "$tmp/old.ndjson" "$tmp/new.ndjson" "$tmp/events")
events=$(wc -l < "$tmp/events")
by_kind=$(jq -r .change "$tmp/events" | sort | uniq -c | awk '{printf "%s%s %s", sep, $1, $2; sep=", "}')

summary() {
    if [ -n "${BENCH_SUMMARY:-}" ]; then printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$BENCH_SUMMARY"; fi
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b == 0) b = 0.005; printf "%.1f", a / b }'; }
echo "input: 2 snapshots of $records records, $size_mb MB each; best of $runs runs (baseline: 1 run); load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-44s %8s %8s %12s %s\n' "command" "wall s" "cpu s" "peak RSS" "ratio (wall)"
printf '%-44s %8s %8s %9s KB %s\n' "cat OLD NEW > /dev/null (floor)" "$cat_s" "$cat_cpu" "$cat_rss" "1.0x"
printf '%-44s %8s %8s %9s KB %s\n' "diff <(jq -cS 'del(volatile)') x2 (baseline)" "$jq_s" "$jq_cpu" "$jq_rss" "$(ratio "$jq_s" "$cat_s")x floor"
printf '%-44s %8s %8s %9s KB %s\n' "sikdiff OLD NEW" "$sd_s" "$sd_cpu" "$sd_rss" "$(ratio "$sd_s" "$cat_s")x floor, baseline/sikdiff = $(ratio "$jq_s" "$sd_s")x"
echo "sikdiff events: $events ($by_kind)"
summary sikdiff "2 x $records -a backup records, ~10 % changed" "sikdiff" "$sd_s" "diff of jq -cS (volatile deleted)" "$jq_s" s lower
summary sikdiff "2 x $records -a backup records, peak RSS" "sikdiff" "$((sd_rss / 1024))" "diff of jq -cS (volatile deleted)" "$((jq_rss / 1024))" MB lower
