import AuditLog
import Foundation
import Hummingbird
import NIOCore
import Reprocessor
import StreamModel

/// The query parameters of a request, refusing names the endpoint does not know.
struct QueryInput {
    private let parameters: [(name: String, value: String)]

    /// - Parameters:
    ///   - request: The request.
    ///   - allowed: The parameters the endpoint takes.
    ///   - refusingEmpty: Whether a parameter given with no value (`limit=`) is refused, as `/v1`
    ///     does (its document gives every parameter a value); the console's forms send empty
    ///     fields for "any", which are then taken as absent.
    /// - Throws: ``ServiceError`` (400) for a parameter not in `allowed`, an empty one when
    ///   `refusingEmpty`, or a `cursor` that is not a `next` of the listing the path names.
    init(_ request: Request, allowed: Set<String>, refusingEmpty: Bool = false) throws(ServiceError) {
        parameters = request.uri.queryParameters.map { (String($0.key), String($0.value)) }
        for (name, value) in parameters {
            guard allowed.contains(name) else {
                let known = allowed.isEmpty ? "no parameters" : allowed.sorted().joined(separator: ", ")
                throw ServiceError(
                    .badRequest, "unknown query parameter \"\(name.prefix(40))\"; this endpoint takes \(known)",
                    field: String(name.prefix(40)))
            }
            if refusingEmpty, value.isEmpty {
                throw ServiceError(.invalidInput, "\(name) is empty: give it a value or leave it out", field: name)
            }
        }
        if let cursor = string("cursor") {
            let listing: AuditLog.PagedListing? =
                switch request.uri.path {
                case "/v1/changes": .changes
                case "/v1/audit": .actions
                case "/v1/quarantined": .quarantinedMessages
                default: nil
                }
            do {
                _ = try OperatorInput.cursor(cursor, field: "cursor")
                try listing.map { listing throws(AuditLogError) in try AuditLog.checkCursor(cursor, for: listing) }
            } catch let error as InputError {
                throw ServiceError(error)
            } catch {
                throw ServiceError(
                    .invalidInput, "cursor: \(error); pass the \"next\" of the previous page", field: "cursor")
            }
        }
    }

    /// The query of a request to the `/v1` route `route`: the parameters the route table lists
    /// for it, each with a value.
    /// - Throws: ``ServiceError`` (400), as ``init(_:allowed:refusingEmpty:)``.
    init(_ request: Request, route: Route) throws(ServiceError) {
        try self.init(request, allowed: route.query, refusingEmpty: true)
    }

    /// The last value of `name`, `nil` when absent or empty.
    func string(_ name: String) -> String? {
        parameters.last { $0.name == name && !$0.value.isEmpty }?.value
    }

    /// Every value of `name`, commas splitting values too (`status=failed,parked`).
    func list(_ name: String) -> [String] {
        parameters.filter { $0.name == name }.flatMap { $0.value.split(separator: ",").map(String.init) }
    }

    /// `name` as a count within `bounds`, or its standard value when absent.
    func count(_ name: String, _ bounds: OperatorInput.Count) throws(ServiceError) -> Int {
        do {
            return try bounds.parse(string(name), field: name)
        } catch {
            throw ServiceError(error)
        }
    }

    /// `name` as a time (ISO-8601, a date, or an age such as `2h`), `nil` when absent.
    func time(_ name: String, now: Date) throws(ServiceError) -> Date? {
        try FilterInput.time(string(name), name, now: now)
    }
}

extension ServiceError {
    /// A request refused for its input: 400, naming the field and what it accepts.
    init(_ input: InputError) {
        self.init(.invalidInput, input.description, field: input.requestField)
    }
}

/// A JSON object request body, refusing unknown fields and fields of the wrong type.
struct BodyInput {
    /// Largest body accepted.
    static let maxBytes = 64 * 1024

    private let fields: [String: JSONValue]

    /// Reads and parses the body; an empty body is an empty object.
    /// - Throws: ``ServiceError``: 413 when too large, 400 for bad JSON, a non-object, or a field not in `allowed`.
    static func read(_ request: Request, allowed: Set<String>) async throws -> BodyInput {
        let buffer = try await collect(request)
        guard buffer.readableBytes > 0 else { return BodyInput(fields: [:]) }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: buffer.readableBytesView)
        } catch {
            throw ServiceError(.badRequest, "the body is not valid JSON: \(error)")
        }
        guard case .object(let fields) = value else {
            throw ServiceError(.badRequest, "the body must be a JSON object")
        }
        try Self.refuseUnknown(fields, allowed: allowed, in: "the body")
        return BodyInput(fields: fields)
    }

    private init(fields: [String: JSONValue]) { self.fields = fields }

    /// The whole body, at most ``maxBytes``.
    /// - Throws: ``ServiceError`` 413 when it is larger.
    static func collect(_ request: Request) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: maxBytes)
        } catch is NIOTooManyBytesError {
            throw ServiceError(.payloadTooLarge, "the request body is larger than \(maxBytes) bytes")
        }
    }

    static func refuseUnknown(_ fields: [String: JSONValue], allowed: Set<String>, in place: String) throws(ServiceError) {
        for name in fields.keys.sorted() where !allowed.contains(name) {
            throw ServiceError(
                .badRequest, "unknown field \"\(name)\" in \(place); expected \(allowed.sorted().joined(separator: ", "))",
                field: name)
        }
    }

    private static func wrongType(_ name: String, _ expected: String, _ value: JSONValue) -> ServiceError {
        ServiceError(.invalidInput, "\"\(name)\" must be \(expected), not \(value.serialized.prefix(40))", field: name)
    }

    /// The value of `name`, `nil` when absent. A `null` is refused: leave the field out instead
    /// (the document gives each field a type, and null is none of them).
    func value(_ name: String) throws(ServiceError) -> JSONValue? {
        guard let value = fields[name] else { return nil }
        guard value != .null else {
            throw ServiceError(.invalidInput, "\"\(name)\" is null: leave it out instead", field: name)
        }
        return value
    }

    func string(_ name: String) throws(ServiceError) -> String? {
        guard let value = try value(name) else { return nil }
        guard let text = value.stringValue else { throw Self.wrongType(name, "a string", value) }
        return text
    }

    func bool(_ name: String) throws(ServiceError) -> Bool? {
        guard let value = try value(name) else { return nil }
        guard let flag = value.boolValue else { throw Self.wrongType(name, "true or false", value) }
        return flag
    }

    /// A rate: a number within ``OperatorInput/rateRange``, checked by the same rule as the
    /// command line's `--rate`.
    func rate(_ name: String) throws(ServiceError) -> Double? {
        guard let value = try value(name) else { return nil }
        guard let text = value.numberText else { throw Self.wrongType(name, "a number from 0.01 to 10000", value) }
        do {
            return try OperatorInput.rate(text, field: "\"\(name)\"")
        } catch {
            throw ServiceError(error)
        }
    }

    /// An integer (`4`, `4.0`, `4e0`), nil when absent; its bounds are the operations' to check.
    func integer(_ name: String) throws(ServiceError) -> Int? {
        guard let value = try value(name) else { return nil }
        guard value.numberText != nil else { throw Self.wrongType(name, "an integer", value) }
        guard let number = value.intValue else {
            throw ServiceError(
                InputError(field: "\"\(name)\"", value: value.serialized, problem: .malformed, accepted: "an integer"))
        }
        return number
    }

    /// Change ids: an array of integers within ``OperatorInput/idRange``.
    func ids(_ name: String) throws(ServiceError) -> [Int64]? {
        guard let value = try value(name) else { return nil }
        guard let elements = value.arrayValue else { throw Self.wrongType(name, "an array of change ids", value) }
        var ids: [Int64] = []
        for element in elements {
            guard let text = element.numberText else { throw Self.wrongType(name, "an array of change ids", value) }
            do {
                ids.append(try OperatorInput.id(element.intValue.map(String.init) ?? text, field: "\"\(name)\""))
            } catch {
                throw ServiceError(error)
            }
        }
        return ids
    }

    func object(_ name: String) throws(ServiceError) -> [String: JSONValue]? {
        guard let value = try value(name) else { return nil }
        guard let members = value.objectValue else { throw Self.wrongType(name, "an object", value) }
        return members
    }
}

/// The change filter the command line's `list` takes (status, key, event, since, until, error,
/// errorEquals, group), read from query parameters or a JSON object.
enum FilterInput {
    /// The filter's field names.
    static let names: Set<String> = ["status", "key", "event", "since", "until", "error", "errorEquals", "group"]

    /// Builds the audit log's filter, refusing unknown statuses, events and times.
    static func filter(
        statuses: [String], key: String?, event: String?, since: String?, until: String?, error: String?,
        errorEquals: String? = nil, group: String? = nil, now: Date = Date()
    ) throws(ServiceError) -> ChangeFilter {
        var parsedStatuses = Set<ChangeStatus>()
        for text in statuses {
            guard let status = ChangeStatus(rawValue: text) else {
                throw ServiceError(
                    .invalidInput,
                    "unknown status \"\(text.prefix(40))\"; use \(ChangeStatus.allCases.map(\.rawValue).joined(separator: ", "))",
                    field: "status")
            }
            parsedStatuses.insert(status)
        }
        var eventName: EventName?
        if let event {
            guard let parsed = EventName(rawValue: event.uppercased()) else {
                throw ServiceError(
                    .invalidInput, "unknown event \"\(event.prefix(40))\"; use INSERT, MODIFY or REMOVE", field: "event")
            }
            eventName = parsed
        }
        return ChangeFilter(
            statuses: parsedStatuses, documentID: try key.map { (key) throws(ServiceError) in try artistKey(key, "key") },
            eventName: eventName,
            since: try time(since, "since", now: now), until: try time(until, "until", now: now), errorPattern: error,
            errorEquals: errorEquals, errorGroup: try group.map { (text) throws(ServiceError) in try groupID(text) })
    }

    /// A failure group id through the input layer (``OperatorInput/group(_:field:)``).
    static func groupID(_ text: String) throws(ServiceError) -> String {
        do {
            return try OperatorInput.group(text, field: "group")
        } catch {
            throw ServiceError(error)
        }
    }

    /// The filter from query parameters.
    static func filter(_ query: QueryInput) throws(ServiceError) -> ChangeFilter {
        try filter(
            statuses: query.list("status"), key: query.string("key"), event: query.string("event"),
            since: query.string("since"), until: query.string("until"), error: query.string("error"),
            errorEquals: query.string("errorEquals"), group: query.string("group"))
    }

    /// The filter from a JSON object (`status` a string or an array of strings).
    static func filter(_ object: [String: JSONValue]) throws(ServiceError) -> ChangeFilter {
        try BodyInput.refuseUnknown(object, allowed: names, in: "\"filter\"")
        func string(_ name: String) throws(ServiceError) -> String? {
            guard let value = object[name] else { return nil }
            guard let text = value.stringValue else {
                throw ServiceError(.invalidInput, "\"filter.\(name)\" must be a string", field: "filter.\(name)")
            }
            return text
        }
        var statuses: [String] = []
        switch object["status"] {
        case .string(let text)?: statuses = [text]
        case .array(let elements)?:
            guard !elements.isEmpty else {
                throw ServiceError(
                    .invalidInput, "\"filter.status\" is empty: give at least one status or leave it out",
                    field: "filter.status")
            }
            for element in elements {
                guard let text = element.stringValue else {
                    throw ServiceError(
                        .invalidInput, "\"filter.status\" must be a status or an array of statuses", field: "filter.status")
                }
                statuses.append(text)
            }
        case nil: break
        case .some:
            throw ServiceError(
                .invalidInput, "\"filter.status\" must be a status or an array of statuses", field: "filter.status")
        }
        let filter = try filter(
            statuses: statuses, key: try string("key"), event: try string("event"), since: try string("since"),
            until: try string("until"), error: try string("error"), errorEquals: try string("errorEquals"),
            group: try string("group"))
        guard filter != ChangeFilter() else {
            throw ServiceError(
                .invalidInput, "\"filter\" chooses nothing: give at least one of \(names.sorted().joined(separator: ", "))",
                field: "filter")
        }
        return filter
    }

    /// The action filter's field names.
    static let actionNames: Set<String> = ["actor", "action", "since", "until"]

    /// The audit log's action filter from query parameters (`action` repeated or comma-separated).
    static func actionFilter(_ query: QueryInput, now: Date = Date()) throws(ServiceError) -> ActionFilter {
        var kinds = Set<ActionKind>()
        for text in query.list("action") {
            guard let kind = ActionKind(rawValue: text) else {
                throw ServiceError(
                    .invalidInput,
                    "unknown action \"\(text.prefix(40))\"; use \(ActionKind.allCases.map(\.rawValue).joined(separator: ", "))",
                    field: "action")
            }
            kinds.insert(kind)
        }
        return ActionFilter(
            actor: query.string("actor"), actions: kinds, since: try query.time("since", now: now),
            until: try query.time("until", now: now))
    }

    /// The `format` of an export: `csv` or `ndjson`.
    static func exportFormat(_ query: QueryInput) throws(ServiceError) -> ActionExportFormat {
        let text = query.string("format") ?? ""
        guard let format = ActionExportFormat(rawValue: text) else {
            throw ServiceError(
                .invalidInput,
                "format \"\(text.prefix(40))\" is not one of \(ActionExportFormat.allCases.map(\.rawValue).joined(separator: ", "))",
                field: "format")
        }
        return format
    }

    /// The longest artist id the API takes.
    static let longestArtistID = 128

    /// The document id of an artist key as the API takes it: `ARTIST#42` or `42`, the id of
    /// letters, digits, `_`, `-` and `.` (not starting with `.`), at most ``longestArtistID``
    /// characters, as `docs/openapi.yaml`'s `ArtistKey` pattern says.
    /// - Throws: ``ServiceError`` (400) naming `field`.
    static func artistKey(_ text: String, _ field: String) throws(ServiceError) -> String {
        let id = OperatorInput.documentID(forKey: text)
        let allowed = { (byte: UInt8) in byte != UInt8(ascii: "~") && RequestPath.isUnreserved(byte) }
        guard !id.isEmpty, id.utf8.count <= longestArtistID, id.utf8.first != UInt8(ascii: "."), id.utf8.allSatisfy(allowed)
        else {
            throw ServiceError(
                .invalidInput,
                "\(field) \(JSONValue.string(String(text.prefix(40))).serialized) is not an artist key: give ARTIST#42 or 42 "
                    + "(letters, digits, _ - ., at most \(longestArtistID))",
                field: field)
        }
        return id
    }

    /// An operator time (ISO-8601, a date, or an age such as `2h`) within ``OperatorInput/timeRange``.
    static func time(_ text: String?, _ name: String, now: Date) throws(ServiceError) -> Date? {
        guard let text else { return nil }
        do {
            return try OperatorInput.time(text, field: name, now: now)
        } catch {
            throw ServiceError(error)
        }
    }
}

/// JSON responses.
enum JSONResponse {
    /// `value` as `application/json`.
    static func make(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: value.serialized + "\n")))
    }
}
