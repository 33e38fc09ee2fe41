#!/usr/bin/env bash
# siksim benchmark (not a test): server CPU per login + `show system`, concurrent sessions
# held, and the memory of an idle /16 fleet. Loopback only (127.201.0.0/16, port 22201).
#
# Figures are reported, never asserted; the targets are printed beside them:
#   server CPU per login + show system round trip   <= 1 ms
#   concurrent sessions held                        >= 1000
#   idle /16 fleet (65,534 addresses) RSS           < 300 MB
#
# The client is asyncssh in a virtualenv (one process, so the client's own cost does not
# crowd the two cores the way a thousand ssh processes would). Server CPU comes from
# /proc/PID/stat (utime + stime) before and after each phase.
# usage: bench/siksim.sh [LOGINS] [CONCURRENCY] [HELD]     defaults: 2000 100 1000
# With BENCH_SUMMARY=FILE, also appends machine-readable result lines to FILE (bench/all.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
logins=${1:-2000}
concurrency=${2:-100}
held=${3:-1000}
port=22201
work=$(mktemp -d -t siksim-bench.XXXXXX)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; true; }
trap cleanup EXIT

cargo build --quiet --release --bin siksim
siksim=$CARGO_TARGET_DIR/release/siksim
venv=${SIKSIM_BENCH_VENV:-$HOME/.cache/siksim-bench-venv}
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import asyncssh' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet asyncssh
fi

start_fleet() {  # start_fleet ARGS...: serve and wait for the ready line
    "$siksim" "$@" --port "$port" 2> "$work/siksim.log" &
    pid=$!
    for _ in $(seq 1200); do
        grep -q '^siksim: ready' "$work/siksim.log" && return 0
        kill -0 "$pid" 2>/dev/null || { cat "$work/siksim.log"; exit 1; }
        sleep 0.1
    done
    echo "siksim not ready"; exit 1
}
stop_fleet() { kill "$pid"; wait "$pid" || true; pid=; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
# The RSS of siksim and its worker processes (a fleet too big for one process's file limit).
tree_rss_kb() { echo $(( $(rss_kb "$1") + $(ps --ppid "$1" -o rss= | awk '{ s += $1 } END { print s + 0 }') )); }
hz=$(getconf CLK_TCK)
# summary BENCH CASE SUBJECT VALUE BASELINE BASELINE_VALUE UNIT lower|higher: one tab-separated
# line for bench/all.sh's table, appended to $BENCH_SUMMARY when it is set.
summary() {
    if [ -n "${BENCH_SUMMARY:-}" ]; then printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$BENCH_SUMMARY"; fi
}

cat > "$work/client.py" <<'EOF'
import asyncio, sys, time, asyncssh

mode, first, count, concurrency, port = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
base = [int(x) for x in first.split(".")]
hosts = []
for i in range(count):
    n = base[2] * 256 + base[3] + i
    hosts.append(f"{base[0]}.{base[1]}.{n // 256}.{n % 256}")
opts = dict(port=port, username="admin", password="admin", known_hosts=None,
            client_keys=None, agent_path=None, preferred_auth="password")

async def show_system(host, gate, ok):
    async with gate:
        async with asyncssh.connect(host, **opts) as conn:
            proc = await conn.create_process(term_type="vt100", term_size=(80, 5000))
            text = ""
            # The prompt, then the command's echo and output, then the double prompt.
            while not text.endswith(">"):
                text += await proc.stdout.read(65536)
            prompt = text
            proc.stdin.write("show system\n\n")
            text = ""
            while text.count(prompt) < 2:
                text += await proc.stdout.read(65536)
            if "system description" in text:
                ok.append(host)
            proc.stdin.write("exit\n")

async def hold(host, gate, ready, release):
    async with gate:
        conn = await asyncssh.connect(host, **opts)
    proc = await conn.create_process(term_type="vt100")
    text = ""
    while not text.endswith(">"):
        text += await proc.stdout.read(65536)
    ready.append(conn)
    await release.wait()
    conn.close()

async def main():
    gate = asyncio.Semaphore(concurrency)
    started = time.monotonic()
    if mode == "rounds":
        ok = []
        await asyncio.gather(*(show_system(h, gate, ok) for h in hosts))
        print(f"{len(ok)} {time.monotonic() - started:.2f}")
    else:
        ready, release = [], asyncio.Event()
        tasks = [asyncio.create_task(hold(h, gate, ready, release)) for h in hosts]
        while len(ready) < count and not all(t.done() for t in tasks):
            await asyncio.sleep(0.1)
        print(f"{len(ready)} {time.monotonic() - started:.2f}", flush=True)
        sys.stdin.readline()        # hold until told to stop
        release.set()
        await asyncio.gather(*tasks, return_exceptions=True)

asyncio.run(main())
EOF
client() { "$venv/bin/python" "$work/client.py" "$@"; }

echo "siksim benchmark: $(nproc) cores, $logins logins at concurrency $concurrency, $held held sessions"

# 1. CPU per login + show system (a /20 of EH radios, each login to a different address).
start_fleet 127.201.0.0/20 --persona eh
before=$(cpu_ticks "$pid")
read -r ok wall < <(client rounds 127.201.0.1 "$logins" "$concurrency" "$port")
after=$(cpu_ticks "$pid")
cpu_ms=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$ok" 'BEGIN { printf "%.3f", t * 1000 / hz / (n > 0 ? n : 1) }')
awk -v n="$ok" -v w="$wall" -v c="$cpu_ms" 'BEGIN {
    printf "login + show system: %d ok in %.2f s (%.0f/s); server CPU %.3f ms per round trip (target <= 1 ms)\n",
        n, w, n / w, c }'
summary siksim "server CPU per login + show system ($ok logins)" "siksim" "$cpu_ms" "target" 1 ms lower

# 2. Sessions held at once (logged in, PTY shell open, idle).
rss_before=$(rss_kb "$pid")
mkfifo "$work/hold"
client hold 127.201.0.1 "$held" 200 "$port" < "$work/hold" > "$work/held.out" &
client_pid=$!
exec 3> "$work/hold"
for _ in $(seq 600); do [ -s "$work/held.out" ] && break; sleep 0.1; done
read -r count wall < "$work/held.out"
rss_held=$(rss_kb "$pid")
echo "sessions held: $count of $held after $wall s (target >= 1000); server RSS $((rss_held / 1024)) MB ($(( (rss_held - rss_before) / (count > 0 ? count : 1) )) KB per session)"
summary siksim "concurrent sessions held ($((rss_held / 1024)) MB)" "siksim" "$count" "target" 1000 sessions higher
echo >&3; exec 3>&-
wait "$client_pid" || true
stop_fleet

# 3. An idle /16: 65,534 listeners.
started=$(date +%s.%N)
start_fleet 127.201.0.0/16 --persona eh
ready_s=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
echo "idle /16 fleet: $(grep -o 'ready: .*' "$work/siksim.log"); ready in $ready_s s"
idle_mb=$(( $(tree_rss_kb "$pid") / 1024 ))
echo "idle /16 fleet: RSS $idle_mb MB across $(( $(ps --ppid "$pid" -o pid= | wc -l) + 1 )) processes (target < 300 MB)"
summary siksim "idle /16 fleet (65,534 listeners), RSS" "siksim" "$idle_mb" "target" 300 MB lower
stop_fleet
