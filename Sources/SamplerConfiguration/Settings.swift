import SamplerClassifier
import SamplerClickHouse
import SamplerSystem
import SamplerRules
import SamplerWire

/// Every option of `sampler run` and `sampler rules`, with its default: what the
/// configuration file sets and command-line flags override. One place for the defaults
/// and for what is allowed.
public struct Settings: Sendable, Equatable {
    public var rules = RuleParameters()
    /// The keys a configuration file or an option set (the rest are defaults), so that
    /// `status` warns only about values somebody chose.
    public var explicitKeys = ExplicitKeys()
    public var family = Families.both
    public var backend = Backend.auto
    public var nftablesTable = NftablesRuleSet.defaultTable
    /// `run` puts its rules back when a firewall reload removed them (docs/rules.md).
    public var repairRules = true
    public var rulesCheckInterval = 5.0
    public var output = Self.stateDirectory + "/records.jsonl"
    // The classifier's and the windows' defaults are theirs (ClassifierConfiguration,
    // WindowAggregator): declared there once.
    public var idleTimeout = Self.seconds(ClassifierConfiguration().idleTimeout)
    public var grace = Self.seconds(ClassifierConfiguration().gracePeriod)
    public var ttlMargin = ClassifierConfiguration().ttlMargin
    public var window = Self.seconds(WindowAggregator.defaultLength)
    public var includeMultipleSyns = false
    /// Open connections held at once by `run` (split between the shards, each table
    /// preallocated).
    public var maxConnections = ClassifierConfiguration().maxConnections
    public var receiveBuffer = 4 << 20
    public var maxReceiveBuffer = 64 << 20
    /// Classifier threads; 0 picks what fits the machine (cores minus the reader and
    /// the writer, at least 1).
    public var shards = 0
    /// Packet summaries queued per shard before the reader drops (and counts) them.
    public var ringSize = 16384
    /// The Unix socket `sampler status` asks; in systemd's RuntimeDirectory.
    public var statusSocket = "/run/sampler/status.sock"
    /// Who besides root and the daemon's own user may ask it: the socket's group (empty:
    /// the daemon's group; the package's unit names `sampler`) and mode.
    public var statusSocketGroup = ""
    public var statusSocketMode = "0660"
    /// The Prometheus endpoint, `ADDR:PORT`, or `none`.
    public var metrics = "127.0.0.1:9731"

    /// The IPFire location database that gives records the client's AS number and
    /// country (docs/records.md), or `none`. libloc1 links this path to Debian's
    /// libloc-database file, and `location update` replaces it with a newer one.
    public var locationDatabase = "/var/lib/location/database.db"

    /// ClickHouse (docs/clickhouse.md): off while the URL is empty.
    public var clickhouseURL = ""
    public var clickhouseDatabase = ClickHouseTarget.defaultDatabase
    public var clickhouseTable = ClickHouseTarget.defaultTable
    public var clickhouseUser = ClickHouseTarget.defaultUser
    /// A file holding the password (relative: under systemd's $CREDENTIALS_DIRECTORY).
    public var clickhousePasswordFile = ""
    /// Records per insert, and the longest a record waits for its batch to fill.
    public var clickhouseBatchSize = ClickHouseSink.Options.defaultBatchRecords
    public var clickhouseFlushInterval = Self.seconds(ClickHouseSink.Options.defaultFlushInterval)
    /// Client addresses leave the host truncated to /24 and /48 unless said otherwise.
    public var clickhouseClientAddresses = ClientAddressPolicy.truncate
    /// The host column; empty is the machine's host name.
    public var hostID = ""
    /// Batches waiting for ClickHouse, on disk, and how much of the disk they may take.
    public var spoolDirectory = Self.stateDirectory + "/spool"
    public var spoolMaxBytes = ClickHouseSink.Options.defaultSpoolMaxBytes

    public init() {}

    private static func seconds(_ time: Microseconds) -> Double { Double(time) / 1_000_000 }

    public static let defaultPath = "/etc/sampler/sampler.conf"
    /// `classify`'s spool, apart from the daemon's so that the two never share one.
    public static let classifySpoolDirectory = stateDirectory + "/classify-spool"
    /// sampler's own directory (systemd's StateDirectory): made when a default needs it.
    public static let stateDirectory = "/var/lib/sampler"

    /// Checks every value (each setting's own check, then what settings say of each
    /// other); the error names the key, the value, what is allowed and, for a value from a
    /// file, the file and line.
    public func validate(checkOutputDirectory: Bool = true) throws(ConfigurationError) {
        for setting in Setting.all {
            if let problem = setting.problem(in: self) { throw problem }
        }
        func bad(_ key: String, _ value: Any, _ allowed: String) -> ConfigurationError {
            ConfigurationError(key: key, value: "\(value)", allowed: allowed, location: explicitKeys.location(of: key))
        }
        if Int(rules.label) == nil && ConnLabels().bit(of: rules.label) == nil {
            throw bad("label", rules.label, "not a bit number (0-127) and not a name in \(ConnLabels.defaultPath): "
                + "give a bit number, or add a line '<bit> \(rules.label)' to that file")
        }
        if maxReceiveBuffer < receiveBuffer { throw bad("max_receive_buffer", maxReceiveBuffer, Setting.named("max_receive_buffer")!.allowed) }
        if maxConnections < max(1, shards) { throw bad("max_connections", maxConnections, Setting.named("max_connections")!.allowed) }
        if !clickhouseURL.isEmpty {
            do { _ = try clickhouseTarget(password: "") } catch { throw bad("clickhouse_url", clickhouseURL, error.description) }
        }
        if checkOutputDirectory && output != "-" {
            let directory = output.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
            if !directory.isEmpty && !isDirectory(directory) && output != Settings().output {
                throw bad("output", output, "a path in an existing directory (\(directory) does not exist)")
            }
        }
    }

    /// The classifier's part.
    public var classifier: ClassifierConfiguration {
        var configuration = ClassifierConfiguration()
        configuration.idleTimeout = Microseconds(idleTimeout * 1_000_000)
        configuration.gracePeriod = Microseconds(grace * 1_000_000)
        configuration.ttlMargin = ttlMargin
        // The rules log the first `packets` of a connection: the classifier finalizes it at
        // that many (close `cap`), not at a cap of its own.
        configuration.packetCap = rules.packets
        configuration.maxConnections = maxConnections
        return configuration
    }

    /// `window` in microseconds, as the aggregators take it.
    public var windowLength: Microseconds { Microseconds(window * 1_000_000) }

    /// The ClickHouse server, database, table and user, with `password`.
    public func clickhouseTarget(password: String) throws(ClickHouseTarget.InvalidTarget) -> ClickHouseTarget {
        try ClickHouseTarget(url: clickhouseURL, database: clickhouseDatabase, table: clickhouseTable, user: clickhouseUser, password: password)
    }

    /// The path `clickhouse_password_file` names: as given when absolute, else in systemd's
    /// credentials directory; nil when there is no file, or when it is relative and
    /// `$CREDENTIALS_DIRECTORY` is not set (outside the service).
    public func clickhousePasswordPath(environment: [String: String]) -> String? {
        if clickhousePasswordFile.isEmpty { return nil }
        if clickhousePasswordFile.hasPrefix("/") { return clickhousePasswordFile }
        return environment["CREDENTIALS_DIRECTORY"].map { "\($0)/\(clickhousePasswordFile)" }
    }

    /// The ClickHouse password, read from its file; nil when there is no file. A relative
    /// name without `$CREDENTIALS_DIRECTORY` is read from the working directory, as before.
    public func clickhousePassword(environment: [String: String]) throws(ConfigurationError) -> String? {
        if clickhousePasswordFile.isEmpty { return nil }
        let path = clickhousePasswordPath(environment: environment) ?? clickhousePasswordFile
        do { return String(try TextFile.read(path).trimmed) } catch {
            throw ConfigurationError(key: "clickhouse_password_file", value: clickhousePasswordFile,
                                     allowed: "a readable file (\(path): \(error))",
                                     location: explicitKeys.location(of: "clickhouse_password_file"))
        }
    }

    /// The ClickHouse sink's options, the password read from its file; nil when
    /// ClickHouse is off. `hostName` fills an empty host_id.
    public func clickhouseSink(hostName: String, environment: [String: String]) throws(ConfigurationError) -> ClickHouseSink.Options? {
        guard !clickhouseURL.isEmpty else { return nil }
        let password = try clickhousePassword(environment: environment) ?? ""
        let target: ClickHouseTarget
        do { target = try clickhouseTarget(password: password) } catch {
            throw ConfigurationError(key: "clickhouse_url", value: clickhouseURL, allowed: error.description,
                                     location: explicitKeys.location(of: "clickhouse_url"))
        }
        var options = ClickHouseSink.Options(
            target: target,
            row: ClickHouseRow.Context(host: hostID.isEmpty ? hostName : hostID, clientAddresses: clickhouseClientAddresses),
            spoolDirectory: spoolDirectory)
        options.batchRecords = clickhouseBatchSize
        options.flushInterval = Microseconds(clickhouseFlushInterval * 1_000_000)
        options.spoolMaxBytes = spoolMaxBytes
        return options
    }

    /// The location database's path; nil when it is off.
    public var locationDatabasePath: String? { locationDatabase == "none" ? nil : locationDatabase }

    /// Where the metrics endpoint listens; nil when it is off.
    public var metricsAddress: ListenAddress? { metrics == "none" ? nil : ListenAddress(metrics) }

    public var versions: [IPVersion] { family.versions }

    /// The keys SIGHUP applies to a running daemon: the classifier's timeouts and margin,
    /// which each shard takes between two batches. Every other key needs a restart (the
    /// rules, the group and the sockets are bound at the start; tables, rings and windows
    /// are sized then).
    public static let keysAppliedOnReload: [String] = ["idle_timeout", "grace", "ttl_margin"]

    /// What differs from `fresh`, key by key as the file writes the values, split into
    /// what a reload applies and what needs a restart.
    public func changes(to fresh: Settings) -> (applied: [String], needRestart: [String]) {
        var applied: [String] = [], needRestart: [String] = []
        for setting in Setting.all {
            let (old, new) = (setting.value(in: self), setting.value(in: fresh))
            guard old != new else { continue }
            let change = "\(setting.key) \(old) -> \(new)"
            if Self.keysAppliedOnReload.contains(setting.key) { applied.append(change) } else { needRestart.append(change) }
        }
        return (applied, needRestart)
    }

    /// These settings with the reloadable keys of `fresh`.
    public func reloaded(from fresh: Settings) -> Settings {
        var next = self
        for key in Self.keysAppliedOnReload {
            guard let setting = Setting.named(key) else { continue }
            try? setting.set(setting.value(in: fresh), in: &next)
        }
        return next
    }

    /// Read and write for the owner at least, nothing executable, no special bits.
    @Sendable static func isValid(socketMode text: String) -> Bool {
        guard let mode = UInt32(text, radix: 8) else { return false }
        return mode & 0o600 == 0o600 && mode & 0o7111 == 0 && mode <= 0o666
    }

    @Sendable static func isValid(groupName text: String) -> Bool {
        text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == ".") }
    }

    /// The tools for the configured backend.
    public var ruleManager: RuleManager { RuleManager(backend: backend, nftablesTable: nftablesTable) }
}

/// The name (or number) of the group that owns `path`; nil when it cannot be read.
public func groupName(of path: String) -> String? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    var group = group(), result: UnsafeMutablePointer<group>? = nil
    var buffer = [CChar](repeating: 0, count: 16_384)
    guard getgrgid_r(info.st_gid, &group, &buffer, buffer.count, &result) == 0, result != nil else { return String(info.st_gid) }
    return String(cString: group.gr_name)
}

extension Settings {
    /// The status socket's group as a number, looked up now; nil when none is set.
    /// Here, not in the service, so that `config check` refuses what `run` refuses
    /// without linking the live path.
    public func statusSocketGroupID() throws(ConfigurationError) -> gid_t? {
        guard !statusSocketGroup.isEmpty else { return nil }
        guard let gid = groupID(statusSocketGroup) else {
            throw ConfigurationError(key: "status_socket_group", value: statusSocketGroup,
                                     allowed: "a group that exists (create it with 'groupadd --system \(statusSocketGroup)'), a group number, or empty",
                                     location: explicitKeys.location(of: "status_socket_group"))
        }
        return gid
    }
}

/// A group's number, from its name (getgrnam_r, NSS included) or as a number.
public func groupID(_ name: String) -> gid_t? {
    if let number = gid_t(name) { return number }
    var group = group(), result: UnsafeMutablePointer<group>? = nil
    var buffer = [CChar](repeating: 0, count: 16_384)
    guard getgrnam_r(name, &group, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
    return group.gr_gid
}

private func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
}

#if canImport(Glibc)
import Glibc
#endif

/// Which settings were given rather than defaulted. Where a value came from is not part
/// of the settings' value: settings equal in every value are equal (so `==` ignores it).
public struct ExplicitKeys: Sendable, Equatable {
    /// Each key given, with where ("sampler.conf:12"), or nil for an option.
    public private(set) var locations: [String: String?] = [:]

    public init() {}

    public func contains(_ key: String) -> Bool { locations[key] != nil }
    public mutating func insert(_ key: String, at location: String? = nil) { locations[key] = .some(location) }
    /// Where a key was set in a file, for errors found after reading it.
    public func location(of key: String) -> String? { locations[key] ?? nil }

    public static func == (_: ExplicitKeys, _: ExplicitKeys) -> Bool { true }
}
