import Foundation
import StreamModel

/// One SQS message to store.
public struct NewMessage: Sendable, Hashable {
    /// The SQS message ID (a message's identity).
    public var messageID: String
    /// The body exactly as received.
    public var body: String
    /// Which envelope format the body is.
    public var format: EnvelopeFormat
    /// The producer's correlation ID, if any.
    public var correlationID: String?
    /// The error text the producer attached, if any.
    public var errorText: String?
    /// When this program received it.
    public var receivedAt: Date
    /// SQS ApproximateReceiveCount.
    public var receiveCount: Int
    /// SQS SentTimestamp.
    public var sentAt: Date?
    /// What it carried.
    public var disposition: MessageDisposition

    /// Makes a message to ingest.
    public init(
        messageID: String, body: String, format: EnvelopeFormat, correlationID: String? = nil, errorText: String? = nil,
        receivedAt: Date, receiveCount: Int = 1, sentAt: Date? = nil, disposition: MessageDisposition
    ) {
        self.messageID = messageID
        self.body = body
        self.format = format
        self.correlationID = correlationID
        self.errorText = errorText
        self.receivedAt = receivedAt
        self.receiveCount = receiveCount
        self.sentAt = sentAt
        self.disposition = disposition
    }
}
