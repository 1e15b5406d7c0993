import AuditLog
import Foundation
import Logging
import Reprocessor
import ServiceLifecycle

extension ReprocessingLoop {
    /// Takes a verified backup into the schedule's folder every interval (the first one interval after
    /// the start) and keeps the newest copies; whether or not this process holds the lease (a copy
    /// only reads). A failure is logged and counted (`dlq_backup_failures_total`) and never stops
    /// ingest or replay; a success sets `dlq_backup_last_success_timestamp_seconds`.
    func backupOnInterval(_ schedule: BackupSchedule) async {
        BackupSchedule.registerMetrics()
        let backups: StoreBackup
        do {
            backups = try await auditLog.backups()
        } catch {
            BackupSchedule.recordFailure()
            logger.error("scheduled backups are off: \(error)")
            return
        }
        while !control.isStopping {
            await pause(schedule.interval)
            guard !control.isStopping else { return }
            do {
                let (report, removed) = try await cancelWhenGracefulShutdown {
                    try await schedule.takeBackup(with: backups)
                }
                BackupSchedule.recordSuccess(at: Date())
                logger.notice(
                    "backup \(report.path): \(report.bytes) bytes, head \(report.head), verified in \(report.duration); \(removed.count) older copies removed",
                    metadata: ["backupHead": "\(report.head)"])
            } catch is CancellationError {
                return
            } catch {
                BackupSchedule.recordFailure()
                logger.error("scheduled backup into \(schedule.directory) failed (ingest and replay go on): \(error)")
            }
        }
    }
}
