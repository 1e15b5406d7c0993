import Foundation
import StreamModel

/// Field updates that ride along a transition; nil leaves a field as it is.
public struct ChangeUpdate: Sendable, Hashable, Codable {
    /// New attempt count.
    public var attempts: Int?
    /// New due time: `.some(nil)` clears it.
    public var nextAttemptAt: Date??
    /// New last error: `.some(nil)` clears it.
    public var lastError: String??

    /// Makes an update.
    public init(attempts: Int? = nil, nextAttemptAt: Date?? = nil, lastError: String?? = nil) {
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
    }
}

extension ChangeUpdate {
    private enum CodingKeys: String, CodingKey { case attempts, nextAttemptAt, lastError }

    /// Decodes an update; a key present with `null` means "clear", an absent key "leave as is".
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        attempts = try container.decodeIfPresent(Int.self, forKey: .attempts)
        if container.contains(.nextAttemptAt) {
            nextAttemptAt = .some(
                try container.decodeNil(forKey: .nextAttemptAt) ? nil : container.decode(Date.self, forKey: .nextAttemptAt))
        }
        if container.contains(.lastError) {
            lastError = .some(
                try container.decodeNil(forKey: .lastError) ? nil : container.decode(String.self, forKey: .lastError))
        }
    }

    /// Encodes an update so that "clear" (`null`) and "leave as is" (absent) stay distinct.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(attempts, forKey: .attempts)
        if let nextAttemptAt { try container.encode(nextAttemptAt, forKey: .nextAttemptAt) }
        if let lastError { try container.encode(lastError, forKey: .lastError) }
    }
}
