import Foundation
import StreamModel
import TestSupport

/// A generated DLQ body and what the generator knows about it.
struct GeneratedBody: Sendable {
    /// How it was made, for failure messages.
    var kind: String
    /// The body.
    var body: String
    /// True when it cannot be a valid envelope whatever the classifier thinks (a strict prefix of
    /// a JSON object, an unknown event name, bytes that do not start a JSON object…).
    var mustQuarantine: Bool
    /// Text the quarantine reason must contain, when the generator knows what is wrong.
    var reasonMentions: String?
}

/// Random and mutated DLQ bodies from a seeded generator: truncated JSON, wrong types, huge
/// strings, binary, deep nesting, unknown event names, byte-level mutations and structural
/// edits of valid format A and B bodies.
struct MalformedBodies {
    var random: SeededGenerator
    /// Largest body made, in UTF-8 bytes: SQS takes at most 256 KiB.
    let maxBytes = 250_000

    init(seed: UInt64) { random = SeededGenerator(seed: seed) }

    /// A valid format-B body: one artist record with every attribute type.
    static func forwardedTemplate(_ index: Int) -> String {
        let sequence = "4000000000000000\(String(format: "%05d", index))"
        return #"""
            {"Records":[{"eventID":"fuzz-\#(index)","eventName":"MODIFY","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"eu-west-2","eventSourceARN":"arn:aws:dynamodb:eu-west-2:123456789012:table/fuzz/stream/2026-01-01T00:00:00.000","dynamodb":{"ApproximateCreationDateTime":1764000000,"Keys":{"PK":{"S":"ARTIST#\#(index % 50)"},"SK":{"S":"METADATA"}},"NewImage":{"PK":{"S":"ARTIST#\#(index % 50)"},"SK":{"S":"METADATA"},"name":{"S":"Fuzz \#(index)"},"rating":{"N":"4.75"},"styles":{"SS":["blackwork","dotwork"]},"counts":{"NS":["1","2.5"]},"blob":{"B":"aGVsbG8="},"blobs":{"BS":["aGk="]},"location":{"M":{"city":{"S":"London"},"lat":{"N":"51.5072178"}}},"portfolio":{"L":[{"S":"https://example.com/1.jpg"},{"NULL":true}]},"bookable":{"BOOL":true}},"OldImage":{"PK":{"S":"ARTIST#\#(index % 50)"},"SK":{"S":"METADATA"},"name":{"S":"Old"}},"SequenceNumber":"\#(sequence)","SizeBytes":321,"StreamViewType":"NEW_AND_OLD_IMAGES"}}],"errorMessage":"connect ECONNREFUSED","errorType":"ConnectionError","correlationId":"fuzz-\#(index)"}
            """#
    }

    /// A valid format-A body naming a stream that does not exist (its batch is stored as expired).
    static func failedBatchTemplate(_ index: Int) -> String {
        #"""
        {"requestContext":{"requestId":"fuzz-\#(index)","functionArn":"arn:aws:lambda:eu-west-2:123456789012:function:dynamodb-sync-handler","condition":"RetryAttemptsExhausted","approximateInvokeCount":3},"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},"version":"1.0","timestamp":"2026-11-24T10:00:05.000Z","DDBStreamBatchInfo":{"shardId":"shardId-00000001573689847184-864758bb","startSequenceNumber":"800000000003126276362","endSequenceNumber":"800000000003126276371","approximateArrivalOfFirstRecord":"2026-11-24T10:00:00Z","approximateArrivalOfLastRecord":"2026-11-24T10:00:01Z","batchSize":10,"streamArn":"arn:aws:dynamodb:eu-west-2:123456789012:table/fuzz-missing-\#(index)/stream/2026-11-24T09:00:00.000"}}
        """#
    }

    /// The next body.
    mutating func next(_ index: Int) -> GeneratedBody {
        let template = Bool.random(using: &random) ? Self.forwardedTemplate(index) : Self.failedBatchTemplate(index)
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<14: return truncated(template)
        case 14..<26: return wrongType(template)
        case 26..<28: return hugeString(template)
        case 28..<40: return binary()
        case 40..<50: return deepNesting(index)
        case 50..<60: return unknownEventName(index)
        case 60..<78: return byteMutation(template)
        case 78..<90: return structural(template)
        default: return oddValues(index)
        }
    }

    // MARK: kinds

    mutating func truncated(_ template: String) -> GeneratedBody {
        let bytes = Array(template.utf8)
        let cut = Int.random(in: 0..<bytes.count, using: &random)
        // A strict prefix of an object never closes it: never valid JSON. (An empty cut is an empty body.)
        return GeneratedBody(
            kind: "truncated at \(cut)", body: String(decoding: bytes[..<cut], as: UTF8.self), mustQuarantine: true,
            reasonMentions: cut == 0 ? "empty body" : nil)
    }

    mutating func wrongType(_ template: String) -> GeneratedBody {
        guard let json = try? JSONValue(parsing: template) else { preconditionFailure("templates are valid JSON") }
        var paths: [[PathStep]] = []
        Self.collectPaths(json, [], into: &paths)
        let path = paths.randomElement(using: &random)!
        let replacement = randomValue(depth: 0)
        let edited = Self.replacing(json, at: path[...], with: replacement)
        return GeneratedBody(
            kind: "wrong type at \(path.map(\.description).joined(separator: "."))", body: edited.serialized,
            mustQuarantine: false)
    }

    mutating func hugeString(_ template: String) -> GeneratedBody {
        let size = Int.random(in: 50_000...(maxBytes - 5_000), using: &random)
        let unit = ["x", "é", "🦀", "\\", "\""].randomElement(using: &random)!
        // Quotes and backslashes double when escaped: keep the escaped body under the limit.
        let filler = String(repeating: unit, count: size / JSONValue.string(unit).serialized.utf8.count)
        if Bool.random(using: &random) {
            return GeneratedBody(kind: "huge bare string", body: filler, mustQuarantine: true, reasonMentions: nil)
        }
        let escaped = JSONValue.string(filler).serialized
        let body = template.replacingOccurrences(of: #""connect ECONNREFUSED""#, with: escaped)
            .replacingOccurrences(of: #""RetryAttemptsExhausted""#, with: escaped)
        return GeneratedBody(kind: "huge string field", body: body, mustQuarantine: false)
    }

    mutating func binary() -> GeneratedBody {
        let length = Int.random(in: 1...600, using: &random)
        if Bool.random(using: &random) {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            let body = String(decoding: bytes, as: UTF8.self)
            return GeneratedBody(
                kind: "random bytes", body: body, mustQuarantine: !Self.startsAnObject(body), reasonMentions: nil)
        }
        let pools: [ClosedRange<UInt32>] = [
            0x0...0x1F, 0x20...0x7E, 0x80...0x2FF, 0x300...0x36F, 0xFFF0...0xFFFF, 0x1F300...0x1FAFF,
        ]
        var scalars = String.UnicodeScalarView()
        for _ in 0..<length {
            let pool = pools.randomElement(using: &random)!
            if let scalar = Unicode.Scalar(UInt32.random(in: pool, using: &random)) { scalars.append(scalar) }
        }
        let body = scalars.isEmpty ? "\u{0}" : String(scalars)
        return GeneratedBody(
            kind: "random scalars", body: body, mustQuarantine: !Self.startsAnObject(body), reasonMentions: nil)
    }

    /// Whether the first byte that is not JSON whitespace is `{`: nothing else can be an envelope.
    static func startsAnObject(_ body: String) -> Bool {
        body.utf8.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) } == UInt8(ascii: "{")
    }

    mutating func deepNesting(_ index: Int) -> GeneratedBody {
        let depth = Int.random(in: 2...6_000, using: &random)
        switch Int.random(in: 0..<4, using: &random) {
        case 0:
            let closed = Bool.random(using: &random)
            return GeneratedBody(
                kind: "array depth \(depth)",
                body: String(repeating: "[", count: depth) + (closed ? String(repeating: "]", count: depth) : ""),
                mustQuarantine: true, reasonMentions: nil)
        case 1:
            return GeneratedBody(
                kind: "object depth \(depth)",
                body: String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth),
                mustQuarantine: true, reasonMentions: nil)
        default:
            // A stream record whose image nests maps this deep: valid while within the parser's limit.
            let mapDepth = Int.random(in: 1...600, using: &random)
            let nested =
                String(repeating: #"{"M":{"n":"#, count: mapDepth) + #"{"S":"deep"}"#
                + String(repeating: "}}", count: mapDepth)
            let body = Self.forwardedTemplate(index).replacingOccurrences(
                of: #""bookable":{"BOOL":true}"#, with: #""bookable":"# + nested)
            return GeneratedBody(kind: "image map depth \(mapDepth)", body: body, mustQuarantine: false)
        }
    }

    mutating func unknownEventName(_ index: Int) -> GeneratedBody {
        let names = ["UPSERT", "insert", "Modify", "", "DELETE", "REMOVE ", " INSERT", "INSERT\u{0}", "ＩＮＳＥＲＴ", "TTL_DELETE"]
        let name = names.randomElement(using: &random)!
        let body = Self.forwardedTemplate(index).replacingOccurrences(
            of: #""eventName":"MODIFY""#, with: #""eventName":"# + JSONValue.string(name).serialized)
        return GeneratedBody(
            kind: "event name \(JSONValue.string(name).serialized)", body: body, mustQuarantine: true, reasonMentions: "eventName"
        )
    }

    mutating func byteMutation(_ template: String) -> GeneratedBody {
        var bytes = Array(template.utf8)
        let operations = Int.random(in: 1...6, using: &random)
        for _ in 0..<operations where !bytes.isEmpty {
            let position = Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<4, using: &random) {
            case 0: bytes[position] = UInt8.random(in: 0...255, using: &random)
            case 1: bytes.insert(UInt8.random(in: 0...255, using: &random), at: position)
            case 2: bytes.remove(at: position)
            default: bytes[position] = Array(#"{}[]",:"#.utf8).randomElement(using: &random)!
            }
        }
        return GeneratedBody(
            kind: "\(operations) byte mutations", body: String(decoding: bytes, as: UTF8.self), mustQuarantine: false)
    }

    mutating func structural(_ template: String) -> GeneratedBody {
        let edits: [(String, String, String)] = [
            (#""Records":["#, #""Records":{"0":["#, "Records as object"),
            (#"{"Records":[{"#, #"{"Records":[],"x":[{"#, "empty Records"),
            (#""DDBStreamBatchInfo":{"#, #""DDBStreamBatchInfo":[{"#, "batch info as array"),
            (#""shardId":"#, #""shardIdX":"#, "missing shardId"),
            (#""dynamodb":{"#, #""dynamodb":{"Keys":null,"#, "duplicate Keys"),
            (
                #""startSequenceNumber":"800000000003126276362""#, #""startSequenceNumber":"900000000003126276362""#,
                "start after end"
            ),
            (#""SequenceNumber":""#, #""SequenceNumber":"-"#, "negative sequence number"),
            (#""Keys":{"PK":{"S":"#, #""Keys":{"PK":{"S":"","X":"#, "attribute with two types"),
        ]
        let edit = edits.randomElement(using: &random)!
        let body = template.replacingOccurrences(of: edit.0, with: edit.1)
        return GeneratedBody(kind: "structural: \(edit.2)", body: body, mustQuarantine: false)
    }

    mutating func oddValues(_ index: Int) -> GeneratedBody {
        let odd = [
            #"{"N":"1e999999999"}"#, #"{"N":"-0.0000000000000000000000000000000000001"}"#,
            #"{"N":"12345678901234567890123456789012345678901"}"#,
            #"{"S":"\ud800"}"#, #"{"S":"\u0000"}"#, #"{"B":"not base64!"}"#, #"{"SS":[]}"#, #"{"SS":["a","a"]}"#,
            #"{"NULL":false}"#, #"{"BOOL":"true"}"#, #"{"L":null}"#, #"{"M":[]}"#, #"{}"#,
        ]
        let value = odd.randomElement(using: &random)!
        let body = Self.forwardedTemplate(index).replacingOccurrences(of: #""rating":{"N":"4.75"}"#, with: #""rating":"# + value)
        return GeneratedBody(kind: "odd value \(value)", body: body, mustQuarantine: false)
    }

    // MARK: JSON editing

    enum PathStep: CustomStringConvertible {
        case key(String)
        case index(Int)

        var description: String {
            switch self {
            case .key(let key): key
            case .index(let index): "[\(index)]"
            }
        }
    }

    static func collectPaths(_ value: JSONValue, _ path: [PathStep], into paths: inout [[PathStep]]) {
        if !path.isEmpty { paths.append(path) }
        switch value {
        case .object(let fields):
            for (key, child) in fields { collectPaths(child, path + [.key(key)], into: &paths) }
        case .array(let elements):
            for (index, child) in elements.enumerated() { collectPaths(child, path + [.index(index)], into: &paths) }
        default:
            break
        }
    }

    static func replacing(_ value: JSONValue, at path: ArraySlice<PathStep>, with replacement: JSONValue) -> JSONValue {
        guard let step = path.first else { return replacement }
        switch (value, step) {
        case (.object(var fields), .key(let key)):
            fields[key] = replacing(fields[key] ?? .null, at: path.dropFirst(), with: replacement)
            return .object(fields)
        case (.array(var elements), .index(let index)) where elements.indices.contains(index):
            elements[index] = replacing(elements[index], at: path.dropFirst(), with: replacement)
            return .array(elements)
        default:
            return value
        }
    }

    mutating func randomValue(depth: Int) -> JSONValue {
        switch Int.random(in: 0..<(depth > 2 ? 5 : 7), using: &random) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2: return .number(["0", "-1", "3.14", "1e308", "99999999999999999999999"].randomElement(using: &random)!)
        case 3: return .string(["", "x", "INSERT", "ARTIST#1", "\u{0}", "🦀"].randomElement(using: &random)!)
        case 4: return .string(String(repeating: "z", count: Int.random(in: 0...300, using: &random)))
        case 5: return .array((0..<Int.random(in: 0...3, using: &random)).map { _ in randomValue(depth: depth + 1) })
        default:
            return .object(["S": randomValue(depth: depth + 1), "k\(Int.random(in: 0...9, using: &random))": .null])
        }
    }
}
