#!/usr/bin/env bash
# The HTTP API against its contract, docs/openapi.yaml (issue 29):
#   1. validates the document with openapi-spec-validator (OpenAPI 3.1);
#   2. starts moto and osmem-server, seeds a store with applied changes, batches, quarantined
#      messages and failed changes (an error group), and starts a real `serve` over it;
#   3. drives it through a client generated from the document by openapi-python-client
#      (scripts/api_client_flow.py: list failed changes, dry-run a retry, retry with an
#      Idempotency-Key, repeat it, read the result);
#   4. checks that without a token every /v1 operation is 401;
#   5. runs Schemathesis (every check, every phase) with an operate token, a read token and
#      none, with a fixed seed, then once more with the operate token and a fresh seed that it
#      prints (SCHEMATHESIS_SEED=N scripts/api-conformance.sh reruns that one).
# Exits non-zero at the first failure. Needs scripts/setup.sh and a built dlq-reprocessor
# (scripts/test.sh builds it first; DLQ_REPROCESSOR_BIN names another binary).
# API_CONFORMANCE_MAX_EXAMPLES bounds Schemathesis' cases per operation (default 10).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${DLQ_REPROCESSOR_BIN:-$(swift build --show-bin-path)/dlq-reprocessor}"
MAX_EXAMPLES="${API_CONFORMANCE_MAX_EXAMPLES:-10}"
FIXED_SEED=29
FRESH_SEED="${SCHEMATHESIS_SEED:-$(python3 -c 'import secrets; print(secrets.randbelow(2**31))')}"
say() { printf 'api-conformance: %s\n' "$*"; }

say "validating docs/openapi.yaml"
openapi-spec-validator docs/openapi.yaml

WORK=$(mktemp -d -t dlq-api.XXXXXX)
export EMULATOR_DIR="$WORK"
# shellcheck source=scripts/emulators.sh
source scripts/emulators.sh
SERVE_PID=""
cleanup() {
    if [ -n "$SERVE_PID" ]; then
        kill "$SERVE_PID" 2>/dev/null || true
        wait "$SERVE_PID" 2>/dev/null || true
    fi
    stop_emulators
    rm -rf "$WORK"
}
trap cleanup EXIT

say "starting moto and osmem-server; seeding the store"
start_emulators
export AWS_ACCESS_KEY_ID=conformance AWS_SECRET_ACCESS_KEY=conformance-secret AWS_REGION=eu-west-2
export DYNAMODB_TABLE_NAME=tattoo-directory-local OPENSEARCH_INDEX=artists
export AUDIT_DB="$WORK/dlq-audit.sqlite3"
export PYTHONPATH="$PWD/scripts${PYTHONPATH:+:$PYTHONPATH}"
curl -fsS -X PUT "$OPENSEARCH_ENDPOINT/artists" -H 'Content-Type: application/json' -d '{}' >/dev/null
SEEDED=$(python3 scripts/demo_seed.py)
DLQ_URL=$(printf '%s' "$SEEDED" | python3 -c 'import json,sys; print(json.load(sys.stdin)["queueUrl"])')
export DLQ_URL
# Exit 3 is expected: the quarantined messages wait for an operator.
"$BIN" run --once >"$WORK/run-1.log" 2>&1 || [ $? -eq 3 ]
# Search now refuses every artist document (name mapped as a number): the next changes fail.
curl -fsS -X DELETE "$OPENSEARCH_ENDPOINT/artists" >/dev/null
curl -fsS -X PUT "$OPENSEARCH_ENDPOINT/artists" -H 'Content-Type: application/json' \
    -d '{"mappings": {"properties": {"name": {"type": "long"}}}}' >/dev/null
python3 scripts/api_conformance_seed.py >/dev/null
"$BIN" run --once >"$WORK/run-2.log" 2>&1 || [ $? -eq 3 ]

OPERATE_TOKEN="conformance-operate-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
READ_TOKEN="conformance-read-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
export OPERATOR_TOKENS="fuzz-operate:operate:$OPERATE_TOKEN,fuzz-read:read:$READ_TOKEN,client-flow:operate:$OPERATE_TOKEN-client"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
"$BIN" serve --http "127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 1 300); do
    if curl -fsS "$BASE/healthz" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$SERVE_PID" 2>/dev/null; then
        cat "$WORK/serve.log" >&2
        exit 1
    fi
    sleep 0.2
done
curl -fsS "$BASE/healthz" >/dev/null
say "serve is up at $BASE: $(curl -fsS -H "Authorization: Bearer $READ_TOKEN" "$BASE/v1/stats" |
    python3 -c 'import json,sys; s=json.load(sys.stdin); print({k: v for k, v in s["changes"].items() if v}, "batches", {k: v for k, v in s["batches"].items() if v}, "quarantined", s["messages"]["quarantined"])')"

say "generating a client from the document (openapi-python-client) and running the flow"
openapi-python-client generate --path docs/openapi.yaml --output-path "$WORK/client/dlq_api_client" --meta none \
    >"$WORK/generate.log" 2>&1 || { cat "$WORK/generate.log" >&2; exit 1; }
PYTHONPATH="$WORK/client:$PYTHONPATH" python3 scripts/api_client_flow.py "$BASE" "$OPERATE_TOKEN-client" client-flow

say "without a token, every /v1 operation is 401"
python3 - "$BASE" <<'PY'
import json, sys, urllib.error, urllib.request, yaml
base = sys.argv[1]
document = yaml.safe_load(open("docs/openapi.yaml"))
wrong = []
for path, item in document["paths"].items():
    for method in item:
        if not path.startswith("/v1"):
            continue
        url = base + path.replace("{id}", "1").replace("{key}", "42")
        request = urllib.request.Request(url, method=method.upper(), data=b"{}" if method == "post" else None)
        try:
            status = urllib.request.urlopen(request).status
        except urllib.error.HTTPError as error:
            status = error.code
        if status != 401:
            wrong.append(f"{method.upper()} {path}: {status}")
if wrong:
    sys.exit("api-conformance: answered without a token: " + ", ".join(wrong))
print("api-conformance: every /v1 operation answered 401 without a token")
PY

# A cursor is opaque: only a `next` the service handed out is one. Each listing's cursor
# parameter is given one, read from the listing itself; everything else is generated.
# A POST's Idempotency-Key names one request: the generator draws the same few keys ("0", "a")
# for different requests, which the service rightly answers 422 (as the document says), so 422
# counts as accepting a valid request there.
cursor() {
    curl -fsS -H "Authorization: Bearer $READ_TOKEN" "$BASE$1" |
        python3 -c 'import json,sys; n=json.load(sys.stdin)["next"]; assert n, "no second page"; print(n)'
}
cat >"$WORK/schemathesis.toml" <<EOF
[[operations]]
include-operation-id = "listChanges"
parameters = { "query.cursor" = "$(cursor '/v1/changes?limit=1')" }

[[operations]]
include-operation-id = "listAudit"
parameters = { "query.cursor" = "$(cursor '/v1/audit?limit=1')" }

[[operations]]
include-operation-id = "listQuarantined"
parameters = { "query.cursor" = "$(cursor '/v1/quarantined?limit=1')" }

[[operations]]
include-operation-id = "listBatches"
parameters = { "query.cursor" = "$(cursor '/v1/batches?limit=1')" }

[[operations]]
include-method = "POST"
[operations.checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
EOF

export SCHEMATHESIS_HOOKS=api_conformance_hooks
fuzz() {
    local label=$1 seed=$2
    shift 2
    say "schemathesis, $label, seed $seed, at most $MAX_EXAMPLES cases an operation"
    local started=$SECONDS
    # Run from the work folder, where Schemathesis keeps its cache. POST /v1/reconcile runs a
    # reconcile to the end (up to 1,000 scan segments): answers may take a minute.
    (cd "$WORK" && st --config-file schemathesis.toml run "$OLDPWD/docs/openapi.yaml" --url "$BASE" \
        --checks all --phases examples,coverage,fuzzing,stateful --max-examples "$MAX_EXAMPLES" --seed "$seed" \
        --workers 1 --request-timeout 120 --max-response-time 60 --suppress-health-check too_slow,filter_too_much \
        --report junit --report-dir "report-$label" "$@") >"$WORK/schemathesis-$label.log" 2>&1 || {
        cat "$WORK/schemathesis-$label.log"
        say "schemathesis found failures ($label, seed $seed); serve's log: $WORK/serve.log (kept)"
        trap - EXIT
        kill "$SERVE_PID" 2>/dev/null || true
        stop_emulators
        exit 1
    }
    sed -n '/SUMMARY/,$p' "$WORK/schemathesis-$label.log" | grep -v '^ *$' | sed 's/^/    /'
    say "$label took $((SECONDS - started)) s"
}
fuzz operate "$FIXED_SEED" -H "Authorization: Bearer $OPERATE_TOKEN"
fuzz read "$FIXED_SEED" -H "Authorization: Bearer $READ_TOKEN"
fuzz none "$FIXED_SEED"
say "fresh seed: $FRESH_SEED (rerun with SCHEMATHESIS_SEED=$FRESH_SEED scripts/api-conformance.sh)"
fuzz operate-fresh "$FRESH_SEED" -H "Authorization: Bearer $OPERATE_TOKEN"
say "passed"
