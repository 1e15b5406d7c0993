import Foundation
import PostgresNIO
import SQLite

extension PostgresSession {
    /// Inserts rows into `table` with one `COPY table (columns) FROM STDIN` in PostgreSQL's text
    /// format: `values` holds the rows one after another, `columns.count` values each.
    ///
    /// What is stored is what an `INSERT` of the same values stores: integers as their decimal
    /// digits, finite reals in Swift's shortest exact spelling (a non-finite one, which the
    /// audit log never writes, as NULL, as its JSON inserts do), text as it is (see
    /// ``copyText(_:columns:)`` for the escaping), blobs as `bytea`'s hex text. Text holding
    /// U+0000 cannot be stored in PostgreSQL at all: the COPY fails with SQLSTATE 22021, as an
    /// `INSERT` of it fails.
    ///
    /// The COPY runs on the open connection, inside the caller's transaction when there is one
    /// (nothing is committed by it); when it fails (a constraint, a foreign key, a bad value),
    /// the transaction is aborted as by any failed statement and the caller rolls it back. It
    /// costs one statement in ``roundTrips`` (the server answers twice: once to start the copy,
    /// once when the rows are in) and its time goes to ``StatementTimes/statements``, building
    /// the rows' text to ``StatementTimes/binding``.
    ///
    /// Call it from the session's own thread, never from an event loop or the cooperative pool:
    /// it blocks the thread until the server has answered.
    /// - Parameters:
    ///   - table: The table (a plain lower-case name: postgres-nio quotes it).
    ///   - columns: The columns the values are for, in order (plain lower-case names).
    ///   - values: The rows' values, `columns.count` to a row; nothing is sent when it is empty.
    ///   - inTransaction: Whether a transaction is open (a lost connection is then not replaced).
    /// - Throws: ``PostgresStoreError``: `.statement` with the server's message and SQLSTATE,
    ///   `.connection` when the connection is lost.
    public func copy(into table: String, columns: [String], rows values: [SQLValue], inTransaction: Bool)
        throws(PostgresStoreError)
    {
        precondition(!columns.isEmpty && values.count % columns.count == 0, "a row has one value per column")
        guard !values.isEmpty else { return }
        let connection = try liveConnection(inTransaction: inTransaction)
        roundTrips += 1
        let encodingStarted = ContinuousClock.now
        let data = Self.copyText(values, columns: columns.count)
        let started = ContinuousClock.now
        times.binding += started - encodingStarted
        defer { times.statements += ContinuousClock.now - started }
        let outcome = CopyOutcome()
        let logger = self.logger
        // postgres-nio's COPY is async only: a task runs it and this thread waits for its end.
        // Blocking is right here: the session's thread is the audit log's own, neither an event
        // loop's (which the COPY's I/O needs) nor the cooperative pool's (where the task runs).
        Task.detached {
            do {
                try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in
                    try await writer.write(data)
                }
                outcome.finish(nil)
            } catch {
                outcome.finish(error)
            }
        }
        if let error = outcome.wait() {
            throw failure(error, on: connection, context: "COPY into \(table) failed")
        }
    }

    /// `values`, `columns` to a row, as the rows of a `COPY … FROM STDIN` in the text format:
    /// columns separated by a tab, each row ended by a newline, NULL as `\N`. In text, a
    /// backslash, a tab, a newline and a carriage return are written `\\`, `\t`, `\n` and `\r`
    /// (every other character stands for itself); a blob is `bytea`'s hex text, `\x` and two hex
    /// digits a byte, its backslash doubled.
    static func copyText(_ values: [SQLValue], columns: Int) -> ByteBuffer {
        var size = 0
        for value in values {
            switch value {
            case .null: size += 3
            case .integer, .real: size += 21
            case .text(let text): size += text.utf8.count + 1
            case .blob(let bytes): size += 2 * bytes.count + 4
            }
        }
        var buffer = ByteBuffer()
        // Room for every value written without escapes: most text needs none.
        buffer.reserveCapacity(size + size / 64)
        for (index, value) in values.enumerated() {
            switch value {
            case .null:
                buffer.writeStaticString("\\N")
            case .integer(let integer):
                buffer.writeString(String(integer))
            case .real(let real):
                if real.isFinite { buffer.writeString("\(real)") } else { buffer.writeStaticString("\\N") }
            case .text(let text):
                writeEscaped(text, to: &buffer)
            case .blob(let bytes):
                buffer.writeStaticString("\\\\x")
                for byte in bytes {
                    buffer.writeMultipleIntegers(hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)])
                }
            }
            buffer.writeInteger(index % columns == columns - 1 ? UInt8(ascii: "\n") : UInt8(ascii: "\t"))
        }
        return buffer
    }

    /// Appends `text`'s UTF-8 with the text format's escapes (see ``copyText(_:columns:)``),
    /// copying the runs between them whole.
    private static func writeEscaped(_ text: String, to buffer: inout ByteBuffer) {
        var text = text
        text.withUTF8 { bytes in
            var start = 0
            for index in bytes.indices {
                let escaped: UInt8
                switch bytes[index] {
                case UInt8(ascii: "\\"): escaped = UInt8(ascii: "\\")
                case UInt8(ascii: "\t"): escaped = UInt8(ascii: "t")
                case UInt8(ascii: "\n"): escaped = UInt8(ascii: "n")
                case UInt8(ascii: "\r"): escaped = UInt8(ascii: "r")
                default: continue
                }
                buffer.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[start..<index])))
                buffer.writeMultipleIntegers(UInt8(ascii: "\\"), escaped)
                start = index + 1
            }
            buffer.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[start...])))
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}

/// How a COPY run by a task ended, for the thread that waits for it.
///
/// `@unchecked Sendable`: `error` and `finished` are only touched with `condition` locked.
private final class CopyOutcome: @unchecked Sendable {
    private let condition = NSCondition()
    private var finished = false
    private var error: (any Error)?

    /// Records the end (nil when the COPY succeeded) and wakes the waiting thread.
    func finish(_ error: (any Error)?) {
        condition.lock()
        self.error = error
        finished = true
        condition.signal()
        condition.unlock()
    }

    /// Blocks until ``finish(_:)``; returns its error.
    func wait() -> (any Error)? {
        condition.lock()
        defer { condition.unlock() }
        while !finished { condition.wait() }
        return error
    }
}
