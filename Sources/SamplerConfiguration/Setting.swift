import SamplerClickHouse
import SamplerRules
import SamplerSystem

/// One setting, declared once: its configuration key, what it does, its default (read
/// from `Settings()`), the values allowed, and how its text is read, checked and written.
/// The configuration file's keys and order, `config check`'s output, the flags' help and
/// every "bad value" error come from these declarations (`Setting.all`); adding a
/// setting is one entry here, a field in `Settings`, and its use.
public struct Setting: Sendable {
    /// The configuration key, `idle_timeout`; its flag is `--idle-timeout`.
    public let key: String
    /// What it does, for --help (a sentence without the default).
    public let summary: String
    /// The values allowed, as errors and docs/operations.md say them.
    public let allowed: String
    /// The flag's value in --help: `seconds`, `path`, `n|auto`.
    public let valueName: String
    /// What --help says the default is, when the value alone would not say it ("off").
    private let defaultNote: String?
    /// Reads the text into the settings; false if it is not of the setting's type.
    private let read: @Sendable (String, inout Settings) -> Bool
    /// The value in the file's format.
    private let write: @Sendable (Settings) -> String
    /// Whether the value is allowed (the type alone may not say: a range, a path).
    private let check: @Sendable (Settings) -> Bool

    /// The flag that sets it.
    public var flag: String { "--" + key.split(separator: "_").joined(separator: "-") }

    /// The default in the file's format.
    public var defaultValue: String { write(Settings()) }

    /// The default as --help and docs/operations.md say it.
    public var defaultText: String { defaultNote ?? defaultValue }

    /// The flag's help: what it does and its default, once.
    public var help: String { "\(summary) (default: \(defaultText))." }

    /// Its row in docs/operations.md's table of keys.
    public var documentationRow: String { "| `\(key)` | \(defaultText) | \(allowed) |" }

    /// The value in `settings`, in the file's format.
    public func value(in settings: Settings) -> String { write(settings) }

    /// Sets the value from text (a file's or a flag's) and marks the key as given; the
    /// error names the key, the value and what is allowed. Range checks wait for
    /// `Settings.validate`, so that they see the value last given.
    public func set(_ text: String, in settings: inout Settings, at location: String? = nil) throws(ConfigurationError) {
        if let problem = Self.unwritable(text) {
            throw ConfigurationError(key: key, value: text, allowed: problem, location: location)
        }
        guard read(text, &settings) else {
            throw ConfigurationError(key: key, value: text, allowed: allowed, location: location)
        }
        settings.explicitKeys.insert(key, at: location)
    }

    /// Why no file could hold `text` as a value, so that whatever is set, from a file or a
    /// flag, renders (`ConfigurationFile.render`) to a file that reads back the same: no
    /// control characters, no space at either end (lines are trimmed), no `#` at its start or
    /// after a space (that starts a comment).
    static func unwritable(_ text: String) -> String? {
        if text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "a value cannot hold control characters"
        }
        if text.first?.isWhitespace == true || text.last?.isWhitespace == true {
            return "a value cannot start or end with a space"
        }
        if text.first == "#" || zip(text, text.dropFirst()).contains(where: { $0.isWhitespace && $1 == "#" }) {
            return "a value cannot start with #, or hold a space followed by # (that starts a comment)"
        }
        return nil
    }

    /// Nil if `text` is an allowed value of this setting on its own (for a command's flag
    /// that means the same, such as report's --window); otherwise the error.
    public func problem(with text: String) -> ConfigurationError? {
        var settings = Settings()
        do { try set(text, in: &settings) } catch { return error }
        return problem(in: settings)
    }

    /// Nil if the value in `settings` is allowed; otherwise the error.
    func problem(in settings: Settings) -> ConfigurationError? {
        check(settings) ? nil
            : ConfigurationError(key: key, value: write(settings), allowed: allowed, location: settings.explicitKeys.location(of: key))
    }

    /// The setting with `key`, if there is one.
    public static func named(_ key: String) -> Setting? { all.first { $0.key == key } }
}

// MARK: the kinds of setting

extension Setting {
    /// A value that reads and writes itself as text: numbers, strings, enumerations.
    static func value<Value: LosslessStringConvertible & Sendable>(
        _ key: String, _ field: WritableKeyPath<Settings, Value> & Sendable, _ summary: String,
        allowed: String, valueName: String, defaultNote: String? = nil,
        check: @escaping @Sendable (Value) -> Bool = { _ in true }
    ) -> Setting {
        Setting(key: key, summary: summary, allowed: allowed, valueName: valueName, defaultNote: defaultNote,
                read: { text, settings in
                    guard let value = Value(text) else { return false }
                    settings[keyPath: field] = value
                    return true
                },
                write: { "\($0[keyPath: field])" },
                check: { check($0[keyPath: field]) })
    }

    /// Seconds, written without a needless ".0" (120, 0.5).
    static func seconds(
        _ key: String, _ field: WritableKeyPath<Settings, Double> & Sendable, _ summary: String,
        allowed: String, check: @escaping @Sendable (Double) -> Bool
    ) -> Setting {
        Setting(key: key, summary: summary, allowed: allowed, valueName: "seconds", defaultNote: nil,
                read: { text, settings in
                    guard let value = Double(text), value.isFinite else { return false }
                    settings[keyPath: field] = value
                    return true
                },
                write: { plain($0[keyPath: field]) },
                check: { check($0[keyPath: field]) })
    }

    /// true or false: exactly what the docs say, since a second spelling would be a
    /// second fact.
    static func boolean(_ key: String, _ field: WritableKeyPath<Settings, Bool> & Sendable, _ summary: String) -> Setting {
        Setting(key: key, summary: summary, allowed: "true or false", valueName: "bool", defaultNote: nil,
                read: { text, settings in
                    guard let flag = ["true": true, "false": false][text] else { return false }
                    settings[keyPath: field] = flag
                    return true
                },
                write: { "\($0[keyPath: field])" },
                check: { _ in true })
    }

    /// One of a fixed set of words.
    static func choice<Value: RawRepresentable & CaseIterable & Sendable>(
        _ key: String, _ field: WritableKeyPath<Settings, Value> & Sendable, _ summary: String, allowed: String
    ) -> Setting where Value.RawValue == String {
        Setting(key: key, summary: summary, allowed: allowed,
                valueName: Value.allCases.map(\.rawValue).joined(separator: "|"), defaultNote: nil,
                read: { text, settings in
                    guard let value = Value(rawValue: text) else { return false }
                    settings[keyPath: field] = value
                    return true
                },
                write: { $0[keyPath: field].rawValue },
                check: { _ in true })
    }
}

/// A number of seconds as a person writes it: 120, not 120.0.
func plain(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
}

/// The IP versions the rules cover.
public enum Families: String, Sendable, CaseIterable {
    case v4 = "4", v6 = "6", both

    public var versions: [IPVersion] {
        switch self {
        case .v4: [.v4]
        case .v6: [.v6]
        case .both: [.v4, .v6]
        }
    }

    /// The families of these versions (both when they name both, or none).
    public init(_ versions: [IPVersion]) {
        self = versions.count == 1 ? (versions[0] == .v4 ? .v4 : .v6) : .both
    }
}


// MARK: every setting, in the order the configuration file lists them

extension Setting {
    public static let all: [Setting] = [
        // The rules (docs/rules.md).
        .value("probability", \.rules.probability, "Chance that a new inbound TCP connection is sampled",
               allowed: RuleParameters.Allowed.probability, valueName: "p", check: RuleParameters.isValid(probability:)),
        Setting(key: "label", summary: "Conntrack label that marks a sampled connection: its bit, or its name",
                allowed: RuleParameters.Allowed.label, valueName: "bit|name", defaultNote: nil,
                read: { text, settings in settings.rules.label = text; return true },
                write: { $0.rules.label },
                check: { RuleParameters.isValid(label: $0.rules.label) }),
        .value("group", \.rules.group, "NFLOG group the logging rule sends to and run reads",
               allowed: "an NFLOG group, 0 to 65535", valueName: "group"),
        .value("packets", \.rules.packets, "Packets logged per sampled connection, client to server",
               allowed: RuleParameters.Allowed.packets, valueName: "n", check: RuleParameters.isValid(packets:)),
        .value("prefix", \.rules.prefix, "The --nflog-prefix of logged packets",
               allowed: RuleParameters.Allowed.prefix, valueName: "text", check: RuleParameters.isValid(prefix:)),
        .choice("family", \.family, "IP versions the rules cover", allowed: "4, 6 or both"),
        .choice("backend", \.backend,
                "The tools that install the rules: iptables as the system has it (auto), iptables-nft (nft), iptables-legacy (legacy), or a native nftables table (nftables)",
                allowed: "auto, nft, legacy or nftables"),
        .value("nftables_table", \.nftablesTable, "The nftables backend's table of its own, table inet NAME",
               allowed: NftablesRuleSet.allowedTable, valueName: "name", check: NftablesRuleSet.isValid(table:)),
        .boolean("repair_rules", \.repairRules,
                 "Reinstall the rules run works with when they vanish (a firewall reload: flush ruleset, iptables -F); never over rules changed on purpose"),
        .seconds("rules_check_interval", \.rulesCheckInterval, "Seconds between run's checks that its rules are still in the kernel (and at once when NFLOG goes quiet)",
                 allowed: "seconds, 0.2 to 3600", check: { $0 >= 0.2 && $0 <= 3600 }),

        // Reading and classifying (docs/classification.md).
        .value("output", \.output, "File the records are appended to; - for standard output",
               allowed: "a file path, or - for standard output", valueName: "path", check: { !$0.isEmpty }),
        .seconds("idle_timeout", \.idleTimeout, "Seconds without a packet after which an open connection is a timeout",
                 allowed: "seconds, more than 0 and at most 2592000 (30 days)", check: { $0 > 0 && $0 <= 2_592_000 }),
        .seconds("grace", \.grace, "Seconds after the first RST or FIN in which later packets still belong to the connection",
                 allowed: "seconds, 0 to 3600", check: { $0 >= 0 && $0 <= 3600 }),
        .value("ttl_margin", \.ttlMargin, "TTL difference between a RST and the SYN above which ttl_mismatch is set",
               allowed: "hops, 0 to 255", valueName: "hops", check: { (0...255).contains($0) }),
        .seconds("window", \.window, "Aggregation window for the summaries, in seconds, aligned to the clock",
                 allowed: "seconds, 1 to 31622400 (a year)", check: { $0 >= 1 && $0 <= 31_622_400 }),
        .boolean("include_multiple_syns", \.includeMultipleSyns,
                 "Count connections tagged multiple_syns in the stage shares (left out by default, as in the reference)"),
        .value("max_connections", \.maxConnections,
               "Most connections held open at once; split between the shards, tables preallocated; when it is full, a new SYN evicts the connection idle longest (tag evicted, counted)",
               allowed: "a whole number, at least 1 (and at least shards)", valueName: "n", check: { $0 >= 1 }),
        .value("receive_buffer", \.receiveBuffer, "Socket receive buffer to start with, in bytes (the kernel reports, and status shows, twice this); doubled on each overrun up to max_receive_buffer",
               allowed: "bytes, 4096 to 1073741824", valueName: "bytes", check: { (4096...(1 << 30)).contains($0) }),
        .value("max_receive_buffer", \.maxReceiveBuffer, "Largest receive buffer that overruns (ENOBUFS) may grow it to, in bytes (as receive_buffer: status shows twice this)",
               allowed: "bytes, at least receive_buffer and at most 1073741824", valueName: "bytes", check: { $0 <= 1 << 30 }),
        Setting(key: "shards", summary: "Classifier threads; auto leaves a core each for the reader and the writer",
                allowed: "auto, or a whole number 1 to 256", valueName: "n|auto", defaultNote: nil,
                read: { text, settings in
                    if text == "auto" { settings.shards = 0; return true }
                    guard let n = Int(text), n >= 1 else { return false }
                    settings.shards = n
                    return true
                },
                write: { $0.shards == 0 ? "auto" : "\($0.shards)" },
                check: { (0...256).contains($0.shards) }),
        .value("ring_size", \.ringSize, "Packet summaries queued in front of each shard; when full the reader drops the newest and counts it",
               allowed: "packets, 64 to 16777216", valueName: "packets", check: { (64...(1 << 24)).contains($0) }),

        .value("location_database", \.locationDatabase,
               "The IPFire location database (libloc) that gives each record the client's AS number and country; none turns it off",
               allowed: "an absolute path, or none", valueName: "path|none", check: { $0 == "none" || $0.hasPrefix("/") }),

        // The endpoints (docs/operations.md).
        .value("status_socket", \.statusSocket, "Unix socket that `sampler status` asks",
               allowed: "an absolute path of at most \(UnixSocketAddress.maximumPathBytes) bytes", valueName: "path",
               check: { $0.hasPrefix("/") && $0.utf8.count <= UnixSocketAddress.maximumPathBytes }),
        .value("status_socket_group", \.statusSocketGroup,
               "Group of the status socket, for `sampler status` without root (the package's unit sets sampler); empty: the daemon's own group",
               allowed: "a group name or number, or empty", valueName: "group", defaultNote: "the daemon's group",
               check: Settings.isValid(groupName:)),
        .value("status_socket_mode", \.statusSocketMode, "Mode of the status socket, in octal; who may connect is who may write",
               allowed: "an octal mode from 0600 to 0666", valueName: "mode",
               check: Settings.isValid(socketMode:)),
        .value("metrics", \.metrics, "Prometheus endpoint, ADDR:PORT (IPv6 in brackets), or none",
               allowed: "none, or ADDR:PORT with an IP address: 127.0.0.1:9731, [::1]:9731, 0.0.0.0:9731", valueName: "addr:port|none",
               check: { $0 == "none" || ListenAddress($0) != nil }),

        // ClickHouse (docs/clickhouse.md).
        .value("clickhouse_url", \.clickhouseURL,
               "ClickHouse's HTTP interface, http://HOST[:PORT][/PATH]; several, separated by commas, are tried in order, the first that answers taking each request",
               allowed: "http://HOST[:PORT][/PATH] (or several, separated by commas), or empty for off", valueName: "url", defaultNote: "off"),
        .value("clickhouse_database", \.clickhouseDatabase, "ClickHouse database",
               allowed: "a plain name: letters, digits and _", valueName: "name", check: ClickHouseTarget.isIdentifier),
        .value("clickhouse_table", \.clickhouseTable, "ClickHouse table, created with docs/clickhouse/schema.sql",
               allowed: "a plain name: letters, digits and _", valueName: "name", check: ClickHouseTarget.isIdentifier),
        .value("clickhouse_user", \.clickhouseUser, "ClickHouse user",
               allowed: "printable ASCII without spaces or ':'", valueName: "name"),
        .value("clickhouse_password_file", \.clickhousePasswordFile,
               "File holding the ClickHouse password; a relative name is looked up in systemd's $CREDENTIALS_DIRECTORY",
               allowed: "a readable file: an absolute path, or a name without '/' (systemd's credential)", valueName: "path", defaultNote: "none",
               check: { $0.isEmpty || $0.hasPrefix("/") || !$0.contains("/") }),
        .value("clickhouse_batch_size", \.clickhouseBatchSize, "Records per insert",
               allowed: "records, 1 to 1000000", valueName: "n", check: { (1...1_000_000).contains($0) }),
        .seconds("clickhouse_flush_interval", \.clickhouseFlushInterval, "Longest a record waits for its batch, in seconds",
                 allowed: "seconds, 0.1 to 3600", check: { $0 >= 0.1 && $0 <= 3600 }),
        .choice("clickhouse_client_addresses", \.clickhouseClientAddresses,
                "What of the client's address goes to ClickHouse", allowed: "truncate (to /24 and /48), drop or keep"),
        .value("host_id", \.hostID, "The host column, so that many hosts share a table",
               allowed: "at most 253 letters, digits, '.', '-', '_' or ':' (empty: the host name)", valueName: "id",
               defaultNote: "the host name", check: { $0.isEmpty || ClickHouseRow.isHostID($0) }),
        .value("spool_directory", \.spoolDirectory, "Directory for batches waiting for ClickHouse",
               allowed: "an absolute path", valueName: "path", defaultNote: "\(Settings().spoolDirectory); for classify \(Settings.classifySpoolDirectory)",
               check: { $0.hasPrefix("/") }),
        .value("spool_max_bytes", \.spoolMaxBytes, "Most bytes the spool may hold; beyond it the oldest batches are dropped and counted",
               allowed: "bytes, at least 1048576", valueName: "bytes", check: { $0 >= 1 << 20 }),
    ]
}
