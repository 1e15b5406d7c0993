import Foundation
import OpenSearchClient
import StreamModel
import TestSupport
import Testing

@Suite("OpenSearchClient walks an index in _id order against osmem")
struct OpenSearchClientWalkTests {
    @Test("search_after pages visit every document once, in _id order, with its version")
    func walkVisitsEveryDocument() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let client = environment.client()
        var written: [String: WriteResult] = [:]
        for id in (1...23).map(String.init) {
            written[id] = try await client.index(
                index: environment.index, id: id, document: .object(["n": .number(id)]), refresh: .immediate)
        }

        var visited: [DocumentVersion] = []
        var after: String?
        var pages = 0
        repeat {
            let page = try await client.walkPage(index: environment.index, after: after, size: 5)
            pages += 1
            #expect(page.documents.count <= 5)
            visited += page.documents
            after = page.next
        } while after != nil

        #expect(visited.map(\.id) == (1...23).map(String.init).sorted())
        #expect(pages == 5)
        for document in visited {
            #expect(document.seqNo == written[document.id]?.seqNo)
            #expect(document.primaryTerm == written[document.id]?.primaryTerm)
        }
    }

    @Test("a missing index is an empty, final page")
    func missingIndex() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let page = try await environment.client().walkPage(index: environment.index, after: nil, size: 10)
        #expect(page.documents.isEmpty)
        #expect(page.next == nil)
    }
}
