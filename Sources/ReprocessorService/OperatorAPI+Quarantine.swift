import AuditLog
import Hummingbird
import Reprocessor
import StreamModel

extension OperatorAPI {
    /// Fields a quarantine action's body may carry.
    static let quarantineActionFields: Set<String> = ["reason", "dryRun"]

    /// Adds `POST /v1/quarantined/{messageId}/delete` and `…/reingest`.
    func registerQuarantineActions(on routes: RouteRegistrar) {
        for command in QuarantineActions.Command.allCases {
            let route = RouteTable.actOnQuarantined(command)
            routes.add(route) { request, context in
                try await idempotent(route, request, context) { request in
                    try await performOnQuarantined(command, request, context)
                }
            }
        }
    }

    /// `POST /v1/quarantined/{messageId}/{delete|reingest}`: body `{"reason", "dryRun"}`, both optional but
    /// a reason is required to delete. Answers the result (``QuarantineActions/Result/json``), 200
    /// even for a refusal or a conflict, as a change's action answers its per-change outcome.
    func performOnQuarantined(_ command: QuarantineActions.Command, _ request: Request, _ context: ServiceRequestContext)
        async throws -> Response
    {
        let actor = try authenticate(request)
        let id = try Self.messageID(context)
        let body = try await BodyInput.read(request, allowed: Self.quarantineActionFields)
        let result = try await operations.quarantined(
            command, messageID: id, actor: actor, reason: try body.string("reason"), dryRun: try body.bool("dryRun") ?? false)
        return JSONResponse.make(result.json)
    }

    /// The `{messageId}` of a quarantined message's route.
    static func messageID(_ context: ServiceRequestContext) throws(ServiceError) -> String {
        guard let id = context.parameters.get("messageId"), QuarantineActions.isMessageID(id) else {
            throw ServiceError(
                .invalidInput, "a message id is 1 to 200 letters, digits, -, _ and . (not first)", field: "messageId")
        }
        return id
    }
}
