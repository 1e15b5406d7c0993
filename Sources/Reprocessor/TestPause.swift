import Foundation
import Logging

/// Named points where a test can hold the process, so that a `kill -9` provably lands there.
///
/// Set `DLQ_TEST_PAUSE_AT` to a point's name: when the process reaches it, it writes
/// `DLQ_TEST_PAUSED <point>` on stderr and sleeps `DLQ_TEST_PAUSE_SECONDS` (default 3600). With
/// `DLQ_TEST_RESUME_FILE` set too, it also creates that path + `.paused` when it stops and goes
/// on as soon as the path itself exists, so a test can act while the process is known to be held
/// and then release it, whatever the machine's load. Unset (always, outside tests), a point
/// costs one environment lookup; a release build compiles the points out (`#if DEBUG`), so the
/// variables do nothing in what operators run.
enum TestPause: String {
    /// A group of messages is received and classified; nothing is committed yet.
    case beforeCommit = "before-commit"
    /// A group is committed to the audit log and not yet deleted from the queue.
    case afterCommitBeforeDelete = "after-commit-before-delete"
    /// A batch page's records are read from the stream and not yet committed.
    case beforeBatchPageCommit = "before-batch-page-commit"
    /// The write engine recorded the intents of a round's writes and has not sent them.
    case beforeWrite = "before-write"
    /// The write engine's `_bulk` landed and its outcomes are not recorded yet.
    case afterWriteBeforeRecord = "after-write-before-record"
    /// A reconcile scan page (with its repairs) is committed; the next page is not read yet.
    case reconcileAfterPage = "reconcile-after-page"
    /// A reconcile repair has read search and the table and decided; its writes are not sent yet.
    case reconcileBeforeWrite = "reconcile-before-write"
    /// A reconcile repair's `_bulk` landed (its intents recorded first); its actions are not recorded yet.
    case reconcileAfterWriteBeforeRecord = "reconcile-after-write-before-record"

    /// Holds the process here when the test asked for this point.
    static func at(_ point: TestPause, logger: Logger) async {
        #if DEBUG
            await hold(at: point, logger: logger)
        #endif
    }

    #if DEBUG
        /// Holds the process at `point` when the test asked for it.
        private static func hold(at point: TestPause, logger: Logger) async {
            let environment = ProcessInfo.processInfo.environment
            guard environment["DLQ_TEST_PAUSE_AT"] == point.rawValue else { return }
            let seconds = environment["DLQ_TEST_PAUSE_SECONDS"].flatMap(Int.init) ?? 3600
            FileHandle.standardError.write(Data("DLQ_TEST_PAUSED \(point.rawValue)\n".utf8))
            logger.notice("paused for a test at \(point.rawValue) for \(seconds) s")
            guard let resumeFile = environment["DLQ_TEST_RESUME_FILE"] else {
                try? await Task.sleep(for: .seconds(seconds))
                return
            }
            _ = FileManager.default.createFile(atPath: resumeFile + ".paused", contents: nil)
            let deadline = ContinuousClock.now + .seconds(seconds)
            while !FileManager.default.fileExists(atPath: resumeFile), ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
    #endif
}
