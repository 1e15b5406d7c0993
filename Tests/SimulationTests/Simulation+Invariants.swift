import AuditLog
import Foundation
import StreamModel
import Synchronization

/// The invariants checked at quiescence (DESIGN §5). "Search never goes back in time" is checked
/// as each write lands (``SimWorld/checkForward(_:_:)``), and "a filter never reopens a closed
/// decision" as each filtered operator command reports.
extension Simulation {
    /// The document a reconcile repair's action wrote (its response names it), nil for any other action.
    static func repairedDocument(_ action: ActionRecord) -> String? {
        guard action.action == .reconciled, let response = action.response else { return nil }
        return (try? JSONValue(parsing: response))?["documentId"]?.stringValue
    }

    func checkAtQuiescence() async throws {
        var changes: [ChangeRecord] = []
        var after: String?
        repeat {
            let page = try await auditLog.listChanges(ChangeFilter(), after: after, limit: 1000)
            changes += page.rows
            after = page.next
        } while after != nil
        var actions: [ActionRecord] = []
        after = nil
        repeat {
            let page = try await auditLog.listActions(ActionFilter(), after: after, limit: 1000)
            actions += page.rows
            after = page.next
        } while after != nil
        actions.sort { $0.id < $1.id }
        let byID = Dictionary(uniqueKeysWithValues: changes.map { ($0.id, $0) })
        let landed = world.state.withLock { $0.landed }
        let (index, records) = (world.state.withLock { $0.index }, stream.withLock { $0.records })

        // Nothing lost: every stream record stored and settled; a superseded change has a newer one.
        let stored = Set(changes.map(\.sequenceNumber))
        for record in records where !stored.contains(record.sequenceNumber) {
            world.violate(.lost, "stream record \(record.sequenceNumber.digits) was never stored")
        }
        for change in changes {
            if [.pending, .failed, .parked].contains(change.status) {
                world.violate(
                    .lost, "change \(change.id) (sequence \(change.sequenceNumber.digits)) is still \(change.status.rawValue)")
            }
            if change.status == .superseded,
                !changes.contains(where: { $0.documentID == change.documentID && $0.sequenceNumber > change.sequenceNumber })
            {
                world.violate(.lost, "change \(change.id) is superseded, but nothing newer of its document exists")
            }
        }

        // After a clean pass every touched document equals the table's item (an operator's resync
        // included), or its rolled-back state when the last thing done to it was rolling back its
        // newest change (not checked when an operator skipped a change, or rolled back another).
        let documents = Set(changes.compactMap(\.documentID))
        for id in documents.sorted() {
            let own = changes.filter { $0.documentID == id }
            let newest = own.max { $0.sequenceNumber < $1.sequenceNumber }
            let ownIDs = Set(own.map(\.id))
            // The last action that set the document: a rollback, a resync, an apply or a reconcile
            // repair (whose rule is the table's current item, a rolled-back state included).
            let lastWrite = actions.last {
                ($0.changeID.map(ownIDs.contains) == true && [.rolledBack, .resynced, .applied].contains($0.action))
                    || Self.repairedDocument($0) == id
            }
            let expected: JSONValue?
            if own.contains(where: { $0.status == .skipped }) {
                continue
            } else if let newest, newest.status == .rolledBack, lastWrite?.action == .rolledBack,
                lastWrite?.changeID == newest.id
            {
                expected = newest.oldImage.map { SimWorld.content(world.document(for: $0)) }
            } else if lastWrite?.action == .rolledBack
                || (own.contains(where: { $0.status == .rolledBack })
                    && ![.resynced, .reconciled].contains(lastWrite?.action))
            {
                // The rolled-back state of an older change (a forced rollback, say): the operator's call.
                continue
            } else {
                expected = world.item(id).map { SimWorld.content(world.document(for: $0)) }
            }
            let actual = index[id].map { SimWorld.content($0.source) }
            if expected != actual {
                world.violate(
                    .clean,
                    "document \(id) after a clean pass: search has \(actual?.serialized ?? "nothing"), expected \(expected?.serialized ?? "nothing")"
                )
            }
        }

        // Every write to search has exactly one recorded action carrying search's answer.
        var recorded: [String: [Int64?]] = [:]
        var described: [String: [String]] = [:]
        for action in actions {
            guard let response = action.response, let json = try? JSONValue(parsing: response), json["written"] != nil,
                // search's answer, or the document found by a re-read or a recovery: a write was made
                json["status"] != nil || json["recovered"] != nil,
                // a change's document, or a reconcile repair's
                let documentID = action.changeID.flatMap({ byID[$0]?.documentID }) ?? Self.repairedDocument(action)
            else { continue }
            let seqNo = json["seqNo"]?.numberText.flatMap { Int64($0) }
            recorded[documentID, default: []].append(seqNo)
            let subject = action.changeID.map { "change \($0)" } ?? "reconcile run \(json["reconcileRun"]?.numberText ?? "?")"
            described[documentID, default: []].append(
                "\(action.action.rawValue) of \(subject) by \(action.actor) at \(seqNo.map { String($0) } ?? "?")")
        }
        for id in Set(landed.map(\.documentID)).union(recorded.keys).sorted() {
            let writes = landed.filter { $0.documentID == id }
            let answers = recorded[id] ?? []
            let named = answers.compactMap { $0 }
            // A delete found absent (after a 409, or by a recovery) names no `_seq_no`: it stands
            // for a landed delete no action names. Search's absence cannot tell whose delete it
            // was, so one more such action than unnamed deletes is the known limit of
            // docs/simulation.md, not counted here; a write with no action at all is.
            let unnamedActions = answers.count - named.count
            let unnamedWrites = writes.filter { !named.contains($0.seqNo) }
            if Set(named).count != named.count || !Set(named).isSubset(of: Set(writes.map(\.seqNo)))
                || unnamedWrites.count > unnamedActions || unnamedWrites.contains(where: { $0.source != nil })
                || (unnamedActions > unnamedWrites.count && !writes.contains(where: { $0.source == nil }))
            {
                world.violate(
                    .oneAction,
                    "document \(id): writes landed at _seq_no \(writes.map(\.seqNo)), actions record \(described[id] ?? [])"
                )
            }
        }

        // No change applied twice: one landed write stamped with a change's sequence, and one more
        // per time an operator retried it after rolling it back.
        var retries: [String: Int] = [:]
        var rolledBack: Set<Int64> = []
        for action in actions {
            guard let changeID = action.changeID, let change = byID[changeID], let documentID = change.documentID else {
                continue
            }
            if action.action == .rolledBack {
                rolledBack.insert(changeID)
            } else if action.action == .retried, rolledBack.remove(changeID) != nil {
                retries["\(documentID)@\(change.sequenceNumber.digits)", default: 0] += 1
            }
        }
        var writes: [String: Int] = [:]
        for write in landed {
            guard let sync = write.source?["sync"], let event = sync["eventName"]?.stringValue,
                ["INSERT", "MODIFY", "REMOVE"].contains(event), let sequence = sync["sequenceNumber"]?.stringValue
            else { continue }
            let key = "\(write.documentID)@\(sequence)"
            writes[key, default: 0] += 1
            if writes[key]! == 2 + (retries[key] ?? 0) {
                world.violate(
                    .twice,
                    "document \(write.documentID): change at sequence \(sequence) written to search \(writes[key]!) times, retried \(retries[key] ?? 0)"
                )
            }
        }

        // The keyed chain verifies.
        let report = try await auditLog.verify()
        if !report.isIntact {
            world.violate(
                .chain, "the audit chain does not verify: \(report.brokenReason ?? report.brokenRowReason ?? "integrity check")")
        }
    }
}
