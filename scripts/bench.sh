#!/usr/bin/env bash
# Benchmarks dlq-reprocessor on local peers and prints each figure (the median of
# several runs) beside its target: the audit store at 1M changes against a raw insert
# of the same rows into bare tables, ingest against the raw rate of the same calls,
# serve under a steady inflow at half that measured ingest capacity (freshness: sent →
# applied lag, and how long a stored batch waits to be read),
# replay of an outage's realistic backlog against raw _bulk and against a sequential
# one-PUT-per-change client, and replay's best case against raw _bulk, and a repairing
# reconcile of R artists with 1% drift against a raw parallel Scan + _mget of the same
# data (each baseline measured in the same run), and the peak resident set size of
# each step at two sizes. Builds dlq-bench in release mode, starts moto and
# osmem-server on free loopback ports, stops them, leaves nothing running. Targets are
# printed, not asserted: the exit status says only whether every step ran.
#
#   scripts/bench.sh [--json] [--only postgres] [--scratch-path P] [--n N] [--m M] [--d D] [--r R] [--runs R] [--memory-runs R] [--audit-changes C] [--concurrency K]
set -euo pipefail
cd "$(dirname "$0")/.."

JSON=0
ONLY=all
BUILD=(swift build -c release)
N=500              # format-A messages per ingest run (10 records each); memory is also measured at 4N
M=20000            # pending changes per best-case replay run; memory is also measured at 4M
D=4000             # documents per realistic replay run (about 3.1 changes each); memory is also measured at 4D
SMALL=1000         # documents of the small realistic backlog (a few rounds), measured against its own floor
R=10000            # artists per reconcile run (1% drift); memory is also measured at 4R
SEGMENTS=4         # reconcile's parallel Scan segments (its default), for the product and its baseline
RUNS=3             # runs per step; figures are medians
MEMORY_RUNS=1      # runs at 4N and 4M (peak RSS only; moto's SQS takes minutes to drain 4N)
AUDIT_CHANGES=1000000
CONCURRENCY=4      # receives in flight: the reprocessor's default
INFLOW_SECONDS=20  # seconds of steady inflow into serve (memory is also measured at 4x)

usage() {
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
    cat <<'EOF'

  --json             print one JSON document instead of the table
  --only postgres    run only the shared-store step (PostgreSQL beside SQLite, same run) and report it
  --scratch-path P   build the release binaries in P (swift build --scratch-path) instead of .build
  --n N              messages per ingest run (default 500; moto's SQS slows as a queue deepens)
  --m M              pending changes per best-case replay run (default 20000)
  --d D              documents per realistic replay run (default 4000; the sequential PUT client makes ~3.1 D requests)
  --r R              artists per reconcile run (default 10000, 1% drift; the tables are seeded at R and 4R)
  --runs R           runs per step (default 3)
  --memory-runs R    runs at 4N, 4D, 4M and 4R, which only measure peak RSS (default 1, at most --runs)
  --audit-changes C  changes inserted by the audit step (default 1000000)
  --concurrency K    receives in flight for ingest and its baseline (default 4)
EOF
}

positive() {
    [[ "$2" =~ ^[1-9][0-9]*$ ]] || { echo "bench: $1 needs a positive whole number, not \"$2\"" >&2; exit 2; }
}

while [ $# -gt 0 ]; do
    case "$1" in
        --json) JSON=1; shift ;;
        --only)
            [ $# -ge 2 ] && [ "$2" = postgres ] || { echo "bench: --only takes postgres" >&2; exit 2; }
            ONLY=$2; shift 2 ;;
        --scratch-path)
            [ $# -ge 2 ] || { echo "bench: $1 needs a value" >&2; exit 2; }
            BUILD+=(--scratch-path "$2"); shift 2 ;;
        --n|--m|--d|--r|--runs|--memory-runs|--audit-changes|--concurrency)
            [ $# -ge 2 ] || { echo "bench: $1 needs a value" >&2; exit 2; }
            positive "$1" "$2"
            case "$1" in
                --n) N=$2 ;;
                --m) M=$2 ;;
                --d) D=$2 ;;
                --r) R=$2 ;;
                --runs) RUNS=$2 ;;
                --memory-runs) MEMORY_RUNS=$2 ;;
                --audit-changes) AUDIT_CHANGES=$2 ;;
                --concurrency) CONCURRENCY=$2 ;;
            esac
            shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ "$AUDIT_CHANGES" -ge 10 ] || { echo "bench: --audit-changes must be at least 10" >&2; exit 2; }
[ "$MEMORY_RUNS" -le "$RUNS" ] || MEMORY_RUNS=$RUNS

say() { printf 'bench: %s\n' "$*" >&2; }

scripts/setup.sh >&2
say "building dlq-bench (release)"
"${BUILD[@]}" --product dlq-bench 2>&1 | tail -1 >&2
BIN="$("${BUILD[@]}" --show-bin-path)/dlq-bench"

WORK=$(mktemp -d -t dlq-bench.XXXXXX)
export EMULATOR_DIR="$WORK"
# shellcheck source=scripts/emulators.sh
source scripts/emulators.sh
trap 'stop_postgres; stop_emulators; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

say "starting moto and osmem-server"
start_emulators
say "moto $AWS_ENDPOINT_URL, osmem $OPENSEARCH_ENDPOINT"
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret AWS_REGION=eu-west-2
unset AWS_PROFILE AWS_SESSION_TOKEN

RESULTS="$WORK/results.jsonl"
: >"$RESULTS"
STARTED=$(date +%s)

# Runs one measured step; its JSON report goes to the results, tagged with the run.
measure() {
    local run=$1; shift
    local line moto_before osmem_before
    moto_before=$(cpu_ticks "$MOTO_PID"); osmem_before=$(cpu_ticks "$OSMEM_PID")
    line=$("$BIN" "$@") || { say "step failed: dlq-bench $*"; exit 1; }
    # The CPU the emulators used during the step beside the step's own (they share this machine's
    # cores: what the step waited for may be their CPU, not the network).
    printf '%s\n' "$line" | python3 -c '
import json, sys
d = json.loads(sys.stdin.read()); d["run"] = int(sys.argv[1])
tick = float(sys.argv[6])
for name, before, after in (("moto", sys.argv[2], sys.argv[3]), ("osmem", sys.argv[4], sys.argv[5])):
    if before and after:
        d[name + "CPUSeconds"] = (int(after) - int(before)) / tick
print(json.dumps(d))' "$run" "$moto_before" "$(cpu_ticks "$MOTO_PID")" "$osmem_before" "$(cpu_ticks "$OSMEM_PID")" \
        "$(getconf CLK_TCK)" >>"$RESULTS"
}

# CPU time (user + system, in clock ticks) a running process has used, or nothing.
cpu_ticks() {
    [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || return 0
    # Fields 14 and 15, counted after the command name's closing parenthesis.
    sed -E 's/^.*\) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

# Runs a seeding step; its report is only logged.
seed() {
    "$BIN" "$@" >>"$WORK/seed.log" || { say "seeding failed: dlq-bench $*"; exit 1; }
}

if [ "$ONLY" = all ]; then
# 1. The audit store.
for run in $(seq 1 "$RUNS"); do
    say "audit run $run/$RUNS: $AUDIT_CHANGES changes"
    measure "$run" audit --db "$WORK/audit.sqlite3" --changes "$AUDIT_CHANGES"
    rm -rf "$WORK"/audit.sqlite3*
done

# 1b. Failure groups at the same size: `errors` and one group's `list --group` page (p99).
for run in $(seq 1 "$RUNS"); do
    say "errors run $run/$RUNS: $AUDIT_CHANGES changes"
    measure "$run" errors --db "$WORK/errors.sqlite3" --changes "$AUDIT_CHANGES"
done

# 2. Ingest: one stream with enough records for 4N messages. Per run: at N, two queues with the
# same bodies, one drained by the product and one by the raw loop (in alternating order, for the
# ratio); in the first MEMORY_RUNS runs, 4N drained by the product alone (for its peak RSS).
TABLE=tattoo-directory-bench
say "seeding the stream: $((4 * N * 10)) items (BatchWriteItem, one call at a time)"
seed seed-stream --table "$TABLE" --records $((4 * N * 10))
for run in $(seq 1 "$RUNS"); do
    say "ingest run $run/$RUNS: $N messages"
    seed seed-queues --table "$TABLE" --messages "$N" --queue "product-$run-$N" --queue "raw-$run-$N"
    product=(ingest --queue "product-$run-$N" --db "$WORK/ingest.sqlite3" --messages "$N" --concurrency "$CONCURRENCY")
    raw=(ingest-raw --queue "raw-$run-$N" --messages "$N" --concurrency "$CONCURRENCY")
    if [ $((run % 2)) -eq 1 ]; then
        measure "$run" "${product[@]}"; measure "$run" "${raw[@]}"
    else
        measure "$run" "${raw[@]}"; measure "$run" "${product[@]}"
    fi
    rm -rf "$WORK"/ingest.sqlite3*
    [ "$run" -le "$MEMORY_RUNS" ] || continue
    say "ingest run $run/$RUNS: $((4 * N)) messages"
    seed seed-queues --table "$TABLE" --messages $((4 * N)) --queue "product-$run-$((4 * N))"
    measure "$run" ingest --queue "product-$run-$((4 * N))" --db "$WORK/ingest.sqlite3" --messages $((4 * N)) \
        --concurrency "$CONCURRENCY"
    rm -rf "$WORK"/ingest.sqlite3*
done

# 2b. serve under a steady inflow (InflowBenchmark): the release dlq-reprocessor runs as serve while
# a producer sends format-A and forwarded records, alternating, at half the ingest capacity just
# measured (the product's median msg/s at N), for INFLOW_SECONDS; then for 4x as long in the first
# MEMORY_RUNS runs (its peak RSS; the stream's records are reused past its end, as known changes),
# and at 1.5x the capacity (how fast the lag grows, and whether newer batches overtake older ones).
say "building dlq-reprocessor (release), for the inflow step"
"${BUILD[@]}" --product dlq-reprocessor 2>&1 | tail -1 >&2
SERVE="$("${BUILD[@]}" --show-bin-path)/dlq-reprocessor"
CAPACITY=$(python3 -c '
import json, statistics, sys
rates = [r["messagesPerSecond"] for r in map(json.loads, open(sys.argv[1]))
         if r["step"] == "ingest" and r["messages"] == int(sys.argv[2])]
print(f"{statistics.median(rates):.1f}")' "$RESULTS" "$N")
INFLOW_RATE=$(python3 -c 'import sys; print(f"{float(sys.argv[1]) / 2:.1f}")' "$CAPACITY")
OVER_RATE=$(python3 -c 'import sys; print(f"{float(sys.argv[1]) * 1.5:.1f}")' "$CAPACITY")
inflow() { # run, rate, seconds
    measure "$1" inflow --serve "$SERVE" --table "$TABLE" --queue "inflow-$1-${2//./-}-$3" --index "inflow-$1-${2//./-}-$3" \
        --db "$WORK/inflow.sqlite3" --rate "$2" --seconds "$3" --capacity "$CAPACITY"
    rm -rf "$WORK"/inflow.sqlite3*
}
for run in $(seq 1 "$RUNS"); do
    say "inflow run $run/$RUNS: $INFLOW_RATE msg/s for $INFLOW_SECONDS s"
    inflow "$run" "$INFLOW_RATE" "$INFLOW_SECONDS"
    [ "$run" -le "$MEMORY_RUNS" ] || continue
    say "inflow run $run/$RUNS: $INFLOW_RATE msg/s for $((4 * INFLOW_SECONDS)) s"
    inflow "$run" "$INFLOW_RATE" $((4 * INFLOW_SECONDS))
    # Above capacity: 1.5x what ingest alone reaches, so the backlog grows while the inflow lasts.
    say "inflow run $run/$RUNS: $OVER_RATE msg/s (1.5x the ingest capacity) for $INFLOW_SECONDS s"
    inflow "$run" "$OVER_RATE" "$INFLOW_SECONDS"
done

# 3. Replay of an outage's backlog (RealisticWorkload): the table holds every artist's final item
# (seeded once, for 4D: it serves both sizes). Per run, at D: the starting state in three indexes and
# the backlog in a new audit log; the product replays into one, plain _bulk writes the final
# documents into the second, a sequential client PUTs every change into the third (the order
# rotates from run to run). In the first MEMORY_RUNS runs, 4D by the product alone (for its peak RSS).
REALISTIC_TABLE=tattoo-directory-realistic
say "seeding the realistic table: $((4 * D)) documents"
seed seed-realistic-table --table "$REALISTIC_TABLE" --documents $((4 * D))
for run in $(seq 1 "$RUNS"); do
    say "realistic replay run $run/$RUNS: $D documents"
    seed seed-replay-realistic --db "$WORK/replay.sqlite3" --documents "$D" \
        --index "realistic-product-$run-$D" --index "realistic-bulk-$run-$D" --index "realistic-put-$run-$D"
    product=(replay --workload realistic --db "$WORK/replay.sqlite3" --documents "$D" --index "realistic-product-$run-$D" \
        --table "$REALISTIC_TABLE")
    bulk=(bulk-raw --workload realistic --documents "$D" --index "realistic-bulk-$run-$D")
    put=(put-sequential --documents "$D" --index "realistic-put-$run-$D")
    case $((run % 3)) in
        1) measure "$run" "${product[@]}"; measure "$run" "${bulk[@]}"; measure "$run" "${put[@]}" ;;
        2) measure "$run" "${put[@]}"; measure "$run" "${product[@]}"; measure "$run" "${bulk[@]}" ;;
        0) measure "$run" "${bulk[@]}"; measure "$run" "${put[@]}"; measure "$run" "${product[@]}" ;;
    esac
    measure "$run" table-reads-raw --documents "$D" --table "$REALISTIC_TABLE"
    rm -rf "$WORK"/replay.sqlite3*
    # A small backlog (SMALL documents, a few rounds): the pipeline must fill as fast as on a large one.
    if [ "$SMALL" -lt "$D" ]; then
        say "realistic replay run $run/$RUNS: $SMALL documents (a small backlog)"
        seed seed-replay-realistic --db "$WORK/replay.sqlite3" --documents "$SMALL" --index "realistic-small-$run-$SMALL"
        small=(replay --workload realistic --db "$WORK/replay.sqlite3" --documents "$SMALL" \
            --index "realistic-small-$run-$SMALL" --table "$REALISTIC_TABLE")
        if [ $((run % 2)) -eq 1 ]; then
            measure "$run" "${small[@]}"; measure "$run" table-reads-raw --documents "$SMALL" --table "$REALISTIC_TABLE"
        else
            measure "$run" table-reads-raw --documents "$SMALL" --table "$REALISTIC_TABLE"; measure "$run" "${small[@]}"
        fi
        rm -rf "$WORK"/replay.sqlite3*
    fi
    [ "$run" -le "$MEMORY_RUNS" ] || continue
    say "realistic replay run $run/$RUNS: $((4 * D)) documents"
    seed seed-replay-realistic --db "$WORK/replay.sqlite3" --documents $((4 * D)) --index "realistic-product-$run-$((4 * D))"
    measure "$run" replay --workload realistic --db "$WORK/replay.sqlite3" --documents $((4 * D)) \
        --index "realistic-product-$run-$((4 * D))" --table "$REALISTIC_TABLE"
    measure "$run" table-reads-raw --documents $((4 * D)) --table "$REALISTIC_TABLE"
    rm -rf "$WORK"/replay.sqlite3*
done

# 4. Replay's best case (BestCaseWorkload): per run, at M the documents' old revisions in two indexes
# and one pending MODIFY each in a new audit log; the product replays into one, plain _bulk writes the
# other (alternating order, for the ratio). In the first MEMORY_RUNS runs, 4M by the product alone.
for run in $(seq 1 "$RUNS"); do
    say "best-case replay run $run/$RUNS: $M changes"
    seed seed-replay --db "$WORK/replay.sqlite3" --changes "$M" --index "product-$M" --index "raw-$M"
    product=(replay --db "$WORK/replay.sqlite3" --documents "$M" --index "product-$M" --table "$TABLE")
    raw=(bulk-raw --documents "$M" --index "raw-$M")
    if [ $((run % 2)) -eq 1 ]; then
        measure "$run" "${product[@]}"; measure "$run" "${raw[@]}"
    else
        measure "$run" "${raw[@]}"; measure "$run" "${product[@]}"
    fi
    rm -rf "$WORK"/replay.sqlite3*
    [ "$run" -le "$MEMORY_RUNS" ] || continue
    say "best-case replay run $run/$RUNS: $((4 * M)) changes"
    seed seed-replay --db "$WORK/replay.sqlite3" --changes $((4 * M)) --index "product-$((4 * M))"
    measure "$run" replay --db "$WORK/replay.sqlite3" --documents $((4 * M)) --index "product-$((4 * M))" --table "$TABLE"
    rm -rf "$WORK"/replay.sqlite3*
done

# 5. Reconcile (ReconcileWorkload): two tables, of R and 4R artists, seeded once. Per run, at R: the
# table's drifted copy (1%: missing, stale, differs, orphaned) in two indexes; the product repairs
# one, the raw parallel Scan (same segments and page) + _mget reads the other (alternating order,
# for the ratio). In the first MEMORY_RUNS runs, 4R by the product alone (for its peak RSS).
say "seeding the reconcile tables: $R and $((4 * R)) artists"
seed seed-reconcile --table "reconcile-$R" --documents "$R"
seed seed-reconcile --table "reconcile-$((4 * R))" --documents $((4 * R))
for run in $(seq 1 "$RUNS"); do
    say "reconcile run $run/$RUNS: $R artists"
    seed seed-reconcile --index-only --table "reconcile-$R" --documents "$R" \
        --index "reconcile-product-$run-$R" --index "reconcile-raw-$run-$R"
    product=(reconcile --db "$WORK/reconcile.sqlite3" --table "reconcile-$R" --index "reconcile-product-$run-$R" \
        --documents "$R" --segments "$SEGMENTS")
    raw=(reconcile-raw --table "reconcile-$R" --index "reconcile-raw-$run-$R" --documents "$R" --segments "$SEGMENTS")
    if [ $((run % 2)) -eq 1 ]; then
        measure "$run" "${product[@]}"; measure "$run" "${raw[@]}"
    else
        measure "$run" "${raw[@]}"; measure "$run" "${product[@]}"
    fi
    rm -rf "$WORK"/reconcile.sqlite3*
    [ "$run" -le "$MEMORY_RUNS" ] || continue
    say "reconcile run $run/$RUNS: $((4 * R)) artists"
    seed seed-reconcile --index-only --table "reconcile-$((4 * R))" --documents $((4 * R)) \
        --index "reconcile-product-$run-$((4 * R))"
    measure "$run" reconcile --db "$WORK/reconcile.sqlite3" --table "reconcile-$((4 * R))" \
        --index "reconcile-product-$run-$((4 * R))" --documents $((4 * R)) --segments "$SEGMENTS"
    rm -rf "$WORK"/reconcile.sqlite3*
done

fi

# 6. The shared PostgreSQL store (a throwaway local cluster, default durability), each figure beside
# its baseline in the same run: audit inserts (AUDIT_CHANGES / 10 changes) by one worker and by three
# at once, and a raw insert of the same rows into bare tables; the realistic replay at D by 1, 2 and
# 3 workers (each its own connection; replay workers claim their documents) beside the SQLite
# product's replay of the same backlog (step "replay-sqlite"), the order rotating from run to run;
# a new database each time.
REALISTIC_TABLE=tattoo-directory-realistic
if [ "$ONLY" = postgres ]; then
    say "seeding the realistic table: $D documents"
    seed seed-realistic-table --table "$REALISTIC_TABLE" --documents "$D"
fi
say "starting PostgreSQL"
start_postgres
for run in $(seq 1 "$RUNS"); do
    audit=()
    for workers in 1 3; do
        audit+=("audit-postgres --changes $((AUDIT_CHANGES / 10)) --workers $workers")
    done
    audit+=("audit-postgres-raw --changes $((AUDIT_CHANGES / 10))")
    for index in 0 1 2; do
        step=${audit[$(((index + run) % 3))]}
        say "PostgreSQL run $run/$RUNS: $step"
        url=$(new_postgres_database "audit_${run}_$index")
        # shellcheck disable=SC2086 # the step's words
        measure "$run" $step --url "$url"
    done
    replays=(sqlite 1 2 3)
    for index in 0 1 2 3; do
        workers=${replays[$(((index + run) % 4))]}
        if [ "$workers" = sqlite ]; then
            say "realistic replay run $run/$RUNS on SQLite: $D documents"
            seed seed-replay-realistic --db "$WORK/replay-sqlite.sqlite3" --documents "$D" --index "realistic-sqlite-$run-$D"
            measure "$run" replay --workload realistic --db "$WORK/replay-sqlite.sqlite3" --documents "$D" \
                --index "realistic-sqlite-$run-$D" --table "$REALISTIC_TABLE" --report-as replay-sqlite
            rm -rf "$WORK"/replay-sqlite.sqlite3*
            continue
        fi
        say "PostgreSQL realistic replay run $run/$RUNS: $D documents, $workers workers"
        url=$(new_postgres_database "replay_${run}_$workers")
        seed seed-replay-realistic --db "$url" --documents "$D" --index "realistic-postgres-$run-$workers-$D"
        measure "$run" replay --workload realistic --db "$url" --documents "$D" \
            --index "realistic-postgres-$run-$workers-$D" --table "$REALISTIC_TABLE" --workers "$workers"
    done
done

say "done in $(($(date +%s) - STARTED)) s; stopping the peers"
python3 scripts/bench_report.py "$RESULTS" --json "$JSON" --only "$ONLY" --small "$SMALL" --inflow-seconds "$INFLOW_SECONDS" --n "$N" --m "$M" --d "$D" --r "$R" --runs "$RUNS" \
    --memory-runs "$MEMORY_RUNS" --audit-changes "$AUDIT_CHANGES" --concurrency "$CONCURRENCY" --seconds $(($(date +%s) - STARTED))
