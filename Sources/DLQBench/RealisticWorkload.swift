import AuditLog
import Foundation
import OpenSearchClient
import StreamModel
import SyncTransform

/// The messy shape of a real outage, for the realistic replay step: every artist was created
/// and edited twice while search was failing (an INSERT of a document search does not have,
/// then two MODIFYs), one in ten was then removed (a REMOVE last), and for one in five the
/// sync handler had written the INSERT before its batch failed, so search holds that older
/// state. A document's changes are about ten DLQ messages apart, and messages arrive shuffled
/// within windows of sixteen, so a later change often lands before an earlier one (with a lower
/// change id). The table holds each artist's final item; removed artists are absent from it.
///
/// Which artists are removed or already in search depends on the artist alone (a fixed seed),
/// not on the number of documents, so the table seeded for the largest size serves every size.
struct RealisticWorkload {
    /// One change of one artist: the artist and the change's step (0 INSERT, 1 and 2 MODIFY, 3 REMOVE).
    struct Change: Hashable {
        let document: Int
        let step: Int
    }

    /// Documents whose changes the backlog holds (artists `0..<documents`).
    let documents: Int

    /// Stream records between an artist's consecutive changes, in units of four (one per step).
    static let spread = 32
    /// Messages shuffled together: the reordering a DLQ's arrivals show.
    static let shuffleWindow = 16
    /// Changes per DLQ message (the sync handler's batch).
    static let changesPerMessage = 10

    /// Whether artist `document` ends with a REMOVE (one in ten).
    static func isRemoved(_ document: Int) -> Bool {
        var generator = SplitMix64(seed: UInt64(document))
        return generator.next() % 10 == 0
    }

    /// Whether search holds artist `document`'s INSERT before the replay (one in five).
    static func isInSearch(_ document: Int) -> Bool {
        var generator = SplitMix64(seed: UInt64(document) ^ 0x5EA2_C400_0000_0000)
        return generator.next() % 5 == 0
    }

    /// The number of changes artist `document` has.
    static func steps(_ document: Int) -> Int {
        isRemoved(document) ? 4 : 3
    }

    /// The revision of the artist a step leaves (nil after the REMOVE).
    static func revision(afterStep step: Int) -> Int? {
        step < 3 ? step + 1 : nil
    }

    /// The change's sequence number. Artist `d`'s step `k` happens at time `d + k × spread`; the
    /// steps of one time come in step order, so a sequence number names one change.
    static func sequence(_ change: Change) -> SequenceNumber {
        BenchData.sequenceNumber(4 * (change.document + change.step * spread) + change.step)
    }

    /// The change's stream event.
    static func eventName(step: Int) -> EventName {
        switch step {
        case 0: .insert
        case 3: .remove
        default: .modify
        }
    }

    /// Every change of the backlog.
    var changeCount: Int {
        (0..<documents).reduce(0) { $0 + Self.steps($1) }
    }

    /// The changes in stream (sequence) order.
    func streamOrder() -> [Change] {
        var changes: [Change] = []
        for time in 0..<(documents + 3 * Self.spread) {
            for step in 0..<4 {
                let document = time - step * Self.spread
                guard document >= 0, document < documents, step < Self.steps(document) else { continue }
                changes.append(Change(document: document, step: step))
            }
        }
        return changes
    }

    /// The DLQ messages in arrival order: consecutive stream records, ten a message, shuffled
    /// within windows of ``shuffleWindow`` messages with a fixed seed.
    func messagesInArrivalOrder() -> [[Change]] {
        let stream = streamOrder()
        let messages = stride(from: 0, to: stream.count, by: Self.changesPerMessage).map {
            Array(stream[$0..<min($0 + Self.changesPerMessage, stream.count)])
        }
        var generator = SplitMix64(seed: 2026)
        return stride(from: 0, to: messages.count, by: Self.shuffleWindow).flatMap {
            messages[$0..<min($0 + Self.shuffleWindow, messages.count)].shuffled(using: &generator)
        }
    }

    /// The change as the audit log stores it.
    static func newChange(_ change: Change, receivedAt: Date) -> NewChange {
        let document = change.document
        let oldImage = change.step == 0 ? nil : BenchData.artist(document, revision: change.step)
        let newImage = revision(afterStep: change.step).map { BenchData.artist(document, revision: $0) }
        return NewChange(
            streamARN: BenchData.streamARN, shardID: BenchData.shardID, sequenceNumber: sequence(change),
            eventID: "realistic-\(document)-\(change.step)", eventName: eventName(step: change.step),
            keys: BenchData.artistKeys(document), documentID: String(document), oldImage: oldImage, newImage: newImage,
            approximateCreationTime: receivedAt)
    }

    /// The document a sync handler writes for a change that leaves the artist in place.
    static func document(_ change: Change, revision: Int, transform: SyncTransform) -> JSONValue {
        transform.document(
            for: BenchData.artist(change.document, revision: revision),
            stamp: SyncStamp(
                sequenceNumber: sequence(change), eventName: eventName(step: change.step), approximateCreationTime: nil,
                appliedAt: Date()))
    }

    /// The `_bulk` operation that takes search from its state before the replay to the final one,
    /// or nil when there is nothing to write (a removed artist search never had).
    static func finalOperation(_ document: Int, transform: SyncTransform) -> BulkOperation? {
        if isRemoved(document) {
            return isInSearch(document) ? .delete(id: String(document), condition: nil) : nil
        }
        let last = Change(document: document, step: 2)
        return .index(id: String(document), document: Self.document(last, revision: 3, transform: transform), condition: nil)
    }
}
