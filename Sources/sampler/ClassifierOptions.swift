import ArgumentParser
import Foundation
import SamplerConfiguration
import SamplerSystem
#if canImport(Glibc)
import Glibc
#endif

/// The configuration file option, for the commands that read it.
struct ConfigOption: ParsableArguments {
    @Option(help: ArgumentHelp("Configuration file (default: \(Settings.defaultPath), when it exists). Flags override it.", valueName: "file"))
    var config: String?

    /// The settings of the file (or the defaults when there is none); a file that cannot
    /// be used is a message and exit 78.
    func load() throws -> Settings {
        do { return try read() } catch {
            printError("sampler: \(error)")
            throw ExitStatus.configuration.exit
        }
    }

    /// The same, with the problem as a value (for `status`, which says it on its one line).
    func read() throws(ConfigurationProblem) -> Settings {
        let path = config ?? Settings.defaultPath
        guard config != nil || FileManager.default.fileExists(atPath: path) else { return Settings() }
        let text: String
        do { text = try TextFile.read(path) } catch {
            throw ConfigurationProblem(description: "cannot read the configuration \(path): \(error)")
        }
        do { return try ConfigurationFile.parse(text, source: path) } catch { throw ConfigurationProblem(error) }
    }
}

/// Why the settings cannot be used, in the words a command prints: the file, or a value.
struct ConfigurationProblem: Error, CustomStringConvertible {
    var description: String
    init(description: String) { self.description = description }
    init(_ error: ConfigurationError) { description = "configuration: \(error)" }
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
    // Numbers take the next word whatever it is (`--idle-timeout -1`), so that a
    // negative one gets the setting's own message rather than "missing value".
    @Option(parsing: .unconditional, help: ArgumentHelp(setting: "idle_timeout")) var idleTimeout: String?
    @Option(parsing: .unconditional, help: ArgumentHelp(setting: "grace")) var grace: String?
    @Option(parsing: .unconditional, help: ArgumentHelp(setting: "ttl_margin")) var ttlMargin: String?
    @Option(parsing: .unconditional, help: ArgumentHelp(setting: "window")) var window: String?
    @Option(parsing: .unconditional, help: ArgumentHelp(setting: "packets")) var packets: String?
    @Flag(help: ArgumentHelp(switching: "include_multiple_syns"))
    var includeMultipleSyns = false

    var given: [(String, String?)] {
        [("idle_timeout", idleTimeout), ("grace", grace), ("ttl_margin", ttlMargin), ("window", window), ("packets", packets),
         ("include_multiple_syns", includeMultipleSyns ? "true" : nil)]
    }

    func apply(to settings: inout Settings) throws { try applyKeys(given, to: &settings) }
}
