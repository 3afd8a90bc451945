import ArgumentParser
import Foundation
import SamplerCapture
import SamplerClassifier
import SamplerPipeline
import SamplerRules
import SamplerService
import SamplerWire
#if canImport(Glibc)
import Glibc
#endif

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read the sampled packets from NFLOG, classify them live and write records.",
        discussion: """
            Binds the NFLOG group that `sampler rules install` logs to, classifies connections \
            as their packets arrive, and appends one JSON line per finalized connection to \
            --output (docs/records.md). A summary of each aggregation window goes to the log \
            (standard error).

            Signals: SIGHUP reopens the output file (for logrotate); SIGINT or SIGTERM stop \
            reading, write every open connection (close "shutdown", or reset/fin when it has \
            one), and exit 0.

            Needs CAP_NET_ADMIN (root). The rules are separate: install them first with \
            `sampler rules install` (same --group).

            Exit status: 0 stopped by a signal; 1 a runtime failure; 64 bad arguments; \
            69 the group is bound by another process; 73 the output cannot be opened; \
            77 no permission (CAP_NET_ADMIN); 78 a bad setting, in the configuration file \
            or a flag.
            """
    )

    @Option(help: ArgumentHelp("NFLOG group to read, the rules' --group (default: 5).", valueName: "group"))
    var group: UInt16?

    @Option(help: ArgumentHelp("File the records are appended to; - for standard output (default: \(Settings().output)).", valueName: "path"))
    var output: String?

    @OptionGroup var classification: ClassifierOptions

    @Option(help: ArgumentHelp("Most connections held open at once; SYNs beyond it are counted and refused (default: 1048576).", valueName: "n"))
    var maxConnections: Int?

    @Option(help: ArgumentHelp("Socket receive buffer to start with, in bytes; doubled on each overrun up to --max-receive-buffer (default: 4194304).", valueName: "bytes"))
    var receiveBuffer: Int?

    @Option(help: ArgumentHelp("Largest receive buffer that overruns (ENOBUFS) may grow it to, in bytes (default: 67108864).", valueName: "bytes"))
    var maxReceiveBuffer: Int?

    @OptionGroup var configuration: ConfigOption

    /// The configuration file's settings with these flags over them, validated.
    func settings() throws -> Settings {
        var settings = try configuration.load()
        if let group { settings.rules.group = group }
        if let output { settings.output = output }
        classification.apply(to: &settings)
        if let maxConnections { settings.maxConnections = maxConnections }
        if let receiveBuffer { settings.receiveBuffer = receiveBuffer }
        if let maxReceiveBuffer { settings.maxReceiveBuffer = maxReceiveBuffer }
        try configurationStep { () throws(ConfigurationError) in try settings.validate() }
        return settings
    }

    func run() throws {
        let settings = try settings()
        if settings.output == Settings().output {
            // The default's directory is sampler's own: make it if it is not there.
            mkdir("/var/lib/sampler", 0o750)
        }
        let options = settings.live
        let sampler = LiveSampler(options: options) { printError("sampler: \($0)") }
        // Under systemd (Type=notify): ready once the group is bound, a watchdog ping from
        // the loop, and word when stopping. Outside systemd these do nothing.
        let systemd = SystemdNotifier(environment: ProcessInfo.processInfo.environment)
        var lastPing: Microseconds = 0
        let events = LiveSampler.Events(
            ready: { systemd?.notify("READY=1\nSTATUS=reading NFLOG group \(options.nflog.group)") },
            tick: { now in
                guard let interval = systemd?.watchdogInterval, now - lastPing >= interval else { return }
                lastPing = now
                systemd?.notify("WATCHDOG=1")
            },
            stopping: { systemd?.notify("STOPPING=1") })
        do {
            try sampler.run(events: events)
        } catch {
            printError("sampler run: \(error)")
            switch error {
            case .capture(.notPermitted): throw ExitCode(77)
            case .capture(.groupInUse): throw ExitCode(69)
            case .output: throw ExitCode(73)
            default: throw ExitCode(1)
            }
        }
        let c = sampler.counters
        printError("sampler: stopped; \(c.messages) messages, \(c.records) records, \(c.lost) lost, "
            + "\(c.overruns) overruns, \(c.parseErrors.total) parse errors, \(c.classifier.orphans) orphans")
    }
}
