import AuditLog
import Foundation
import PropertyBased
import Reprocessor
import Testing

/// Failure fingerprints (``FailureFingerprint``): what differs from one document to the next is
/// masked, what names the cause (error type, field names and types) is kept. The reasons below
/// are OpenSearch's own, as osmem-server 3.8 and the OpenSearch documentation give them.
@Suite("failure fingerprints")
struct FailureFingerprintTests {
    static func fingerprint(_ error: String) -> String { FailureFingerprint(error: error).text }

    /// The write engine's text for an item OpenSearch refused.
    static func engine(_ status: Int, _ type: String, _ reason: String) -> String {
        "OpenSearch \(status) \(type): \(reason)"
    }

    static func mapperParsing(field: String, type: String, id: String, value: String) -> String {
        engine(
            400, "mapper_parsing_exception",
            "failed to parse field [\(field)] of type [\(type)] in document with id '\(id)'. Preview of field's value: '\(value)'"
        )
    }

    @Test("mapper_parsing_exception: the document id and the value's preview are masked, field and type kept")
    func mapperParsingException() {
        let masked = Self.fingerprint(Self.mapperParsing(field: "name", type: "integer", id: "5", value: "Artist 5"))
        #expect(
            masked
                == "OpenSearch 400 mapper_parsing_exception: failed to parse field [name] of type [integer] in document "
                + "with id '<id>'. Preview of field's value: '<value>'")
        let eleven = (1...11).map { Self.mapperParsing(field: "name", type: "integer", id: "\($0)", value: "Artist \($0)") }
        #expect(Set(eleven.map { FailureFingerprint(error: $0).groupID }).count == 1, "one group for one mapping mistake")
        // Ids and previews of any shape: letters, dashes, quotes inside the value, nested objects, emptiness.
        for (id, value) in [("a-9", "O'Brien's"), ("ARTIST#42", "{a=1}"), ("3f2504e0", ""), ("x y", "it's 'quoted' text")] {
            #expect(Self.fingerprint(Self.mapperParsing(field: "name", type: "integer", id: id, value: value)) == masked)
        }
        let otherField = Self.fingerprint(Self.mapperParsing(field: "rating", type: "integer", id: "5", value: "x"))
        let otherType = Self.fingerprint(Self.mapperParsing(field: "name", type: "date", id: "5", value: "x"))
        #expect(Set([masked, otherField, otherType]).count == 3, "another field or type is another cause")
        #expect(otherField.contains("[rating]") && otherType.contains("[date]"))
    }

    @Test(
        "other OpenSearch reasons: names kept, ids, numbers and values masked",
        arguments: [
            (
                engine(
                    400, "strict_dynamic_mapping_exception",
                    "mapping set to strict, dynamic introduction of [other] within [_doc] is not allowed"),
                "OpenSearch 400 strict_dynamic_mapping_exception: mapping set to strict, dynamic introduction of [other] within [_doc] is not allowed"
            ),
            (
                engine(
                    409, "version_conflict_engine_exception",
                    "[7]: version conflict, required seqNo [99], primary term [1]. but no document was found"),
                "OpenSearch 409 version_conflict_engine_exception: [<id>]: version conflict, required seqNo [<value>], primary term [<value>]. but no document was found"
            ),
            (
                engine(
                    409, "version_conflict_engine_exception",
                    "[artist-42]: version conflict, current version [3] is higher or equal to the one provided [2]"),
                "OpenSearch 409 version_conflict_engine_exception: [<id>]: version conflict, current version [<value>] is higher or equal to the one provided [<n>]"
            ),
            (
                engine(400, "illegal_argument_exception", "mapper [rating] cannot be changed from type [float] to [long]"),
                "OpenSearch 400 illegal_argument_exception: mapper [rating] cannot be changed from type [float] to [long]"
            ),
            (
                engine(400, "illegal_argument_exception", "Limit of total fields [1000] has been exceeded"),
                "OpenSearch 400 illegal_argument_exception: Limit of total fields [<n>] has been exceeded"
            ),
            (
                engine(
                    400, "illegal_argument_exception",
                    "failed to parse date field [yesterday] with format [strict_date_optional_time||epoch_millis]"),
                "OpenSearch 400 illegal_argument_exception: failed to parse date field [<value>] with format [<value>]"
            ),
            (
                engine(
                    400, "illegal_argument_exception",
                    "Document contains at least one immense term in field=\"bio\" (whose UTF8 encoding is longer than the max length 32766), all of which were skipped."
                ),
                "OpenSearch 400 illegal_argument_exception: Document contains at least one immense term in field=\"bio\" (whose UTF8 encoding is longer than the max length <n>), all of which were skipped."
            ),
            (
                engine(
                    400, "mapper_parsing_exception",
                    "object mapping for [location] tried to parse field [location] as object, but found a concrete value"),
                "OpenSearch 400 mapper_parsing_exception: object mapping for [location] tried to parse field [location] as object, but found a concrete value"
            ),
            (
                engine(400, "mapper_parsing_exception", "failed to parse field [loc] of type [geo_point]"),
                "OpenSearch 400 mapper_parsing_exception: failed to parse field [loc] of type [geo_point]"
            ),
            (
                engine(404, "document_missing_exception", "[_doc][5]: document missing"),
                "OpenSearch 404 document_missing_exception: [_doc][<id>]: document missing"
            ),
            (
                "change 3f2504e0-4f89-11d3-9a0c-0305e82c3301 of batch 800000000003126276362 stored 2026-11-24T10:00:05.000Z, hash 9f86d081884c7d659a2feaa0c55ad015",
                "change <uuid> of batch <n> stored <time>, hash <hex>"
            ),
            ("change has no artist document to apply to", "change has no artist document to apply to"),
            ("INSERT change has no new image", "INSERT change has no new image"),
            ("took 1.5 s, 3 retries on field address2", "took <n> s, <n> retries on field address2"),
        ])
    func knownReasons(error: String, expected: String) {
        #expect(Self.fingerprint(error) == expected)
        #expect(Self.fingerprint(expected) == expected, "a fingerprint is its own fingerprint")
    }

    @Test("the group id is ten lowercase hex digits of the fingerprint's SHA-256, which the input layer takes back")
    func groupID() throws {
        let fingerprint = FailureFingerprint(error: Self.mapperParsing(field: "name", type: "integer", id: "1", value: "a"))
        #expect(FailureFingerprint.isGroupID(fingerprint.groupID))
        #expect(fingerprint.groupID == FailureFingerprint(error: fingerprint.text).groupID)
        #expect(try OperatorInput.group(fingerprint.groupID.uppercased(), field: "--group") == fingerprint.groupID)
        for bad in ["", "abc", "0123456789a", "012345678g", " 0123456789", "０１２３４５６７８９"] {
            #expect(throws: InputError.self, "\(bad.debugDescription)") { try OperatorInput.group(bad, field: "--group") }
        }
    }

    // MARK: properties

    /// Pieces of error texts: words, field names, punctuation, quotes, brackets, numbers, ids, Unicode.
    static let pieces = [
        "failed", " to ", "parse", " field ", "[name]", "[", "]", "'", "\"", "'5'", "id", " id ", "value: ", "field's ",
        "of type ", "[integer]", "0", "42", "3.5", "-", "_", ".", ":", ": ", "=", "field=", "\"bio\"", "seqNo ", "[99]",
        "2026-11-24T10:00:05Z", "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "deadbeef00112233", "ARTIST#", "<n>", "<value>",
        "\n", "\u{1F3B8}", "é", "\u{0301}", "OpenSearch 400 x: ", "Preview of field's value: '",
    ]
    static let errorText = Gen<String?>.element(of: pieces).map { $0 ?? "" }.array(of: 0...14).map { $0.joined() }
    static let anyText = Gen.oneOf(
        errorText, Gen<UInt32>.value(in: 0...0x10FFFF).compactMap { Unicode.Scalar($0).map(Character.init) }.string(of: 0...40))

    @Test("any text: the fingerprint of a fingerprint is itself, and its group id has the id's shape")
    func idempotent() async {
        await propertyCheck(count: 3000, input: Self.anyText) { text in
            let once = FailureFingerprint(error: text)
            let twice = FailureFingerprint(error: once.text)
            #expect(twice.text == once.text, "\(text.debugDescription) → \(once.text.debugDescription)")
            #expect(twice.groupID == once.groupID)
            #expect(FailureFingerprint.isGroupID(once.groupID))
        }
    }

    /// Document ids: letters, digits, `-`, `_`, `#` (never a quote, which OpenSearch would show escaped).
    static let documentID = Gen<String?>.element(of: ["a", "Z", "0", "7", "-", "_", "#", "42", "ARTIST#"]).map { $0 ?? "" }
        .array(of: 1...6).map { $0.joined() }
    /// Field names and types as mappings spell them.
    static let name = Gen<String?>.element(of: ["name", "rating", "styles", "location.city", "geo_point", "field_2", "bio"])
        .map { $0 ?? "name" }
    /// Any value preview: any characters, quotes and brackets included.
    static let preview = Gen.oneOf(
        errorText, Gen<UInt32>.value(in: 0x20...0x2FF).compactMap { Unicode.Scalar($0).map(Character.init) }.string(of: 0...30))

    @Test("mapper_parsing_exception for any document and value: one fingerprint per field and type, which it names")
    func documentAndValueMasked() async {
        await propertyCheck(count: 2000, input: Self.name, Self.name, Self.documentID, Self.preview) { field, type, id, value in
            let masked = Self.fingerprint(Self.mapperParsing(field: field, type: type, id: id, value: value))
            #expect(
                masked == Self.fingerprint(Self.mapperParsing(field: field, type: type, id: "1", value: "x")), "\(id) \(value)")
            #expect(masked.contains("[\(field)] of type [\(type)]"), "\(masked)")
        }
    }

    @Test("numbers standing alone are masked whatever their digits: sequence numbers, counts, versions")
    func numbersMasked() async {
        let number = Gen<UInt64>.value(in: 0...UInt64.max).map(String.init)
        await propertyCheck(count: 2000, input: number, number, Self.documentID) { first, second, id in
            let template = { (a: String, b: String, id: String) in
                Self.engine(
                    409, "version_conflict_engine_exception",
                    "[\(id)]: version conflict, required seqNo [\(a)], primary term [\(b)]. sequence \(a)\(b) is older")
            }
            #expect(Self.fingerprint(template(first, second, id)) == Self.fingerprint(template("1", "2", "x")))
        }
    }
}
