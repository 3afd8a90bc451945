import ArgumentParser
import SamplerClassifier
import SamplerWire

/// The classification options that `run` and `classify` share.
struct ClassifierOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Seconds without a packet after which an open connection is a timeout.", valueName: "seconds"))
    var idleTimeout: Double = 120

    @Option(help: ArgumentHelp("Seconds after the first RST or FIN in which later packets still belong to the connection.", valueName: "seconds"))
    var grace: Double = 1

    @Option(help: ArgumentHelp("TTL difference between a RST and the SYN above which ttl_mismatch is set.", valueName: "hops"))
    var ttlMargin: Int = 2

    @Option(help: ArgumentHelp("Aggregation window for the summaries, in seconds (aligned to the clock).", valueName: "seconds"))
    var window: Double = 900

    @Flag(help: "Count connections tagged multiple_syns in the stage shares (left out by default, as in the reference).")
    var includeMultipleSyns = false

    func validate() throws {
        guard idleTimeout > 0 && idleTimeout <= 86_400 * 30 else {
            throw ValidationError("--idle-timeout must be more than 0 and at most 2592000 seconds (30 days), got \(idleTimeout).")
        }
        guard grace >= 0 && grace <= 3600 else { throw ValidationError("--grace must be 0 to 3600 seconds, got \(grace).") }
        guard window >= 1 && window <= 86_400 * 366 else {
            throw ValidationError("--window must be 1 to 31622400 seconds (a year), got \(window).")
        }
        guard ttlMargin >= 0 else { throw ValidationError("--ttl-margin must be zero or more, got \(ttlMargin).") }
    }

    var configuration: ClassifierConfiguration {
        var configuration = ClassifierConfiguration()
        configuration.idleTimeout = Microseconds(idleTimeout * 1_000_000)
        configuration.gracePeriod = Microseconds(grace * 1_000_000)
        configuration.ttlMargin = ttlMargin
        return configuration
    }

    var windowLength: Microseconds { Microseconds(window * 1_000_000) }
}
