import Foundation
import StreamModel

/// A stored message.
public struct StoredMessage: Sendable, Hashable {
    /// The SQS message ID.
    public var messageID: String
    /// The body exactly as received.
    public var body: String
    /// Its envelope format.
    public var format: EnvelopeFormat
    /// The producer's correlation ID.
    public var correlationID: String?
    /// The producer's error text.
    public var errorText: String?
    /// When it was received.
    public var receivedAt: Date
    /// SQS ApproximateReceiveCount.
    public var receiveCount: Int
    /// SQS SentTimestamp.
    public var sentAt: Date?
    /// Why it was quarantined (nil when it was not).
    public var quarantineReason: String?

    /// Makes a message record.
    public init(
        messageID: String, body: String, format: EnvelopeFormat, correlationID: String?, errorText: String?, receivedAt: Date,
        receiveCount: Int, sentAt: Date?, quarantineReason: String?
    ) {
        self.messageID = messageID
        self.body = body
        self.format = format
        self.correlationID = correlationID
        self.errorText = errorText
        self.receivedAt = receivedAt
        self.receiveCount = receiveCount
        self.sentAt = sentAt
        self.quarantineReason = quarantineReason
    }
}
