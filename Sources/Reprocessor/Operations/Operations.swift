import AuditLog
import Foundation
import Logging
import StreamModel
import SyncTransform

/// The operations every front end calls: the command line, `/v1` and the console only parse
/// what the operator sent into a request type, call one of these, and render the answer.
///
/// The request types (``OperatorRequest``, ``ReconcileRequest``) carry their defaults; their
/// `validate` methods hold every rule and bound, and refuse with a ``RequestError`` naming the
/// field, which each front end renames (`--reason`, `"reason"`). Every write to search goes
/// through one ``WriteEngine``, fenced and claimed as the process is configured.
public struct Operations: Sendable {
    /// The audit log every operation records to.
    public let auditLog: AuditLog
    let engine: WriteEngine?
    let actions: OperatorActions
    let reconciliation: Reconciliation?
    let quarantine: QuarantineActions

    /// Creates the operations over an audit log and, for those that write to search, an engine.
    /// - Parameters:
    ///   - auditLog: The audit log.
    ///   - engine: The write engine; without one, only what writes nothing to search works (skip).
    ///   - transform: Decides which records a re-ingested quarantined body carries are artists.
    ///   - reconcilePageSize: Items a reconcile compares at a time.
    ///   - logger: The logger.
    public init(
        auditLog: AuditLog, engine: WriteEngine?, transform: SyncTransform, reconcilePageSize: Int = 500, logger: Logger
    ) {
        self.auditLog = auditLog
        self.quarantine = QuarantineActions(auditLog: auditLog, transform: transform)
        self.engine = engine
        self.actions = OperatorActions(auditLog: auditLog, engine: engine, logger: logger)
        self.reconciliation = engine.map { Reconciliation(engine: $0, pageSize: reconcilePageSize, logger: logger) }
    }

    /// The operations of a wired reprocessor, with its write engine when `writingToSearch` (which
    /// needs the OpenSearch and table settings).
    /// - Parameters:
    ///   - reprocessor: The wired reprocessor.
    ///   - writingToSearch: Whether the operations to run write to search.
    /// - Throws: As ``Reprocessor/makeWriteEngine()``.
    public static func open(_ reprocessor: Reprocessor, writingToSearch: Bool) async throws -> Operations {
        Operations(
            auditLog: reprocessor.auditLog, engine: writingToSearch ? try await reprocessor.makeWriteEngine() : nil,
            transform: reprocessor.transform, reconcilePageSize: reprocessor.settings.bulkDocuments, logger: reprocessor.logger)
    }

    /// Retry, skip, rollback or resync (``OperatorActions/perform(_:_:report:)``).
    /// - Parameters:
    ///   - command: What to do.
    ///   - request: Which changes, who, why, dry run, force, rate.
    ///   - report: Called once per change, in order.
    /// - Returns: The changes a filter without statuses matched and left out.
    /// - Throws: ``RequestError`` for a request its rules refuse; ``ReprocessorError`` when a
    ///   command that writes has no engine; audit-log and search errors.
    @discardableResult
    public func perform(
        _ command: OperatorActions.Command, _ request: OperatorRequest,
        report: @Sendable (OperationResult) async throws -> Void
    ) async throws -> LeftOutChanges {
        try await actions.perform(command, request, report: report)
    }

    /// Runs a reconcile to its end (``Reconciliation/run(_:progress:planned:)``).
    /// - Parameters:
    ///   - request: Segments, repair or dry run, who, why, rate, resume.
    ///   - progress: Called as the run advances.
    ///   - planned: Called with each repair a dry run would make.
    /// - Returns: What the run found and did.
    /// - Throws: ``RequestError`` for a request its rules refuse; ``ReprocessorError`` without an
    ///   engine; AWS, search and audit-log errors.
    public func reconcile(
        _ request: ReconcileRequest, progress: (@Sendable (ReconcileRun) -> Void)? = nil,
        planned: (@Sendable (ReconcileFinding) -> Void)? = nil
    ) async throws -> ReconcileReport {
        try await requireReconciliation().run(request, progress: progress, planned: planned)
    }

    /// A repairing reconcile, then the expired batches it covered resolved
    /// (``Reconciliation/resolveExpired(_:progress:)``).
    /// - Throws: As ``reconcile(_:progress:planned:)``.
    public func resolveExpired(_ request: ReconcileRequest, progress: (@Sendable (ReconcileRun) -> Void)? = nil)
        async throws -> (report: ReconcileReport, resolvedBatches: [Int64])
    {
        try await requireReconciliation().resolveExpired(request, progress: progress)
    }

    /// Gives up on failed batches (pending or expired ones), one by one, reporting each.
    /// - Parameters:
    ///   - request: Which batches, who, why.
    ///   - report: Called with each batch as it ends.
    /// - Throws: ``RequestError`` for a request its rules refuse; `AuditLogError` (`.notFound`,
    ///   `.illegalTransition` for a batch read or skipped already).
    public func skipBatches(_ request: BatchRequest, report: (BatchRecord) async throws -> Void) async throws {
        try request.validate()
        for id in request.ids {
            try await report(try await auditLog.skipBatch(id, reason: request.reason, actor: request.actor, at: Date()))
        }
    }

    /// Reopens expired batches, so their records are read from the stream again, reporting each.
    /// - Parameters:
    ///   - request: Which batches, who, why.
    ///   - report: Called with each batch as it ends.
    /// - Throws: ``RequestError`` for a request its rules refuse; `AuditLogError` (`.notFound`,
    ///   `.illegalTransition` for a batch that is not expired).
    public func reopenBatches(_ request: BatchRequest, report: (BatchRecord) async throws -> Void) async throws {
        try request.validate()
        for id in request.ids {
            try await report(try await auditLog.reopenBatch(id, reason: request.reason, actor: request.actor, at: Date()))
        }
    }

    /// Deletes a quarantined message (with a reason) or re-ingests its kept body
    /// (``QuarantineActions/perform(_:messageID:actor:reason:dryRun:)``).
    /// - Returns: What became (or would become) of it; a refusal or a conflict is a result.
    /// - Throws: ``RequestError`` for a delete without a reason; ``ReprocessorError`` `.notFound`
    ///   for an unknown message; audit-log errors.
    public func quarantined(
        _ command: QuarantineActions.Command, messageID: String, actor: String, reason: String?, dryRun: Bool
    ) async throws -> QuarantineActions.Result {
        try await quarantine.perform(command, messageID: messageID, actor: actor, reason: reason, dryRun: dryRun)
    }

    /// About how many items a reconcile will compare (the table's estimate), or nil.
    public func reconcileEstimate() async -> Int? {
        await reconciliation?.estimate()
    }

    /// The document search holds now for `documentID`, or nil (``WriteEngine/liveDocument(_:)``).
    /// - Throws: ``ReprocessorError`` without an engine; `OpenSearchError`.
    public func liveDocument(_ documentID: String) async throws -> JSONValue? {
        guard let engine else { throw Self.needsEngine("reading the live document") }
        return try await engine.liveDocument(documentID)
    }

    private func requireReconciliation() throws -> Reconciliation {
        guard let reconciliation else { throw Self.needsEngine("reconcile") }
        return reconciliation
    }

    private static func needsEngine(_ what: String) -> ReprocessorError {
        ReprocessorError(.invalidRequest, "\(what) needs the OpenSearch and table settings")
    }
}
