import Hummingbird
import NIOCore

/// The context of every request `serve` answers: Hummingbird's basic context plus the address
/// of the connecting client, which the console's login throttle counts failures by, and the
/// console session ``RouteAccess`` found for the request.
struct ServiceRequestContext: RequestContext, RemoteAddressRequestContext {
    /// Hummingbird's per-request storage.
    var coreContext: CoreRequestContextStorage
    /// The connecting client's address (a proxy's, when one is in front).
    let remoteAddress: SocketAddress?
    /// The connection the request came on.
    let channel: any Channel
    /// The live console session of a `/ui` route that needs one, set by ``RouteAccess``.
    var session: ConsoleSession?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        channel = source.channel
    }

    /// The client's IP address as text, `unknown` when the channel has none.
    var clientAddress: String {
        remoteAddress?.ipAddress ?? "unknown"
    }

    /// Has Hummingbird close the connection once the answer to this request is written: the
    /// event it sends every connection when the server stops.
    func closeAfterResponse() {
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
    }
}
