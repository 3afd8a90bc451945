import SamplerClickHouse
import SamplerRules

/// A configuration error: the key, the value, what is allowed, and where.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    public var key: String
    public var value: String
    public var allowed: String
    public var location: String?

    public var description: String {
        let place = location.map { "\($0): " } ?? ""
        if key == "rules" { return place + allowed }
        let (key, value) = (Self.printable(key), Self.printable(value))
        // From a file: the file, the line and the key. Otherwise the key and its option.
        guard location == nil, ConfigurationFile.keys.contains(key) else { return "\(place)\(key) = \(value): \(allowed)" }
        let flag = "--" + key.split(separator: "_").joined(separator: "-")
        return "\(key) = \(value) (\(flag)): \(allowed)"
    }

    /// The text with control characters and other unprintable bytes as \xNN, so that a
    /// binary file given as the configuration does not write raw bytes to a terminal.
    static func printable(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.properties.generalCategory == .control || scalar == "\u{FFFD}" {
                out += scalar.value < 0x100 ? "\\x" + String(scalar.value, radix: 16).leftPadded(to: 2) : "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out.count > 80 ? String(out.prefix(80)) + "..." : out
    }
}

/// The configuration file: one `key = value` per line; `#` starts a comment; blank
/// lines are ignored; keys are the long option names with `_` for `-`
/// (docs/operations.md lists them). An unknown key is an error, not a silent default.
public enum ConfigurationFile {
    /// Every key, in the order `render` writes them.
    public static let keys = [
        "probability", "label", "group", "packets", "prefix", "family", "backend", "output", "idle_timeout",
        "grace", "ttl_margin", "window", "include_multiple_syns", "max_connections", "receive_buffer",
        "max_receive_buffer", "shards", "ring_size", "status_socket", "metrics",
        "clickhouse_url", "clickhouse_database", "clickhouse_table", "clickhouse_user", "clickhouse_password_file",
        "clickhouse_batch_size", "clickhouse_flush_interval", "clickhouse_client_addresses", "host_id",
        "spool_directory", "spool_max_bytes",
    ]

    /// Reads `text` over `base`; `source` names the file in errors.
    public static func parse(_ text: String, source: String, over base: Settings = Settings()) throws(ConfigurationError) -> Settings {
        var settings = base
        var lines: [String: Int] = [:]  // where each key was set
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0].trimmed
            if line.isEmpty { continue }
            let location = "\(source):\(index + 1)"
            guard let equals = line.firstIndex(of: "=") else {
                throw ConfigurationError(key: String(line), value: "", allowed: "expected 'key = value'", location: location)
            }
            let key = line[..<equals].trimmed, value = line[line.index(after: equals)...].trimmed
            if let first = lines[String(key)] {
                throw ConfigurationError(key: String(key), value: String(value), allowed: "set twice, on lines \(first) and \(index + 1): keep one",
                                         location: location)
            }
            lines[String(key)] = index + 1
            settings.explicitKeys.insert(String(key), at: location)
            do {
                try set(String(key), to: String(value.unquoted), in: &settings)
            } catch var error {
                error.location = location
                throw error
            }
        }
        return settings
    }

    /// Sets one key; shared by the file and by command-line overrides.
    public static func set(_ key: String, to value: String, in settings: inout Settings) throws(ConfigurationError) {
        defer { if !settings.explicitKeys.contains(key) { settings.explicitKeys.insert(key) } }
        func bad(_ allowed: String) -> ConfigurationError { ConfigurationError(key: key, value: value, allowed: allowed) }
        func number<T: LosslessStringConvertible>(_ type: T.Type, _ allowed: String) throws(ConfigurationError) -> T {
            guard let parsed = T(value) else { throw bad(allowed) }
            return parsed
        }
        switch key {
        case "probability": settings.rules.probability = try number(Double.self, "a number in (0, 1]")
        case "label": settings.rules.label = value
        case "group": settings.rules.group = try number(UInt16.self, "an NFLOG group, 0 to 65535")
        case "packets": settings.rules.packets = try number(Int.self, "a whole number of packets, 1 to 1000")
        case "prefix": settings.rules.prefix = value
        case "family": settings.family = value
        case "backend":
            guard let backend = Backend(rawValue: value) else { throw bad("auto, nft or legacy") }
            settings.backend = backend
        case "output": settings.output = value
        case "idle_timeout": settings.idleTimeout = try number(Double.self, "seconds")
        case "grace": settings.grace = try number(Double.self, "seconds")
        case "ttl_margin": settings.ttlMargin = try number(Int.self, "hops, 0 to 255")
        case "window": settings.window = try number(Double.self, "seconds")
        case "include_multiple_syns":
            guard let flag = ["true": true, "yes": true, "1": true, "false": false, "no": false, "0": false][value.lowercased()] else {
                throw bad("true or false")
            }
            settings.includeMultipleSyns = flag
        case "max_connections": settings.maxConnections = try number(Int.self, "a whole number, at least 1")
        case "receive_buffer": settings.receiveBuffer = try number(Int.self, "bytes")
        case "max_receive_buffer": settings.maxReceiveBuffer = try number(Int.self, "bytes")
        case "shards": settings.shards = value == "auto" ? 0 : try number(Int.self, "auto, or a whole number 1 to 256")
        case "ring_size": settings.ringSize = try number(Int.self, "packets, 64 to 16777216")
        case "status_socket": settings.statusSocket = value
        case "metrics": settings.metrics = value
        case "clickhouse_url": settings.clickhouseURL = value
        case "clickhouse_database": settings.clickhouseDatabase = value
        case "clickhouse_table": settings.clickhouseTable = value
        case "clickhouse_user": settings.clickhouseUser = value
        case "clickhouse_password_file": settings.clickhousePasswordFile = value
        case "clickhouse_batch_size": settings.clickhouseBatchSize = try number(Int.self, "records, 1 to 1000000")
        case "clickhouse_flush_interval": settings.clickhouseFlushInterval = try number(Double.self, "seconds")
        case "clickhouse_client_addresses":
            guard let policy = ClientAddressPolicy(rawValue: value) else { throw bad("truncate (to /24 and /48), drop or keep") }
            settings.clickhouseClientAddresses = policy
        case "host_id": settings.hostID = value
        case "spool_directory": settings.spoolDirectory = value
        case "spool_max_bytes": settings.spoolMaxBytes = try number(Int.self, "bytes, at least 1048576")
        default:
            throw ConfigurationError(key: key, value: value, allowed: "unknown key; the keys are: \(keys.joined(separator: ", "))")
        }
    }

    /// The settings in the file's format, every key, for `sampler config check` and as
    /// the installed default file.
    public static func render(_ s: Settings) -> String {
        let values: [String: String] = [
            "probability": "\(s.rules.probability)", "label": s.rules.label, "group": "\(s.rules.group)",
            "packets": "\(s.rules.packets)", "prefix": s.rules.prefix, "family": s.family, "backend": s.backend.rawValue,
            "output": s.output, "idle_timeout": "\(s.idleTimeout)", "grace": "\(s.grace)", "ttl_margin": "\(s.ttlMargin)",
            "window": "\(s.window)", "include_multiple_syns": "\(s.includeMultipleSyns)",
            "max_connections": "\(s.maxConnections)", "receive_buffer": "\(s.receiveBuffer)",
            "max_receive_buffer": "\(s.maxReceiveBuffer)", "shards": s.shards == 0 ? "auto" : "\(s.shards)", "ring_size": "\(s.ringSize)", "status_socket": s.statusSocket, "metrics": s.metrics,
            "clickhouse_url": s.clickhouseURL, "clickhouse_database": s.clickhouseDatabase, "clickhouse_table": s.clickhouseTable,
            "clickhouse_user": s.clickhouseUser, "clickhouse_password_file": s.clickhousePasswordFile,
            "clickhouse_batch_size": "\(s.clickhouseBatchSize)", "clickhouse_flush_interval": "\(s.clickhouseFlushInterval)",
            "clickhouse_client_addresses": s.clickhouseClientAddresses.rawValue, "host_id": s.hostID,
            "spool_directory": s.spoolDirectory, "spool_max_bytes": "\(s.spoolMaxBytes)",
        ]
        return keys.map { "\($0) = \(values[$0]!)" }.joined(separator: "\n") + "\n"
    }
}

extension StringProtocol {
    var trimmed: Substring {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text = text.dropFirst() }
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return text
    }

    var unquoted: Substring {
        let text = Substring(self)
        if text.count >= 2, text.first == "\"", text.last == "\"" { return text.dropFirst().dropLast() }
        return text
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
