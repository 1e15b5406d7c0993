/// Which of the DLQ body formats a message is (docs/design.md, "What arrives on the DLQ"). Raw values are stored.
public enum EnvelopeFormat: String, Sendable, Hashable, CaseIterable {
    /// A: the Lambda on-failure destination record (batch metadata, not the records).
    case failedBatch = "A"
    /// B: stream records forwarded by a producer.
    case forwardedRecords = "B"
    /// C: anything else; quarantined with a reason.
    case unrecognized = "C"
}

/// Format A: the Lambda on-failure destination record for a stream batch.
///
/// Lenient: only `DDBStreamBatchInfo.shardId`, `startSequenceNumber`, `endSequenceNumber` and `streamArn` are
/// required. Other fields are read when they have a usable type and left nil otherwise.
public struct FailedBatch: Sendable, Hashable {
    /// `requestContext.requestId`.
    public var requestID: String?
    /// `requestContext.functionArn`.
    public var functionARN: String?
    /// `requestContext.condition`, an open set: `RetryAttemptsExhausted`, `MaximumRecordAgeExceeded`, …
    public var condition: String?
    /// `requestContext.approximateInvokeCount`.
    public var approximateInvokeCount: Int?
    /// `responseContext.statusCode`.
    public var statusCode: Int?
    /// `responseContext.functionError`, e.g. `Unhandled`.
    public var functionError: String?
    /// Top-level `timestamp`.
    public var timestamp: String?
    /// `DDBStreamBatchInfo.shardId`.
    public var shardID: String
    /// `DDBStreamBatchInfo.startSequenceNumber`.
    public var startSequenceNumber: SequenceNumber
    /// `DDBStreamBatchInfo.endSequenceNumber` (not before the start).
    public var endSequenceNumber: SequenceNumber
    /// `DDBStreamBatchInfo.batchSize`.
    public var batchSize: Int?
    /// `DDBStreamBatchInfo.streamArn`.
    public var streamARN: String
    /// `DDBStreamBatchInfo.approximateArrivalOfFirstRecord`.
    public var approximateArrivalOfFirstRecord: String?
    /// `DDBStreamBatchInfo.approximateArrivalOfLastRecord`.
    public var approximateArrivalOfLastRecord: String?
    /// The `DDBStreamBatchInfo` object exactly as received.
    public var batchInfoJSON: JSONValue

    /// Creates a failed batch; `batchInfoJSON` defaults to the `DDBStreamBatchInfo` object these fields describe.
    public init(
        requestID: String? = nil, functionARN: String? = nil, condition: String? = nil,
        approximateInvokeCount: Int? = nil, statusCode: Int? = nil, functionError: String? = nil,
        timestamp: String? = nil, shardID: String, startSequenceNumber: SequenceNumber,
        endSequenceNumber: SequenceNumber, batchSize: Int? = nil, streamARN: String,
        approximateArrivalOfFirstRecord: String? = nil, approximateArrivalOfLastRecord: String? = nil,
        batchInfoJSON: JSONValue? = nil
    ) {
        self.requestID = requestID
        self.functionARN = functionARN
        self.condition = condition
        self.approximateInvokeCount = approximateInvokeCount
        self.statusCode = statusCode
        self.functionError = functionError
        self.timestamp = timestamp
        self.shardID = shardID
        self.startSequenceNumber = startSequenceNumber
        self.endSequenceNumber = endSequenceNumber
        self.batchSize = batchSize
        self.streamARN = streamARN
        self.approximateArrivalOfFirstRecord = approximateArrivalOfFirstRecord
        self.approximateArrivalOfLastRecord = approximateArrivalOfLastRecord
        if let batchInfoJSON {
            self.batchInfoJSON = batchInfoJSON
        } else {
            var info: [String: JSONValue] = [
                "shardId": .string(shardID), "startSequenceNumber": .string(startSequenceNumber.digits),
                "endSequenceNumber": .string(endSequenceNumber.digits), "streamArn": .string(streamARN),
            ]
            info["batchSize"] = batchSize.map { .number(String($0)) }
            info["approximateArrivalOfFirstRecord"] = approximateArrivalOfFirstRecord.map(JSONValue.string)
            info["approximateArrivalOfLastRecord"] = approximateArrivalOfLastRecord.map(JSONValue.string)
            self.batchInfoJSON = .object(info)
        }
    }

    /// Reads a failed-batch record from the top-level object of a body.
    /// - Throws: ``StreamModelError`` naming the missing or bad required field.
    init(fields: [String: JSONValue]) throws(StreamModelError) {
        guard let info = try fields.optionalObject("DDBStreamBatchInfo") else {
            throw StreamModelError("missing").located(in: "DDBStreamBatchInfo")
        }
        do throws(StreamModelError) {
            shardID = try info.requiredString("shardId")
            startSequenceNumber = try Self.sequenceNumber(info, "startSequenceNumber")
            endSequenceNumber = try Self.sequenceNumber(info, "endSequenceNumber")
            streamARN = try info.requiredString("streamArn")
            if endSequenceNumber < startSequenceNumber {
                throw StreamModelError(
                    "startSequenceNumber \(startSequenceNumber) is after endSequenceNumber \(endSequenceNumber)")
            }
            batchSize = info.lenientInt("batchSize")
            approximateArrivalOfFirstRecord = info.lenientString("approximateArrivalOfFirstRecord")
            approximateArrivalOfLastRecord = info.lenientString("approximateArrivalOfLastRecord")
            batchInfoJSON = .object(info)
        } catch {
            throw error.located(in: "DDBStreamBatchInfo")
        }
        let request = fields["requestContext"]?.objectValue ?? [:]
        requestID = request.lenientString("requestId")
        functionARN = request.lenientString("functionArn")
        condition = request.lenientString("condition")
        approximateInvokeCount = request.lenientInt("approximateInvokeCount")
        let response = fields["responseContext"]?.objectValue ?? [:]
        statusCode = response.lenientInt("statusCode")
        functionError = response.lenientString("functionError")
        timestamp = fields.lenientString("timestamp")
    }

    /// A sequence number given as a string of digits (a JSON integer is accepted too).
    private static func sequenceNumber(_ info: [String: JSONValue], _ key: String) throws(StreamModelError)
        -> SequenceNumber
    {
        let value = try info.requiredValue(key)
        let text: String
        switch value {
        case .string(let string): text = string
        case .number(let number): text = number
        default: throw StreamModelError("expected a string of digits, got \(value.typeName)").located(in: key)
        }
        guard let sequenceNumber = SequenceNumber(text) else {
            throw StreamModelError("\(StreamModelError.quoted(text)) is not a sequence number (1 to 80 digits)")
                .located(in: key)
        }
        return sequenceNumber
    }
}

/// Format B: stream records put on the queue by a producer.
public struct ForwardedRecords: Sendable, Hashable {
    /// The records, in body order (never empty).
    public var records: [StreamRecord]
    /// Top-level `errorMessage`.
    public var errorMessage: String?
    /// Top-level `errorType`.
    public var errorType: String?
    /// Top-level `correlationId`.
    public var correlationID: String?

    /// Creates forwarded records.
    public init(
        records: [StreamRecord], errorMessage: String? = nil, errorType: String? = nil, correlationID: String? = nil
    ) {
        self.records = records
        self.errorMessage = errorMessage
        self.errorType = errorType
        self.correlationID = correlationID
    }
}

/// A classified DLQ message body: A, B or C (docs/design.md, "What arrives on the DLQ").
public enum DLQEnvelope: Sendable, Hashable {
    /// Format A.
    case failedBatch(FailedBatch)
    /// Format B.
    case forwardedRecords(ForwardedRecords)
    /// Format C, with one operator-readable line saying what was wrong and where,
    /// e.g. `not JSON: unexpected character 'x' at byte 0 (expected a value)`.
    case unrecognized(reason: String)

    /// The longest reason kept; longer ones are cut with `…`.
    static let maxReasonLength = 300

    /// Classifies a body. Never throws, never crashes; any input gets A, B or C.
    ///
    /// - A: an object with `DDBStreamBatchInfo` (see ``FailedBatch``); a bad required field, or a start after the
    ///   end, makes it C.
    /// - B: an object with a non-empty `Records` array of stream records, or a single stream record object (one
    ///   with `eventName` or `dynamodb`); top-level `errorMessage`, `errorType`, `correlationId` are kept. Any
    ///   record that fails to parse makes the whole body C, with the record's index (from 0) in the reason:
    ///   `Records[3].eventName: unknown event name "UPSERT" (expected INSERT, MODIFY or REMOVE)`.
    /// - C: anything else, with the reason.
    /// - Parameter body: the SQS message body.
    public init(body: String) {
        switch Self.classify(body) {
        case .success(let envelope): self = envelope
        case .failure(let error): self = .unrecognized(reason: Self.oneLine(error.description))
        }
    }

    /// The format letter of this envelope.
    public var format: EnvelopeFormat {
        switch self {
        case .failedBatch: .failedBatch
        case .forwardedRecords: .forwardedRecords
        case .unrecognized: .unrecognized
        }
    }

    private static func classify(_ body: String) -> Result<DLQEnvelope, StreamModelError> {
        if body.utf8.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            return .failure(StreamModelError("empty body"))
        }
        let json: JSONValue
        do {
            json = try JSONValue(parsing: body)
        } catch {
            return .failure(StreamModelError("not JSON: \(error.description)"))
        }
        guard case .object(let fields) = json else {
            return .failure(StreamModelError("JSON \(json.typeName), expected an object"))
        }
        return Result { () throws(StreamModelError) in
            if fields["DDBStreamBatchInfo"] != nil {
                return .failedBatch(try FailedBatch(fields: fields))
            }
            if let records = fields["Records"] {
                return .forwardedRecords(try forwardedRecords(records, fields: fields))
            }
            if fields["eventName"] != nil || fields["dynamodb"] != nil {
                let record = try StreamRecord(json: json)
                return .forwardedRecords(forwarded([record], fields: fields))
            }
            let keys = fields.keys.sorted().prefix(8).map { StreamModelError.quoted($0, limit: 30) }
            let more = fields.count > 8 ? ", …" : ""
            throw StreamModelError(
                "JSON object without DDBStreamBatchInfo, Records or a stream record (keys: "
                    + (keys.isEmpty ? "none" : keys.joined(separator: ", ")) + more + ")")
        }
    }

    private static func forwardedRecords(_ value: JSONValue, fields: [String: JSONValue]) throws(StreamModelError)
        -> ForwardedRecords
    {
        guard case .array(let elements) = value else {
            throw StreamModelError("expected an array of stream records, got \(value.typeName)").located(in: "Records")
        }
        guard !elements.isEmpty else {
            throw StreamModelError("empty array, no stream records").located(in: "Records")
        }
        var records: [StreamRecord] = []
        records.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            do throws(StreamModelError) {
                records.append(try StreamRecord(json: element))
            } catch {
                throw error.located(at: index).located(in: "Records")
            }
        }
        return forwarded(records, fields: fields)
    }

    private static func forwarded(_ records: [StreamRecord], fields: [String: JSONValue]) -> ForwardedRecords {
        ForwardedRecords(
            records: records, errorMessage: metadataText(fields["errorMessage"]),
            errorType: metadataText(fields["errorType"]), correlationID: metadataText(fields["correlationId"]))
    }

    /// Producer metadata read leniently: a string as is, null as absent, any other JSON as its compact text.
    private static func metadataText(_ value: JSONValue?) -> String? {
        switch value {
        case nil, .null?: nil
        case .string(let text)?: text
        case let other?: other.serialized
        }
    }

    /// The reason as one line, capped at ``maxReasonLength`` characters.
    private static func oneLine(_ reason: String) -> String {
        let flattened = String(
            reason.unicodeScalars.map { scalar in
                switch scalar {
                case "\n", "\r", "\u{85}", "\u{2028}", "\u{2029}": Character(" ")
                default: Character(scalar)
                }
            })
        guard flattened.count > maxReasonLength else { return flattened }
        return String(flattened.prefix(maxReasonLength - 1)) + "…"
    }
}
