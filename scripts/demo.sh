#!/usr/bin/env bash
# The main job end to end on local emulators, with the embedded SQLite audit log:
# set up, build, start moto and osmem-server on free ports, create the table,
# the DLQ and the index, write artist changes, post what the sync Lambda's
# on-failure destination would send (plus forwarded and malformed messages),
# run `dlq-reprocessor run --once`, show stats, a history, a rollback with its
# audit trail, and verify. Stops the servers and leaves nothing running.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh >/dev/null
echo "==> building"
swift build --product dlq-reprocessor 2>&1 | tail -1
BIN="$(swift build --show-bin-path)/dlq-reprocessor"

WORK=$(mktemp -d -t dlq-demo.XXXXXX)
export EMULATOR_DIR="$WORK"
# shellcheck source=scripts/emulators.sh
source scripts/emulators.sh
trap 'stop_emulators; rm -rf "$WORK"' EXIT

echo "==> starting moto and osmem-server"
start_emulators
echo "    moto:  $AWS_ENDPOINT_URL"
echo "    osmem: $OPENSEARCH_ENDPOINT"

export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo-secret AWS_REGION=eu-west-2
export DYNAMODB_TABLE_NAME=tattoo-directory-local OPENSEARCH_INDEX=artists
export AUDIT_DB="$WORK/dlq-audit.sqlite3"

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
