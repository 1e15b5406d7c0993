import Logging
import NIOHTTP1
import StreamModel

extension OpenSearchClient {
    /// Runs many index and delete operations through `_bulk`.
    ///
    /// Operations go in order, in requests of at most `maxBulkOperations`
    /// operations and `maxBulkBytes` bytes (an operation larger than that on
    /// its own is sent alone). Each request is retried whole on 429, 5xx,
    /// connection failures and timeouts. A request refused with 413 is split
    /// in halves and sent again; a single operation still refused gets an item
    /// result with status 413.
    ///
    /// - Parameters:
    ///   - index: The index every operation targets.
    ///   - operations: The operations, in the order they must apply.
    ///   - refresh: When the writes become visible to search.
    /// - Returns: One result per operation, in order. Item-level failures
    ///   (409, 403, 400, 429 or 5xx on one item) are results, not throws.
    /// - Throws: ``OpenSearchError`` when a whole request fails (after retries);
    ///   operations of earlier requests stay applied, so callers re-apply the
    ///   batch idempotently. Also before sending anything when an operation is
    ///   malformed (empty id, create-only delete).
    public func bulk(index: String, operations: [BulkOperation], refresh: RefreshPolicy = .none)
        async throws(OpenSearchError) -> [BulkItemResult]
    {
        var results: [BulkItemResult] = []
        results.reserveCapacity(operations.count)
        for outcome in try await bulkSettled(index: index, operations: operations, refresh: refresh) {
            results.append(try outcome.get())
        }
        return results
    }

    /// Like ``bulk(index:operations:refresh:)``, but a request that fails whole does not hide
    /// what earlier requests did: every operation gets its own outcome, the item result of its
    /// request, or the error of the request it was in. Later requests are not sent once one
    /// fails (their operations carry the same error), so nothing is written past a failure.
    ///
    /// - Returns: One outcome per operation, in order.
    /// - Throws: ``OpenSearchError`` before sending anything when an operation is malformed
    ///   (empty id, create-only delete).
    public func bulkSettled(index: String, operations: [BulkOperation], refresh: RefreshPolicy = .none)
        async throws(OpenSearchError) -> [Result<BulkItemResult, OpenSearchError>]
    {
        guard !operations.isEmpty else { return [] }
        var lines: [[UInt8]] = []
        lines.reserveCapacity(operations.count)
        for operation in operations {
            try Self.validate(id: operation.id, index: index)
            if case .delete(let id, let condition) = operation {
                try Self.validateDelete(condition: condition, index: index, id: id)
            }
            lines.append(Self.ndjson(for: operation))
        }
        var results: [Result<BulkItemResult, OpenSearchError>] = []
        results.reserveCapacity(operations.count)
        var start = 0
        while start < operations.count {
            var end = start
            var bytes = 0
            while end < operations.count, end - start < maxBulkOperations,
                end == start || bytes + lines[end].count <= maxBulkBytes
            {
                bytes += lines[end].count
                end += 1
            }
            do {
                results += try await sendBulk(
                    index: index, operations: operations[start..<end], lines: lines[start..<end], refresh: refresh
                ).map { .success($0) }
            } catch {
                results += Array(repeating: .failure(error), count: operations.count - start)
                return results
            }
            start = end
        }
        return results
    }

    /// Sends one `_bulk` request, halving it on 413.
    private func sendBulk(
        index: String, operations: ArraySlice<BulkOperation>, lines: ArraySlice<[UInt8]>, refresh: RefreshPolicy
    ) async throws(OpenSearchError) -> [BulkItemResult] {
        var body: [UInt8] = []
        body.reserveCapacity(lines.reduce(0) { $0 + $1.count })
        for line in lines { body += line }
        let query: [(name: String, value: String)] = refresh == .none ? [] : [(name: "refresh", value: refresh.rawValue)]
        let request = OpenSearchRequest(
            method: .POST, path: [index, "_bulk"], query: query, body: body, contentType: "application/x-ndjson",
            index: index)
        let response = try await send(request)
        switch response.status {
        case 200..<300:
            return try bulkItems(response, request: request, operations: operations)
        case 413 where operations.count > 1:
            let middle = operations.startIndex + operations.count / 2
            logger.warning(
                "OpenSearch refused a _bulk body as too large, splitting",
                metadata: ["bytes": "\(body.count)", "operations": "\(operations.count)"])
            let first = try await sendBulk(
                index: index, operations: operations[..<middle], lines: lines[..<middle], refresh: refresh)
            let second = try await sendBulk(
                index: index, operations: operations[middle...], lines: lines[middle...], refresh: refresh)
            return first + second
        case 413:
            let (type, reason) = Self.errorTypeAndReason(in: response)
            let operation = operations[operations.startIndex]
            return [
                BulkItemResult(
                    id: operation.id, status: 413, errorType: type,
                    errorReason: "the cluster refuses this \(body.count)-byte operation as too large"
                        + (reason.map { ": \($0)" } ?? ""))
            ]
        default:
            throw responseError(response, request: request)
        }
    }

    /// The per-item results of a `_bulk` answer, checked against the operations sent.
    private func bulkItems(
        _ response: OpenSearchResponse, request: OpenSearchRequest, operations: ArraySlice<BulkOperation>
    ) throws(OpenSearchError) -> [BulkItemResult] {
        let json = try json(response, request: request)
        guard let items = json["items"]?.arrayValue, items.count == operations.count else {
            throw invalidResponse("_bulk answer without one item per operation", response, request: request)
        }
        var results: [BulkItemResult] = []
        results.reserveCapacity(items.count)
        for (operation, item) in zip(operations, items) {
            guard let members = item.objectValue, members.count == 1, let body = members.first?.value,
                let status = body["status"]?.intValue
            else {
                throw invalidResponse("_bulk item without an action and a status", response, request: request)
            }
            let (errorType, errorReason) = Self.errorTypeAndReason(inError: body["error"])
            results.append(
                BulkItemResult(
                    id: operation.id, status: status, result: body["result"]?.stringValue,
                    seqNo: body["_seq_no"]?.numberText.flatMap { Int64($0) },
                    primaryTerm: body["_primary_term"]?.numberText.flatMap { Int64($0) },
                    errorType: errorType, errorReason: errorReason))
        }
        return results
    }

    /// The NDJSON lines of one operation, each ending in a newline.
    static func ndjson(for operation: BulkOperation) -> [UInt8] {
        func metadata(id: String, condition: WriteCondition?) -> JSONValue {
            var members: [String: JSONValue] = ["_id": .string(id)]
            if case .ifSeqNo(let seqNo, let primaryTerm) = condition {
                members["if_seq_no"] = .number(String(seqNo))
                members["if_primary_term"] = .number(String(primaryTerm))
            }
            return .object(members)
        }
        let newline = UInt8(ascii: "\n")
        switch operation {
        case .index(let id, let document, let condition):
            let action = condition == .createOnly ? "create" : "index"
            let actionLine = JSONValue.object([action: metadata(id: id, condition: condition)])
            return actionLine.serializedBytes + [newline] + document.serializedBytes + [newline]
        case .delete(let id, let condition):
            return JSONValue.object(["delete": metadata(id: id, condition: condition)]).serializedBytes + [newline]
        }
    }
}
