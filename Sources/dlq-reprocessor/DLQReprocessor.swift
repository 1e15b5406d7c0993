// The `dlq-reprocessor` command line: parses, builds a Reprocessor, calls it,
// prints. Business rules live in the Reprocessor module, not here.
import AWSClients
import ArgumentParser
import AuditLog
import Foundation
import Reprocessor

/// The `dlq-reprocessor` command line.
@main
struct DLQReprocessor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq-reprocessor",
        abstract: "Drains a DynamoDB-stream DLQ into an audit log and replays it into OpenSearch.",
        discussion: """
            Exit status: 0 success, 1 failure, 2 bad usage or input, \
            3 work left that needs an operator (parked, expired or quarantined).
            """,
        version: "0.1.0",
        subcommands: [
            IngestCommand.self, RunCommand.self, ListCommand.self, ShowCommand.self,
            RetryCommand.self, SkipCommand.self, RollbackCommand.self, ResyncCommand.self,
            HistoryCommand.self, ErrorsCommand.self, AuditCommand.self, QuarantinedCommand.self, BatchesCommand.self,
            SkipBatchCommand.self,
            ReopenBatchCommand.self,
            StatsCommand.self, ReconcileCommand.self, ResolveExpiredCommand.self,
            VerifyCommand.self, ServeCommand.self, MigrateStoreCommand.self, BackupCommand.self, RestoreCommand.self,
            SalvageCommand.self,
        ]
    )

    /// Runs the command and maps errors to the documented exit statuses.
    static func main() async {
        ProcessMemory.capMallocArenas()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withMappedError: error)
        }
    }

    /// Help and version print as usual; usage errors exit 2; everything else prints one line.
    static func exit(withMappedError error: any Error) -> Never {
        if let exitCode = error as? ExitCode {
            Foundation.exit(exitCode.rawValue)
        }
        let code = exitCode(for: error)
        if code == .success {
            exit(withError: error)
        }
        if code == .validationFailure {
            // One line, as every error: the flag and what it accepts (`--help` shows the usage).
            let line = message(for: error).replacingOccurrences(of: "\n", with: " ")
            FileHandle.standardError.write(Data("error: \(line)\n".utf8))
            Foundation.exit(ExitStatus.usage.rawValue)
        }
        if let refused = error as? RequestError {
            FileHandle.standardError.write(Data("error: \(refused.message(naming: flagName))\n".utf8))
            Foundation.exit(ExitStatus.usage.rawValue)
        }
        if let input = error as? InputError {
            FileHandle.standardError.write(Data("error: \(input)\n".utf8))
            Foundation.exit(ExitStatus.usage.rawValue)
        }
        if let cursorError = error as? AuditLogError, cursorError.code == .invalidCursor {
            FileHandle.standardError.write(Data("error: --cursor: \(cursorError); pass the \"next\" of the previous page\n".utf8))
            Foundation.exit(ExitStatus.usage.rawValue)
        }
        if let usage = error as? UsageError {
            FileHandle.standardError.write(Data("error: \(usage.message)\n".utf8))
            Foundation.exit(ExitStatus.usage.rawValue)
        }
        if let settingError = error as? ReprocessorError,
            [.missingSetting, .invalidSetting, .invalidRequest, .notFound].contains(settingError.code)
        {
            FileHandle.standardError.write(Data("error: \(settingError)\n".utf8))
            Foundation.exit(ExitStatus.usage.rawValue)
        }
        if let keyError = error as? AuditLogError, [.keyRequired, .invalidKey].contains(keyError.code) {
            FileHandle.standardError.write(
                Data("error: \(keyError) (--audit-key-file / AUDIT_KEY_FILE or AUDIT_KEY_SECRET_ARN)\n".utf8))
            Foundation.exit(ExitStatus.usage.rawValue)
        }
        if let awsError = error as? AWSError, awsError.code == .configuration {
            FileHandle.standardError.write(Data("error: \(awsError)\n".utf8))
            Foundation.exit(ExitStatus.usage.rawValue)
        }
        let line = String(describing: error).replacingOccurrences(of: "\n", with: " ")
        FileHandle.standardError.write(Data("error: \(line)\n".utf8))
        Foundation.exit(ExitStatus.failure.rawValue)
    }
}

/// The documented exit statuses.
enum ExitStatus: Int32 {
    case success = 0
    case failure = 1
    case usage = 2
    case needsOperator = 3

    var exitCode: ExitCode { ExitCode(rawValue) }
}

/// Bad input found after parsing (a setting, a filter): exits 2.
struct UsageError: Error {
    let message: String
}
