import Hummingbird
import NIOCore

/// What every request passes before it is routed: a path spelt the one way routes are
/// (``RequestPath/problem(_:)``, else 400), and a declared body no larger than the service reads
/// (else 413, the body drained and the connection closed, ``refuseOversized(_:context:)``).
struct RequestGate<Inner: HTTPResponder>: HTTPResponder where Inner.Context == ServiceRequestContext {
    let inner: Inner

    /// The most of an oversized body read and dropped so that its sender, writing it all before it
    /// reads, gets the 413; a sender of more than this is cut off (its connection is reset).
    static var drainedBytes: Int { 16 << 20 }

    func respond(to request: Request, context: ServiceRequestContext) async throws -> Response {
        if let problem = RequestPath.problem(request.uri.path) {
            return ProblemDetails.response(ServiceError(.badRequest, problem), requestID: context.id)
        }
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > BodyInput.maxBytes {
            return await refuseOversized(request, context: context)
        }
        return try await inner.respond(to: request, context: context)
    }

    /// 413 for a body larger than ``BodyInput/maxBytes``, then the connection closes.
    ///
    /// A sender that did not ask `Expect: 100-continue` is already sending the body and reads the
    /// answer only once it has sent it all (Python's urllib, for one), so up to ``drainedBytes`` of it
    /// are read and dropped first; closing with the body unread would reset the connection and lose
    /// the answer. Hummingbird closes the connection once the answer is written.
    func refuseOversized(_ request: Request, context: ServiceRequestContext) async -> Response {
        if request.headers[.expect]?.lowercased() != "100-continue" {
            var drained = 0
            do {
                for try await buffer in request.body {
                    drained += buffer.readableBytes
                    if drained > Self.drainedBytes { break }
                }
            } catch {
                // The sender went away: there is no one left to answer.
            }
        }
        context.closeAfterResponse()
        var response = ProblemDetails.response(
            ServiceError(.payloadTooLarge, "the request body is larger than \(BodyInput.maxBytes) bytes"), requestID: context.id)
        response.headers[.connection] = "close"
        return response
    }
}

/// The one spelling of a request path that is routed.
enum RequestPath {
    /// Why `path` is refused before routing, nil when it is spelt as routes are: starting with `/`,
    /// no empty segment (`//`, a trailing `/`), no `.` or `..` segment, and percent-encoding only
    /// where it is needed: well-formed, never of an unreserved character (`%2e`, `%41`), a `/` or
    /// `\` (`%2f`, `%5c`) or a control character.
    ///
    /// The router would otherwise take `//v1/stats` or `/v1/./stats` for `/v1/stats`; refusing every
    /// other spelling leaves one path per route for logs, limits and anything that looks at paths.
    static func problem(_ path: String) -> String? {
        let shown = "path \"\(path.prefix(100))\""
        guard path.hasPrefix("/") else { return "\(shown) does not start with /" }
        guard path != "/" else { return nil }
        for segment in path.utf8.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            if segment.isEmpty { return "\(shown) has an empty segment (// or a trailing /): spell it as /v1/stats" }
            if segment.elementsEqual(".".utf8) || segment.elementsEqual("..".utf8) {
                return "\(shown) has a . or .. segment: spell the path without them"
            }
            if let problem = encodingProblem(segment) { return "\(shown) \(problem)" }
        }
        return nil
    }

    /// What is wrong with the percent-encoding of one segment, nil when nothing is.
    static func encodingProblem(_ segment: some Collection<UInt8>) -> String? {
        var bytes = segment.makeIterator()
        while let byte = bytes.next() {
            if byte < 0x20 || byte == 0x7F { return "has a control character" }
            guard byte == UInt8(ascii: "%") else { continue }
            guard let high = bytes.next().flatMap(hexValue), let low = bytes.next().flatMap(hexValue) else {
                return "has a % that is not followed by two hex digits"
            }
            let decoded = high << 4 | low
            if decoded == UInt8(ascii: "/") || decoded == UInt8(ascii: "\\") {
                return "has an encoded / or \\ in a segment"
            }
            if decoded < 0x20 || decoded == 0x7F { return "has an encoded control character" }
            if isUnreserved(decoded) {
                return "encodes \"\(Character(Unicode.Scalar(decoded)))\", which is written as itself"
            }
        }
        return nil
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// RFC 3986's unreserved characters: letters, digits, `-`, `.`, `_`, `~`.
    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: "-._~".utf8.contains(byte)
        }
    }
}
