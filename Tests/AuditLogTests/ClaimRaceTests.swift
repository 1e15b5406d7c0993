import AuditLog
import Foundation
import Testing

/// Workers of a fleet claiming the same new documents at once (each replayer starts on the same
/// page of due changes): each document goes to exactly one, and none of them fails.
@Suite("Claim races")
struct ClaimRaceTests {
    @Test("three workers claiming the same new documents at once, in different orders: no deadlock, each document once")
    func sameNewDocumentsAtOnce() async throws {
        let test = try await TestLog(.postgres)
        let logs = [test.log, try await test.reopen(), try await test.reopen()]
        for round in 0..<8 {
            let documents = (0..<300).map { "r\(round)-\($0)" }
            let claimed = try await withThrowingTaskGroup(of: DocumentClaims.self) { group in
                for (worker, log) in logs.enumerated() {
                    // Each worker lists the documents in an order of its own.
                    let order = worker == 0 ? documents : worker == 1 ? documents.reversed() : documents.shuffled()
                    group.addTask {
                        try await log.claimDocuments(order, holder: "worker-\(worker)", ttl: .seconds(60), now: Date())
                    }
                }
                var all: [DocumentClaims] = []
                for try await claims in group { all.append(claims) }
                return all
            }
            let held = claimed.flatMap(\.epochs.keys)
            #expect(held.count == documents.count, "round \(round): \(held.count) claims of \(documents.count) documents")
            #expect(Set(held) == Set(documents), "round \(round)")
        }
    }
}
