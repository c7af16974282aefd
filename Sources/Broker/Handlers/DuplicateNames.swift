/// Names that a request lists more than once. Kafka answers each of those with INVALID_REQUEST instead of
/// acting on any of them (CreateTopics, CreatePartitions).
func namesListedMoreThanOnce(_ names: some Sequence<String>) -> Set<String> {
    var seen: Set<String> = []
    var repeated: Set<String> = []
    for name in names where !seen.insert(name).inserted {
        repeated.insert(name)
    }
    return repeated
}
