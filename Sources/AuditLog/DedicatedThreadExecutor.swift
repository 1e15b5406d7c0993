import Foundation

/// A serial executor that runs its jobs on one thread of its own, so an actor's blocking
/// work (SQLite's disk I/O and busy waits) never occupies the cooperative thread pool.
///
/// `@unchecked Sendable`: `jobs` and `isShutDown` are only touched with `condition` locked.
final class DedicatedThreadExecutor: SerialExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var isShutDown = false

    /// Starts the thread.
    /// - Parameter name: The thread's name (shows in debuggers and crash logs).
    init(name: String) {
        let thread = Thread { [self] in
            runJobs()
        }
        thread.name = name
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Lets the thread finish once its queue is empty.
    func shutDown() {
        condition.lock()
        isShutDown = true
        condition.signal()
        condition.unlock()
    }

    private func runJobs() {
        while true {
            condition.lock()
            while jobs.isEmpty, !isShutDown {
                condition.wait()
            }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in batch {
                job.runSynchronously(on: asUnownedSerialExecutor())
            }
        }
    }
}
