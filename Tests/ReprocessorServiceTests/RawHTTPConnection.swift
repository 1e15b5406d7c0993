import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One TCP connection to the service with plain blocking sockets, for what an HTTP client
/// library hides: a body sent without `Expect: 100-continue` whatever the server answers, the
/// client's own source address (any of 127.0.0.0/8), many requests held back and released at once,
/// and whether the server closed the connection.
final class RawHTTPConnection: Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private let socket: Int32

    /// Connects to `port` on 127.0.0.1 from `source` (port chosen by the system), waiting at most
    /// `timeout` seconds for any send or receive.
    init(port: Int, source: String = "127.0.0.1", timeout: Int = 30) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var time = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        do {
            try Self.withAddress(source, port: 0) { try check(bind(socket, $0, $1), "bind \(source)") }
            try Self.withAddress("127.0.0.1", port: port) { try check(connect(socket, $0, $1), "connect") }
        } catch {
            close(socket)
            throw error
        }
    }

    deinit { close(socket) }

    private static func withAddress(
        _ host: String, port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) throws -> Void
    ) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw Failure(description: "bad address \(host)") }
        try withUnsafePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                try body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    private func check(_ result: Int32, _ what: String) throws {
        guard result == 0 else { throw Failure(description: "\(what): errno \(errno)") }
    }

    /// Sends every byte of `bytes`, blocking while the server does not read.
    func send(_ bytes: some Collection<UInt8>) throws {
        let array = Array(bytes)
        var offset = 0
        while offset < array.count {
            let sent = array[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw Failure(description: "send failed after \(offset) bytes: errno \(errno)") }
            offset += sent
        }
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// What the server sent until it closed the connection, and whether it did (false: the
    /// receive timed out or failed first).
    func readUntilClosed() -> (received: String, closed: Bool) {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count == 0 { return (String(decoding: received, as: UTF8.self), true) }
            if count < 0 { return (String(decoding: received, as: UTF8.self), false) }
            received += buffer[..<count]
        }
    }

    /// Reads one answer with a `Content-Length` body, leaving the connection open.
    func readResponse() throws -> (status: Int, head: String, body: String) {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let separator = Array("\r\n\r\n".utf8)
        while true {
            if let end = received.firstRange(of: separator) {
                let head = String(decoding: received[..<end.lowerBound], as: UTF8.self)
                let length =
                    head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                if received.count >= end.upperBound + length {
                    let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
                    let body = String(decoding: received[end.upperBound..<(end.upperBound + length)], as: UTF8.self)
                    return (status, head, body)
                }
            }
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            guard count > 0 else {
                throw Failure(
                    description: "the connection ended before a whole answer: \(String(decoding: received, as: UTF8.self))")
            }
            received += buffer[..<count]
        }
    }

    /// Runs blocking work on a thread of its own, off the cooperative pool.
    static func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
        }
    }
}
