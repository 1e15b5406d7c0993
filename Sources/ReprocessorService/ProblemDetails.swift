import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Reprocessor
import StreamModel

/// How every refusal and failure of `serve`'s API is answered: RFC 9457 problem details
/// (`application/problem+json`) that keep the one-line `error` every earlier client reads.
///
/// ```json
/// {"error": "limit 0 is out of range: give an integer from 1 to 1000",
///  "type": "urn:dlq-reprocessor:problem:invalid_input", "title": "Invalid input", "status": 400,
///  "detail": "limit 0 is out of range: give an integer from 1 to 1000", "code": "invalid_input",
///  "field": "limit", "requestId": "…"}
/// ```
///
/// `code` is stable (a client branches on it), `detail` and `error` are for people, `field` names
/// the input at fault, and `requestId` (also the `X-Request-Id` header) is the id the service's
/// log lines about the request carry. A 401 has `WWW-Authenticate: Bearer`, a 405 `Allow`, and a
/// 429 or 503 `Retry-After`.
enum ProblemDetails {
    /// The media type of a problem.
    static let contentType = "application/problem+json"
    /// The prefix of every problem's `type`: a URN naming the code, stable across releases.
    static let typePrefix = "urn:dlq-reprocessor:problem:"
    /// The header every problem carries its request id in.
    static let requestIDHeader = HTTPField.Name("X-Request-Id")!

    /// The answer for `error` to the request with id `requestID`.
    static func response(_ error: ServiceError, requestID: String) -> Response {
        var members: [String: JSONValue] = [
            "error": .string(error.description),
            "type": .string(typePrefix + error.code.identifier),
            "title": .string(title(error.code)),
            "status": .number(String(error.code.status.code)),
            "detail": .string(error.description),
            "code": .string(error.code.identifier),
            "requestId": .string(requestID),
        ]
        if let field = error.field { members["field"] = .string(field) }
        var response = Response(
            status: error.code.status, headers: [.contentType: contentType, requestIDHeader: requestID],
            body: ResponseBody(byteBuffer: ByteBuffer(string: JSONValue.object(members).serialized + "\n")))
        if error.code == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
        if let seconds = error.retryAfter { response.headers[.retryAfter] = String(seconds) }
        if !error.allow.isEmpty { response.headers[.allow] = error.allow.joined(separator: ", ") }
        return response
    }

    /// The short, fixed summary of a code (problem details' `title`).
    static func title(_ code: ServiceError.Code) -> String {
        let name = code.description
        return name.prefix(1).uppercased() + name.dropFirst()
    }
}

extension ServiceError: HTTPResponseError {
    /// The HTTP status the error is answered with.
    public var status: HTTPResponse.Status { code.status }

    /// The error as problem details, naming the request's id.
    /// - Parameters:
    ///   - request: The request refused.
    ///   - context: Its context, whose id the answer carries.
    /// - Returns: The answer.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        ProblemDetails.response(self, requestID: context.id)
    }
}

extension InputError {
    /// The field as a request names it: `limit`, `rate`, `filter.since` (without the quotes a
    /// message puts around a body field).
    var requestField: String {
        field.trimmingCharacters(in: CharacterSet(charactersIn: "\"-"))
    }
}
