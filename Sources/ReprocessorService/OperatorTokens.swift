import Foundation

/// The operators allowed to use the HTTP API: `name:role:token` entries, role `read` (every
/// GET under `/v1`) or `operate` (also the POST actions); a legacy `name:token` means `operate`.
///
/// The name is the actor recorded on every action the token's holder takes.
/// Tokens are compared in constant time and never printed.
public struct OperatorTokens: Sendable {
    /// What a token allows.
    public enum Role: String, Sendable, CaseIterable {
        /// Every GET under `/v1`.
        case read
        /// Reads, and the POST actions.
        case operate
    }

    /// One configured operator.
    struct Entry: Sendable {
        var name: String
        var role: Role
        var token: [UInt8]
    }

    private let entries: [Entry]

    /// Shortest token accepted, so that a guessable one is refused at start.
    public static let minimumTokenLength = 16

    /// Whether any token is configured; without one the `/v1` endpoints answer 403.
    public var isEmpty: Bool { entries.isEmpty }

    /// The operator names, for the start-up log (never the tokens).
    public var names: [String] { entries.map(\.name) }

    /// The operator names with their roles (`alice (operate)`), for the start-up log.
    public var namesWithRoles: [String] { entries.map { "\($0.name) (\($0.role.rawValue))" } }

    /// Parses `name:role:token` (or `name:token`, role `operate`) entries separated by commas,
    /// whitespace or new lines; `#` starts a comment line.
    /// - Parameters:
    ///   - text: The entries.
    ///   - source: Where they came from, for errors (`OPERATOR_TOKENS`, a file path).
    /// - Throws: ``ServiceError`` (`.invalidSetting`) naming the entry's position and what is wrong
    ///   (a malformed entry, an unknown role, a short token, a name listed twice, the same token
    ///   under two names), never the token.
    public init(parsing text: String, source: String) throws(ServiceError) {
        var entries: [Entry] = []
        let lines = text.split(whereSeparator: \.isNewline).filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }
        let pairs = lines.flatMap { $0.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }) }
        for (position, pair) in pairs.enumerated() {
            let entry = position + 1
            let parts = pair.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count >= 2 else {
                throw ServiceError(.invalidSetting, "\(source): entry \(entry) is not name:role:token")
            }
            let name = String(parts[0])
            let role: Role
            let token: [UInt8]
            if parts.count == 3, let named = Role(rawValue: String(parts[1])) {
                role = named
                token = Array(parts[2].utf8)
            } else if parts.count == 3, parts[1].allSatisfy(\.isLetter), parts[1].count < Self.minimumTokenLength {
                throw ServiceError(
                    .invalidSetting,
                    "\(source): entry \(entry) has role \"\(parts[1])\"; use \(Role.allCases.map(\.rawValue).joined(separator: " or "))"
                )
            } else {
                role = .operate
                token = Array(parts.dropFirst().joined(separator: ":").utf8)
            }
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
            if let other = entries.first(where: { Self.constantTimeEquals($0.token, token) }) {
                throw ServiceError(
                    .invalidSetting,
                    "\(source): \"\(name)\" has the same token as \"\(other.name)\"; give every operator a token of their own")
            }
            entries.append(Entry(name: name, role: role, token: token))
        }
        self.entries = entries
    }

    /// No operators: every `/v1` request is refused with 403.
    public static let none = OperatorTokens(entries: [])

    private init(entries: [Entry]) { self.entries = entries }

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

    /// The operator whose token `presented` is, with their role.
    ///
    /// Every configured token is compared, each in time that depends only on the
    /// lengths, so the answer's timing says nothing about how much of a token matched.
    /// - Parameter presented: The bearer token from the request.
    /// - Returns: The operator's name and role, or `nil` when no token matches.
    public func operatorPresenting(_ presented: some StringProtocol) -> (name: String, role: Role)? {
        let candidate = Array(presented.utf8)
        var match: (name: String, role: Role)?
        for entry in entries where Self.constantTimeEquals(entry.token, candidate) {
            match = (entry.name, entry.role)
        }
        return match
    }

    /// The name of the operator whose token `presented` is (any role).
    /// - Parameter presented: The bearer token from the request.
    /// - Returns: The operator's name, or `nil` when no token matches.
    public func operatorName(presenting presented: some StringProtocol) -> String? {
        operatorPresenting(presented)?.name
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
