import AWSClients
import Foundation
import OpenSearchClient
import StreamModel

@testable import Reprocessor

/// Search as one simulated operation reaches it: each call may first let the scheduler run
/// another step, may crash the operation, and may fail as the seed says.
struct SimSearch: EngineSearch {
    let world: SimWorld
    let operation: SimWorld.Operation

    static func outage(_ reason: String, _ code: OpenSearchError.Code = .connection) -> OpenSearchError {
        OpenSearchError(code: code, reason: "simulated: \(reason)", index: "artists")
    }

    func multiGet(index: String, ids: [String]) async throws(OpenSearchError) -> [String: OpenSearchDocument] {
        await world.reach(operation, "_mget")
        await world.crashPoint(operation, "_mget")
        if world.chance(world.faultRate) {
            world.log("      search _mget: connection refused")
            throw Self.outage("connection refused")
        }
        world.noteRead(operation, ids)
        return world.snapshot(ids)
    }

    func get(index: String, id: String) async throws(OpenSearchError) -> OpenSearchDocument? {
        try await multiGet(index: index, ids: [id])[id]
    }

    func ping() async throws(OpenSearchError) {
        _ = try await multiGet(index: "artists", ids: [])
    }

    func bulkSettled(index: String, operations: [BulkOperation], refresh: RefreshPolicy)
        async throws(OpenSearchError) -> [Result<BulkItemResult, OpenSearchError>]
    {
        await world.reach(operation, "_bulk")
        await world.crashPoint(operation, "_bulk (before it lands)")
        world.log("      \(operation.name): _bulk of \(operations.count)")
        world.checkExclusive(operation, operations.map(\.id))
        if world.chance(world.faultRate) {
            world.log("      search _bulk: connection refused")
            return operations.map { _ in .failure(Self.outage("connection refused")) }
        }
        // A request split in two (count or bytes) whose second request fails whole.
        let cut = world.chance(world.faultRate / 2) ? world.draw(operations.count + 1) : operations.count
        var results: [Result<BulkItemResult, OpenSearchError>] = []
        for (position, operation) in operations.enumerated() {
            guard position < cut else {
                world.log("      search \(operation.id): not sent (an earlier request of the _bulk failed)")
                results.append(.failure(Self.outage("second request of the _bulk refused", .serverError)))
                continue
            }
            if world.chance(world.faultRate) {
                let refusals: [(Int, String)] = [
                    (429, "es_rejected_execution_exception"), (503, "unavailable_shards_exception"),
                    (400, "mapper_parsing_exception"),
                ]
                let (status, type) = refusals[world.draw(refusals.count)]
                world.log("      search \(operation.id): \(status) \(type)")
                results.append(
                    .success(BulkItemResult(id: operation.id, status: status, errorType: type, errorReason: "simulated")))
                continue
            }
            results.append(.success(world.apply(operation, by: self.operation)))
        }
        await world.crashPoint(self.operation, "_bulk (landed, before its answer is read)")
        if world.chance(world.faultRate) {
            // The writes landed; the answer is lost. Either the client gives up (timeout), or it
            // sends the request again and every conditional write now meets its own change (409).
            if world.chance(0.5) {
                world.log("      search _bulk: answer lost (timeout)")
                return operations.map { _ in .failure(Self.outage("answer lost", .timeout)) }
            }
            world.log("      search _bulk: answer lost, sent again")
            return operations.map { .success(world.apply($0, by: operation)) }
        }
        return results
    }
}

/// The table as one simulated operation reads it.
struct SimTable: EngineTable {
    let world: SimWorld
    let operation: SimWorld.Operation

    struct Unavailable: Error, CustomStringConvertible {
        var description: String { "simulated: the table could not be read" }
    }

    func currentItems(keys: [Item]) async throws -> [Item: Item] {
        await world.reach(operation, "BatchGetItem")
        await world.crashPoint(operation, "BatchGetItem")
        if world.chance(world.faultRate) {
            world.log("      table BatchGetItem: unavailable")
            throw Unavailable()
        }
        var items: [Item: Item] = [:]
        for key in keys {
            guard case .string(let pk)? = key["PK"], pk.hasPrefix("ARTIST#") else { continue }
            if let item = world.item(String(pk.dropFirst("ARTIST#".count))) { items[key] = item }
        }
        return items
    }
}
