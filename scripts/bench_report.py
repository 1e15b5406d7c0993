#!/usr/bin/env python3
"""Turns the step reports of scripts/bench.sh (one JSON object a line) into the table, or
one JSON document: each figure is the median of the runs, printed beside its target."""
import argparse
import datetime
import json
import os
import platform
import statistics
import sys

MIB = 1024 * 1024
TARGETS = {
    "auditInsertChangesPerSecond": ">= 100000 changes/s",
    "auditInsertRatio": ">= 50% of a raw insert of the same rows",
    "historyP99Ms": "<= 2 ms at 1M changes",
    "ingestRatio": ">= 80% of the raw SQS + Streams rate",
    "realisticBulkRatio": ">= 50% of raw _bulk's document rate",
    "realisticPutRatio": ">= 10x the sequential PUT client's document rate",
    "realisticFloorRatio": ">= 90% of the table-read floor at D and at 4D",
    "smallBacklogFloorRatio": ">= 80% of the table-read floor on a small backlog",
    "replayRatio": ">= 50% of the raw _bulk rate",
    "reconcileRatio": ">= 70% of the raw parallel Scan + _mget rate",
    "peakRSS": "< 64 MiB, within 10% between the two sizes",
    "inflowLagP99": "<= 5 s sent -> applied at half the ingest capacity",
    "inflowBatchWait": "<= 2 s from stored to read",
    "inflowOverCapacityLag": "lag grows <= (R - C) / C s per s at 1.5x capacity",
    "inflowOverCapacityOrder": "no batch overtaken by more than the 4 reads serve runs at once",
}
POSTGRES_TARGETS = {
    "postgresReplayToSQLite": ">= 90% of SQLite's replay, one worker, same run",
    "postgresThreeWorkersToOne": ">= 1x one worker's replay",
    "postgresInsertRatio": ">= 50% of a raw insert of the same rows",
}


def postgres_figures(of, med, d, audit_changes):
    """The shared-store step: its figures (medians over runs; ratios of pairs measured in the
    same run), the rows of its table, and which of its targets are met."""

    def same_run_ratio(product, baseline, field="documentsPerSecond"):
        ratios = []
        for report in product:
            pair = [b for b in baseline if b["run"] == report["run"]]
            if pair:
                ratios.append(report[field] / pair[0][field])
        return median(ratios)

    replays = {w: of("replay-postgres", workers=w, documents=d) for w in (1, 2, 3)}
    sqlite = of("replay-sqlite", documents=d)
    figures = {
        "replaySQLiteDocumentsPerSecond": med("replay-sqlite", "documentsPerSecond", documents=d),
        # Where the SQLite worker's time went on its store: in all, and inside SQLite's calls.
        "replaySQLiteStoreSeconds": med("replay-sqlite", "worker0StoreSeconds", documents=d),
        "replaySQLiteStatementSeconds": med("replay-sqlite", "worker0StatementSeconds", documents=d),
        "auditInsertRawChangesPerSecond": med("audit-postgres-raw", "insertChangesPerSecond"),
        "auditInsertRatio": same_run_ratio(of("audit-postgres", workers=1), of("audit-postgres-raw"),
                                           "insertChangesPerSecond"),
        "replayToSQLite": same_run_ratio(replays[1], sqlite),
        "threeWorkersToOne": same_run_ratio(replays[3], replays[1]),
    }
    for workers in (1, 2, 3):
        runs = replays[workers]
        worker_figures = {
            "replayDocumentsPerSecond": med("replay-postgres", "documentsPerSecond", workers=workers, documents=d),
            "replayChangesPerSecond": med("replay-postgres", "changesPerSecond", workers=workers, documents=d),
            "replayToSQLite": same_run_ratio(runs, sqlite),
            "replayPeakRSSBytes": med("replay-postgres", "peakRSSBytes", workers=workers, documents=d),
            "perWorker": [
                {field: median([r[f"worker{k}{field[0].upper()}{field[1:]}"] for r in runs
                                if f"worker{k}Rounds" in r])
                 for field in ("applied", "rounds", "roundTrips", "roundTripsPerRound", "lockSeconds", "storeSeconds",
                               "statementSeconds")}
                for k in range(workers)
            ],
        }
        if workers != 2:
            worker_figures["auditInsertChangesPerSecond"] = med("audit-postgres", "insertChangesPerSecond", workers=workers)
            worker_figures["auditPeakRSSBytes"] = med("audit-postgres", "peakRSSBytes", workers=workers)
        figures[str(workers)] = worker_figures
    met = {
        "postgresReplayToSQLite": figures["replayToSQLite"] is not None and figures["replayToSQLite"] >= 0.9,
        "postgresThreeWorkersToOne": figures["threeWorkersToOne"] is not None and figures["threeWorkersToOne"] >= 1,
        "postgresInsertRatio": figures["auditInsertRatio"] is not None and figures["auditInsertRatio"] >= 0.5,
    }

    def verdict(name):
        return "ok" if met[name] else "MISSED"

    def rates(documents, changes):
        return f"{documents:,.0f} documents/s, {changes:,.0f} changes/s"

    rows = []
    for workers in ("1", "3"):
        rows.append((f"PostgreSQL, {workers} worker(s): audit insert {audit_changes // 10:,} changes",
                     f"{figures[workers]['auditInsertChangesPerSecond']:,.0f} changes/s", "-", ""))
    rows.append((f"PostgreSQL: raw insert of the same rows (bare tables)",
                 f"{figures['auditInsertRawChangesPerSecond']:,.0f} changes/s", "", ""))
    rows.append(("PostgreSQL, 1 worker: insert ratio to raw", f"{figures['auditInsertRatio']:.0%}",
                 POSTGRES_TARGETS["postgresInsertRatio"], verdict("postgresInsertRatio")))
    rows.append((f"SQLite: replay, realistic D={d} (same run)",
                 f"{figures['replaySQLiteDocumentsPerSecond']:,.0f} documents/s", "", ""))
    if figures["replaySQLiteStoreSeconds"] is not None:
        rows.append(("  its audit log", f"{figures['replaySQLiteStoreSeconds']:.2f} s in calls, "
                     f"{figures['replaySQLiteStatementSeconds']:.2f} s of them in SQLite", "", ""))
    for workers in ("1", "2", "3"):
        worker_figures = figures[workers]
        rows.append((f"PostgreSQL, {workers} worker(s): replay, realistic D={d}",
                     rates(worker_figures["replayDocumentsPerSecond"], worker_figures["replayChangesPerSecond"]), "", ""))
        for k, worker in enumerate(worker_figures["perWorker"]):
            if worker["rounds"] is None:
                continue
            rows.append((f"  worker {k + 1} of {workers}",
                         f"{worker['applied']:,.0f} applied in {worker['rounds']:,.0f} rounds, "
                         f"{worker['roundTripsPerRound']:,.1f} round trips a round, "
                         f"{worker['lockSeconds']:.2f} s taking the write lock"
                         + (f"; {worker['storeSeconds']:.2f} s in audit log calls, {worker['statementSeconds']:.2f} s "
                            "of them in statements" if worker["storeSeconds"] is not None else ""), "", ""))
    rows.append(("PostgreSQL, 1 worker: replay ratio to SQLite (same run)", f"{figures['replayToSQLite']:.0%}",
                 POSTGRES_TARGETS["postgresReplayToSQLite"], verdict("postgresReplayToSQLite")))
    rows.append(("PostgreSQL, 3 workers: replay ratio to 1 worker (same run)", f"{figures['threeWorkersToOne']:.2f}x",
                 POSTGRES_TARGETS["postgresThreeWorkersToOne"], verdict("postgresThreeWorkersToOne")))
    rows.append(("peak RSS: PostgreSQL audit / replay, 3 workers",
                 f"{figures['3']['auditPeakRSSBytes'] / MIB:.1f} / {figures['3']['replayPeakRSSBytes'] / MIB:.1f} MiB",
                 "< 64 MiB", ""))
    return figures, rows, met


def print_table(title, document, rows):
    print(title)
    print(f"machine: {document['machine']}")
    print()
    rows = [("step", "figure (median of runs)", "target", "")] + rows
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0:
            print("  ".join("-" * w for w in widths))


def machine():
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = ""
    try:
        with open("/proc/meminfo") as meminfo:
            kib = int(meminfo.readline().split()[1])
            memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{model}, {os.cpu_count()} CPUs{memory}, {platform.system()} {platform.release()}"


# serve's default --concurrency: how many batches it reads at once (the inflow step keeps the default).
SERVE_BATCH_READS = 4


def cpu_bound(products):
    """What this machine's cores allow a replay: the CPU it and the emulators used (medians over
    runs), and the shortest time that work can take here, the larger of all of it spread over
    every core and moto's own (one core: Python's interpreter lock). The ratio is that bound over
    the time the replay took: 100% means the replay waited for nothing but CPU."""
    runs = [p for p in products if "motoCPUSeconds" in p and "osmemCPUSeconds" in p and "cpuSeconds" in p]
    if not runs:
        return {}
    cores = os.cpu_count() or 1
    bounds = [max((p["motoCPUSeconds"] + p["osmemCPUSeconds"] + p["cpuSeconds"]) / cores, p["motoCPUSeconds"])
              for p in runs]
    return {
        "motoCPUSeconds": median([p["motoCPUSeconds"] for p in runs]),
        "osmemCPUSeconds": median([p["osmemCPUSeconds"] for p in runs]),
        "productCPUSeconds": median([p["cpuSeconds"] for p in runs]),
        "coresBoundSeconds": median(bounds),
        "coresBoundRatio": median([bound / p["seconds"] for bound, p in zip(bounds, runs)]),
    }


def median(values):
    return statistics.median(values) if values else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("results")
    parser.add_argument("--json", type=int, default=0)
    parser.add_argument("--only", default="all", choices=("all", "postgres"))
    parser.add_argument("--small", type=int, default=1000)
    for name in ("n", "m", "d", "r", "runs", "memory-runs", "audit-changes", "concurrency", "seconds", "inflow-seconds"):
        parser.add_argument(f"--{name}", type=int, required=True)
    args = parser.parse_args()
    with open(args.results) as results:
        reports = [json.loads(line) for line in results if line.strip()]

    def of(step, **match):
        return [r for r in reports if r["step"] == step and all(r.get(k) == v for k, v in match.items())]

    def med(step, field, **match):
        return median([r[field] for r in of(step, **match)])

    def ratio(product_step, raw_step, match, field):
        """Median over runs of product/raw, each pair measured in the same run."""
        ratios = []
        for product in of(product_step, **match):
            raws = [r for r in of(raw_step, **match) if r["run"] == product["run"]]
            if raws:
                ratios.append(product[field] / raws[0][field])
        return median(ratios)

    n, m, d, r = args.n, args.m, args.d, args.r
    postgres, postgres_rows, postgres_met = postgres_figures(of, med, d, args.audit_changes)
    if args.only == "postgres":
        document = {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "machine": machine(),
            "parameters": {"D": d, "runs": args.runs, "auditChanges": args.audit_changes, "wallSeconds": args.seconds},
            "postgres": postgres,
            "targets": {name: {"target": POSTGRES_TARGETS[name], "met": postgres_met[name]} for name in POSTGRES_TARGETS},
        }
        if args.json:
            json.dump(document, sys.stdout, indent=2)
            print()
        else:
            print_table(f"dlq-reprocessor benchmark, shared store only, {document['date']}; D = {d}, {args.runs} runs, "
                        f"{args.seconds} s in all", document, postgres_rows)
        return
    audit = {
        "changes": args.audit_changes,
        "insertChangesPerSecond": med("audit", "insertChangesPerSecond"),
        "rawInsertChangesPerSecond": med("audit", "rawInsertChangesPerSecond"),
        # Each run's product/raw pair, measured in the same run (one report).
        "insertRatio": med("audit", "insertRatio"),
        "historyP50Ms": med("audit", "historyP50Ms"),
        "historyP99Ms": med("audit", "historyP99Ms"),
        "listPageP99Ms": med("audit", "listPageP99Ms"),
        "databaseBytes": med("audit", "databaseBytes"),
        "peakRSSBytes": med("audit", "peakRSSBytes"),
    }
    errors = {
        "changes": args.audit_changes,
        "failedChanges": med("errors", "failedChanges"),
        "groups": med("errors", "groups"),
        "errorsP50Ms": med("errors", "errorsP50Ms"),
        "errorsP99Ms": med("errors", "errorsP99Ms"),
        "listGroupPageP99Ms": med("errors", "listGroupPageP99Ms"),
    }
    ingest = {}
    for size in (n, 4 * n):
        ingest[str(size)] = {
            "messages": size,
            "records": size * 10,
            "messagesPerSecond": med("ingest", "messagesPerSecond", messages=size),
            "recordsPerSecond": med("ingest", "recordsPerSecond", messages=size),
            "rawMessagesPerSecond": med("ingest-raw", "messagesPerSecond", messages=size),
            "rawRecordsPerSecond": med("ingest-raw", "recordsPerSecond", messages=size),
            "ratio": ratio("ingest", "ingest-raw", {"messages": size}, "messagesPerSecond"),
            "peakRSSBytes": med("ingest", "peakRSSBytes", messages=size),
        }
        if size != n:
            # The raw loop runs only at N: 4N is measured for the product's memory.
            for key in ("rawMessagesPerSecond", "rawRecordsPerSecond", "ratio"):
                del ingest[str(size)][key]
    realistic = {}
    for size in (d, 4 * d):
        match = {"workload": "realistic", "documents": size}
        realistic[str(size)] = {
            "documents": size,
            "changes": med("replay", "changes", **match),
            "documentsPerSecond": med("replay", "documentsPerSecond", **match),
            "changesPerSecond": med("replay", "changesPerSecond", **match),
            "rawBulkDocumentsPerSecond": med("bulk-raw", "documentsPerSecond", **match),
            "rawBulkChangesPerSecond": med("bulk-raw", "changesPerSecond", **match),
            "sequentialPutDocumentsPerSecond": med("put-sequential", "documentsPerSecond", **match),
            "sequentialPutChangesPerSecond": med("put-sequential", "changesPerSecond", **match),
            "rawTableReadDocumentsPerSecond": med("table-reads-raw", "documentsPerSecond", **match),
            "bulkRatio": ratio("replay", "bulk-raw", match, "documentsPerSecond"),
            "tableReadRatio": ratio("replay", "table-reads-raw", match, "documentsPerSecond"),
            "putRatio": ratio("replay", "put-sequential", match, "documentsPerSecond"),
            "peakRSSBytes": med("replay", "peakRSSBytes", **match),
            **cpu_bound(of("replay", **match)),
        }
        if size != d:
            # The baselines run only at D: 4D is measured for the product's memory and its floor.
            for key in list(realistic[str(size)]):
                if key.startswith(("rawBulk", "sequential")) or key in ("bulkRatio", "putRatio"):
                    del realistic[str(size)][key]
    # The small backlog: the product and its floor only.
    small_match = {"workload": "realistic", "documents": args.small}
    small = {
        "documents": args.small,
        "documentsPerSecond": med("replay", "documentsPerSecond", **small_match),
        "rawTableReadDocumentsPerSecond": med("table-reads-raw", "documentsPerSecond", **small_match),
        "tableReadRatio": ratio("replay", "table-reads-raw", small_match, "documentsPerSecond"),
        **cpu_bound(of("replay", **small_match)),
    }
    replay = {}
    for size in (m, 4 * m):
        match = {"workload": "best-case", "documents": size}
        replay[str(size)] = {
            "changes": size,
            "documentsPerSecond": med("replay", "documentsPerSecond", **match),
            "rawDocumentsPerSecond": med("bulk-raw", "documentsPerSecond", **match),
            "ratio": ratio("replay", "bulk-raw", match, "documentsPerSecond"),
            "peakRSSBytes": med("replay", "peakRSSBytes", **match),
        }
        if size != m:
            # Plain _bulk runs only at M: 4M is measured for the product's memory.
            for key in ("rawDocumentsPerSecond", "ratio"):
                del replay[str(size)][key]

    reconcile = {}
    for size in (r, 4 * r):
        match = {"documents": size}
        reconcile[str(size)] = {
            "artists": size,
            "drift": med("reconcile", "drift", **match),
            "itemsPerSecond": med("reconcile", "itemsPerSecond", **match),
            "rawItemsPerSecond": med("reconcile-raw", "itemsPerSecond", **match),
            "ratio": ratio("reconcile", "reconcile-raw", match, "itemsPerSecond"),
            "peakRSSBytes": med("reconcile", "peakRSSBytes", **match),
        }
        if size != r:
            # The raw Scan + _mget runs only at R: 4R is measured for the product's memory.
            for key in ("rawItemsPerSecond", "ratio"):
                del reconcile[str(size)][key]

    def growth(sizes):
        small, large = sizes[0]["peakRSSBytes"], sizes[1]["peakRSSBytes"]
        return (large - small) / small

    ingest_sizes = [ingest[str(n)], ingest[str(4 * n)]]
    realistic_sizes = [realistic[str(d)], realistic[str(4 * d)]]
    replay_sizes = [replay[str(m)], replay[str(4 * m)]]
    reconcile_sizes = [reconcile[str(r)], reconcile[str(4 * r)]]
    rss_peak = max(audit["peakRSSBytes"],
                   *(s["peakRSSBytes"] for s in ingest_sizes + realistic_sizes + replay_sizes + reconcile_sizes))
    met = {
        "auditInsertChangesPerSecond": audit["insertChangesPerSecond"] >= 100_000,
        "auditInsertRatio": audit["insertRatio"] >= 0.5,
        "historyP99Ms": audit["historyP99Ms"] <= 2,
        "ingestRatio": ingest[str(n)]["ratio"] >= 0.8,
        "realisticBulkRatio": realistic[str(d)]["bulkRatio"] >= 0.5,
        "realisticPutRatio": realistic[str(d)]["putRatio"] >= 10,
        "realisticFloorRatio": all((realistic[str(size)]["tableReadRatio"] or 0) >= 0.9 for size in (d, 4 * d)),
        "smallBacklogFloorRatio": small["tableReadRatio"] is None or small["tableReadRatio"] >= 0.8,
        "replayRatio": replay[str(m)]["ratio"] >= 0.5,
        "reconcileRatio": reconcile[str(r)]["ratio"] >= 0.7,
        "peakRSS": rss_peak < 64 * MIB and all(
            growth(sizes) <= 0.10 for sizes in (ingest_sizes, realistic_sizes, replay_sizes, reconcile_sizes)),
    }
    # serve under a steady inflow, at S and 4S seconds.
    inflow = {}
    inflow_fields = ("inflowRate", "capacity", "messages", "messagesPerSecond", "lagP50Seconds", "lagP99Seconds",
                     "lagMaxSeconds", "lagGrowth", "batchWaitP50Seconds", "batchWaitMaxSeconds", "batchOvertakeMax",
                     "settleSeconds", "servePeakRSSBytes")
    for seconds in (args.inflow_seconds, 4 * args.inflow_seconds):
        runs = [r for r in of("inflow") if round(r["messages"] / r["inflowRate"]) == seconds and r["load"] <= 1]
        inflow[str(seconds)] = {field: median([r[field] for r in runs]) for field in inflow_fields}
    # Above capacity (1.5x): the lag may grow, by at most (R - C) / C seconds a second when the
    # oldest work goes first; reads run a few at once, so up to that many may finish out of order.
    over_runs = [r for r in of("inflow") if r["load"] > 1]
    inflow["overCapacity"] = {field: median([r[field] for r in over_runs]) for field in inflow_fields}
    inflow_base = inflow[str(args.inflow_seconds)]
    over = inflow["overCapacity"]
    met["inflowOverCapacityLag"] = over["lagGrowth"] is not None and \
        over["lagGrowth"] <= over["inflowRate"] / over["capacity"] - 1
    met["inflowOverCapacityOrder"] = over["batchOvertakeMax"] is not None and \
        over["batchOvertakeMax"] <= SERVE_BATCH_READS
    met["inflowLagP99"] = inflow_base["lagP99Seconds"] is not None and inflow_base["lagP99Seconds"] <= 5
    met["inflowBatchWait"] = inflow_base["batchWaitMaxSeconds"] is not None and inflow_base["batchWaitMaxSeconds"] <= 2
    document = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(),
        "parameters": {"N": n, "M": m, "D": d, "R": r, "runs": args.runs, "memoryRuns": args.memory_runs, "auditChanges": args.audit_changes,
                       "concurrency": args.concurrency, "wallSeconds": args.seconds},
        "audit": audit,
        "errors": errors,
        "ingest": ingest,
        "replayRealistic": realistic,
        "replayRealisticSmall": small,
        "replay": replay,
        "reconcile": reconcile,
        "inflow": inflow,
        "postgres": postgres,
        "memory": {"ingestGrowth": growth(ingest_sizes), "replayRealisticGrowth": growth(realistic_sizes),
                   "replayGrowth": growth(replay_sizes), "reconcileGrowth": growth(reconcile_sizes),
                   "largestPeakRSSBytes": rss_peak},
        "targets": {**{name: {"target": TARGETS[name], "met": met[name]} for name in TARGETS},
                    **{name: {"target": POSTGRES_TARGETS[name], "met": postgres_met[name]} for name in POSTGRES_TARGETS}},
    }
    if args.json:
        json.dump(document, sys.stdout, indent=2)
        print()
        return

    def verdict(name):
        return "ok" if met[name] else "MISSED"

    rows = [("step", "figure (median of %d runs)" % args.runs, "target", "")]
    rows.append(("audit: insert %s changes" % f"{args.audit_changes:,}",
                 f"{audit['insertChangesPerSecond']:,.0f} changes/s", TARGETS["auditInsertChangesPerSecond"],
                 verdict("auditInsertChangesPerSecond")))
    rows.append(("audit: raw insert of the same rows (bare tables)", f"{audit['rawInsertChangesPerSecond']:,.0f} changes/s",
                 "", ""))
    rows.append(("audit: insert ratio to raw", f"{audit['insertRatio']:.0%}", TARGETS["auditInsertRatio"],
                 verdict("auditInsertRatio")))
    rows.append(("audit: history of one document", f"p50 {audit['historyP50Ms']:.3f} ms, p99 {audit['historyP99Ms']:.3f} ms",
                 TARGETS["historyP99Ms"], verdict("historyP99Ms")))
    rows.append(("audit: list --status filtered, one page", f"p99 {audit['listPageP99Ms']:.3f} ms", "-", ""))
    rows.append(("audit: database on disk", f"{audit['databaseBytes'] / MIB:,.0f} MiB", "-", ""))
    rows.append(("errors: %s groups of %s failures in %s changes" % (
                     f"{errors['groups']:,.0f}", f"{errors['failedChanges']:,.0f}", f"{args.audit_changes:,}"),
                 f"p50 {errors['errorsP50Ms']:.1f} ms, p99 {errors['errorsP99Ms']:.1f} ms", "-", ""))
    rows.append(("errors: list --group, one page", f"p99 {errors['listGroupPageP99Ms']:.3f} ms", "-", ""))
    figures = ingest[str(n)]
    rows.append((f"ingest N={n} ({n * 10} records): product",
                 f"{figures['messagesPerSecond']:,.1f} msg/s, {figures['recordsPerSecond']:,.0f} records/s", "", ""))
    rows.append((f"ingest N={n}: raw receive+read+delete",
                 f"{figures['rawMessagesPerSecond']:,.1f} msg/s, {figures['rawRecordsPerSecond']:,.0f} records/s", "", ""))
    rows.append((f"ingest N={n}: ratio", f"{figures['ratio']:.0%}", TARGETS["ingestRatio"], verdict("ingestRatio")))
    rows.append((f"ingest 4N={4 * n}: product", f"{ingest[str(4 * n)]['messagesPerSecond']:,.1f} msg/s", "", ""))
    s = args.inflow_seconds
    rows.append((f"serve, steady inflow {inflow_base['inflowRate']:,.1f} msg/s (half the ingest capacity) for {s} s",
                 f"{inflow_base['messagesPerSecond']:,.1f} msg/s through, settled {inflow_base['settleSeconds']:.1f} s after",
                 "", ""))
    rows.append((f"serve, inflow {s} s: sent -> applied",
                 f"p50 {inflow_base['lagP50Seconds']:.2f} s, p99 {inflow_base['lagP99Seconds']:.2f} s, "
                 f"max {inflow_base['lagMaxSeconds']:.2f} s", TARGETS["inflowLagP99"], verdict("inflowLagP99")))
    rows.append((f"serve, inflow {s} s: batch stored -> read",
                 f"p50 {inflow_base['batchWaitP50Seconds']:.2f} s, max {inflow_base['batchWaitMaxSeconds']:.2f} s",
                 TARGETS["inflowBatchWait"], verdict("inflowBatchWait")))
    inflow_long = inflow[str(4 * s)]
    if inflow_long["lagP99Seconds"] is not None:
        rows.append((f"serve, inflow {4 * s} s: sent -> applied",
                     f"p50 {inflow_long['lagP50Seconds']:.2f} s, p99 {inflow_long['lagP99Seconds']:.2f} s", "", ""))
        rows.append((f"peak RSS: serve under inflow {s} s / {4 * s} s",
                     f"{inflow_base['servePeakRSSBytes'] / MIB:.1f} / {inflow_long['servePeakRSSBytes'] / MIB:.1f} MiB",
                     "< 64 MiB, flat", ""))
    if over["lagGrowth"] is not None:
        rows.append((f"serve, inflow {over['inflowRate']:,.1f} msg/s (1.5x capacity) for {s} s",
                     f"{over['messagesPerSecond']:,.1f} msg/s through, lag p99 {over['lagP99Seconds']:.1f} s, "
                     f"settled {over['settleSeconds']:.1f} s after", "", ""))
        rows.append(("serve above capacity: lag growth (s per s of inflow)",
                     f"{over['lagGrowth']:.2f} (bound {over['inflowRate'] / over['capacity'] - 1:.2f})",
                     TARGETS["inflowOverCapacityLag"], verdict("inflowOverCapacityLag")))
        rows.append(("serve above capacity: most newer batches read before an older one",
                     f"{over['batchOvertakeMax']:.0f}", TARGETS["inflowOverCapacityOrder"],
                     verdict("inflowOverCapacityOrder")))
    figures = realistic[str(d)]

    def rates(documents, changes):
        return f"{documents:,.0f} documents/s, {changes:,.0f} changes/s"

    rows.append((f"replay, realistic D={d} ({figures['changes']:,.0f} changes): product",
                 rates(figures["documentsPerSecond"], figures["changesPerSecond"]), "", ""))
    rows.append((f"replay, realistic D={d}: raw _bulk of the final documents",
                 rates(figures["rawBulkDocumentsPerSecond"], figures["rawBulkChangesPerSecond"]), "", ""))
    rows.append((f"replay, realistic D={d}: sequential PUT per change",
                 rates(figures["sequentialPutDocumentsPerSecond"], figures["sequentialPutChangesPerSecond"]), "", ""))
    rows.append((f"replay, realistic D={d}: only the table reads it must make (the floor)",
                 f"{figures['rawTableReadDocumentsPerSecond']:,.0f} documents/s", "", ""))
    rows.append((f"replay, realistic D={d}: ratio to the table reads alone", f"{figures['tableReadRatio']:.0%}",
                 TARGETS["realisticFloorRatio"], verdict("realisticFloorRatio")))
    rows.append((f"replay, realistic D={d}: ratio to raw _bulk", f"{figures['bulkRatio']:.0%}",
                 TARGETS["realisticBulkRatio"], verdict("realisticBulkRatio")))
    rows.append((f"replay, realistic D={d}: ratio to sequential PUT", f"{figures['putRatio']:.1f}x",
                 TARGETS["realisticPutRatio"], verdict("realisticPutRatio")))
    rows.append((f"replay, realistic 4D={4 * d}: product",
                 rates(realistic[str(4 * d)]["documentsPerSecond"], realistic[str(4 * d)]["changesPerSecond"]), "", ""))
    rows.append((f"replay, realistic 4D={4 * d}: ratio to the table reads alone (the floor, "
                 f"{realistic[str(4 * d)]['rawTableReadDocumentsPerSecond']:,.0f} documents/s)",
                 f"{realistic[str(4 * d)]['tableReadRatio']:.0%}", TARGETS["realisticFloorRatio"],
                 verdict("realisticFloorRatio")))
    for label, figures in ((f"D={d}", realistic[str(d)]), (f"4D={4 * d}", realistic[str(4 * d)])):
        if "coresBoundRatio" in figures:
            rows.append((f"replay, realistic {label}: CPU used by moto, osmem and the product; the shortest "
                         f"time it allows on {os.cpu_count()} cores, over the time taken",
                         f"{figures['motoCPUSeconds']:.1f} s, {figures['osmemCPUSeconds']:.1f} s, "
                         f"{figures['productCPUSeconds']:.1f} s; {figures['coresBoundSeconds']:.1f} s: "
                         f"{figures['coresBoundRatio']:.0%}", "", ""))
    if small["tableReadRatio"] is not None:
        rows.append((f"replay, realistic small backlog of {args.small:,} documents: product",
                     f"{small['documentsPerSecond']:,.0f} documents/s", "", ""))
        rows.append((f"replay, small backlog: ratio to the table reads alone (the floor, "
                     f"{small['rawTableReadDocumentsPerSecond']:,.0f} documents/s)",
                     f"{small['tableReadRatio']:.0%}", TARGETS["smallBacklogFloorRatio"], verdict("smallBacklogFloorRatio")))
    figures = replay[str(m)]
    rows.append((f"replay, best case M={m}: product", f"{figures['documentsPerSecond']:,.0f} documents/s", "", ""))
    rows.append((f"replay, best case M={m}: raw _bulk", f"{figures['rawDocumentsPerSecond']:,.0f} documents/s", "", ""))
    rows.append((f"replay, best case M={m}: ratio", f"{figures['ratio']:.0%}", TARGETS["replayRatio"], verdict("replayRatio")))
    rows.append((f"replay, best case 4M={4 * m}: product",
                 f"{replay[str(4 * m)]['documentsPerSecond']:,.0f} documents/s", "", ""))
    figures = reconcile[str(r)]
    rows.append((f"reconcile --repair, R={r} artists (1% drift): product", f"{figures['itemsPerSecond']:,.0f} items/s", "", ""))
    rows.append((f"reconcile, R={r}: raw parallel Scan + _mget", f"{figures['rawItemsPerSecond']:,.0f} items/s", "", ""))
    rows.append((f"reconcile, R={r}: ratio", f"{figures['ratio']:.0%}", TARGETS["reconcileRatio"], verdict("reconcileRatio")))
    rows.append((f"reconcile --repair, 4R={4 * r}: product",
                 f"{reconcile[str(4 * r)]['itemsPerSecond']:,.0f} items/s", "", ""))
    rows += postgres_rows
    rows.append(("peak RSS: audit", f"{audit['peakRSSBytes'] / MIB:.1f} MiB", "< 64 MiB", ""))
    rows.append((f"peak RSS: ingest N / 4N",
                 f"{ingest_sizes[0]['peakRSSBytes'] / MIB:.1f} / {ingest_sizes[1]['peakRSSBytes'] / MIB:.1f} MiB "
                 f"({growth(ingest_sizes):+.1%})", "< 64 MiB, within 10%", ""))
    rows.append((f"peak RSS: realistic replay D / 4D",
                 f"{realistic_sizes[0]['peakRSSBytes'] / MIB:.1f} / {realistic_sizes[1]['peakRSSBytes'] / MIB:.1f} MiB "
                 f"({growth(realistic_sizes):+.1%})", "< 64 MiB, within 10%", ""))
    rows.append((f"peak RSS: best-case replay M / 4M",
                 f"{replay_sizes[0]['peakRSSBytes'] / MIB:.1f} / {replay_sizes[1]['peakRSSBytes'] / MIB:.1f} MiB "
                 f"({growth(replay_sizes):+.1%})", "< 64 MiB, within 10%", ""))
    rows.append((f"peak RSS: reconcile R / 4R",
                 f"{reconcile_sizes[0]['peakRSSBytes'] / MIB:.1f} / {reconcile_sizes[1]['peakRSSBytes'] / MIB:.1f} MiB "
                 f"({growth(reconcile_sizes):+.1%})", "< 64 MiB, within 10%", verdict("peakRSS")))
    print(f"dlq-reprocessor benchmark, {document['date']}")
    print(f"machine: {document['machine']}")
    print(f"N = {n} messages, D = {d} documents, M = {m} changes, R = {r} artists, {args.audit_changes:,} audit changes, "
          f"{args.runs} runs ({args.memory_runs} at 4N, 4D, 4M and 4R), concurrency {args.concurrency}; {args.seconds} s in all")
    print()
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    main()
