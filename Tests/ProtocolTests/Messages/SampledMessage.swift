import MartletProtocol

/// A generated struct that can make sample values for tests (see ProtocolGen's SampleEmitter).
protocol SampledStruct: KafkaStruct {
    static func sample(version: Int16, variant: Int) -> Self
}

protocol SampledMessage: KafkaMessage, SampledStruct {}
