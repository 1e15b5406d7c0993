import Foundation

/// The kind of change a stream record carries. Raw values are DynamoDB's and are stored.
public enum EventName: String, Sendable, Hashable, CaseIterable, Codable {
    /// A new item.
    case insert = "INSERT"
    /// An item was changed.
    case modify = "MODIFY"
    /// An item was deleted (by a caller, or by TTL: see ``StreamRecord/userIdentity``).
    case remove = "REMOVE"
}

/// Who made a change; DynamoDB sets it only for TTL deletions.
public struct UserIdentity: Sendable, Hashable {
    /// `"Service"` for TTL deletions.
    public var type: String?
    /// `"dynamodb.amazonaws.com"` for TTL deletions.
    public var principalId: String?

    /// Creates a user identity.
    public init(type: String? = nil, principalId: String? = nil) {
        self.type = type
        self.principalId = principalId
    }

    /// True for the identity DynamoDB puts on a deletion made by Time To Live.
    public var isTimeToLiveDeletion: Bool {
        type == "Service" && principalId == "dynamodb.amazonaws.com"
    }
}

/// The `dynamodb` part of a stream record.
public struct StreamRecordData: Sendable, Hashable {
    /// The item's primary key attributes.
    public var keys: Item
    /// The item after the change (INSERT, MODIFY with a view type that includes new images).
    public var newImage: Item?
    /// The item before the change (MODIFY, REMOVE with a view type that includes old images).
    public var oldImage: Item?
    /// The record's position in its shard.
    public var sequenceNumber: SequenceNumber
    /// Size of the record in bytes.
    public var sizeBytes: Int?
    /// When the change was made, roughly (JSON: epoch seconds, possibly fractional).
    public var approximateCreationDateTime: Date?
    /// `KEYS_ONLY`, `NEW_IMAGE`, `OLD_IMAGE` or `NEW_AND_OLD_IMAGES`.
    public var streamViewType: String?

    /// Creates record data.
    public init(
        keys: Item, newImage: Item? = nil, oldImage: Item? = nil, sequenceNumber: SequenceNumber,
        sizeBytes: Int? = nil, approximateCreationDateTime: Date? = nil, streamViewType: String? = nil
    ) {
        self.keys = keys
        self.newImage = newImage
        self.oldImage = oldImage
        self.sequenceNumber = sequenceNumber
        self.sizeBytes = sizeBytes
        self.approximateCreationDateTime = approximateCreationDateTime
        self.streamViewType = streamViewType
    }
}

/// One DynamoDB Streams record, as GetRecords returns it and as a Lambda receives it.
public struct StreamRecord: Sendable, Hashable {
    /// Unique id of the record.
    public var eventID: String?
    /// INSERT, MODIFY or REMOVE.
    public var eventName: EventName
    /// Record format version, e.g. `"1.1"`.
    public var eventVersion: String?
    /// `"aws:dynamodb"`.
    public var eventSource: String?
    /// The stream ARN (present in Lambda events, absent from GetRecords).
    public var eventSourceARN: String?
    /// Region of the table.
    public var awsRegion: String?
    /// Set on TTL deletions: `{"type": "Service", "principalId": "dynamodb.amazonaws.com"}`.
    public var userIdentity: UserIdentity?
    /// Keys, images, sequence number and metadata.
    public var dynamodb: StreamRecordData

    /// Creates a stream record.
    public init(
        eventID: String? = nil, eventName: EventName, eventVersion: String? = nil, eventSource: String? = nil,
        eventSourceARN: String? = nil, awsRegion: String? = nil, userIdentity: UserIdentity? = nil,
        dynamodb: StreamRecordData
    ) {
        self.eventID = eventID
        self.eventName = eventName
        self.eventVersion = eventVersion
        self.eventSource = eventSource
        self.eventSourceARN = eventSourceARN
        self.awsRegion = awsRegion
        self.userIdentity = userIdentity
        self.dynamodb = dynamodb
    }

    /// Reads a stream record. Unknown fields are ignored; known fields must have their types (a field that is
    /// JSON `null` counts as absent). Required: `eventName` (INSERT, MODIFY or REMOVE), `dynamodb.Keys`,
    /// `dynamodb.SequenceNumber` (a string of digits).
    /// - Parameter json: the record object.
    /// - Throws: ``StreamModelError`` naming the field path, e.g. `dynamodb.NewImage.age: …`.
    public init(json: JSONValue) throws(StreamModelError) {
        guard case .object(let fields) = json else {
            throw StreamModelError("a stream record must be an object, got \(json.typeName)")
        }
        let eventNameText = try fields.requiredString("eventName")
        guard let eventName = EventName(rawValue: eventNameText) else {
            throw StreamModelError(
                "unknown event name \(StreamModelError.quoted(eventNameText)) (expected INSERT, MODIFY or REMOVE)"
            ).located(in: "eventName")
        }
        self.eventName = eventName
        eventID = try fields.optionalString("eventID")
        eventVersion = try fields.optionalString("eventVersion")
        eventSource = try fields.optionalString("eventSource")
        eventSourceARN = try fields.optionalString("eventSourceARN")
        awsRegion = try fields.optionalString("awsRegion")
        if let identity = try fields.optionalObject("userIdentity") {
            do throws(StreamModelError) {
                userIdentity = UserIdentity(
                    type: try identity.optionalString("type"), principalId: try identity.optionalString("principalId"))
            } catch {
                throw error.located(in: "userIdentity")
            }
        } else {
            userIdentity = nil
        }
        guard let data = try fields.optionalObject("dynamodb") else {
            throw StreamModelError("missing").located(in: "dynamodb")
        }
        do throws(StreamModelError) {
            dynamodb = try StreamRecordData(fields: data)
        } catch {
            throw error.located(in: "dynamodb")
        }
    }

    /// The record in stream-record JSON (absent optionals are left out).
    public var json: JSONValue {
        var fields: [String: JSONValue] = ["eventName": .string(eventName.rawValue), "dynamodb": dynamodb.json]
        fields["eventID"] = eventID.map(JSONValue.string)
        fields["eventVersion"] = eventVersion.map(JSONValue.string)
        fields["eventSource"] = eventSource.map(JSONValue.string)
        fields["eventSourceARN"] = eventSourceARN.map(JSONValue.string)
        fields["awsRegion"] = awsRegion.map(JSONValue.string)
        if let userIdentity {
            var identity: [String: JSONValue] = [:]
            identity["type"] = userIdentity.type.map(JSONValue.string)
            identity["principalId"] = userIdentity.principalId.map(JSONValue.string)
            fields["userIdentity"] = .object(identity)
        }
        return .object(fields)
    }
}

extension StreamRecordData {
    init(fields: [String: JSONValue]) throws(StreamModelError) {
        keys = try Self.item(fields.requiredValue("Keys"), field: "Keys")
        newImage = try fields.presentValue("NewImage").map { value throws(StreamModelError) in
            try Self.item(value, field: "NewImage")
        }
        oldImage = try fields.presentValue("OldImage").map { value throws(StreamModelError) in
            try Self.item(value, field: "OldImage")
        }
        let sequenceText = try fields.requiredString("SequenceNumber")
        guard let sequenceNumber = SequenceNumber(sequenceText) else {
            throw StreamModelError("\(StreamModelError.quoted(sequenceText)) is not a sequence number (1 to 80 digits)")
                .located(in: "SequenceNumber")
        }
        self.sequenceNumber = sequenceNumber
        sizeBytes = try fields.optionalInt("SizeBytes")
        approximateCreationDateTime = try Self.date(fields.presentValue("ApproximateCreationDateTime"))
        streamViewType = try fields.optionalString("StreamViewType")
    }

    private static func item(_ value: JSONValue, field: String) throws(StreamModelError) -> Item {
        do throws(StreamModelError) {
            return try Item(dynamoJSON: value)
        } catch {
            throw error.located(in: field)
        }
    }

    private static func date(_ value: JSONValue?) throws(StreamModelError) -> Date? {
        guard let value else { return nil }
        guard case .number(let text) = value else {
            throw StreamModelError("expected epoch seconds as a number, got \(value.typeName)")
                .located(in: "ApproximateCreationDateTime")
        }
        // Years 1 to 9999: anything else is not a time a stream record can carry.
        guard let seconds = Double(text), seconds >= -62_135_596_800, seconds < 253_402_300_800 else {
            throw StreamModelError("\(StreamModelError.quoted(text)) is not a time between years 1 and 9999")
                .located(in: "ApproximateCreationDateTime")
        }
        return Date(timeIntervalSince1970: seconds)
    }

    /// The `dynamodb` object in stream-record JSON.
    var json: JSONValue {
        var fields: [String: JSONValue] = [
            "Keys": keys.dynamoJSON, "SequenceNumber": .string(sequenceNumber.digits),
        ]
        fields["NewImage"] = newImage?.dynamoJSON
        fields["OldImage"] = oldImage?.dynamoJSON
        fields["SizeBytes"] = sizeBytes.map { .number(String($0)) }
        fields["ApproximateCreationDateTime"] = approximateCreationDateTime.map { .number(Self.epochSecondsText($0)) }
        fields["StreamViewType"] = streamViewType.map(JSONValue.string)
        return .object(fields)
    }

    /// Epoch seconds as JSON number text: an integer when whole, else the shortest text that reads back exactly.
    private static func epochSecondsText(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        if seconds == seconds.rounded(), abs(seconds) < 1e15 {
            return String(Int64(seconds))
        }
        return "\(seconds)"
    }
}
