import Foundation
import SQLite
import Testing

@testable import AuditLog

/// Salvage of a damaged store (issue 30): pages overwritten at several places; salvage reads every
/// other row into a new store, names exactly the ids it could not read, and `verify` on the new
/// store names each missing stretch of the chain.
@Suite("Salvage")
struct SalvageTests {
    static let key = try! AuditChainKey(text: String(repeating: "s4lvage-", count: 8))

    /// The rowids a table's leaf page holds, read from the page's cells (the b-tree format: a leaf
    /// table page has type 13, its cell count at offset 3, cell pointers from offset 8, and each cell
    /// starts with the payload size and the rowid as varints).
    static func rowIDs(onPage page: Int, of file: [UInt8], pageSize: Int) -> [Int64] {
        let start = (page - 1) * pageSize
        let header = start + (page == 1 ? 100 : 0)
        precondition(file[header] == 13, "page \(page) is a table leaf")
        let cells = Int(file[header + 3]) << 8 | Int(file[header + 4])
        func varint(_ offset: inout Int) -> Int64 {
            var value: Int64 = 0
            for index in 0..<9 {
                let byte = file[offset]
                offset += 1
                if index == 8 { return value << 8 | Int64(byte) }
                value = value << 7 | Int64(byte & 0x7F)
                if byte & 0x80 == 0 { break }
            }
            return value
        }
        return (0..<cells).map { cell in
            let pointer = header + 8 + cell * 2
            var offset = start + (Int(file[pointer]) << 8 | Int(file[pointer + 1]))
            _ = varint(&offset)
            return varint(&offset)
        }
    }

    @Test("pages overwritten at several places: every other row is salvaged and verify names each gap")
    func salvageAroundDamage() async throws {
        let directory = try TemporaryDirectory()
        let damaged = directory.path("damaged.sqlite3")
        do {
            let log = try AuditLog(path: damaged, chainKey: Self.key)
            for start in stride(from: 1, through: 600, by: 100) {
                _ = try await log.ingest(
                    (start..<start + 100).map { Fixture.message("m-\($0)", [Fixture.change($0)]) }, at: Fixture.t0)
            }
        }
        // Everything in the main file, then the leaf pages of three tables chosen away from their ends.
        let (pageSize, victims) = try { () throws -> (Int, [String: Int]) in
            let db = try Connection(path: damaged)
            try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            let pageSize = try db.queryOne("PRAGMA page_size") { $0.column(0) as Int } ?? 4096
            var victims: [String: Int] = [:]
            for (table, fraction) in [("actions", 3), ("changes", 2), ("messages", 2)] {
                let leaves = try db.query(
                    "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY path", [table]
                ) { $0.column(0) as Int }
                #expect(leaves.count >= 6, "\(table) spans \(leaves.count) leaves")
                victims[table] = leaves[leaves.count / fraction]
            }
            let actionLeaves = try db.query(
                "SELECT pageno FROM dbstat WHERE name = 'actions' AND pagetype = 'leaf' ORDER BY path"
            ) { $0.column(0) as Int }
            victims["actions#2"] = actionLeaves[actionLeaves.count * 2 / 3]
            return (pageSize, victims)
        }()
        var file = [UInt8](try Data(contentsOf: URL(fileURLWithPath: damaged)))
        var lost: [String: ClosedRange<Int64>] = [:]
        var generator = SystemRandomNumberGenerator()
        for (victim, page) in victims {
            let ids = Self.rowIDs(onPage: page, of: file, pageSize: pageSize)
            lost[victim] = ids.min()!...ids.max()!
            #expect(ids.count == Int(ids.max()! - ids.min()! + 1), "ids are dense on a page")
            for offset in (page - 1) * pageSize..<page * pageSize { file[offset] = UInt8.random(in: 0...255, using: &generator) }
        }
        try Data(file).write(to: URL(fileURLWithPath: damaged))
        unlink(damaged + "-wal")
        unlink(damaged + "-shm")

        let destination = directory.path("salvaged.sqlite3")
        let report = try await StoreBackup.salvage(
            from: damaged, to: destination, chainKey: Self.key, actor: "ops-oncall", reason: "disk failure drill")
        // The damaged file was only read.
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: damaged))) == file)
        #expect(!report.isComplete)
        let byName = Dictionary(uniqueKeysWithValues: report.tables.map { ($0.name, $0) })
        let actionGaps = [lost["actions"]!, lost["actions#2"]!].sorted { $0.lowerBound < $1.lowerBound }
        #expect(byName["actions"]?.unreadable == actionGaps, "\(report.summary)")
        #expect(byName["changes"]?.unreadable == [lost["changes"]!], "\(report.summary)")
        #expect(byName["messages"]?.unreadable == [lost["messages"]!], "\(report.summary)")
        let actionsLost = actionGaps.reduce(0) { $0 + $1.count }
        #expect(byName["actions"]?.rows == 600 - actionsLost)
        #expect(byName["changes"]?.rows == 600 - lost["changes"]!.count)
        #expect(byName["change_images"]?.unreadable == [])

        let salvaged = try AuditLog(path: destination, chainKey: Self.key, creating: false)
        let verified = try await salvaged.verify()
        #expect(!verified.isIntact)
        #expect(verified.missingActions == actionGaps, "\(verified)")
        let first = actionGaps[0]
        #expect(verified.firstBrokenActionID == first.upperBound + 1)
        #expect(
            verified.brokenReason?.contains("actions \(first.lowerBound)–\(first.upperBound) are missing from the chain") == true,
            "\(verified.brokenReason ?? "-")")
        // Rows whose parents were lost keep their references, and verify names them.
        #expect(verified.rowProblems.contains { $0.reason.contains("is missing") }, "\(verified.rowProblems)")
        #expect(verified.head.count == first.lowerBound - 1)
        // The salvage is on the chain, after everything read, with who did it and what was lost.
        let last = try await salvaged.listActions(ActionFilter(actions: [.salvaged]), after: nil, limit: 10)
        #expect(last.rows.count == 1)
        #expect(last.rows.first?.actor == "ops-oncall")
        #expect(last.rows.first?.outcome.contains("actions") == true)
        #expect(try await salvaged.head().count == 601)
    }

    @Test("salvage of an undamaged store reads every row, and the new store verifies but for its salvaged action")
    func salvageOfSoundStore() async throws {
        let directory = try TemporaryDirectory()
        let source = directory.path("sound.sqlite3")
        do {
            let log = try AuditLog(path: source, chainKey: Self.key)
            _ = try await log.ingest((1...30).map { Fixture.message("m-\($0)", [Fixture.change($0)]) }, at: Fixture.t0)
        }
        let destination = directory.path("copy.sqlite3")
        let report = try await StoreBackup.salvage(
            from: source, to: destination, chainKey: Self.key, actor: "ops", reason: nil)
        #expect(report.isComplete, "\(report.summary)")
        let verified = try await AuditLog(path: destination, chainKey: Self.key, creating: false).verify()
        #expect(verified.isIntact, "\(verified)")
        #expect(verified.head == report.head)
        // A second salvage into the same file is refused.
        await #expect(throws: AuditLogError.self) {
            try await StoreBackup.salvage(from: source, to: destination, chainKey: Self.key, actor: "ops", reason: nil)
        }
    }
}
