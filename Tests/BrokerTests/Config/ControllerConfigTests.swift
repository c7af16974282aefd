import MartletBroker
import MartletReplication
import Testing

@Suite struct ControllerConfigTests {
    static let base: [(key: String, value: String)] = [
        ("node.id", "2"), ("process.roles", "controller"), ("controller.listener.names", "CONTROLLER"),
        ("listeners", "CONTROLLER://127.0.0.1:9094"), ("log.dirs", "/tmp/a,/tmp/b"),
        ("controller.quorum.voters", "1@127.0.0.1:9093,2@127.0.0.1:9094,3@[::1]:9095"),
    ]

    @Test func controllerKeysWithKafkasDefaults() throws {
        let config = try BrokerConfig(Self.base)
        #expect(config.isController)
        #expect(config.quorumVoters == [
            QuorumVoter(id: 1, host: "127.0.0.1", port: 9093), QuorumVoter(id: 2, host: "127.0.0.1", port: 9094),
            QuorumVoter(id: 3, host: "::1", port: 9095),
        ])
        #expect(config.controllerListener == Listener(name: "CONTROLLER", host: "127.0.0.1", port: 9094))
        #expect(config.metadataLogDirectory == "/tmp/a")
        #expect(config.quorumElectionTimeoutMs == 1000)
        #expect(config.quorumFetchTimeoutMs == 2000)
        #expect(config.quorumElectionBackoffMaxMs == 1000)
        #expect(config.quorumRequestTimeoutMs == 2000)
        #expect(config.metadataSnapshotMaxNewRecordBytes == 20 * 1024 * 1024)
        #expect(config.metadataSnapshotMaxIntervalMs == 3_600_000)
        #expect(try BrokerConfig(Self.base + [("metadata.log.dir", "/tmp/meta")]).metadataLogDirectory == "/tmp/meta")
        #expect(ControllerConfig(broker: config).brokerSessionTimeoutMs == 9000)
        let shorter = try BrokerConfig(Self.base + [("broker.session.timeout.ms", "4000")])
        #expect(ControllerConfig(broker: shorter).brokerSessionTimeoutMs == 4000)
    }

    @Test(arguments: [
        ([("controller.quorum.voters", "1@127.0.0.1")],
         "invalid value '1@127.0.0.1' for configuration controller.quorum.voters: expected id@host:port[,id@host:port...] with distinct ids"),
        ([("controller.quorum.voters", "1@a:1,1@b:2")],
         "invalid value '1@a:1,1@b:2' for configuration controller.quorum.voters: expected id@host:port[,id@host:port...] with distinct ids"),
        ([("controller.quorum.voters", "1@a:1,3@b:2")],
         "invalid value '1@a:1,3@b:2' for configuration controller.quorum.voters: node.id 2 is not one of the voters"),
        ([("controller.listener.names", "OTHER")],
         "invalid value 'OTHER' for configuration controller.listener.names: no listener in listeners has one of these names"),
        ([("metadata.log.max.record.bytes.between.snapshots", "0")],
         "invalid value '0' for configuration metadata.log.max.record.bytes.between.snapshots: must be at least 1"),
        ([("metadata.log.max.snapshot.interval.ms", "-1")],
         "invalid value '-1' for configuration metadata.log.max.snapshot.interval.ms: must be at least 0"),
        ([("metadata.log.max.snapshot.interval.ms", "hourly")],
         "invalid value 'hourly' for configuration metadata.log.max.snapshot.interval.ms: expected a 64-bit integer"),
        ([("process.roles", "broker,controller")],
         "invalid value 'broker,controller' for configuration process.roles: combined broker and controller mode is not supported yet"),
    ] as [([(String, String)], String)])
    func badControllerConfigIsOneLine(_ changes: [(String, String)], _ message: String) {
        let settings = Self.base.filter { key in !changes.contains { $0.0 == key.key } } + changes.map { (key: $0.0, value: $0.1) }
        #expect(throws: ConfigError.self) { try BrokerConfig(settings) }
        do {
            _ = try BrokerConfig(settings)
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func controllerNeedsVoters() {
        let settings = Self.base.filter { $0.key != "controller.quorum.voters" }
        #expect(throws: ConfigError.missing("controller.quorum.voters")) { try BrokerConfig(settings) }
    }
}
