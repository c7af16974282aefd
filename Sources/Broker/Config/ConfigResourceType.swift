/// The resource types of DescribeConfigs / AlterConfigs (`ConfigResource.Type`).
enum ConfigResourceType: Int8 {
    case unknown = 0
    case topic = 2
    case broker = 4
    case brokerLogger = 8
    case clientMetrics = 16
    case group = 32
}
