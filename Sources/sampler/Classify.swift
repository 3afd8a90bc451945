import ArgumentParser
import SamplerClassifier
import SamplerPipeline
import SamplerService
import SamplerSinks
import SamplerWire

#if canImport(Glibc)
import Glibc
#endif

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify the TCP connections in a capture file.",
        discussion: """
            Reads a pcap or pcapng file (link types NFLOG, as written by \
            `tcpdump -i nflog:GROUP -w FILE`; Ethernet; Linux cooked SLL and SLL2; raw IPv4/IPv6) \
            and prints one JSON object per connection on standard output (fields in \
            docs/records.md), then a summary table on standard error.

            Every packet is taken as client-to-server, as NFLOG delivers them. For a capture \
            with both directions, pick the server side with --server and/or --port.

            At the end of the input, connections closed by reset or fin are written as such, \
            those idle for --idle-timeout before the last packet as timeout, the rest as \
            shutdown. A file that is cut short is read up to the damage; the error names the \
            byte offset, after the complete records are written.

            Example, on a host with the two sampling rules installed (README):
              tcpdump -i nflog:5 -w sample.pcap
              sampler classify sample.pcap > records.jsonl

            Exit status: 0 done; 1 the file is damaged (complete records written first); \
            64 bad arguments; 66 the file cannot be opened.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case json, table
    }

    @Argument(help: ArgumentHelp("Capture file (pcap or pcapng); - reads standard input.", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("Keep packets sent to this server address or prefix.", valueName: "addr[/prefix]"))
    var server: String?

    @Option(help: ArgumentHelp("Keep packets sent to this server port.", valueName: "port"))
    var port: UInt16?

    @OptionGroup var classification: ClassifierOptions

    @Option(help: "Output: json (records on stdout, summary on stderr) or table (summary on stdout only).")
    var format: Format = .json

    @Flag(name: .shortAndLong, help: "No summary on standard error.")
    var quiet = false

    func validate() throws {
        var settings = Settings()
        classification.apply(to: &settings)
        // No configuration file here: a bad value is a usage error (exit 64).
        do { try settings.validate(checkOutputDirectory: false) } catch { throw ValidationError(error.description) }
        if let server, ServerFilter.parsePrefix(server) == nil {
            throw ValidationError("--server '\(server)' is not an address or address/prefix (e.g. 192.0.2.0/24 or 2001:db8::/32).")
        }
    }

    func run() throws {
        var settings = Settings()
        classification.apply(to: &settings)
        var configuration = settings.classifier
        // Offline there is no flood to bound: hold every connection the capture has.
        configuration.maximumOpenConnections = ClassifierConfiguration().maximumOpenConnections
        let filter = ServerFilter(prefix: server.flatMap(ServerFilter.parsePrefix), port: port)

        let mapped: MappedFile
        do {
            mapped = try MappedFile(path: file)
        } catch {
            printError("sampler classify: cannot read \(error)")
            throw ExitCode(66)  // EX_NOINPUT
        }

        let out = try! RecordFile(path: nil)  // standard output: nothing to open
        var aggregator = WindowAggregator(length: settings.live.pipeline.window, excludeMultipleSYNs: !settings.includeMultipleSyns)
        var windows: [WindowSummary] = []
        let writeRecords = format == .json
        let result = mapped.withBytes { bytes in
            CaptureClassification.run(capture: bytes, filter: filter, configuration: configuration) { record in
                if writeRecords {
                    JSONLines.append(record, to: &out.buffer)
                    if out.buffer.count >= 1 << 16 { out.flush() }
                }
                aggregator.add(record) { windows.append($0) }
            }
        }
        aggregator.flush { windows.append($0) }
        let table = SummaryTable.render(windows: windows, parseErrors: result.parseErrors, counters: result.counters)
        if format == .table { out.buffer.append(contentsOf: table.utf8) }
        out.flush()
        let readNothing = result.fileError != nil && result.counters.packets == 0 && result.parseErrors.total == 0
        if format == .json && !quiet && !readNothing { printError(table) }
        if let error = result.fileError {
            printError("sampler classify: \(file): \(error)")
            throw ExitCode(1)
        }
    }
}
