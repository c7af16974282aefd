/// Lets ApiVersions read the registry it is part of.
final class RegistryBox: @unchecked Sendable {
    // Written once before the server starts, read-only afterwards.
    var registry: HandlerRegistry?
}
