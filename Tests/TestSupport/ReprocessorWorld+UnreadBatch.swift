import AuditLog
import Foundation
import StreamModel

extension ReprocessorWorld {
    /// Stores a format-A body in `log` as an earlier drain would have stored it (its message,
    /// and its batch pending), without reading the stream: for tests that start from a batch
    /// waiting to be read.
    /// - Parameters:
    ///   - body: A format-A body (see ``failedBatchBody(_:requestID:end:batchSize:arrivedAt:)``).
    ///   - messageID: The message's id.
    ///   - lastRecordAt: When the batch's last record reached the stream.
    ///   - log: The audit store.
    /// - Returns: The batch's id.
    public func storeUnreadBatch(_ body: String, messageID: String, lastRecordAt: Date, in log: AuditLog) async throws
        -> Int64
    {
        guard case .failedBatch(let failed) = DLQEnvelope(body: body) else {
            throw WorldError(description: "not a format-A body: \(body.prefix(200))")
        }
        let now = Date()
        let batch = NewBatch(
            streamARN: failed.streamARN, shardID: failed.shardID, startSequenceNumber: failed.startSequenceNumber,
            endSequenceNumber: failed.endSequenceNumber, batchInfo: failed.batchInfoJSON, lastRecordAt: lastRecordAt)
        let stored = try await log.ingest(
            [
                NewMessage(
                    messageID: messageID, body: body, format: .failedBatch, receivedAt: now, disposition: .batch(batch))
            ], at: now)
        guard let batchID = stored.first?.batchID else {
            throw WorldError(description: "message \(messageID) stored no batch: \(stored)")
        }
        return batchID
    }
}
