import NIOHTTP1
import StreamModel

/// Where a document stands in the index: its id and the `_seq_no`/`_primary_term` to make a
/// following write conditional on.
public struct DocumentVersion: Sendable, Hashable {
    /// The document id.
    public var id: String
    /// `_seq_no` when read.
    public var seqNo: Int64
    /// `_primary_term` when read.
    public var primaryTerm: Int64

    /// Makes a version.
    public init(id: String, seqNo: Int64, primaryTerm: Int64) {
        self.id = id
        self.seqNo = seqNo
        self.primaryTerm = primaryTerm
    }

    /// The condition that makes a write succeed only if nobody wrote the document since it was read.
    public var unchangedCondition: WriteCondition { .ifSeqNo(seqNo, primaryTerm: primaryTerm) }
}

/// One page of a walk of an index in `_id` order.
public struct DocumentWalkPage: Sendable, Hashable {
    /// The documents of the page, in `_id` order.
    public var documents: [DocumentVersion]
    /// The id to continue after (`search_after`); nil when the walk is done.
    public var next: String?
}

extension OpenSearchClient {
    /// One page of a walk of every document of `index`, sorted by `_id`, continuing after
    /// `after` (`search_after`): ids and versions only, no `_source`. Memory stays flat
    /// whatever the index's size; documents written during the walk may or may not be seen.
    /// - Parameters:
    ///   - index: The index name.
    ///   - after: The last id of the previous page; nil to start.
    ///   - size: Documents per page.
    /// - Returns: The page; an empty, final page when the index does not exist.
    /// - Throws: ``OpenSearchError`` for any other failure.
    public func walkPage(index: String, after: String?, size: Int) async throws(OpenSearchError) -> DocumentWalkPage {
        let size = max(1, size)
        var body: [String: JSONValue] = [
            "size": .number(String(size)), "sort": .array([.object(["_id": .string("asc")])]),
            "query": .object(["match_all": .object([:])]), "_source": .bool(false),
            "seq_no_primary_term": .bool(true), "track_total_hits": .bool(false),
        ]
        if let after { body["search_after"] = .array([.string(after)]) }
        let request = OpenSearchRequest(
            method: .POST, path: [index, "_search"], body: JSONValue.object(body).serializedBytes, index: index)
        let response = try await send(request)
        switch response.status {
        case 200:
            let json = try json(response, request: request)
            guard let hits = json["hits"]?["hits"]?.arrayValue else {
                throw invalidResponse("_search answer without hits.hits", response, request: request)
            }
            var documents: [DocumentVersion] = []
            documents.reserveCapacity(hits.count)
            for hit in hits {
                guard let id = hit["_id"]?.stringValue,
                    let seqNo = hit["_seq_no"]?.numberText.flatMap({ Int64($0) }),
                    let primaryTerm = hit["_primary_term"]?.numberText.flatMap({ Int64($0) })
                else {
                    throw invalidResponse("_search hit without _id, _seq_no or _primary_term", response, request: request)
                }
                documents.append(DocumentVersion(id: id, seqNo: seqNo, primaryTerm: primaryTerm))
            }
            return DocumentWalkPage(documents: documents, next: hits.count < size ? nil : documents.last?.id)
        case 404 where Self.meansMissingDocument(response):
            return DocumentWalkPage(documents: [], next: nil)
        default:
            throw responseError(response, request: request)
        }
    }
}
