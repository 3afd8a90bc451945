import ArgumentParser
import SamplerCapture
import SamplerClassifier
import SamplerPipeline
import SamplerRules
import SamplerWire
#if canImport(Glibc)
import Glibc
#endif

struct Run: ParsableCommand {
    static let defaultOutput = "/var/lib/sampler/records.jsonl"

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
            77 no permission (CAP_NET_ADMIN).
            """
    )

    @Option(help: ArgumentHelp("NFLOG group to read (the rules' --group).", valueName: "group"))
    var group: UInt16 = RuleParameters().group

    @Option(help: ArgumentHelp("File the records are appended to; - for standard output.", valueName: "path"))
    var output: String = Run.defaultOutput

    @OptionGroup var classification: ClassifierOptions

    @Option(help: ArgumentHelp("Most connections held open at once; SYNs beyond it are counted and refused.", valueName: "n"))
    var maxConnections: Int = ClassifierConfiguration().maximumOpenConnections

    @Option(help: ArgumentHelp("Socket receive buffer to start with, in bytes (doubled on each overrun up to --max-receive-buffer).", valueName: "bytes"))
    var receiveBuffer: Int = NflogConfiguration(group: 0).receiveBufferBytes

    @Option(help: ArgumentHelp("Largest receive buffer that overruns (ENOBUFS) may grow it to, in bytes.", valueName: "bytes"))
    var maxReceiveBuffer: Int = NflogConfiguration(group: 0).maximumReceiveBufferBytes

    func validate() throws {
        guard receiveBuffer >= 4096 && receiveBuffer <= Int(Int32.max) / 2 else {
            throw ValidationError("--receive-buffer must be 4096 to 1073741823 bytes, got \(receiveBuffer).")
        }
        guard maxReceiveBuffer >= receiveBuffer && maxReceiveBuffer <= Int(Int32.max) / 2 else {
            throw ValidationError("--max-receive-buffer must be at least --receive-buffer and at most 1073741823, got \(maxReceiveBuffer).")
        }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1, got \(maxConnections).") }
    }

    func run() throws {
        var options = LiveSampler.Options(group: group)
        options.classifier = classification.configuration
        options.classifier.maximumOpenConnections = maxConnections
        options.nflog.receiveBufferBytes = receiveBuffer
        options.nflog.maximumReceiveBufferBytes = maxReceiveBuffer
        options.window = classification.windowLength
        options.excludeMultipleSYNs = !classification.includeMultipleSyns
        options.output = output
        if output == Run.defaultOutput {
            // The default's directory is sampler's own: make it if it is not there.
            mkdir("/var/lib/sampler", 0o750)
        }

        let sampler = LiveSampler(options: options) { OutputStream.printError("sampler: \($0)") }
        do {
            try sampler.run()
        } catch {
            OutputStream.printError("sampler run: \(error)")
            switch error {
            case .capture(.notPermitted): throw ExitCode(77)
            case .capture(.groupInUse): throw ExitCode(69)
            case .output: throw ExitCode(73)
            default: throw ExitCode(1)
            }
        }
        let c = sampler.counters
        OutputStream.printError("sampler: stopped; \(c.messages) messages, \(c.records) records, \(c.lost) lost, "
            + "\(c.overruns) overruns, \(c.parseErrors.total) parse errors, \(c.classifier.orphans) orphans")
    }
}
