import ArgumentParser
import SamplerConfiguration
import SamplerClickHouse
#if canImport(Glibc)
import Glibc
import SamplerSinks
#endif

/// Which ClickHouse, as whom: what `run`, `classify` and `report` share.
struct ClickHouseServerOptions: ParsableArguments {
    @Option(help: ArgumentHelp(setting: "clickhouse_url")) var clickhouseUrl: String?
    @Option(help: ArgumentHelp(setting: "clickhouse_database")) var clickhouseDatabase: String?
    @Option(help: ArgumentHelp(setting: "clickhouse_table")) var clickhouseTable: String?
    @Option(help: ArgumentHelp(setting: "clickhouse_user")) var clickhouseUser: String?
    @Option(help: ArgumentHelp(setting: "clickhouse_password_file")) var clickhousePasswordFile: String?

    var given: [(String, String?)] {
        [("clickhouse_url", clickhouseUrl), ("clickhouse_database", clickhouseDatabase), ("clickhouse_table", clickhouseTable),
         ("clickhouse_user", clickhouseUser), ("clickhouse_password_file", clickhousePasswordFile)]
    }
}

/// The ClickHouse sink's options (docs/clickhouse.md). Unset, they keep the
/// configuration's values; each is parsed as its configuration key is.
struct ClickHouseOptions: ParsableArguments {
    @OptionGroup var server: ClickHouseServerOptions
    @Option(help: ArgumentHelp(setting: "clickhouse_batch_size")) var clickhouseBatchSize: String?
    @Option(help: ArgumentHelp(setting: "clickhouse_flush_interval")) var clickhouseFlushInterval: String?
    @Option(help: ArgumentHelp(setting: "clickhouse_client_addresses")) var clickhouseClientAddresses: String?
    @Option(help: ArgumentHelp(setting: "host_id")) var hostId: String?
    @Option(help: ArgumentHelp(setting: "spool_directory")) var spoolDirectory: String?
    @Option(help: ArgumentHelp(setting: "spool_max_bytes")) var spoolMaxBytes: String?

    func apply(to settings: inout Settings) throws {
        try applyKeys(server.given + [
            ("clickhouse_batch_size", clickhouseBatchSize), ("clickhouse_flush_interval", clickhouseFlushInterval),
            ("clickhouse_client_addresses", clickhouseClientAddresses), ("host_id", hostId),
            ("spool_directory", spoolDirectory), ("spool_max_bytes", spoolMaxBytes),
        ], to: &settings)
    }
}

/// This machine's host name, for an empty host_id.
func hostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
    let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return ClickHouseRow.isHostID(name) ? name : "unknown"
}

/// Opens the sink (and its spool) for `command`; errors become messages and exit codes:
/// 69 when another sampler holds the spool, 73 when it cannot be created, 78 for a bad
/// setting or an unreadable password file.
func openClickHouseSink(_ settings: Settings, command: String, batchIDs: ClickHouseSink.BatchIDs = .clock,
                        environment: [String: String]) throws -> ClickHouseSink? {
    guard var options = try configurationStep({ () throws(ConfigurationError) in
        try settings.clickhouseSink(hostName: hostName(), environment: environment)
    }) else { return nil }
    options.batchIDs = batchIDs
    if options.spoolDirectory.hasPrefix(Settings.stateDirectory + "/") { mkdir(Settings.stateDirectory, 0o750) }
    do {
        let sink = try ClickHouseSink(options: options) { printError("sampler: \($0)") }
        printError("sampler: records also go to ClickHouse at \(options.target.display) (host \(options.row.host), "
            + "client addresses: \(options.row.clientAddresses.rawValue); spool \(options.spoolDirectory))")
        return sink
    } catch {
        printError("sampler \(command): \(error)")
        if case .inUse = error { throw ExitStatus.unavailable.exit }
        throw ExitStatus.cannotCreate.exit
    }
}
