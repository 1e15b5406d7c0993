// dlq-bench: the benchmark scripts/bench.sh runs. Each subcommand is one step (or the seeding
// of one), run as its own process so that the peak resident set size it reports is the step's
// own. The steps drive the product's real modules — AuditLog, DLQIngestor and WriteEngine
// through Reprocessor, the AWS and OpenSearch clients — against real peers (moto, osmem), and
// print one JSON object each on stdout. It asserts no targets: bench.sh prints them beside
// the figures.
import ArgumentParser
import Reprocessor

/// The `dlq-bench` process: its steps, run with the product's process settings
/// (``ProcessMemory``), so that a step's peak RSS is the product's.
@main
enum DLQBenchProcess {
    static func main() async {
        ProcessMemory.capMallocArenas()
        await DLQBench.main()
    }
}

/// The `dlq-bench` command line.
struct DLQBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq-bench",
        abstract: "Benchmark steps of dlq-reprocessor (run them through scripts/bench.sh).",
        subcommands: [
            AuditBenchmark.self,
            SeedStream.self, SeedQueues.self, IngestBenchmark.self, RawIngestBenchmark.self,
            SeedReplay.self, SeedRealisticTable.self, SeedRealisticReplay.self, ReplayBenchmark.self,
            RawBulkBenchmark.self, SequentialPutBenchmark.self, RawTableReadBenchmark.self, SeedReconcile.self,
            ReconcileBenchmark.self, RawReconcileBenchmark.self, PostgresAuditBenchmark.self, RawPostgresAuditBenchmark.self,
            InflowBenchmark.self,
            ErrorGroupsBenchmark.self,
        ]
    )
}
