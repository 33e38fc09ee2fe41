# Shared by the bench scripts that serve a siksim fleet (source it; it changes nothing else):
# a scratch directory "$tmp" removed at exit together with the simulator, the open-files limit
# raised for thousands of sockets, and serve_siksim, which waits for siksim's ready line.
tmp=$(mktemp -d)
sim_pid=""
cleanup() {
    if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"

# serve_siksim BIN PORT ARGS...: starts BIN/siksim on PORT in the background (its pid in
# sim_pid) and returns once it is ready; exits the script with siksim's complaint otherwise.
serve_siksim() {
    local bin=$1 port=$2
    shift 2
    "$bin/siksim" --port "$port" -q "$@" 2> "$tmp/siksim.err" &
    sim_pid=$!
    for _ in $(seq 1200); do
        grep -qs ': ready: ' "$tmp/siksim.err" && return 0
        kill -0 "$sim_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "bench: siksim not ready" >&2
    cat "$tmp/siksim.err" >&2
    exit 1
}
