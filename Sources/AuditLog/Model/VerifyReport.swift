import Foundation
import StreamModel

/// The result of ``AuditLog/verify()``.
public struct VerifyReport: Sendable, Hashable {
    /// How many actions were checked.
    public var actionsChecked: Int
    /// The first action whose link is broken (nil when the chain is intact).
    public var firstBrokenActionID: Int64?
    /// What is wrong with it, naming the action.
    public var brokenReason: String?
    /// How many messages, changes and batches were checked against what their actions recorded.
    public var rowsChecked: Int
    /// The rows that do not agree with the chain: edited, missing, without the actions that record
    /// them, or with another status than their last action left; the first few of each check, by id.
    public var rowProblems: [RowProblem]
    /// The first row that does not agree with the chain, e.g. `change 12` (nil when all do).
    public var firstBrokenRow: String? { rowProblems.first?.row }
    /// What is wrong with it, naming the row.
    public var brokenRowReason: String? { rowProblems.first?.reason }
    /// `PRAGMA integrity_check` lines; `["ok"]` when the file is sound.
    public var integrityCheck: [String]
    /// The last action of the unbroken part of the chain, with its hash.
    public var head: ChainHead
    /// The first action of the keyed part of the chain (nil when the chain is unkeyed).
    public var keyedFrom: Int64?
    /// Why an expected head is not in the chain (nil when it is, or none was given).
    public var headReason: String?
    /// Every stretch of action ids missing from the chain, in order (a salvaged store's gaps, or
    /// rows deleted from the middle or the end): the walk goes on after each gap, so every one is
    /// named; the action right after a gap cannot be checked (its predecessor's hash is gone).
    public var missingActions: [ClosedRange<Int64>] = []

    /// Makes a report.
    public init(
        actionsChecked: Int, firstBrokenActionID: Int64?, brokenReason: String?, rowsChecked: Int = 0,
        rowProblems: [RowProblem] = [], integrityCheck: [String],
        head: ChainHead = ChainHead(count: 0, hash: String(repeating: "0", count: 64)), keyedFrom: Int64? = nil,
        headReason: String? = nil
    ) {
        self.head = head
        self.keyedFrom = keyedFrom
        self.headReason = headReason
        self.actionsChecked = actionsChecked
        self.firstBrokenActionID = firstBrokenActionID
        self.brokenReason = brokenReason
        self.rowsChecked = rowsChecked
        self.rowProblems = rowProblems
        self.integrityCheck = integrityCheck
    }

    /// A row that does not agree with the chain.
    public struct RowProblem: Sendable, Hashable {
        /// The row, e.g. `change 12`, `message m-1`, `batch 3`, `change_images 7`.
        public var row: String
        /// What is wrong with it, naming the row.
        public var reason: String

        /// Makes a problem.
        public init(row: String, reason: String) {
            self.row = row
            self.reason = reason
        }
    }

    /// The chain is unbroken and holds the expected head (if one was given), every row agrees with
    /// it (see ``rowProblems``), and the database passed its integrity check.
    public var isIntact: Bool {
        firstBrokenActionID == nil && rowProblems.isEmpty && integrityCheck == ["ok"] && headReason == nil
    }

    /// Whether part of the chain is keyed (HMAC-SHA-256).
    public var isKeyed: Bool { keyedFrom != nil }
}
