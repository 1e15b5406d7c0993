extension JSONValue {
    /// The largest nesting depth the parser accepts, whatever `maxDepth` asks for. Values are released and
    /// serialized recursively, so a bound keeps every consumer's stack safe.
    public static let depthCeiling = 4096

    /// Parses one RFC 8259 JSON text from UTF-8 bytes.
    ///
    /// Strict: no trailing garbage, no comments, no byte order mark, no duplicate object keys, no lone
    /// surrogates in `\u` escapes (an error, not U+FFFD: the input is not what its producer meant), no invalid
    /// UTF-8. The parser is iterative, so deep input cannot exhaust the stack; nesting beyond `maxDepth`
    /// (capped at ``depthCeiling``) is an error. Number text is kept exactly.
    /// - Parameters:
    ///   - data: UTF-8 bytes of the JSON text.
    ///   - maxDepth: the deepest nesting of arrays and objects accepted.
    /// - Throws: ``JSONParseError`` with a one-line description and the byte offset.
    public init(parsing data: some Collection<UInt8>, maxDepth: Int = 512) throws(JSONParseError) {
        let depth = Swift.min(Swift.max(maxDepth, 0), Self.depthCeiling)
        let contiguous = data.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONParseError) in try JSONParser.parse(buffer, maxDepth: depth) }
        }
        if let contiguous {
            self = try contiguous.get()
        } else {
            let copy = Array(data)
            self = try copy.withUnsafeBufferPointer { buffer throws(JSONParseError) in
                try JSONParser.parse(buffer, maxDepth: depth)
            }
        }
    }

    /// Parses one RFC 8259 JSON text; see ``init(parsing:maxDepth:)-(some Collection<UInt8>,_)``.
    /// - Throws: ``JSONParseError`` with a one-line description and the byte offset.
    public init(parsing text: String, maxDepth: Int = 512) throws(JSONParseError) {
        var text = text
        let depth = Swift.min(Swift.max(maxDepth, 0), Self.depthCeiling)
        let result = text.withUTF8 { buffer in
            Result { () throws(JSONParseError) in try JSONParser.parse(buffer, maxDepth: depth) }
        }
        self = try result.get()
    }
}

/// An iterative RFC 8259 parser over UTF-8 bytes. Containers being built live on an explicit stack.
private struct JSONParser {
    /// An array or object whose members are still being read.
    private struct OpenContainer {
        var isObject: Bool
        var elements: [JSONValue] = []
        var members: [String: JSONValue] = [:]
        var pendingKey = ""
    }

    let bytes: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    private var position = 0
    private var stack: [OpenContainer] = []

    init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    /// Parses the whole buffer as one JSON text.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
        return try parser.parseDocument()
    }

    private mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        let value = try parseNestedValue()
        skipWhitespace()
        if position < bytes.count {
            throw JSONParseError(
                "unexpected \(JSONParseError.describe(bytes[position])) after the JSON value", at: position)
        }
        return value
    }

    // MARK: Structure

    private mutating func parseNestedValue() throws(JSONParseError) -> JSONValue {
        while true {
            skipWhitespace()
            var value: JSONValue
            guard position < bytes.count else {
                throw JSONParseError("unexpected end of input", at: position, expected: "a value")
            }
            switch bytes[position] {
            case UInt8(ascii: "{"):
                try checkDepth()
                position += 1
                skipWhitespace()
                if peek() == UInt8(ascii: "}") {
                    position += 1
                    value = .object([:])
                } else {
                    stack.append(OpenContainer(isObject: true))
                    try readKeyAndColon()
                    continue
                }
            case UInt8(ascii: "["):
                try checkDepth()
                position += 1
                skipWhitespace()
                if peek() == UInt8(ascii: "]") {
                    position += 1
                    value = .array([])
                } else {
                    stack.append(OpenContainer(isObject: false))
                    continue
                }
            default:
                value = try parseScalar()
            }

            // Attach the finished value to its container; close containers that end here.
            while true {
                guard !stack.isEmpty else { return value }
                let top = stack.count - 1
                skipWhitespace()
                let next = peek()
                if stack[top].isObject {
                    stack[top].members[stack[top].pendingKey] = value
                    if next == UInt8(ascii: ",") {
                        position += 1
                        skipWhitespace()
                        try readKeyAndColon()
                        break
                    } else if next == UInt8(ascii: "}") {
                        position += 1
                        value = .object(stack.removeLast().members)
                    } else {
                        throw unexpected(expected: "',' or '}' after an object member")
                    }
                } else {
                    stack[top].elements.append(value)
                    if next == UInt8(ascii: ",") {
                        position += 1
                        break
                    } else if next == UInt8(ascii: "]") {
                        position += 1
                        value = .array(stack.removeLast().elements)
                    } else {
                        throw unexpected(expected: "',' or ']' after an array element")
                    }
                }
            }
        }
    }

    private func checkDepth() throws(JSONParseError) {
        if stack.count >= maxDepth {
            throw JSONParseError("nesting deeper than \(maxDepth) levels", at: position)
        }
    }

    /// Reads `"key" :` for the object on top of the stack.
    private mutating func readKeyAndColon() throws(JSONParseError) {
        guard peek() == UInt8(ascii: "\"") else { throw unexpected(expected: "a string key") }
        let keyOffset = position
        let key = try parseString()
        let top = stack.count - 1
        if stack[top].members[key] != nil {
            throw JSONParseError("duplicate key \(StreamModelError.quoted(key))", at: keyOffset)
        }
        stack[top].pendingKey = key
        skipWhitespace()
        guard peek() == UInt8(ascii: ":") else { throw unexpected(expected: "':' after an object key") }
        position += 1
    }

    private mutating func parseScalar() throws(JSONParseError) -> JSONValue {
        switch bytes[position] {
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw unexpected(expected: "a value")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let start = position
        let length = literal.utf8CodeUnitCount
        let matches =
            bytes.count - position >= length
            && literal.withUTF8Buffer { expected in
                (0..<length).allSatisfy { bytes[start + $0] == expected[$0] }
            }
        guard matches else { throw JSONParseError("invalid literal", at: start, expected: "\(literal)") }
        position += length
    }

    // MARK: Numbers

    private mutating func parseNumber() throws(JSONParseError) -> String {
        let start = position
        if peek() == UInt8(ascii: "-") { position += 1 }
        guard let first = peek(), first.isASCIIDigit else {
            throw JSONParseError("invalid number", at: start, expected: "a digit after '-'")
        }
        position += 1
        if first == UInt8(ascii: "0"), let next = peek(), next.isASCIIDigit {
            throw JSONParseError("invalid number (leading zero)", at: start)
        }
        skipDigits()
        if peek() == UInt8(ascii: ".") {
            position += 1
            guard peek()?.isASCIIDigit == true else {
                throw JSONParseError("invalid number", at: start, expected: "a digit after '.'")
            }
            skipDigits()
        }
        if let marker = peek(), marker == UInt8(ascii: "e") || marker == UInt8(ascii: "E") {
            position += 1
            if let sign = peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { position += 1 }
            guard peek()?.isASCIIDigit == true else {
                throw JSONParseError("invalid number", at: start, expected: "a digit in the exponent")
            }
            skipDigits()
        }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    }

    private mutating func skipDigits() {
        while position < bytes.count, bytes[position].isASCIIDigit { position += 1 }
    }

    // MARK: Strings

    /// Reads a string starting at its opening quote.
    private mutating func parseString() throws(JSONParseError) -> String {
        let openingQuote = position
        position += 1
        let start = position
        // Fast path: no escapes, so the string is a slice of the input.
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
                position += 1
                return text
            } else if byte == UInt8(ascii: "\\") {
                return try parseEscapedString(openingQuote: openingQuote, start: start)
            } else if byte < 0x20 {
                throw controlCharacter(byte)
            } else if byte < 0x80 {
                position += 1
            } else {
                try skipUTF8Sequence()
            }
        }
        throw JSONParseError("unterminated string starting", at: openingQuote)
    }

    /// Continues a string at its first backslash, decoding into a buffer.
    private mutating func parseEscapedString(openingQuote: Int, start: Int) throws(JSONParseError) -> String {
        var decoded = Array(bytes[start..<position])
        var runStart = position
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                decoded.append(contentsOf: bytes[runStart..<position])
                position += 1
                return String(decoding: decoded, as: UTF8.self)
            } else if byte == UInt8(ascii: "\\") {
                decoded.append(contentsOf: bytes[runStart..<position])
                try decodeEscape(into: &decoded)
                runStart = position
            } else if byte < 0x20 {
                throw controlCharacter(byte)
            } else if byte < 0x80 {
                position += 1
            } else {
                try skipUTF8Sequence()
            }
        }
        throw JSONParseError("unterminated string starting", at: openingQuote)
    }

    /// Decodes the escape at `position` (a backslash) and appends its UTF-8 bytes.
    private mutating func decodeEscape(into decoded: inout [UInt8]) throws(JSONParseError) {
        let escapeStart = position
        position += 1
        guard let kind = peek() else {
            throw JSONParseError("unterminated escape", at: escapeStart)
        }
        position += 1
        switch kind {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(kind)
        case UInt8(ascii: "b"): decoded.append(0x08)
        case UInt8(ascii: "f"): decoded.append(0x0C)
        case UInt8(ascii: "n"): decoded.append(0x0A)
        case UInt8(ascii: "r"): decoded.append(0x0D)
        case UInt8(ascii: "t"): decoded.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try readHexQuad(escapeStart: escapeStart)
            var scalarValue = UInt32(unit)
            if (0xD800...0xDBFF).contains(unit) {
                guard bytes.count - position >= 2, bytes[position] == UInt8(ascii: "\\"),
                    bytes[position + 1] == UInt8(ascii: "u")
                else { throw loneSurrogate(unit, at: escapeStart) }
                position += 2
                let low = try readHexQuad(escapeStart: position - 2)
                guard (0xDC00...0xDFFF).contains(low) else { throw loneSurrogate(unit, at: escapeStart) }
                scalarValue = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(unit) {
                throw loneSurrogate(unit, at: escapeStart)
            }
            appendUTF8(scalarValue, to: &decoded)
        default:
            throw JSONParseError(
                "invalid escape: backslash followed by \(JSONParseError.describe(kind))", at: escapeStart)
        }
    }

    /// Appends the UTF-8 encoding of a scalar value (never a surrogate: those are combined or rejected first).
    private func appendUTF8(_ value: UInt32, to decoded: inout [UInt8]) {
        switch value {
        case 0..<0x80:
            decoded.append(UInt8(value))
        case 0x80..<0x800:
            decoded.append(UInt8(0xC0 | value >> 6))
            decoded.append(UInt8(0x80 | value & 0x3F))
        case 0x800..<0x10000:
            decoded.append(UInt8(0xE0 | value >> 12))
            decoded.append(UInt8(0x80 | value >> 6 & 0x3F))
            decoded.append(UInt8(0x80 | value & 0x3F))
        default:
            decoded.append(UInt8(0xF0 | value >> 18))
            decoded.append(UInt8(0x80 | value >> 12 & 0x3F))
            decoded.append(UInt8(0x80 | value >> 6 & 0x3F))
            decoded.append(UInt8(0x80 | value & 0x3F))
        }
    }

    private mutating func readHexQuad(escapeStart: Int) throws(JSONParseError) -> UInt16 {
        guard bytes.count - position >= 4 else {
            throw JSONParseError("invalid \\u escape", at: escapeStart, expected: "4 hex digits")
        }
        var value: UInt16 = 0
        for offset in 0..<4 {
            let byte = bytes[position + offset]
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = byte - UInt8(ascii: "A") + 10
            default: throw JSONParseError("invalid \\u escape", at: escapeStart, expected: "4 hex digits")
            }
            value = value << 4 | UInt16(nibble)
        }
        position += 4
        return value
    }

    private func loneSurrogate(_ unit: UInt16, at offset: Int) -> JSONParseError {
        let hex = String(unit, radix: 16, uppercase: true)
        return JSONParseError("lone surrogate \\u\(hex) in string", at: offset)
    }

    private func controlCharacter(_ byte: UInt8) -> JSONParseError {
        JSONParseError("unescaped control \(JSONParseError.describe(byte)) in string", at: position)
    }

    /// Validates the multi-byte UTF-8 sequence at `position` and steps over it.
    private mutating func skipUTF8Sequence() throws(JSONParseError) {
        let lead = bytes[position]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondRange = 0x80...0x9F
        case 0xF0: length = 4; secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondRange = 0x80...0x8F
        default: throw JSONParseError("invalid UTF-8", at: position)
        }
        guard bytes.count - position >= length, secondRange.contains(bytes[position + 1]) else {
            throw JSONParseError("invalid UTF-8", at: position)
        }
        for offset in 2..<length where !(0x80...0xBF).contains(bytes[position + offset]) {
            throw JSONParseError("invalid UTF-8", at: position)
        }
        position += length
    }

    // MARK: Bytes

    private func peek() -> UInt8? {
        position < bytes.count ? bytes[position] : nil
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    private func unexpected(expected: String) -> JSONParseError {
        guard position < bytes.count else {
            return JSONParseError("unexpected end of input", at: position, expected: expected)
        }
        return JSONParseError(
            "unexpected \(JSONParseError.describe(bytes[position]))", at: position, expected: expected)
    }
}
