import ArgumentParser
import Foundation
import SamplerService
import SamplerSystem
#if canImport(Glibc)
import Glibc
#endif

/// The configuration file option, for the commands that read it.
struct ConfigOption: ParsableArguments {
    @Option(help: ArgumentHelp("Configuration file (default: \(Settings.defaultPath), when it exists). Flags override it.", valueName: "file"))
    var config: String?

    /// The settings of the file (or the defaults when there is none).
    func load() throws -> Settings {
        let path = config ?? Settings.defaultPath
        guard config != nil || FileManager.default.fileExists(atPath: path) else { return Settings() }
        let text: String
        do { text = try TextFile.read(path) } catch {
            printError("sampler: cannot read the configuration \(path): \(error)")
            throw ExitStatus.configuration.exit
        }
        return try configurationStep { () throws(ConfigurationError) in try ConfigurationFile.parse(text, source: path) }
    }
}

/// Runs a configuration step; a ConfigurationError becomes a message and exit 78.
func configurationStep<T>(_ body: () throws(ConfigurationError) -> T) throws -> T {
    do { return try body() } catch {
        printError("sampler: configuration: \(error)")
        throw ExitStatus.configuration.exit
    }
}

/// The classification options that `run` and `classify` share. Unset, they keep the
/// configuration's values (defaults in docs/operations.md).
struct ClassifierOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Seconds without a packet after which an open connection is a timeout (default: 120).", valueName: "seconds"))
    var idleTimeout: Double?

    @Option(help: ArgumentHelp("Seconds after the first RST or FIN in which later packets still belong to the connection (default: 1).", valueName: "seconds"))
    var grace: Double?

    @Option(help: ArgumentHelp("TTL difference between a RST and the SYN above which ttl_mismatch is set (default: 2).", valueName: "hops"))
    var ttlMargin: Int?

    @Option(help: ArgumentHelp("Aggregation window for the summaries, in seconds, aligned to the clock (default: 900).", valueName: "seconds"))
    var window: Double?

    @Flag(help: "Count connections tagged multiple_syns in the stage shares (left out by default, as in the reference).")
    var includeMultipleSyns = false

    func apply(to settings: inout Settings) {
        if let idleTimeout { settings.idleTimeout = idleTimeout; settings.explicitKeys.insert("idle_timeout") }
        if let grace { settings.grace = grace; settings.explicitKeys.insert("grace") }
        if let ttlMargin { settings.ttlMargin = ttlMargin; settings.explicitKeys.insert("ttl_margin") }
        if let window { settings.window = window; settings.explicitKeys.insert("window") }
        if includeMultipleSyns { settings.includeMultipleSyns = true }
    }
}
