/// Why a value is not valid DynamoDB JSON, a stream record, or a DLQ envelope part.
///
/// `description` is one line: where the problem is (a path such as `Records[3].dynamodb.NewImage.tags[2]`)
/// and what is wrong, e.g. `dynamodb.NewImage.age: "N" must be a string, got number`. It never contains a
/// newline; quoted input is capped at 80 characters.
public struct StreamModelError: Error, CustomStringConvertible, Sendable, Hashable {
    /// One operator-readable line.
    public var description: String
    /// Where the problem is, empty at the top level.
    var path: String
    /// What is wrong, without the path.
    var problem: String

    /// Creates an error for `problem` at the top level.
    init(_ problem: String) {
        self.init(problem: problem, path: "")
    }

    private init(problem: String, path: String) {
        self.problem = problem
        self.path = path
        description = path.isEmpty ? problem : "\(path): \(problem)"
    }

    /// The same error one level further out: `component` is an attribute or field name, or an index.
    func located(in component: String) -> StreamModelError {
        let shown = Self.pathComponent(component)
        let outerPath: String
        if path.isEmpty {
            outerPath = shown
        } else if path.hasPrefix("[") {
            outerPath = shown + path
        } else {
            outerPath = "\(shown).\(path)"
        }
        return StreamModelError(problem: problem, path: outerPath)
    }

    /// The same error at array index `index`, one level further out.
    func located(at index: Int) -> StreamModelError {
        StreamModelError(problem: problem, path: "[\(index)]" + (path.isEmpty || path.hasPrefix("[") ? "" : ".") + path)
    }

    /// A path component as shown: plain names as is, anything else quoted.
    private static func pathComponent(_ name: String) -> String {
        let plain =
            !name.isEmpty && name.utf8.count <= 80
            && name.utf8.allSatisfy { byte in
                byte.isASCIIDigit || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "#")
            }
        return plain ? name : quoted(name)
    }

    /// Quotes text for a one-line operator message: a JSON string literal (so quotes, control characters and
    /// line separators are escaped) whose content is at most `limit` characters, followed by `…` when cut.
    /// - Parameters:
    ///   - text: the text to show.
    ///   - limit: the most characters shown between the quotes.
    /// - Returns: e.g. `"USER#1"`.
    public static func quoted(_ text: String, limit: Int = 80) -> String {
        var content = ""
        var shownCount = 0
        var wasCut = false
        for scalar in text.unicodeScalars {
            var escaped: [UInt8] = []
            JSONValue.writeString(String(scalar), to: &escaped)
            var piece = String(decoding: escaped.dropFirst().dropLast(), as: UTF8.self)
            switch scalar {
            case "\u{85}": piece = "\\u0085"
            case "\u{2028}": piece = "\\u2028"
            case "\u{2029}": piece = "\\u2029"
            default: break
            }
            let pieceCount = piece.count
            guard shownCount + pieceCount <= limit else {
                wasCut = true
                break
            }
            content += piece
            shownCount += pieceCount
        }
        return "\"\(content)\"" + (wasCut ? "…" : "")
    }
}
