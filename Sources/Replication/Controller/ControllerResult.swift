/// What a controller command produces: the records to append, and the response to send once they are
/// committed (KIP-631: the controller answers only for durable state). With no records the response may
/// go out at once.
public struct ControllerResult<Response: Sendable>: Sendable {
    public var records: [MetadataRecord]
    public var response: Response

    public init(records: [MetadataRecord], response: Response) {
        self.records = records
        self.response = response
    }
}
