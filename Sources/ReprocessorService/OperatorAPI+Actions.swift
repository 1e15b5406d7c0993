import AuditLog
import Foundation
import Hummingbird
import Logging
import Reprocessor
import StreamModel
import Synchronization

extension OperatorAPI {
    /// Fields every operator request body may carry.
    static let actionFields: Set<String> = ["reason", "dryRun", "force", "rate"]

    /// `POST /v1/changes/{id}/{command}`: one change; body `{"reason", "dryRun", "force", "rate"}`, all optional
    /// (a reason is required for skip and rollback, `force` is for rollback only).
    func performOne(_ command: OperatorActions.Command, _ request: Request, _ context: ServiceRequestContext) async throws
        -> Response
    {
        let actor = try authenticate(request)
        let id = try changeID(context)
        let body = try await BodyInput.read(request, allowed: Self.actionFields)
        var operatorRequest = try Self.request(command, body, actor: actor)
        operatorRequest.ids = [id]
        try operatorRequest.validate(for: command)
        guard try await auditLog.change(id: id) != nil else { throw Self.unknownChange(id) }
        let results = Mutex<[OperationResult]>([])
        try await operations.perform(command, operatorRequest) { result in results.withLock { $0.append(result) } }
        return JSONResponse.make(AuditJSON.results(results.withLock { $0 }))
    }

    /// `POST /v1/changes/{command}`: many changes, by `"ids": [...]` or `"filter": {the list filters}`.
    ///
    /// Results are streamed as they are known, in the `{"results": [...]}` shape; a failure of the
    /// service part-way ends the document with `"error"` beside the results so far.
    func performMany(_ command: OperatorActions.Command, _ request: Request) async throws -> Response {
        let actor = try authenticate(request)
        let input = try await BodyInput.read(request, allowed: Self.actionFields.union(["ids", "filter"]))
        var operatorRequest = try Self.request(command, input, actor: actor)
        // The document's `minItems: 1`: an empty array is malformed, not "no ids".
        if let ids = try input.ids("ids"), ids.isEmpty {
            throw ServiceError(.invalidInput, "\"ids\" is empty: name at least one change, or leave it out", field: "ids")
        }
        operatorRequest.ids = try input.ids("ids") ?? []
        operatorRequest.filter = try input.object("filter").map { (object) throws(ServiceError) in
            try FilterInput.filter(object)
        }
        // Refused before the answer starts, so a refusal is a 400, not a stream that stops.
        try operatorRequest.validate(for: command)
        let logger = logger
        let body = ResponseBody { [operations, operatorRequest] writer in
            // Results are small and the work is slower than the socket, so the buffer stays short;
            // a client that goes away does not stop the work it asked for: the rest is drained unsent.
            let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
            var writable = true
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await Self.stream(command, operatorRequest, operations: operations, logger: logger, into: continuation)
                }
                for await buffer in stream where writable {
                    do {
                        try await writer.write(buffer)
                    } catch {
                        writable = false
                    }
                }
            }
            if writable { try await writer.finish(nil) }
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: body)
    }

    /// Performs `command`, yielding `{"results": [` … `]}` piece by piece, one result at a time.
    static func stream(
        _ command: OperatorActions.Command, _ request: OperatorRequest, operations: Operations, logger: Logger,
        into continuation: AsyncStream<ByteBuffer>.Continuation
    ) async {
        let first = Mutex(true)
        continuation.yield(ByteBuffer(string: "{\"results\":["))
        do {
            let leftOut = try await operations.perform(command, request) { result in
                let separator = first.withLock { isFirst in
                    defer { isFirst = false }
                    return isFirst ? "" : ","
                }
                continuation.yield(ByteBuffer(string: separator + AuditJSON.result(result).serialized))
            }
            // What a filter without statuses matched and left out, as the CLI reports it.
            let tail = AuditJSON.results([], leftOut: leftOut, command: command)["leftOut"].map {
                ",\"leftOut\":\($0.serialized)"
            }
            continuation.yield(ByteBuffer(string: "]\(tail ?? "")}\n"))
        } catch {
            logger.error("\(command.rawValue) by \(request.actor) stopped part-way: \(error)")
            // What failed is for the log, not the client.
            let message = JSONValue.string("internal error: stopped part-way; the log says what failed")
            continuation.yield(ByteBuffer(string: "],\"error\":\(message.serialized)}\n"))
        }
        continuation.finish()
    }

    /// The parts of an operator request every endpoint shares (the caller adds the changes, then
    /// the operations' own rules check the whole request).
    static func request(_ command: OperatorActions.Command, _ body: BodyInput, actor: String) throws -> OperatorRequest {
        OperatorRequest(
            actor: actor, reason: try body.string("reason"), dryRun: try body.bool("dryRun") ?? false,
            force: try body.bool("force") ?? false, ratePerSecond: try body.rate("rate"))
    }

    /// The operator presenting a valid bearer token; the name is recorded as the actor. (``RouteAccess``
    /// has already checked the token's role for the route.)
    /// - Throws: ``ServiceError``: 403 when no token is configured, 401 when the token is missing or matches none.
    func authenticate(_ request: Request) throws(ServiceError) -> String {
        guard !tokens.isEmpty else {
            throw ServiceError(
                .forbidden,
                "mutating endpoints are off: no operator token is configured (set OPERATOR_TOKENS or --operator-tokens-file)")
        }
        guard let header = request.headers[.authorization] else {
            throw ServiceError(.unauthorized, "send Authorization: Bearer <token>")
        }
        guard let (name, _) = tokens.operatorPresenting(authorization: header) else {
            throw ServiceError(.unauthorized, "the bearer token matches no operator")
        }
        return name
    }
}
