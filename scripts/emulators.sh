#!/usr/bin/env bash
# Starts moto_server and osmem-server on free loopback ports, for the demo or by
# hand. Source it: it defines start_emulators and stop_emulators, and after
# start_emulators exports AWS_ENDPOINT_URL and OPENSEARCH_ENDPOINT.
#
#   source scripts/emulators.sh && start_emulators && ... && stop_emulators

EMULATOR_DIR="${EMULATOR_DIR:-$(mktemp -d -t dlq-emulators.XXXXXX)}"
MOTO_PID=""
OSMEM_PID=""

# Waits up to $2 seconds for a line matching $3 in file $1; prints the match.
_wait_for_line() {
    local file=$1 seconds=$2 pattern=$3 line
    for _ in $(seq 1 $((seconds * 10))); do
        line=$(grep -m1 -E "$pattern" "$file" 2>/dev/null || true)
        if [ -n "$line" ]; then printf '%s\n' "$line"; return 0; fi
        sleep 0.1
    done
    return 1
}

start_emulators() {
    python3 -c 'from moto.server import main; main(["-H", "127.0.0.1", "-p", "0"])' \
        >"$EMULATOR_DIR/moto.log" 2>&1 &
    MOTO_PID=$!
    local osmem_bin
    osmem_bin="${OSMEM_SERVER_BIN:-$(python3 -c 'import osmem_server; print(osmem_server.resolve_binary())')}"
    "$osmem_bin" --addr 127.0.0.1:0 --no-ja --no-stdin-watch --parent-pid $$ >"$EMULATOR_DIR/osmem.log" 2>&1 &
    OSMEM_PID=$!

    local moto_line osmem_line
    moto_line=$(_wait_for_line "$EMULATOR_DIR/moto.log" 60 'Running on http://') || {
        echo "moto_server did not start; see $EMULATOR_DIR/moto.log" >&2; return 1; }
    osmem_line=$(_wait_for_line "$EMULATOR_DIR/osmem.log" 30 '^\{') || {
        echo "osmem-server did not start; see $EMULATOR_DIR/osmem.log" >&2; return 1; }
    AWS_ENDPOINT_URL=$(printf '%s' "$moto_line" | sed -E 's/.*Running on (http:\/\/[0-9.]+:[0-9]+).*/\1/')
    OPENSEARCH_ENDPOINT=$(printf '%s' "$osmem_line" | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
    export AWS_ENDPOINT_URL OPENSEARCH_ENDPOINT
}

stop_emulators() {
    for pid in $MOTO_PID $OSMEM_PID; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in $MOTO_PID $OSMEM_PID; do
        wait "$pid" 2>/dev/null || true
    done
    MOTO_PID=""
    OSMEM_PID=""
}
