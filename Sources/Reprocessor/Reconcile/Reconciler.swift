import AuditLog
import Foundation
import OpenSearchClient
import StreamModel
import SyncTransform

/// What reconcile finds for one document, and the write that repairs it.
public struct ReconcileFinding: Sendable, Hashable {
    /// The document.
    public var documentID: String
    /// How search differs from the table; nil when they agree.
    public var kind: DriftKind?
    /// The repair: the table's item as a table copy, or a delete of the orphan, conditional on
    /// the version read; nil when there is nothing to write.
    public var write: PlannedWrite?
}

/// The pure half of `reconcile` (DESIGN §5, issue 13): compares one table item with its
/// search document and plans the repair under the write engine's rules — conditional on the
/// `_seq_no`/`_primary_term` read, never an older state (the table's current item is written
/// as a table copy, marked ``WritePlanner/resyncMark``, stamped no lower than anything known),
/// an orphan deleted conditionally. No I/O: the executor reads, writes and records.
public struct Reconciler: Sendable {
    /// The shared transform: content is compared as the handler would write it.
    public let transform: SyncTransform

    /// Makes a reconciler.
    /// - Parameter transform: The transform the handler uses.
    public init(transform: SyncTransform) {
        self.transform = transform
    }

    /// The stamp of a table copy when nothing is known about the document: lower than any
    /// stream record, so every later change is checked against the table (a table copy is
    /// never taken for newer than the table).
    public static let unknownSequence = SequenceNumber("0")!

    /// Compares the table's item for `documentID` with the live document and plans the repair.
    /// - Parameters:
    ///   - documentID: The document.
    ///   - table: The table's item (``TableState/present(_:)``) or its absence; ``TableState/unread`` is
    ///     treated as absent.
    ///   - live: The document as read, with its version.
    ///   - knownSequence: The newest sequence number the audit log knows for the document (any change of it), if any.
    ///   - now: `sync.appliedAt` of a repair.
    /// - Returns: The finding; ``ReconcileFinding/kind`` is nil when search agrees with the table.
    public func compare(
        documentID: String, table: TableState, live: OpenSearchDocument?, knownSequence: SequenceNumber?, now: Date
    ) -> ReconcileFinding {
        let condition = live?.unchangedCondition
        guard case .present(let item) = table else {
            guard live != nil else { return ReconcileFinding(documentID: documentID, kind: nil, write: nil) }
            return orphan(documentID: documentID, condition: condition)
        }
        let liveSequence = live.flatMap { SyncTransform.syncedSequenceNumber(in: $0.source) }
        let kind: DriftKind?
        if let live {
            let sameContent = Self.content(live.source) == content(of: item)
            let behind = liveSequence == nil || (knownSequence.map { $0 > liveSequence! } ?? false)
            switch (sameContent, behind) {
            case (true, _) where liveSequence == nil: kind = nil
            case (true, false): kind = nil
            case (_, true): kind = .stale
            case (false, false): kind = .differs
            }
        } else {
            kind = .missing
        }
        guard kind != nil else { return ReconcileFinding(documentID: documentID, kind: nil, write: nil) }
        var sequence = Self.unknownSequence
        for known in [liveSequence, knownSequence].compactMap({ $0 }) where known > sequence { sequence = known }
        let stamp = SyncStamp(sequenceNumber: sequence, eventName: .modify, approximateCreationTime: nil, appliedAt: now)
        let document = WritePlanner.marked(transform.document(for: item, stamp: stamp), as: WritePlanner.resyncMark)
        let write = PlannedWrite(
            operation: .index(id: documentID, document: document, condition: condition ?? .createOnly),
            written: document, stampSequence: sequence, stampAppliedAt: ISO8601Milliseconds.format(now))
        return ReconcileFinding(documentID: documentID, kind: kind, write: write)
    }

    /// An orphan (a document whose item the table does not have) and its repair: a delete,
    /// conditional on `condition` (the version read).
    public func orphan(documentID: String, condition: WriteCondition?) -> ReconcileFinding {
        let write = PlannedWrite(
            operation: .delete(id: documentID, condition: condition), written: .null, stampSequence: nil,
            stampAppliedAt: nil)
        return ReconcileFinding(documentID: documentID, kind: .orphaned, write: write)
    }

    /// The document the handler would write for `item`, without `sync`.
    public func content(of item: Item) -> JSONValue {
        let stamp = SyncStamp(
            sequenceNumber: Self.unknownSequence, eventName: .modify, approximateCreationTime: nil,
            appliedAt: Date(timeIntervalSince1970: 0))
        return Self.content(transform.document(for: item, stamp: stamp))
    }

    /// A document's `_source` without its `sync` stamp.
    public static func content(_ source: JSONValue) -> JSONValue {
        guard case .object(var fields) = source else { return source }
        fields["sync"] = nil
        return .object(fields)
    }
}
