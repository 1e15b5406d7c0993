import Hummingbird
import NIOCore

/// The context of every request `serve` answers: Hummingbird's basic context plus the address
/// of the connecting client, which the console's login throttle counts failures by.
struct ServiceRequestContext: RequestContext, RemoteAddressRequestContext {
    /// Hummingbird's per-request storage.
    var coreContext: CoreRequestContextStorage
    /// The connecting client's address (a proxy's, when one is in front).
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The client's IP address as text, `unknown` when the channel has none.
    var clientAddress: String {
        remoteAddress?.ipAddress ?? "unknown"
    }
}
