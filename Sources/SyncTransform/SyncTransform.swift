// SyncTransform: the one definition of how a DynamoDB artist record becomes an
// OpenSearch document — which records apply, the document id, the document,
// and which fields changed. Shared with the sync handler so a replayed change
// produces exactly the document the handler would have. Pure: no I/O, and the
// clock comes in as `appliedAt`.

import Foundation
import StreamModel

/// When and from which change a document was written; becomes the document's `sync` object.
public struct SyncStamp: Sendable, Hashable {
    /// The stream record's sequence number.
    public var sequenceNumber: SequenceNumber
    /// The stream record's event name.
    public var eventName: EventName
    /// The stream record's approximate creation time, if known.
    public var approximateCreationTime: Date?
    /// When the reprocessor (or handler) wrote the document.
    public var appliedAt: Date

    /// Creates a stamp.
    public init(sequenceNumber: SequenceNumber, eventName: EventName, approximateCreationTime: Date?, appliedAt: Date) {
        self.sequenceNumber = sequenceNumber
        self.eventName = eventName
        self.approximateCreationTime = approximateCreationTime
        self.appliedAt = appliedAt
    }
}

/// What to do in OpenSearch for one stream record.
public enum SyncDecision: Sendable, Hashable {
    /// Write `document` under `documentID`.
    case index(documentID: String, document: JSONValue)
    /// Delete the document (a missing document is fine).
    case delete(documentID: String)
    /// Nothing to do for this record, and why (one line).
    case filtered(reason: String)
}

/// Turns artist records (`PK = ARTIST#<id>`, `SK = METADATA`) into OpenSearch documents.
///
/// The document for an item is its plain JSON (``plainJSON(_:)``) without `PK`, `SK` and attributes whose name
/// starts with `GSI` or `gsi`, plus a `sync` object:
/// `{"sequenceNumber": "<digits>", "eventName": "MODIFY", "approximateCreationTime": "2026-11-24T10:00:00.000Z" or
/// null, "appliedAt": "2026-11-24T10:00:05.123Z"}`. An item attribute named `sync` is replaced by it.
public struct SyncTransform: Sendable {
    /// The OpenSearch index documents go to (`OPENSEARCH_INDEX`).
    public let index: String

    /// The reason for INSERT and MODIFY records that carry no new image.
    public static let noNewImageReason = "no NewImage (stream view type must be NEW_AND_OLD_IMAGES)"

    /// Creates a transform for `index`.
    public init(index: String = "artists") {
        self.index = index
    }

    /// Document id for keys: the part of `PK` after `ARTIST#` when `SK` is `METADATA` (both strings, id not
    /// empty); nil otherwise.
    public static func documentID(forKeys keys: Item) -> String? {
        guard case .string(let partitionKey)? = keys["PK"], partitionKey.hasPrefix(artistPrefix),
            case .string("METADATA")? = keys["SK"]
        else { return nil }
        let id = String(partitionKey.dropFirst(artistPrefix.count))
        return id.isEmpty ? nil : id
    }

    /// Why keys are not an artist record (nil when they are), as one line naming the offending key.
    public static func filterReason(forKeys keys: Item) -> String? {
        guard let partitionKey = keys["PK"] else { return "keys have no PK" }
        guard case .string(let partitionText) = partitionKey else {
            return "PK is of type \(partitionKey.typeKey), not a string"
        }
        guard partitionText.hasPrefix(artistPrefix) else {
            return "PK \(StreamModelError.quoted(partitionText)) is not an artist record (ARTIST#<id>)"
        }
        guard partitionText.count > artistPrefix.count else { return "PK \"ARTIST#\" has an empty artist id" }
        guard let sortKey = keys["SK"] else { return "keys have no SK" }
        guard case .string(let sortText) = sortKey else { return "SK is of type \(sortKey.typeKey), not a string" }
        guard sortText == "METADATA" else {
            return "SK \(StreamModelError.quoted(sortText)) is not METADATA"
        }
        return nil
    }

    /// The whole decision for one stream record: REMOVE → delete; INSERT and MODIFY → index the new image;
    /// filtered when the keys are not an artist record or an INSERT/MODIFY has no new image.
    /// - Parameters:
    ///   - record: the stream record.
    ///   - appliedAt: the time written into `sync.appliedAt`.
    /// - Returns: the decision.
    public func decide(_ record: StreamRecord, appliedAt: Date) -> SyncDecision {
        let keys = record.dynamodb.keys
        guard let documentID = Self.documentID(forKeys: keys) else {
            return .filtered(reason: Self.filterReason(forKeys: keys) ?? "keys are not an artist record")
        }
        switch record.eventName {
        case .remove:
            return .delete(documentID: documentID)
        case .insert, .modify:
            guard let newImage = record.dynamodb.newImage else { return .filtered(reason: Self.noNewImageReason) }
            let stamp = SyncStamp(
                sequenceNumber: record.dynamodb.sequenceNumber, eventName: record.eventName,
                approximateCreationTime: record.dynamodb.approximateCreationDateTime, appliedAt: appliedAt)
            return .index(documentID: documentID, document: document(for: newImage, stamp: stamp))
        }
    }

    /// The OpenSearch document for an item: plain JSON without `PK`, `SK`, `GSI*` and `gsi*` attributes, plus
    /// `sync` (see the type's documentation).
    /// - Parameters:
    ///   - item: the item (a new image, an old image for a rollback, or a table read for a resync).
    ///   - stamp: what goes into `sync`.
    /// - Returns: the document as a JSON object.
    public func document(for item: Item, stamp: SyncStamp) -> JSONValue {
        var members: [String: JSONValue] = [:]
        members.reserveCapacity(item.count + 1)
        for (name, value) in item where !Self.isDropped(name) {
            members[name] = Self.plainJSON(value)
        }
        members["sync"] = .object([
            "sequenceNumber": .string(stamp.sequenceNumber.digits),
            "eventName": .string(stamp.eventName.rawValue),
            "approximateCreationTime": stamp.approximateCreationTime.map { .string(ISO8601Milliseconds.format($0)) }
                ?? .null,
            "appliedAt": .string(ISO8601Milliseconds.format(stamp.appliedAt)),
        ])
        return .object(members)
    }

    /// Top-level attribute names whose values differ between `old` and `new` (present in one only counts),
    /// sorted. Values are compared as their plain JSON, so set order does not count as a change.
    /// - Returns: e.g. `["name", "styles"]`; every name of the other image when one is nil; `[]` when both are.
    public static func changedFields(old: Item?, new: Item?) -> [String] {
        let oldItem = old ?? [:]
        let newItem = new ?? [:]
        let names = Set(oldItem.keys).union(newItem.keys)
        return names.filter { name in
            oldItem[name].map(plainJSON) != newItem[name].map(plainJSON)
        }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// `sync.sequenceNumber` of a live document's `_source`, if present and valid (a string of digits, or a
    /// JSON integer).
    public static func syncedSequenceNumber(in source: JSONValue) -> SequenceNumber? {
        switch source["sync"]?["sequenceNumber"] {
        case .string(let text)?: SequenceNumber(text)
        case .number(let text)?: SequenceNumber(text)
        default: nil
        }
    }

    /// Item → plain JSON, the conversion the document uses (without dropping keys and without `sync`).
    ///
    /// S → string; N → JSON number with every digit kept (``DynamoDBNumber/jsonText``); B → base64 string;
    /// SS → strings sorted by code point; NS → numbers sorted numerically; BS → base64 strings sorted by bytes;
    /// M → object; L → array; NULL → null; BOOL → boolean.
    public static func plainJSON(_ item: Item) -> JSONValue {
        .object(item.mapValues(plainJSON))
    }

    /// One attribute value as plain JSON (see ``plainJSON(_:)-(Item)``).
    public static func plainJSON(_ value: AttributeValue) -> JSONValue {
        switch value {
        case .string(let text):
            return .string(text)
        case .number(let text):
            return numberJSON(text)
        case .binary(let data):
            return .string(data.base64EncodedString())
        case .stringSet(let texts):
            return .array(texts.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map(JSONValue.string))
        case .numberSet(let texts):
            let sorted = texts.map { (text: $0, value: try? DynamoDBNumber($0)) }.sorted { lhs, rhs in
                // Numbers in numeric order (equal values by text), then any hand-built non-numbers by text.
                switch (lhs.value, rhs.value) {
                case let (lhsValue?, rhsValue?) where lhsValue != rhsValue: lhsValue < rhsValue
                case (.some, nil): true
                case (nil, .some): false
                default: lhs.text.utf8.lexicographicallyPrecedes(rhs.text.utf8)
                }
            }
            return .array(sorted.map { numberJSON($0.text) })
        case .binarySet(let blobs):
            return .array(
                blobs.sorted { $0.lexicographicallyPrecedes($1) }.map { .string($0.base64EncodedString()) })
        case .map(let item):
            return plainJSON(item)
        case .list(let values):
            return .array(values.map(plainJSON))
        case .null:
            return .null
        case .bool(let flag):
            return .bool(flag)
        }
    }

    private static let artistPrefix = "ARTIST#"

    /// Key and index attributes never go into a document.
    private static func isDropped(_ name: String) -> Bool {
        name == "PK" || name == "SK" || name.hasPrefix("GSI") || name.hasPrefix("gsi")
    }

    /// A DynamoDB number as a JSON number with every digit kept. Numbers read from DynamoDB JSON are always valid
    /// DynamoDB numbers; text that is not (only possible in a hand-built value) becomes a JSON string rather than
    /// broken JSON.
    private static func numberJSON(_ text: String) -> JSONValue {
        guard let number = try? DynamoDBNumber(text) else { return .string(text) }
        return .number(number.jsonText)
    }
}
