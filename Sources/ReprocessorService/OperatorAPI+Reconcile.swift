import AuditLog
import Foundation
import Hummingbird
import Reprocessor
import StreamModel

extension OperatorAPI {
    /// Fields a `POST /v1/reconcile` body may carry.
    static let reconcileFields: Set<String> = ["reason", "dryRun", "rate", "segments"]

    /// `GET /v1/reconcile?limit=`: the newest reconcile runs, newest first, as `{"runs": [run…]}`
    /// (each run as `reconcile --json` prints it).
    func reconcileRuns(_ request: Request) async throws -> Response {
        let query = try QueryInput(request, route: RouteTable.reconcileRuns)
        let limit = try query.count("limit", AuditQueries.reconcileRunsPage)
        let runs = try await auditLog.reconcileRuns(limit: limit)
        return JSONResponse.make(.object(["runs": .array(runs.map(AuditJSON.reconcileRun))]))
    }

    /// `POST /v1/reconcile`: runs a repairing reconcile (or a dry run with `"dryRun": true`) to the
    /// end and answers its report, as `reconcile --json`; body `{"reason", "dryRun", "rate", "segments"}`,
    /// `reason` required for a repair.
    func startReconcile(_ request: Request) async throws -> Response {
        let actor = try authenticate(request)
        let body = try await BodyInput.read(request, allowed: Self.reconcileFields)
        let reconcile = ReconcileRequest(
            segments: try body.integer("segments"), repair: !(try body.bool("dryRun") ?? false), actor: actor,
            reason: try body.string("reason"), ratePerSecond: try body.rate("rate"))
        try reconcile.validate()
        let report = try await operations.reconcile(reconcile)
        ReprocessorMetrics.record(reconcile: report.run)
        return JSONResponse.make(report.json)
    }
}
