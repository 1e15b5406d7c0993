import NIOHTTP1
import StreamModel

extension OpenSearchClient {
    /// Creates the index unless it exists (`PUT /{index}`); an index that
    /// already exists (`resource_already_exists_exception`) is success.
    /// - Parameters:
    ///   - index: The index name.
    ///   - settings: Index settings such as `{"index.gc_deletes": "60s"}`, sent as
    ///     `{"settings": …}`; or a whole create-index body whose only keys are
    ///     among `settings`, `mappings` and `aliases`, sent as given.
    ///     Settings of an existing index are left alone.
    /// - Throws: ``OpenSearchError`` when the cluster refuses, for example invalid settings.
    public func createIndexIfMissing(index: String, settings: JSONValue? = nil) async throws(OpenSearchError) {
        guard !index.isEmpty else { throw OpenSearchError(code: .clientError, reason: "empty index name") }
        let body: JSONValue
        switch settings {
        case nil:
            body = .object([:])
        case .object(let members) where !members.isEmpty && Set(members.keys).isSubset(of: Self.createIndexBodyKeys):
            body = .object(members)
        case let settings?:
            body = .object(["settings": settings])
        }
        let request = OpenSearchRequest(method: .PUT, path: [index], body: body.serializedBytes, index: index)
        let response = try await send(request)
        if (200..<300).contains(response.status) { return }
        if Self.errorTypeAndReason(in: response).type == "resource_already_exists_exception" { return }
        throw responseError(response, request: request)
    }

    private static let createIndexBodyKeys: Set<String> = ["settings", "mappings", "aliases"]

    /// Makes recent writes to the index visible to search (`POST /{index}/_refresh`).
    /// - Parameter index: The index name.
    /// - Throws: ``OpenSearchError``, `.notFound` when the index does not exist.
    public func refresh(index: String) async throws(OpenSearchError) {
        guard !index.isEmpty else { throw OpenSearchError(code: .clientError, reason: "empty index name") }
        let request = OpenSearchRequest(method: .POST, path: [index, "_refresh"], index: index)
        let response = try await send(request)
        guard (200..<300).contains(response.status) else { throw responseError(response, request: request) }
    }

    /// Checks that the cluster answers (`GET /`), for readiness.
    /// - Throws: ``OpenSearchError`` when it cannot be reached or refuses (for example 401/403).
    public func ping() async throws(OpenSearchError) {
        let request = OpenSearchRequest(method: .GET, path: [])
        let response = try await send(request)
        guard (200..<300).contains(response.status) else { throw responseError(response, request: request) }
        _ = try json(response, request: request)
    }
}
