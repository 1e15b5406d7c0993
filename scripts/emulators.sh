#!/usr/bin/env bash
# Starts moto_server and osmem-server on free loopback ports, for the demo or by
# hand. Source it: it defines start_emulators and stop_emulators, and after
# start_emulators exports AWS_ENDPOINT_URL and OPENSEARCH_ENDPOINT.
#
#   source scripts/emulators.sh && start_emulators && ... && stop_emulators
#
# osmem-server exits with the shell that started it, unless EMULATOR_DETACHED is set (the
# kept demo, scripts/demo.sh --keep, which stops both servers by their pids later).

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
    local parent_watch=(--parent-pid $$)
    if [ -n "${EMULATOR_DETACHED:-}" ]; then parent_watch=(); fi
    "$osmem_bin" --addr 127.0.0.1:0 --no-ja --no-stdin-watch "${parent_watch[@]}" >"$EMULATOR_DIR/osmem.log" 2>&1 &
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

# A throwaway PostgreSQL cluster for the benchmark and the demo's shared-store variant:
# initdb and pg_ctl in $EMULATOR_DIR/postgres on a free loopback port (under runuser -u
# postgres when run as root: initdb refuses root). After start_postgres, POSTGRES_URL_BASE
# is postgres://dlq:PASSWORD@127.0.0.1:PORT; new_postgres_database NAME creates a database and
# prints its URL. Durability is PostgreSQL's default (fsync and synchronous_commit on).
POSTGRES_BIN=""
POSTGRES_DIR=""
POSTGRES_AS=()

start_postgres() {
    POSTGRES_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -n "$POSTGRES_BIN" ] && [ -x "$POSTGRES_BIN/initdb" ] || {
        echo "PostgreSQL is not installed under /usr/lib/postgresql (scripts/setup.sh installs it)" >&2; return 1; }
    POSTGRES_DIR="$EMULATOR_DIR/postgres"
    mkdir -p "$POSTGRES_DIR"
    local password port
    password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
    printf '%s' "$password" >"$POSTGRES_DIR/password"
    POSTGRES_AS=()
    if [ "$(id -u)" = 0 ]; then
        chmod 755 "$EMULATOR_DIR"
        chown -R postgres "$POSTGRES_DIR"
        POSTGRES_AS=(runuser -u postgres --)
    fi
    "${POSTGRES_AS[@]}" "$POSTGRES_BIN/initdb" -D "$POSTGRES_DIR/data" -U dlq --pwfile "$POSTGRES_DIR/password" \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C >"$POSTGRES_DIR/initdb.log" 2>&1 || {
        echo "initdb failed; see $POSTGRES_DIR/initdb.log" >&2; return 1; }
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "${POSTGRES_AS[@]}" "$POSTGRES_BIN/pg_ctl" -D "$POSTGRES_DIR/data" -l "$POSTGRES_DIR/log" -w \
        -o "-p $port -k $POSTGRES_DIR -c listen_addresses=127.0.0.1" start >"$POSTGRES_DIR/pg_ctl.out" 2>&1 </dev/null || {
        echo "PostgreSQL did not start; see $POSTGRES_DIR/log" >&2; return 1; }
    POSTGRES_URL_BASE="postgres://dlq:$password@127.0.0.1:$port"
    export POSTGRES_URL_BASE
}

new_postgres_database() {
    local port=${POSTGRES_URL_BASE##*:}
    PGPASSWORD=$(cat "$POSTGRES_DIR/password") "$POSTGRES_BIN/psql" -h 127.0.0.1 -p "$port" -U dlq -d postgres \
        -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE $1" >/dev/null || return 1
    printf '%s/%s?sslmode=disable\n' "$POSTGRES_URL_BASE" "$1"
}

stop_postgres() {
    [ -n "$POSTGRES_DIR" ] && [ -d "$POSTGRES_DIR/data" ] || return 0
    "${POSTGRES_AS[@]}" "$POSTGRES_BIN/pg_ctl" -D "$POSTGRES_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    POSTGRES_DIR=""
}
