import SamplerRules
import SamplerCapture
import SamplerConfiguration
import SamplerPipeline
import SamplerWire
#if canImport(Glibc)
import Glibc
#endif

/// What the service makes of the settings: the live loop's options and the status
/// socket's access. Here rather than beside the settings, so that reading a
/// configuration (`report`, `classify`, `config check`) links nothing of the live path.
extension Settings {
    /// The live loop's options.
    public var live: LiveSampler.Options {
        var options = LiveSampler.Options(
            nflog: NflogConfiguration(group: rules.group, receiveBufferBytes: receiveBuffer, maximumReceiveBufferBytes: maxReceiveBuffer),
            pipeline: Pipeline.Options(ringSize: ringSize))
        options.pipeline.classifier = classifier
        options.pipeline.window = windowLength
        options.pipeline.includeMultipleSyns = includeMultipleSyns
        options.pipeline.shards = shards == 0 ? Pipeline.defaultShards : shards
        options.output = output
        options.pipeline.locationDatabase = locationDatabasePath
        return options
    }

    /// The status socket's mode and group, the group's name looked up now.
    public func statusSocketAccess() throws(ConfigurationError) -> RequestServer.SocketAccess {
        var access = RequestServer.SocketAccess(mode: mode_t(statusSocketMode, radix: 8) ?? 0o660)
        access.group = try statusSocketGroupID()
        return access
    }
}
