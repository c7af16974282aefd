import MartletProtocol
import NIOCore

/// The client side of a Kafka connection on its event loop: remembers each request sent by correlation
/// id, completes it with the body of the response carrying that id (after the response header of the
/// version the request's API calls for), fails it after its timeout, and fails everything in flight when
/// the connection ends. Kafka answers in order, but matching by id keeps a late or stray response from
/// completing the wrong request.
final class ResponseMatcher: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = OutboundKafkaRequest
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        var apiKey: ApiKey
        var version: Int16
        var promise: EventLoopPromise<ByteBuffer>
        var timeout: Scheduled<Void>
    }

    private var pending: [Int32: Pending] = [:]

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        let correlationId = request.correlationId
        // The task runs on this handler's event loop, which is what makes touching `pending` from it safe.
        let matcher = NIOLoopBound(self, eventLoop: context.eventLoop)
        let timeout = context.eventLoop.scheduleTask(in: .milliseconds(request.timeoutMs)) {
            guard let entry = matcher.value.pending.removeValue(forKey: correlationId) else { return }
            entry.promise.fail(KafkaConnectionError.timedOut(request.apiKey, correlationId: correlationId))
        }
        pending[correlationId] = Pending(apiKey: request.apiKey, version: request.version, promise: request.promise, timeout: timeout)
        context.write(wrapOutboundOut(request.frame), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var frame = unwrapInboundIn(data)
        guard let correlationId = frame.getInteger(at: frame.readerIndex, as: Int32.self),
            let entry = pending.removeValue(forKey: correlationId)
        else {
            failAll(KafkaConnectionError.malformedResponse("a response matching no request in flight"))
            context.close(promise: nil)
            return
        }
        entry.timeout.cancel()
        do {
            _ = try ResponseHeader(from: &frame, version: entry.apiKey.responseHeaderVersion(entry.version))
            entry.promise.succeed(frame)
        } catch {
            entry.promise.fail(KafkaConnectionError.malformedResponse("\(error)"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(KafkaConnectionError.closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: any Error) {
        let failed = pending
        pending = [:]
        for entry in failed.values {
            entry.timeout.cancel()
            entry.promise.fail(error)
        }
    }
}
