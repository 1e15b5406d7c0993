import ArgumentParser

/// The `dlq-reprocessor` command line.
@main
struct DLQReprocessor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq-reprocessor",
        abstract: "Drains a DynamoDB-stream DLQ into an audit log and replays it into OpenSearch.",
        version: "0.1.0"
    )
}
