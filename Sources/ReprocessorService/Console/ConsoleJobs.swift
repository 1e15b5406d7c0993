import Foundation
import Logging
import Reprocessor
import Synchronization

/// An operator action started from the console, running in the background while its page
/// shows the progress and, once done, the per-change results.
struct ConsoleJob: Sendable {
    /// The job's id (random, the last part of its page's path).
    var id: String
    /// What it does.
    var command: OperatorActions.Command
    /// Who started it.
    var actor: String
    /// The changes the preview said it would act on.
    var expected: Int
    /// When it started.
    var startedAt: Date
    /// Results so far (the first ``ConsoleJobs/keptResults`` of them).
    var results: [OperationResult] = []
    /// Results so far by outcome, all of them counted.
    var counts: [ChangeOutcome: Int] = [:]
    /// Whether it has finished.
    var finished = false
    /// That it stopped part-way, when it did, naming the job as the log line saying why does.
    var failure: String?

    /// How many results are known.
    var done: Int { counts.values.reduce(0, +) }
}

/// The console's recent jobs, in this process only. A running job holds one of the places of
/// ``ExpensiveRequests`` (shared with `/v1`), so the console cannot start unbounded work.
final class ConsoleJobs: Sendable {
    /// Most results a job keeps for its page; the counts cover every result.
    static let keptResults = 1000
    /// Most jobs remembered; the oldest finished ones are forgotten first.
    static let keptJobs = 50

    private let jobs = Mutex<[String: ConsoleJob]>([:])
    private let operations: Operations
    private let expensive: ExpensiveRequests
    private let logger: Logger

    init(operations: Operations, expensive: ExpensiveRequests, logger: Logger) {
        self.operations = operations
        self.expensive = expensive
        self.logger = logger
    }

    /// Starts `command` for `request` in the background, holding a place among the expensive
    /// work in flight until it finishes.
    /// - Returns: The job's id.
    /// - Throws: ``ServiceError`` (429) when every place is taken.
    func start(_ command: OperatorActions.Command, _ request: OperatorRequest, expected: Int) throws(ServiceError)
        -> String
    {
        let permit = try Self.place(in: expensive)
        let id = ConsoleSessions.randomToken()
        let job = ConsoleJob(id: id, command: command, actor: request.actor, expected: expected, startedAt: Date())
        jobs.withLock { jobs in
            if jobs.count >= Self.keptJobs,
                let oldest = jobs.values.filter(\.finished).min(by: { $0.startedAt < $1.startedAt })
            {
                jobs[oldest.id] = nil
            }
            jobs[id] = job
        }
        Task { [operations, logger] in
            do {
                try await operations.perform(command, request) { result in
                    self.update(id) { job in
                        job.counts[result.outcome, default: 0] += 1
                        if job.results.count < Self.keptResults { job.results.append(result) }
                    }
                }
                self.update(id) { $0.finished = true }
            } catch {
                logger.error("console job \(id): \(command.rawValue) by \(request.actor) stopped part-way: \(error)")
                self.update(id) { job in
                    job.finished = true
                    job.failure = "internal error (job \(id)): the log says what failed"
                }
            }
            withExtendedLifetime(permit) {}
        }
        return id
    }

    /// A place among the expensive work in flight.
    /// - Throws: ``ServiceError`` (429, retry after 5 s) saying how many actions run, when none is free.
    static func place(in expensive: ExpensiveRequests) throws(ServiceError) -> ExpensiveRequests.Permit {
        guard let permit = expensive.take() else {
            throw ServiceError(
                .tooManyRequests,
                "\(ExpensiveRequests.limit) actions or large reads are already running (from the console or the "
                    + "/v1 API); try again when one finishes", retryAfter: 5)
        }
        return permit
    }

    /// The job `id` as it stands.
    func job(_ id: String) -> ConsoleJob? {
        jobs.withLock { $0[id] }
    }

    private func update(_ id: String, _ change: (inout ConsoleJob) -> Void) {
        jobs.withLock { jobs in
            guard var job = jobs[id] else { return }
            change(&job)
            jobs[id] = job
        }
    }
}
