/// The head of the action chain: how many actions it holds (its last action's id) and that
/// action's hash. Kept outside the database (a log line, a ticket), it pins the history:
/// ``AuditLog/verify(expectedHead:)`` fails when rows after it were removed or anything
/// before it was rewritten.
public struct ChainHead: Sendable, Hashable, CustomStringConvertible {
    /// The last action's id (0 for an empty chain).
    public var count: Int64
    /// The last action's hash, 64 lowercase hex digits.
    public var hash: String

    /// Makes a head.
    /// - Parameters:
    ///   - count: The last action's id.
    ///   - hash: Its hash.
    public init(count: Int64, hash: String) {
        self.count = count
        self.hash = hash
    }

    /// Parses `COUNT:HEX` (as ``description`` prints it); nil when the text is not one.
    /// - Parameter text: Such as `1042:9f2c…` (64 hex digits).
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let count = Int64(parts[0]), count >= 0 else { return nil }
        let hash = parts[1].lowercased()
        guard ActionChain.bytes(ofHex: hash) != nil else { return nil }
        self.init(count: count, hash: hash)
    }

    /// `COUNT:HEX`.
    public var description: String {
        "\(count):\(hash)"
    }
}
