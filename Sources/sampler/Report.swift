import ArgumentParser
import Foundation
import SamplerConfiguration
import SamplerClassifier
import SamplerClickHouse
import SamplerLocation
import SamplerReport
import SamplerRuntime
import SamplerSinks
import SamplerSystem
#if canImport(Glibc)
import Glibc
#endif

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the share of connections ending at each stage, per window; optionally draw it.",
        discussion: """
            Reads connection records (JSON lines, as run and classify write them) from FILE \
            or standard input, or with --clickhouse from the ClickHouse table that run and \
            classify insert into (settings from --config, overridden by the --clickhouse-* \
            flags). Prints one row per window (and per --by group): the connections and the \
            share that ended post_syn, post_ack, post_psh, later or none, and how many were \
            closed by a reset; then the tags of those resets. Connections with multiple SYNs \
            are left out, as in the reference write-up, and so are those still open when \
            sampler stopped (close shutdown: their outcome is unknown). The same counts as \
            docs/clickhouse/queries.sql. A record counts in the window of its finalized \
            time, as in the live window line (docs/records.md).

            --by asn and --by country split by the client's AS number (with its name from \
            the location database, when it has one) and country, which run and classify \
            put in the records (client_asn, client_country). --format radar prints the \
            shares as Cloudflare Radar's tcp_resets_timeouts summary does: post_syn, \
            post_ack, post_psh, later_in_flow (resets only) and no_match, per window and \
            for all of the input; --asn and --country select what Radar's asn and location \
            parameters select (docs/classification.md).

            --by signature prints the tampering signatures of the SIGCOMM 2023 study instead \
            of the stages: per window, each signature's connections and share, its resets, \
            and the share of those whose IPv4 IP ID gap is above 1 and whose TTL gap is above \
            ttl_margin (evidence of an injected reset; docs/classification.md).

            --as json or --as csv prints any view for scripts: the same rows and numbers as \
            the table, counts as numbers, sampler's shares as fractions (0.25) and Radar's \
            in percent, as Radar gives them; the radar view's JSON has the shape of Radar's \
            API answers (result.summary_0, result.serie_0, result.meta.dateRange; docs/clickhouse.md).

            With --svg FILE it also draws a stacked column chart of the stage shares over \
            time, one colour per stage, the count of connections under each column and a \
            legend that says what each stage means; with --by, one panel per group (the \
            6 largest) on one time axis.

            Examples:
              sampler report /var/lib/sampler/records.jsonl --svg stages.svg
              sampler report --clickhouse --by port --since 2026-11-21T00:00:00Z
              sampler report records.jsonl --by asn
              sampler report records.jsonl.1 records.jsonl --since -1d
              zcat records.jsonl.*.gz | sampler report -
              sampler report records.jsonl --format radar --country DE
              sampler report records.jsonl --by signature --as csv
              sampler report records.jsonl --format radar --as json

            \(ExitStatus.help("done", [
                .failure: "some lines were not records (the table counts the rest)",
                .noInput: "a file cannot be opened, or is compressed",
                .unavailable: "ClickHouse cannot be reached or refused the query",
                .dataError: "a file is a packet capture, not records (classify it first)",
                .cannotCreate: "the SVG cannot be written",
                .ioError: "the report cannot be written to standard output (a full disk behind it, say)",
                .configuration: "a bad setting (the configuration file, or a ClickHouse flag)",
            ]))
            """
    )

    @Argument(help: ArgumentHelp("Records files (JSON lines), read as one (a file and its rotated copies: records.jsonl records.jsonl.1); - reads standard input. Nothing: standard input from a pipe, or on a terminal the configured output (\(Settings().output)).", valueName: "file"))
    var files: [String] = []

    @Flag(help: "Read from ClickHouse instead of a file.")
    var clickhouse = false

    @OptionGroup(title: "ClickHouse") var server: ClickHouseServerOptions

    @OptionGroup var configuration: ConfigOption

    @Option(help: ArgumentHelp("Split each window by: none, port (the server's), network (the client's /24 or /48), host (from ClickHouse; a file's records are this host's: host_id, else its name), asn (the client's AS), country (the client's), or signature (the study's tampering signatures, with their evidence).", valueName: "grouping"))
    var by: Grouping = .none

    @Option(help: ArgumentHelp("table (sampler's stages) or radar (Cloudflare Radar's tcp_resets_timeouts summary).", valueName: "format"))
    var format: ReportFormat = .table

    @Option(name: .customLong("as"), help: ArgumentHelp("Print the view as text (a table to read), json or csv (for scripts).", valueName: "style"))
    var style: OutputStyle = .text

    @Option(help: ArgumentHelp("For --by signature: a reset's TTL gap above this many hops counts as evidence (default: ttl_margin, 2).", valueName: "hops"))
    var ttlMargin: String?

    @Option(help: ArgumentHelp("Only connections from clients in this AS (Radar's asn parameter).", valueName: "number"))
    var asn: UInt32?

    @Option(help: ArgumentHelp("Only connections from clients in this country, ISO 3166 alpha-2 (Radar's location parameter).", valueName: "CC"))
    var country: String?

    @Option(help: ArgumentHelp("For --by asn: the location database that names the AS numbers the records carry (records keep the client_asn and client_country run and classify gave them; default: location_database, /var/lib/location/database.db).", valueName: "path|none"))
    var locationDatabase: String?

    @Option(help: ArgumentHelp("Window length in seconds, aligned to the clock (default: the configuration's window, \(Int(Settings().window))).", valueName: "seconds"))
    var window: String?  // text, checked as the window setting is: its range in the error (a trial: 1e12 got ArgumentParser's bare "invalid")

    // Unconditional: the next word is the value even when it begins with '-' (-1h).
    @Option(parsing: .unconditional, help: ArgumentHelp("Only connections finalized at or after this time: RFC 3339 (2026-11-21T00:00:00Z, or with an offset, 2026-11-21T01:00:00+01:00), now, today, yesterday (midnight UTC), or an age (-15m, -1h, -2d, -1w).", valueName: "time"))
    var since: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Only connections finalized before this time (as --since).", valueName: "time"))
    var until: String?

    @Option(help: ArgumentHelp("Also draw the stage shares over time as an SVG chart into this file.", valueName: "file"))
    var svg: String?

    func validate() throws {
        // The same range as the window setting of run and classify.
        if let window, let problem = Setting.named("window")?.problem(with: window) {
            throw ValidationError("--window \(window): \(problem.allowed).")
        }
        if let ttlMargin, let problem = Setting.named("ttl_margin")?.problem(with: ttlMargin) {
            throw ValidationError("--ttl-margin \(ttlMargin): \(problem.allowed).")
        }
        for (flag, value) in [("--since", since), ("--until", until)] {
            if let value, ReportTime.microseconds(value, now: Self.now) == nil {
                throw ValidationError("\(flag) '\(value)' is not \(ReportTime.allowed).")
            }
        }
        if let since, let until, let start = ReportTime.microseconds(since, now: Self.now), let end = ReportTime.microseconds(until, now: Self.now), start >= end {
            throw ValidationError("--since '\(since)' is not before --until '\(until)': no connection is finalized between them; swap them, or give a later --until.")
        }
        if clickhouse && !files.isEmpty { throw ValidationError("give files or --clickhouse, not both.") }
        if files.filter({ $0 == "-" }).count > 1 { throw ValidationError("- (standard input) can be read once.") }
        if let country, CountryCode(country) == nil {
            throw ValidationError("--country '\(country)' is not a two-letter country code such as DE or BR (upper case).")
        }
        if format == .radar && svg != nil { throw ValidationError("--svg draws sampler's stages; leave out --format radar.") }
        if format == .radar && by == .signature {
            throw ValidationError("--by signature is a view of its own; leave out --format radar (Radar publishes stages only).")
        }
        if !clickhouse && server.clickhouseUrl == nil && files.contains("-") && isatty(STDIN_FILENO) != 0 {
            throw ValidationError("- reads standard input, which is a terminal: pipe records in, or give a records file.")
        }
    }

    /// One moment for --since and --until, so that "-1h" and "now" agree.
    static let now = wallClock() / 1_000_000

    func run() throws {
        let filter = ReportFilter(since: since.flatMap { ReportTime.microseconds($0, now: Self.now) },
                                  until: until.flatMap { ReportTime.microseconds($0, now: Self.now) }, asn: asn,
                                  country: country.flatMap { CountryCode($0) })
        var badLines = false
        var settings = try configuration.load()
        // --window was checked in validate(); read here as the setting reads it.
        try applyKeys([("location_database", locationDatabase), ("ttl_margin", ttlMargin), ("window", window)], to: &settings)
        // The file's values as every command checks them (a trial: window = 0 crashed).
        try configurationStep { () throws(ConfigurationError) in try settings.validate(checkOutputDirectory: false) }
        var table = StageTable(windowSeconds: Int64(settings.window), grouping: by, ttlMargin: settings.ttlMargin)
        if clickhouse || server.clickhouseUrl != nil {
            try applyKeys(server.given, to: &settings)
            guard !settings.clickhouseURL.isEmpty else {
                printError("sampler report: no ClickHouse to ask: set clickhouse_url in the configuration or pass --clickhouse-url")
                throw ExitStatus.configuration.exit
            }
            guard let options = try configurationStep({ () throws(ConfigurationError) in
                try settings.clickhouseSink(hostName: hostName(), environment: ProcessInfo.processInfo.environment)
            }) else { return }
            do {
                try ClickHouseStages.load(ClickHouseClient(target: options.target, timeoutSeconds: 60), into: &table, filter: filter)
            } catch {
                printError("sampler report: \(error)")
                throw ExitStatus.unavailable.exit
            }
        } else {
            // Nothing on a terminal: the records this host's daemon writes.
            let paths = !files.isEmpty ? files : [isatty(STDIN_FILENO) != 0 ? settings.output : "-"]
            if files.isEmpty && paths == ["-"] && isatty(STDIN_FILENO) != 0 {
                printError("sampler report: give a records file, pipe records in, or --clickhouse (the configured output is standard output)")
                throw ExitStatus.usage.exit
            }
            if files.isEmpty && paths != ["-"] { printError("sampler report: reading \(paths[0]) (the configured output; give a file, or pipe records in, for others)") }
            for path in paths {
                let name = path == "-" ? "standard input" : path
                let fd: Int32
                do { fd = path == "-" ? STDIN_FILENO : try Descriptor.open(path, O_RDONLY).rawValue } catch {
                    printError("sampler report: cannot read \(path): \(error)")
                    throw ExitStatus.noInput.exit
                }
                defer { if fd != STDIN_FILENO { close(fd) } }
                let outcome: RecordLines.Outcome
                // Records carry no host: a file's are this host's, named as its ClickHouse
                // rows would be (host_id, else the host name), for --by host.
                let host = settings.hostID.isEmpty ? hostName() : settings.hostID
                do { outcome = try RecordLines.read(fd: fd, into: &table, host: host, filter: filter) } catch {
                    printError("sampler report: cannot read \(path): \(error)")
                    throw ExitStatus.noInput.exit
                }
                if outcome.capture {
                    let file = path == "-" ? "FILE" : path
                    printError("sampler report: \(name) is a packet capture, not records: classify it first "
                        + "('sampler classify \(file) | sampler report -')")
                    throw ExitStatus.dataError.exit
                }
                if let compression = outcome.compressed {
                    let file = path == "-" ? "FILE" : path
                    printError("sampler report: \(name) is compressed (\(compression.rawValue)): read it through \(compression.reader) "
                        + "('\(compression.reader) \(file) | sampler report -')")
                    throw ExitStatus.noInput.exit
                }
                table.linesNotRecords += outcome.badLines
                if outcome.badLines > 0 {
                    printError("sampler report: \(name): \(counted(outcome.badLines, "line")) \(outcome.badLines == 1 ? "is" : "are") not "
                        + "a record (not JSON, a field missing or out of range; the first is line \(outcome.firstBadLine ?? 0)); left out")
                    badLines = true
                }
            }
        }
        // AS names from the location database, when --by asn asks and it has them.
        let locator = by == .asn ? settings.locationDatabasePath.map {
            ClientLocator(path: $0, without: "AS numbers are shown without names") { printError("sampler report: \($0)") }
        } : nil
        let label = { (group: String) -> String in
            guard let locator, let number = UInt32(group), let name = locator.asName(number) else { return group }
            return "\(group) \(name)"
        }
        let output: String
        switch (style, format == .radar ? "radar" : by == .signature ? "signatures" : "stages") {
        case (.text, "radar"): output = table.renderRadar(label: label)
        case (.text, "signatures"): output = table.renderSignatures()
        case (.text, _): output = table.render(label: label)
        case (.json, "radar"): output = table.radarJSON()
        case (.json, "signatures"): output = table.jsonDocument(view: "signatures", rows: table.signatureRows())
        case (.json, _): output = table.jsonDocument(view: "stages", rows: table.stageRows(label: label))
        case (.csv, "radar"): output = table.radarRows().csv()
        case (.csv, "signatures"): output = table.signatureRows().csv()
        case (.csv, _): output = table.stageRows(label: label).csv()
        }
        // The chart's file made first: one that cannot be is said before the table, not after.
        var chart: Descriptor?
        if let svg {
            do { chart = try Descriptor.open(svg, O_WRONLY | O_CREAT | O_TRUNC) } catch {
                printError("sampler report: cannot write the chart to \(svg): \(error)")
                throw ExitStatus.cannotCreate.exit
            }
        }
        // Written whole or said: a full disk behind standard output is no report (a trial:
        // exit 0, the report lost). A reader that went away (`| head`) wanted no more: EPIPE,
        // not death by SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        var written = 0
        do throws(Errno) { try Descriptor(rawValue: STDOUT_FILENO).writeAll(Array(output.utf8), written: &written) } catch where error != .brokenPipe {
            printError("sampler report: cannot write the report to standard output: \(error)")
            throw ExitStatus.ioError.exit
        } catch {}
        if let svg, let fd = chart {
            let bytes = Array(StageChart.svg(table, label: label).utf8)
            do throws(Errno) {
                var written = 0
                do { try fd.writeAll(bytes, written: &written) } catch {
                    fd.close()
                    throw error
                }
                if let error = fd.close() { throw error }
            } catch {
                printError("sampler report: cannot write the chart to \(svg): \(error)")
                throw ExitStatus.cannotCreate.exit
            }
        }
        if badLines { throw ExitStatus.failure.exit }
    }
}

extension Grouping: ExpressibleByArgument {}
extension ReportFormat: ExpressibleByArgument {}
extension OutputStyle: ExpressibleByArgument {}
