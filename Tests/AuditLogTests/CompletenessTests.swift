import Foundation
import SQLite
import TestSupport
import Testing

@testable import AuditLog

/// verify's completeness checks name the first few offenders of each check, by id, and stop
/// there: a log with many missing rows is reported in a bounded answer.
@Suite("verify: completeness")
struct CompletenessTests {
    @Test("many changes deleted: the first few are named in id order, no more", arguments: StoreBackend.allCases)
    func firstFewOffenders(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        for n in 1...8 { _ = try await Fixture.ingestOne(test.log, n) }
        #expect(try await test.log.verify().isIntact)
        let deletion = "DELETE FROM change_images; DELETE FROM changes"
        switch backend {
        case .sqlite:
            let raw = try Connection(path: test.path)
            try raw.execute("PRAGMA foreign_keys = OFF; \(deletion)")
        case .postgres:
            let server = try await SharedPostgresServer.shared()
            let database = try #require(URL(string: test.location)?.path.split(separator: "/").last.map(String.init))
            _ = try await server.psql("SET session_replication_role = replica; \(deletion)", database: database)
        }
        let report = try await test.reopen().verify()
        #expect(!report.isIntact)
        let named = report.rowProblems.compactMap { problem -> Int64? in
            guard problem.reason.contains("is missing: action") else { return nil }
            return Int64(problem.row.dropFirst("change ".count))
        }
        #expect(named == Array(1...Int64(AuditLog.offendersPerCheck)), "\(report.rowProblems)")
    }
}
