import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Loopback TCP ports for tests.
public enum LoopbackPort {
    /// What went wrong asking the kernel for a port.
    public struct Failure: Error, CustomStringConvertible {
        /// One line naming the call that failed and its errno.
        public let description: String
    }

    /// A loopback TCP port nobody listens on right now: the kernel picks it for a socket
    /// that is closed again at once. A connect to it is refused, not left waiting, until
    /// something else binds it.
    /// - Throws: ``Failure`` when no socket can be bound.
    public static func unused() throws -> Int {
        // The socket is closed when the value goes, here at once.
        try Refusing().port
    }

    /// A loopback port that refuses every connection for as long as this value lives: a TCP
    /// socket bound to it that never listens. Unlike ``unused()``, no other test can bind the
    /// port meanwhile and answer a connect meant to be refused (a port given back to the kernel
    /// can be handed to the next test at once).
    public final class Refusing: Sendable {
        /// The port.
        public let port: Int
        private let descriptor: Int32

        /// Binds a socket to a free loopback port and keeps it.
        /// - Throws: ``Failure`` when no socket can be bound.
        public init() throws {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard descriptor >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    bind(descriptor, socketAddress, length) == 0 && getsockname(descriptor, socketAddress, &length) == 0
                }
            }
            guard bound else {
                close(descriptor)
                throw Failure(description: "cannot bind a loopback port: errno \(errno)")
            }
            self.descriptor = descriptor
            self.port = Int(UInt16(bigEndian: address.sin_port))
        }

        deinit { close(descriptor) }
    }
}
