import AWSClients
import OpenSearchClient
import StreamModel

/// What the write engine asks of search: `_mget`, a conditional `_bulk` with one outcome per
/// operation, one document, and a ping. ``OpenSearchClient`` is the production implementation;
/// the deterministic simulation (`Tests/SimulationTests`) provides an in-memory one.
protocol EngineSearch: Sendable {
    /// The documents of `ids` that exist (see ``OpenSearchClient/multiGet(index:ids:)``).
    func multiGet(index: String, ids: [String]) async throws(OpenSearchError) -> [String: OpenSearchDocument]
    /// One outcome per operation (see ``OpenSearchClient/bulkSettled(index:operations:refresh:)``).
    func bulkSettled(index: String, operations: [BulkOperation], refresh: RefreshPolicy)
        async throws(OpenSearchError) -> [Result<BulkItemResult, OpenSearchError>]
    /// One document, or nil (see ``OpenSearchClient/get(index:id:)``).
    func get(index: String, id: String) async throws(OpenSearchError) -> OpenSearchDocument?
    /// Whether search answers (see ``OpenSearchClient/ping()``).
    func ping() async throws(OpenSearchError)
}

/// What the write engine asks of the table: its current items, read consistently.
/// ``TableReader`` is the production implementation.
protocol EngineTable: Sendable {
    /// The items with `keys` as they are now; a key whose item is gone is absent.
    func currentItems(keys: [Item]) async throws -> [Item: Item]
}

extension OpenSearchClient: EngineSearch {}

extension TableReader: EngineTable {}
