import MartletProtocol
import MartletReplication

/// BrokerHeartbeat (key 63) on a controller: keeps a broker's session alive and moves it between fenced,
/// unfenced and controlled shutdown; the answer goes out once any record the change wrote is committed.
/// Any other controller answers NOT_CONTROLLER.
struct ControllerBrokerHeartbeatHandler: ApiHandler {
    typealias Request = BrokerHeartbeatRequest
    let versions: ClosedRange<Int16> = 0...1
    let driver: RaftDriver

    func handle(_ request: BrokerHeartbeatRequest, context: RequestContext) async -> HandlerOutcome<BrokerHeartbeatResponse> {
        let response = await driver.execute { state, nextOffset, now in state.heartbeat(request, nextOffset: nextOffset, now: now) }
        return .respond(response ?? BrokerHeartbeatResponse(errorCode: KafkaErrorCode.notController.rawValue, isFenced: true))
    }
}
