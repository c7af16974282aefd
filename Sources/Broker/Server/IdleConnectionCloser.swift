import NIOCore

/// Closes a connection that has neither read nor written for `connections.max.idle.ms`, fired by NIO's
/// `IdleStateHandler` in front of it: an idle client cannot hold a socket forever.
final class IdleConnectionCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
