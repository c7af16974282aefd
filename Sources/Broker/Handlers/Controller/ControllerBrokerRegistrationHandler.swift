import MartletProtocol
import MartletReplication

/// BrokerRegistration (key 62) on a controller: a starting broker registers (fenced) and learns its epoch
/// once the RegisterBrokerRecord is committed. Any other controller answers NOT_CONTROLLER.
struct ControllerBrokerRegistrationHandler: ApiHandler {
    typealias Request = BrokerRegistrationRequest
    let versions: ClosedRange<Int16> = 0...4
    let driver: RaftDriver

    func handle(_ request: BrokerRegistrationRequest, context: RequestContext) async -> HandlerOutcome<BrokerRegistrationResponse> {
        let response = await driver.execute { state, nextOffset, now in state.registerBroker(request, nextOffset: nextOffset, now: now) }
        return .respond(response ?? BrokerRegistrationResponse(errorCode: KafkaErrorCode.notController.rawValue, brokerEpoch: -1))
    }
}
