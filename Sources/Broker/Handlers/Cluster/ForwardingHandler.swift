import MartletProtocol

/// An admin request that a broker under the controllers sends on whole to the active controller, at the
/// client's version, relaying the answer (Kafka's request forwarding). The controller decides on its own
/// committed state, so a request right after a change made through another broker finds that change
/// even if this broker's copy of the metadata has not caught up yet. While no controller answers (a
/// failover), the channel keeps trying; when it gives up, every resource gets the channel's error.
struct ForwardingHandler<Request: KafkaRequest>: ApiHandler {
    let versions: ClosedRange<Int16>
    let channel: ControllerChannel
    /// Whether the answer came from a controller that is not (or no longer) the active one.
    let isNotController: @Sendable (Request.Response) -> Bool
    /// The answer to give when no active controller answered in time.
    let unanswered: @Sendable (Request, BrokerError) -> Request.Response

    func handle(_ request: Request, context: RequestContext) async -> HandlerOutcome<Request.Response> {
        do {
            return .respond(try await channel.send(
                request, version: context.apiVersion, timeoutMs: ClusterMetadataStore.controllerTimeoutMs, isNotController: isNotController))
        } catch {
            return .respond(unanswered(request, error))
        }
    }
}
