import AuditLog
import HTTPTypes
import Hummingbird
import NIOCore
import StreamModel

extension OperatorAPI {
    /// The header a POST action names its idempotency key in.
    static let idempotencyKeyHeader = HTTPField.Name("Idempotency-Key")!
    /// The header on an answer given again to a repeat: `true`.
    static let idempotentReplayedHeader = HTTPField.Name("Idempotent-Replayed")!
    /// The longest idempotency key taken.
    static let longestIdempotencyKey = 255

    /// Runs a POST action once per `Idempotency-Key`: without the header, `action` just runs; with
    /// it, a repeat of the same request (method, path, body) by the same operator within
    /// ``AuditLog/idempotencyKeyLifetime`` is answered the first answer again (with
    /// `Idempotent-Replayed: true`) and nothing is done again; another request with the key is 422,
    /// and a repeat while the first is still running is 409 with `Retry-After`.
    ///
    /// Only a 2xx answer is kept: a refused or failed request acted on nothing and frees its key. A
    /// streamed answer is collected whole before it is sent, so that it can be kept; one that ends
    /// with an `"error"` (the service failed part-way) is not kept.
    ///
    /// A query parameter (the route takes none) is refused first.
    /// - Throws: ``ServiceError``: a query parameter or a malformed key (400), a body too large
    ///   (413), 409 and 422 as above.
    func idempotent(
        _ route: Route, _ request: Request, _ context: ServiceRequestContext, _ action: (Request) async throws -> Response
    ) async throws -> Response {
        _ = try QueryInput(request, route: route)
        guard let key = request.headers[Self.idempotencyKeyHeader] else { return try await action(request) }
        guard !key.isEmpty, key.utf8.count <= Self.longestIdempotencyKey, key.utf8.allSatisfy({ (0x21...0x7E).contains($0) })
        else {
            throw ServiceError(
                .invalidInput,
                "Idempotency-Key must be 1 to \(Self.longestIdempotencyKey) printable ASCII characters without spaces (a UUID will do)",
                field: "Idempotency-Key")
        }
        let actor = try authenticate(request)
        let body = try await BodyInput.collect(request)
        switch try await auditLog.beginIdempotentRequest(
            actor: actor, key: key, request: Self.requestIdentity(request, body: body))
        {
        case .answered(let status, let response):
            return Response(
                status: HTTPResponse.Status(code: status),
                headers: [.contentType: "application/json", Self.idempotentReplayedHeader: "true"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: response)))
        case .inProgress:
            throw ServiceError(
                .idempotencyKeyInUse, "a request with this Idempotency-Key is still being carried out; try again shortly",
                retryAfter: 1, field: "Idempotency-Key")
        case .keyReused:
            throw ServiceError(
                .idempotencyKeyReused,
                "this Idempotency-Key was used for another request (another body or endpoint) in the last 24 h; use a new key",
                field: "Idempotency-Key")
        case .carryOut:
            break
        }
        var repeatable = request
        repeatable.body = RequestBody(buffer: body)
        let response: Response
        let text: String
        do {
            var answered = try await action(repeatable)
            let collector = CollectedBody()
            try await answered.body.write(collector)
            text = String(buffer: collector.buffer)
            answered.body = ResponseBody(byteBuffer: collector.buffer)
            response = answered
        } catch {
            try? await auditLog.abandonIdempotentRequest(actor: actor, key: key)
            throw error
        }
        let failedPartWay = (try? JSONValue(parsing: Array(text.utf8)))?["error"] != nil
        if (200..<300).contains(response.status.code), !failedPartWay {
            try await auditLog.finishIdempotentRequest(actor: actor, key: key, status: response.status.code, response: text)
        } else {
            try await auditLog.abandonIdempotentRequest(actor: actor, key: key)
        }
        return response
    }

    /// What makes two requests the same request: method, path and body, a JSON body in its
    /// canonical form (members sorted, no spaces), so that a client's re-encoding of the same
    /// body is the same request.
    static func requestIdentity(_ request: Request, body: ByteBuffer) -> [UInt8] {
        let bytes = Array(body.readableBytesView)
        let canonical = (try? JSONValue(parsing: bytes))?.serializedBytes ?? bytes
        return Array("\(request.method) \(request.uri.path)\n".utf8) + canonical
    }
}

/// A response body written into memory, to be kept and sent whole. A class, so that what the
/// body writes is still here after ``ResponseBody/write(_:)`` consumed the writer; used by one
/// task at a time.
final class CollectedBody: ResponseBodyWriter {
    private(set) var buffer = ByteBuffer()

    func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        self.buffer.writeBuffer(&buffer)
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
