import MartletBroker
import Testing

@Suite struct BrokerConfigTests {
    @Test func parsesPropertiesTheJavaWay() throws {
        let text = """
            # comment
            ! also a comment
            node.id=3
            listeners = PLAINTEXT://127.0.0.1:9092
            log.dirs: /tmp/a,\\
                /tmp/b
            num.partitions 6
            message.max.bytes=\\u0031000
            """
        let entries = try PropertiesFile.parse(text)
        #expect(entries.map(\.key) == ["node.id", "listeners", "log.dirs", "num.partitions", "message.max.bytes"])
        #expect(entries.map(\.value) == ["3", "PLAINTEXT://127.0.0.1:9092", "/tmp/a,/tmp/b", "6", "1000"])
        #expect(entries.map(\.line) == [3, 4, 5, 7, 8])

        let config = try BrokerConfig(entries.map { ($0.key, $0.value) })
        #expect(config.nodeId == 3)
        #expect(config.listeners == [Listener(name: "PLAINTEXT", host: "127.0.0.1", port: 9092)])
        #expect(config.advertisedListeners == config.listeners)
        #expect(config.logDirectories == ["/tmp/a", "/tmp/b"])
        #expect(config.numPartitions == 6)
        #expect(config.messageMaxBytes == 1000)
    }

    @Test func defaultsAreKafkas() throws {
        let config = try BrokerConfig([("node.id", "1")])
        #expect(config.socketRequestMaxBytes == 104_857_600)
        #expect(config.messageMaxBytes == 1_048_588)
        #expect(config.logRetentionMs == 168 * 3_600_000)
        #expect(config.logRollMs == 168 * 3_600_000)
        #expect(config.autoCreateTopics)
        #expect(config.logDirectories == ["/tmp/kafka-logs"])
        #expect(config.topicDefault(TopicConfigKeys.byName["retention.ms"]!) == "604800000")
    }

    @Test func laterSettingsWinAndUnitsResolve() throws {
        let config = try BrokerConfig([("node.id", "1"), ("log.retention.hours", "1"), ("log.retention.minutes", "5"), ("num.partitions", "2"), ("num.partitions", "4")])
        #expect(config.numPartitions == 4)
        #expect(config.logRetentionMs == 300_000)
        #expect(config.topicDefault(TopicConfigKeys.byName["retention.ms"]!) == "300000")
    }

    @Test(arguments: [
        ([("node.id", "1"), ("no.such.key", "1")], "unknown configuration 'no.such.key'"),
        ([("node.id", "one")], "invalid value 'one' for configuration node.id: expected a 32-bit integer"),
        ([("node.id", "1"), ("num.partitions", "0")], "invalid value '0' for configuration num.partitions: must be at least 1"),
        ([("node.id", "1"), ("listeners", "localhost:9092")], "invalid value 'localhost:9092' for configuration listeners: expected NAME://host:port[,NAME://host:port...]"),
        ([("node.id", "1"), ("auto.create.topics.enable", "yes")], "invalid value 'yes' for configuration auto.create.topics.enable: expected true or false"),
        ([("log.dirs", "/tmp/x")], "missing required configuration node.id"),
    ])
    func badConfigIsOneClearLine(settings: [(String, String)], message: String) {
        let error = #expect(throws: ConfigError.self) { _ = try BrokerConfig(settings.map { (key: $0.0, value: $0.1) }) }
        #expect(error?.description == message)
    }

    @Test func malformedEscapeNamesTheLine() {
        #expect(throws: PropertiesFile.ParseError.self) { try PropertiesFile.parse("a=1\nb=\\u12") }
    }
}
