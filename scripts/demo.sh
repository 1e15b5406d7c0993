#!/usr/bin/env bash
# The main job end to end on local emulators, with the embedded SQLite audit log:
# set up, build (release, the build's own progress shown), start moto and osmem-server
# on free ports, create the table, the DLQ and the index, write artist changes, post
# what the sync Lambda's on-failure destination would send (plus forwarded and
# malformed messages), run `dlq-reprocessor run --once`, show stats, a history, a
# rollback with its audit trail, and verify. Stops the servers and leaves nothing running.
#
#   scripts/demo.sh          the end-to-end job above
#   scripts/demo.sh --keep   a playground to explore, left running: moto, osmem-server and
#                            `serve` with trouble in the data (a mapping conflict over many
#                            documents, a parked group, a quarantined message, an expired
#                            batch, drift for reconcile); prints the console's URL, a read and
#                            an operate token and the commands to try (the README walks through them)
#   scripts/demo.sh --stop   stops what --keep left running and removes its folder
#
# DLQ_REPROCESSOR_BIN=PATH uses that binary instead of building one; DLQ_DEMO_DIR is where
# --keep keeps its files (default /tmp/dlq-demo).
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=run
case "${1:-}" in
    "") ;;
    --keep) MODE=keep ;;
    --stop) MODE=stop ;;
    -h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown argument $1 (--keep, --stop or none)" >&2; exit 2 ;;
esac
DEMO_DIR="${DLQ_DEMO_DIR:-/tmp/dlq-demo}"

# Stops the processes a kept demo recorded in $DEMO_DIR/pids (each by its own pid) and removes the folder.
stop_kept() {
    if [ ! -f "$DEMO_DIR/pids" ]; then
        echo "demo: nothing kept in $DEMO_DIR"
        return 0
    fi
    local name pid
    while read -r name pid; do
        if kill "$pid" 2>/dev/null; then echo "stopped $name (pid $pid)"; fi
    done <"$DEMO_DIR/pids"
    while read -r name pid; do
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    done <"$DEMO_DIR/pids"
    rm -rf "$DEMO_DIR"
}

if [ "$MODE" = stop ]; then
    stop_kept
    exit 0
fi
if [ "$MODE" = keep ] && [ -f "$DEMO_DIR/pids" ]; then
    echo "demo: a kept demo is already running from $DEMO_DIR; stop it first: scripts/demo.sh --stop" >&2
    exit 1
fi

scripts/setup.sh >/dev/null
if [ -n "${DLQ_REPROCESSOR_BIN:-}" ]; then
    BIN="$DLQ_REPROCESSOR_BIN"
    echo "==> using $BIN"
else
    echo "==> building dlq-reprocessor in release mode (a cold build takes many minutes; its progress follows)"
    swift build -c release --product dlq-reprocessor
    BIN="$(swift build -c release --show-bin-path)/dlq-reprocessor"
fi

export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo-secret AWS_REGION=eu-west-2
export DYNAMODB_TABLE_NAME=tattoo-directory-local OPENSEARCH_INDEX=artists

# shellcheck source=scripts/emulators.sh
source scripts/emulators.sh

if [ "$MODE" = run ]; then
    WORK=$(mktemp -d -t dlq-demo.XXXXXX)
    export EMULATOR_DIR="$WORK"
    trap 'stop_emulators; rm -rf "$WORK"' EXIT
    export AUDIT_DB="$WORK/dlq-audit.sqlite3"

    echo "==> starting moto and osmem-server"
    start_emulators
    echo "    moto:  $AWS_ENDPOINT_URL"
    echo "    osmem: $OPENSEARCH_ENDPOINT"

    echo "==> creating the table, the DLQ and the index; writing changes; posting DLQ messages"
    curl -fsS -X PUT "$OPENSEARCH_ENDPOINT/artists" -H 'Content-Type: application/json' -d '{}' >/dev/null
    SEED=$(python3 scripts/demo_seed.py)
    echo "    $SEED"
    DLQ_URL=$(printf '%s' "$SEED" | python3 -c 'import json,sys; print(json.load(sys.stdin)["queueUrl"])')
    export DLQ_URL

    echo "==> dlq-reprocessor run --once"
    status=0
    "$BIN" run --once || status=$?
    echo "    exit status $status (3 = work left for an operator: the quarantined messages)"

    echo "==> dlq-reprocessor stats"
    "$BIN" stats

    echo "==> dlq-reprocessor history ARTIST#5"
    "$BIN" history ARTIST#5

    CHANGE=$("$BIN" list --key 5 --status applied --event MODIFY --json |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["changes"][-1]["id"])')
    echo "==> dlq-reprocessor rollback $CHANGE (the newest applied change of ARTIST#5)"
    "$BIN" rollback "$CHANGE" --reason "demo: studio move was entered by mistake" --actor demo-operator
    echo "    live document now:"
    curl -fsS "$OPENSEARCH_ENDPOINT/artists/_doc/5" | python3 -c 'import json,sys; d=json.load(sys.stdin)["_source"]; print("    name:", d["name"], "| sync:", d["sync"]["eventName"], d["sync"]["sequenceNumber"])'

    echo "==> dlq-reprocessor audit --actor demo-operator"
    "$BIN" audit --actor demo-operator

    echo "==> dlq-reprocessor verify"
    "$BIN" verify
    echo "==> done; stopping the emulators"
    exit 0
fi

# --keep: everything lives in $DEMO_DIR until --stop; a failure on the way tears it down.
mkdir -p "$DEMO_DIR"
export EMULATOR_DIR="$DEMO_DIR" EMULATOR_DETACHED=1
export AUDIT_DB="$DEMO_DIR/dlq-audit.sqlite3"
KEPT=0
SERVE_PID=""
trap '[ "$KEPT" = 1 ] || { [ -z "$SERVE_PID" ] || kill "$SERVE_PID" 2>/dev/null; stop_emulators; rm -rf "$DEMO_DIR"; }' EXIT

echo "==> starting moto and osmem-server (kept running)"
start_emulators
printf 'moto %s\nosmem %s\n' "$MOTO_PID" "$OSMEM_PID" >"$DEMO_DIR/pids"
echo "    moto:  $AWS_ENDPOINT_URL"
echo "    osmem: $OPENSEARCH_ENDPOINT"

echo "==> creating the index (its mapping types priceRange as an integer and rating as a float), the table and the DLQ"
curl -fsS -X PUT "$OPENSEARCH_ENDPOINT/artists" -H 'Content-Type: application/json' \
    -d '{"mappings": {"properties": {"priceRange": {"type": "integer"}, "rating": {"type": "float"}}}}' >/dev/null
echo "==> writing artist changes (two with the rating \"new\") and posting DLQ messages"
SEED=$(python3 scripts/demo_seed.py --keep)
echo "    $SEED"
DLQ_URL=$(printf '%s' "$SEED" | python3 -c 'import json,sys; print(json.load(sys.stdin)["queueUrl"])')
export DLQ_URL

echo "==> dlq-reprocessor run --once --max-attempts 1 (so the two ratings are parked at their first failure)"
status=0
"$BIN" run --once --max-attempts 1 || status=$?
echo "    exit status $status (3 = work left for an operator)"

echo "==> the two ratings fixed in the table (no DLQ message), eighteen new artists whose priceRange is text, and a late pointer to a trimmed shard"
echo "    $(python3 scripts/demo_seed.py --trouble)"
echo "==> dlq-reprocessor run --once"
status=0
"$BIN" run --once || status=$?
echo "    exit status $status"

echo "==> drift behind the reprocessor's back: document 2 deleted, 4 edited, 99 added in search"
curl -fsS -X DELETE "$OPENSEARCH_ENDPOINT/artists/_doc/2" >/dev/null
curl -fsS "$OPENSEARCH_ENDPOINT/artists/_doc/4" |
    python3 -c 'import json,sys; d=json.load(sys.stdin)["_source"]; d["name"]="Artist 4 (edited by hand)"; print(json.dumps(d))' |
    curl -fsS -X PUT "$OPENSEARCH_ENDPOINT/artists/_doc/4" -H 'Content-Type: application/json' -d @- >/dev/null
curl -fsS -X PUT "$OPENSEARCH_ENDPOINT/artists/_doc/99" -H 'Content-Type: application/json' \
    -d '{"name": "Closed Studio Artist", "rating": 3.9}' >/dev/null

echo "==> dlq-reprocessor stats"
"$BIN" stats

READ_TOKEN=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
OPERATE_TOKEN=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
echo "==> starting dlq-reprocessor serve (a dry-run reconcile at start and every 10 minutes)"
OPERATOR_TOKENS="demo-reader:read:$READ_TOKEN,demo-operator:operate:$OPERATE_TOKEN" \
    nohup "$BIN" serve --http 127.0.0.1:0 --interval 5 --reconcile-interval 600 --log-level info \
    >"$DEMO_DIR/serve.log" 2>&1 </dev/null &
SERVE_PID=$!
printf 'serve %s\n' "$SERVE_PID" >>"$DEMO_DIR/pids"
URL=$(_wait_for_line "$DEMO_DIR/serve.log" 120 'dlq-reprocessor serving on ' | sed -E 's/.*serving on ([^ ]+).*/\1/') || {
    echo "serve did not start; its log:" >&2; tail -n 20 "$DEMO_DIR/serve.log" >&2; exit 1; }

# What a shell needs to talk to the kept demo.
cat >"$DEMO_DIR/env" <<EOF
export PATH="$(dirname "$BIN"):\$PATH"
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo-secret AWS_REGION=eu-west-2
export AWS_ENDPOINT_URL="$AWS_ENDPOINT_URL" OPENSEARCH_ENDPOINT="$OPENSEARCH_ENDPOINT"
export DYNAMODB_TABLE_NAME=tattoo-directory-local OPENSEARCH_INDEX=artists
export DLQ_URL="$DLQ_URL" AUDIT_DB="$AUDIT_DB"
export DLQ_ACTOR=demo-operator
export DEMO_URL="$URL" DEMO_READ_TOKEN="$READ_TOKEN" DEMO_OPERATE_TOKEN="$OPERATE_TOKEN"
EOF
KEPT=1

cat <<EOF

The demo is running, with trouble in its data:
  - a mapping conflict: 18 new artists whose priceRange is text ("£80-£150") fail against an
    index mapping priceRange as an integer (failed; serve retries them with backoff)
  - a parked group: two artists whose rating was "new" (parked after their one attempt; the
    table has the fixed rating since)
  - quarantined messages: three bodies nobody can read
  - an expired batch: a pointer to a shard the stream has trimmed
  - drift: document 2 missing from search, 4 edited by hand, 99 in search only (and the
    documents of the failing and parked changes missing)

  console:        $URL/ui   (log in with a token)
  read token:     $READ_TOKEN   (demo-reader)
  operate token:  $OPERATE_TOKEN   (demo-operator)
  serve's log:    $DEMO_DIR/serve.log

Try (the README walks through them):
  source $DEMO_DIR/env
  dlq-reprocessor stats
  dlq-reprocessor errors
  dlq-reprocessor batches --status expired
  dlq-reprocessor quarantined
  dlq-reprocessor reconcile --dry-run
  curl -s -H "Authorization: Bearer \$DEMO_READ_TOKEN" \$DEMO_URL/v1/stats
  curl -s \$DEMO_URL/metrics | grep '^dlq_'

Stop it all: scripts/demo.sh --stop
EOF
