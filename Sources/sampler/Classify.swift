import ArgumentParser
import Foundation
import SamplerConfiguration
import SamplerClassifier
import SamplerClickHouse
import SamplerLocation
import SamplerRuntime
import SamplerSinks
import SamplerSystem
import SamplerWire

#if canImport(Glibc)
import Glibc
#endif

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify the TCP connections in a capture file.",
        discussion: """
            Reads a pcap or pcapng file (link types NFLOG, as written by \
            `tcpdump -i nflog:GROUP -w FILE`; Ethernet; Linux cooked SLL and SLL2; raw IPv4/IPv6; BSD loopback) \
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

            With --clickhouse-url the records are also inserted into ClickHouse, through a \
            spool (default here: \(Settings.classifySpoolDirectory)) that keeps what ClickHouse \
            could not take yet. Batches are named after the capture and the options, so \
            loading the same capture again does not count it twice (docs/clickhouse.md).

            \(ExitStatus.help("done", [
                .failure: "the file is damaged (complete records written first)",
                .dataError: "the file is not a capture sampler reads (empty, not pcap or pcapng, another format version, or a link type it does not read)",
                .noInput: "the file cannot be opened",
                .unavailable: "the spool is in use",
                .cannotCreate: "the spool cannot be created",
                .ioError: "the records cannot be written to standard output (a full disk behind it, say; a reader that went away, as `| head` does, is not an error)",
                .temporaryFailure: "records are left in the spool because ClickHouse did not take them (run the command again later)",
                .configuration: "a bad ClickHouse setting",
            ]))
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case json, table
    }

    @Argument(help: ArgumentHelp("Capture file (pcap or pcapng); - reads standard input, as a stream: memory holds the open connections, not the capture, and records come out as connections end by the capture's own clock (a connection's end is known when a later packet, or the end of the input, passes its deadline).", valueName: "file"))
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

    @Option(help: ArgumentHelp(setting: "location_database")) var locationDatabase: String?

    @OptionGroup(title: "ClickHouse") var clickhouse: ClickHouseOptions

    func validate() throws {
        var settings = Settings()
        // No configuration file here: a bad value is a usage error (exit 64).
        do {
            for case let (key, value?) in classification.given { try ConfigurationFile.set(key, to: value, in: &settings) }
            try settings.validate(checkOutputDirectory: false)
        } catch {
            throw ValidationError(error.description)
        }
        if let server, ServerFilter.parsePrefix(server) == nil {
            throw ValidationError("--server '\(server)' is not an address or address/prefix (e.g. 192.0.2.0/24 or 2001:db8::/32).")
        }
    }

    func run() throws {
        // A reader that goes away (`| head`) is EPIPE on the next write, which ends the
        // writing and not the run (the counts and the summary go on), rather than a death
        // by SIGPIPE, exit 141, that a `set -o pipefail` script takes for a failure.
        signal(SIGPIPE, SIG_IGN)
        var settings = Settings()
        try classification.apply(to: &settings)
        try applyKeys([("location_database", locationDatabase)], to: &settings)
        settings.spoolDirectory = Settings.classifySpoolDirectory
        try clickhouse.apply(to: &settings)
        try configurationStep { () throws(ConfigurationError) in try settings.validate(checkOutputDirectory: false) }
        var configuration = settings.classifier
        // Offline there is no flood to bound: hold every connection the capture has.
        configuration.maxConnections = ClassifierConfiguration.offlineMaxConnections
        let filter = ServerFilter(prefix: server.flatMap(ServerFilter.parsePrefix), port: port)

        // A regular file is mapped; standard input or a pipe is read in pieces.
        let mapped: MappedFile?, stream: CaptureStream?
        do {
            if MappedFile.isRegularFile(file) {
                (mapped, stream) = (try MappedFile(path: file), nil)
            } else {
                (mapped, stream) = (nil, try CaptureStream(path: file))
                try stream!.fill()  // the first piece, for the batch ids
            }
        } catch {
            printError("sampler classify: cannot read \(error)")
            throw ExitStatus.noInput.exit
        }

        let seed = settings.clickhouseURL.isEmpty ? 0
            : mapped?.withBytes { captureSeed($0, settings: settings) } ?? stream!.withBytes { captureSeed($0, settings: settings) }
        let sink = try openClickHouseSink(settings, command: "classify", batchIDs: .derived(seed: seed),
                                          environment: ProcessInfo.processInfo.environment)
        let out = RecordFile()  // standard output
        if let torn = out.cutMessage, format == .json { printError("sampler classify: \(torn)") }
        let writeRecords = format == .json
        let locator = settings.locationDatabasePath.map { ClientLocator(path: $0) { printError("sampler classify: \($0)") } }
        // Three stages on three threads, each handing the next its output in order: this
        // one reads and parses the capture, the next classifies, the last locates, writes,
        // ships and counts the records in windows (docs/benchmarks.md: on two cores the
        // classifier's thread, the busiest, sets the wall clock). The output is the same
        // byte for byte as on one thread.
        let windowing = Windowing(aggregator: WindowAggregator(length: settings.windowLength, includeMultipleSyns: settings.includeMultipleSyns))
        let writer = OrderedWorker<ConnectionRecord, Windowing>(name: "sampler-write", state: windowing, body: { windowing, finalized in
            var record = finalized
            locator?.locate(&record)
            // A reader that went away (`| head`) ends the writing, not the counting.
            if writeRecords && out.failure != .brokenPipe {
                out.append { JSONLines.append(record, to: &$0, dates: &windowing.dates) }
                if out.buffer.count >= 1 << 16 { windowing.write(out) }
            } else if writeRecords {
                windowing.notWritten += 1
            }
            sink?.add(record)
            windowing.add(record)
        }, idle: { windowing in
            // Nothing to write for now (the input waits, a stream paused): records that
            // waited a tenth of a second go out, so that a stream's come out as its
            // connections end, not 64 KiB later.
            if !out.buffer.isEmpty && wallClock() - windowing.lastWrite >= 100_000 { windowing.write(out) }
        })
        let classifying = OrderedWorker<PacketSummary, Classifier>(
            name: "sampler-classify", state: Classifier(configuration: configuration),
            ahead: .init(distance: Classifier.prefetchDistance) { $0.prefetch($1) }
        ) {
            $0.ingest($1) { writer.push($0) }
        }
        var reader = CaptureReader(filter: filter)
        if let mapped {
            mapped.withBytes { reader.readAll($0) { classifying.push($0) } }
        } else {
            try read(stream!, into: &reader) { classifying.push($0) }
        }
        // A stage's thread has ended before its state comes back: after the join, this
        // thread finishes the classifier and hands the writer its last records.
        var classifier = classifying.finish()
        classifier.finish(after: reader) { writer.push($0) }
        var windows = writer.finish()
        sink?.finish()
        windows.closeWindows()
        let table = SummaryTable.render(windows: windows.summaries, parseErrors: reader.parseErrors, counters: classifier.counters)
        out.finish()
        var failure = out.failure
        let readNothing = reader.fileError != nil && classifier.counters.packets == 0 && reader.parseErrors.total == 0
        let unreadableLinkType = reader.unsupportedLinkType != nil && classifier.counters.packets == 0
            && reader.parseErrors[.unsupportedLinkType] == reader.parseErrors.total
        // No table for input that is no capture sampler reads: the error says it instead.
        if format == .table && !readNothing && !unreadableLinkType {
            var written = 0
            do throws(Errno) { try Descriptor(rawValue: STDOUT_FILENO).writeAll(Array(table.utf8), written: &written) } catch { failure = error }
        }
        if let failure, failure != .brokenPipe {
            // The counts were made whatever the disk did: the summary first, the error last.
            if format == .json && !quiet && !readNothing { printError(table) }
            printError("sampler classify: cannot write the \(format == .table ? "table" : "records") to standard output: \(failure)"
                + (out.recordsDropped > 0 ? "; \(out.recordsDropped) records dropped" : ""))
            throw ExitStatus.ioError.exit
        }
        // A capture of a link type sampler cannot read: no packet could be, so say so
        // instead of a table of parse errors.
        if unreadableLinkType, let linkType = reader.unsupportedLinkType {
            printError("sampler classify: \(inputName): link type \(linkType) is not one sampler reads; it reads \(LinkType.supportedText). "
                + "Capture with tcpdump -i nflog:GROUP, or on an Ethernet interface")
            throw ExitStatus.dataError.exit
        }
        if format == .json && !quiet && !readNothing { printError(table) }
        if failure == .brokenPipe {
            // Not a failure (`| head` wanted no more), but the table counts every record:
            // say how many of them the reader never got.
            let notWritten = windows.notWritten + out.recordsDropped
            printError(format == .table
                ? "sampler classify: standard output was closed by its reader: the summary table was not written to it (or not whole)"
                : "sampler classify: standard output was closed by its reader: \(notWritten) of the \(classifier.counters.finalized) records "
                    + "were not written to it (the summary counts them all)")
        }
        if let error = reader.fileError {
            // A stream at its end without a byte: whatever wrote it has ended, with nothing
            // written (a tcpdump that could not start, say), not one still buffering.
            let emptyStream = stream != nil && error.reason == .empty
            printError("sampler classify: \(inputName): "
                + (emptyStream ? "empty: the stream ended before a capture header (the program writing it wrote nothing: did it fail? Its own message is above)" : "\(error)"))
            // No capture at all (an empty file, another format) is input in no format
            // sampler reads; one that breaks off after its start is damaged.
            let notACapture = readNothing && [.empty, .notACapture, .unsupportedVersion].contains(error.reason)
            throw (notACapture ? ExitStatus.dataError : ExitStatus.failure).exit
        }
        if let status = sink?.status(), status.spoolRecords > 0 {
            printError("sampler classify: \(status.spoolRecords) records are not in ClickHouse yet; they wait in \(settings.spoolDirectory) "
                + "and go first the next time classify runs with this spool")
            throw ExitStatus.temporaryFailure.exit
        }
    }

    /// Reads a stream piece by piece: each piece's whole records are read, the record cut
    /// short at its end waits for the next piece.
    private func read(_ stream: CaptureStream, into reader: inout CaptureReader, deliver: (PacketSummary) -> Void) throws {
        var position: CaptureFile.Position?
        while true {
            let more = !stream.ended
            // The records of one piece; nil once the file has an error.
            func read(_ piece: inout CaptureFile) -> Int? {
                guard reader.read(&piece, more: more, deliver: deliver) else { return nil }
                position = piece.position
                return piece.consumed
            }
            let consumed: Int? = stream.withBytes { bytes in
                do throws(CaptureFileError) {
                    if let resume = position {
                        var piece = CaptureFile(resuming: resume, bytes: bytes)
                        return read(&piece)
                    }
                    var piece = try CaptureFile(checking: bytes)
                    return read(&piece)
                } catch {
                    // The header itself is not all here yet.
                    if more && (error.reason == .truncated || error.reason == .empty) { return 0 }
                    reader.fileError = error
                    return nil
                }
            }
            guard let consumed else {
                reader.fileError?.offset += stream.base
                break
            }
            stream.drop(consumed)
            if !more { break }
            do { try stream.fill() } catch {
                printError("sampler classify: cannot read \(error)")
                throw ExitStatus.ioError.exit
            }
        }
    }

    /// The input as messages name it.
    private var inputName: String { file == "-" ? "standard input" : file }

    /// The writer stage's own state: the windows its records fall in, and when it last
    /// wrote out what waited.
    private struct Windowing {
        var aggregator: WindowAggregator
        var summaries: [WindowSummary] = []
        var lastWrite = wallClock()
        /// Records not written because the reader of standard output went away.
        var notWritten: UInt64 = 0
        /// The records' dates, shared from one record to the next.
        var dates = Timestamp.Dates()
        mutating func add(_ record: ConnectionRecord) { aggregator.add(record) { summaries.append($0) } }
        /// At the end of the input: the windows still open are summed up too.
        mutating func closeWindows() { aggregator.flush { summaries.append($0) } }
        mutating func write(_ out: RecordFile) {
            out.flush()
            lastWrite = wallClock()
        }
    }

    /// Names this load's batches: FNV-1a over the capture's size, its first and last MiB,
    /// and everything that changes the rows (so the same capture with the same options
    /// gives the same batch ids, and ClickHouse keeps one copy).
    private func captureSeed(_ bytes: RawSpan, settings: Settings) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt8) { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let count = bytes.byteCount
        for byte in String(count).utf8 { mix(byte) }
        let head = min(count, 1 << 20), tailStart = max(head, count - (1 << 20))
        for i in 0..<head { mix(bytes.unsafeLoad(fromByteOffset: i, as: UInt8.self)) }
        for i in tailStart..<count { mix(bytes.unsafeLoad(fromByteOffset: i, as: UInt8.self)) }
        let options = [server ?? "", port.map(String.init) ?? "", ConfigurationFile.render(settings)].joined(separator: "|")
        for byte in options.utf8 { mix(byte) }
        return hash
    }
}
