import Foundation

/// The operators allowed to change things over HTTP: `name:token` pairs.
///
/// The name is the actor recorded on every action the token's holder takes.
/// Tokens are compared in constant time and never printed.
public struct OperatorTokens: Sendable {
    private let entries: [(name: String, token: [UInt8])]

    /// Shortest token accepted, so that a guessable one is refused at start.
    public static let minimumTokenLength = 16

    /// Whether any token is configured; without one the mutating endpoints answer 403.
    public var isEmpty: Bool { entries.isEmpty }

    /// The operator names, for the start-up log (never the tokens).
    public var names: [String] { entries.map(\.name) }

    /// Parses `name:token` pairs separated by commas, whitespace or new lines; `#` starts a comment line.
    /// - Parameters:
    ///   - text: The pairs.
    ///   - source: Where they came from, for errors (`OPERATOR_TOKENS`, a file path).
    /// - Throws: ``ServiceError`` (`.invalidSetting`) naming the entry's position and what is wrong, never the token.
    public init(parsing text: String, source: String) throws(ServiceError) {
        var entries: [(name: String, token: [UInt8])] = []
        let lines = text.split(whereSeparator: \.isNewline).filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }
        let pairs = lines.flatMap { $0.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }) }
        for (position, pair) in pairs.enumerated() {
            let entry = position + 1
            guard let colon = pair.firstIndex(of: ":") else {
                throw ServiceError(.invalidSetting, "\(source): entry \(entry) is not name:token")
            }
            let name = String(pair[..<colon])
            let token = Array(pair[pair.index(after: colon)...].utf8)
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.@".contains($0) }) else {
                throw ServiceError(
                    .invalidSetting, "\(source): entry \(entry) needs a name of letters, digits, '-', '_', '.' or '@'")
            }
            guard token.count >= Self.minimumTokenLength else {
                throw ServiceError(
                    .invalidSetting,
                    "\(source): the token of \"\(name)\" is shorter than \(Self.minimumTokenLength) characters")
            }
            guard !entries.contains(where: { $0.name == name }) else {
                throw ServiceError(.invalidSetting, "\(source): \"\(name)\" is listed twice")
            }
            entries.append((name, token))
        }
        self.entries = entries
    }

    /// No operators: every mutating request is refused with 403.
    public static let none = OperatorTokens(entries: [])

    private init(entries: [(name: String, token: [UInt8])]) { self.entries = entries }

    /// Tokens from a file when one is given, else from `OPERATOR_TOKENS`.
    /// - Parameters:
    ///   - file: `--operator-tokens-file`, else `OPERATOR_TOKENS_FILE` from `environment`.
    ///   - environment: Where `OPERATOR_TOKENS` and `OPERATOR_TOKENS_FILE` are read.
    /// - Returns: The tokens; ``none`` when nothing is configured.
    /// - Throws: ``ServiceError`` when the file cannot be read or an entry is malformed.
    public static func load(file: String?, environment: [String: String]) throws(ServiceError) -> OperatorTokens {
        let path = file ?? environment["OPERATOR_TOKENS_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        if let path {
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ServiceError(.invalidSetting, "cannot read the operator tokens file \(path): \(error.localizedDescription)")
            }
            return try OperatorTokens(parsing: text, source: path)
        }
        guard let text = environment["OPERATOR_TOKENS"], !text.isEmpty else { return .none }
        return try OperatorTokens(parsing: text, source: "OPERATOR_TOKENS")
    }

    /// The operator whose token `presented` is.
    ///
    /// Every configured token is compared, each in time that depends only on the
    /// lengths, so the answer's timing says nothing about how much of a token matched.
    /// - Parameter presented: The bearer token from the request.
    /// - Returns: The operator's name, or `nil` when no token matches.
    public func operatorName(presenting presented: some StringProtocol) -> String? {
        let candidate = Array(presented.utf8)
        var match: String?
        for entry in entries where Self.constantTimeEquals(entry.token, candidate) {
            match = entry.name
        }
        return match
    }

    /// Compares every byte position up to the longer length, whatever matched before.
    static func constantTimeEquals(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        var difference = UInt64(left.count ^ right.count)
        for position in 0..<max(left.count, right.count) {
            let a = position < left.count ? left[position] : 0
            let b = position < right.count ? right[position] : 0
            difference |= UInt64(a ^ b)
        }
        return difference == 0
    }
}
