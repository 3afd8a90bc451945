/// Where records go: one or more ClickHouse servers' HTTP interfaces (tried in order: the
/// first that answers takes a request), a database and a table, and the credentials. Only
/// `http://`: sampler speaks plain HTTP/1.1 (docs/clickhouse.md says how to cross an
/// untrusted network).
public struct ClickHouseTarget: Sendable, Equatable {
    public struct Server: Sendable, Equatable {
        public var host: String
        public var port: UInt16
        /// The URL's path, "/" unless the server sits behind a proxy under a prefix.
        public var path: String

        var display: String {
            "http://\(host.contains(":") ? "[\(host)]" : host):\(port)\(path == "/" ? "" : path)"
        }
    }

    /// At least one; more to fail over between (the servers of one shard, or replicas).
    public var servers: [Server]
    public var host: String { servers[0].host }
    public var port: UInt16 { servers[0].port }
    public var path: String { servers[0].path }
    public var database: String
    public var table: String
    public var user: String
    public var password: String

    public struct InvalidTarget: Error, CustomStringConvertible {
        public var description: String
    }

    /// `url` is one server's URL, or several separated by commas.
    /// The defaults of the settings clickhouse_database, clickhouse_table and clickhouse_user.
    public static let defaultDatabase = "sampler", defaultTable = "connections", defaultUser = "default"

    public init(url: String, database: String = defaultDatabase, table: String = defaultTable,
                user: String = defaultUser, password: String = "") throws(InvalidTarget) {
        var servers: [Server] = []
        for part in url.split(separator: ",", omittingEmptySubsequences: false) {
            let text = part.trimmingCharacters(in: " ")
            let (host, port, path) = try Self.parse(String(text))
            servers.append(Server(host: host, port: port, path: path))
        }
        self.servers = servers
        for (what, name) in [("database", database), ("table", table)] where !Self.isIdentifier(name) {
            throw InvalidTarget(description: "\(what) '\(name)' is not a plain name (letters, digits and _, not starting with a digit)")
        }
        guard !user.isEmpty, user.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: ":") }) else {
            throw InvalidTarget(description: "user '\(user)' must be printable ASCII without spaces or ':'")
        }
        self.database = database
        self.table = table
        self.user = user
        self.password = password
    }

    /// The servers and table, for logs and status (never the password).
    public var display: String {
        servers.map(\.display).joined(separator: ",") + " \(database).\(table)"
    }

    /// "http://HOST[:PORT][/PATH]", IPv6 addresses in brackets; port 8123 by default.
    static func parse(_ url: String) throws(InvalidTarget) -> (String, UInt16, String) {
        func bad(_ why: String) -> InvalidTarget { InvalidTarget(description: "clickhouse url '\(url)': \(why)") }
        if url.hasPrefix("https://") {
            throw bad("https is not supported; use http:// on loopback or a private network, or a local TLS tunnel (docs/clickhouse.md)")
        }
        guard url.hasPrefix("http://") else { throw bad("expected http://HOST[:PORT][/PATH], or several separated by commas") }
        var rest = Substring(url.dropFirst("http://".count))
        var path = "/"
        if let slash = rest.firstIndex(of: "/") {
            path = String(rest[slash...])
            rest = rest[..<slash]
        }
        guard !path.contains("?"), !path.contains("#") else { throw bad("no query or fragment, please") }
        guard !rest.contains("@") else { throw bad("put the user in clickhouse_user and the password in a file (clickhouse_password_file), not in the URL") }
        var host = rest, portText: Substring? = nil
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw bad("unclosed [") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw bad("expected :PORT after ]") }
                portText = after.dropFirst()
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        }
        guard !host.isEmpty else { throw bad("no host") }
        var port: UInt16 = 8123
        if let portText {
            guard let value = UInt16(portText), value > 0 else { throw bad("port must be 1 to 65535") }
            port = value
        }
        return (String(host), port, path)
    }

    public static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        return name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
        }
    }
}

extension StringProtocol {
    func trimmingCharacters(in character: Character) -> Substring {
        var text = Substring(self)
        while text.first == character { text = text.dropFirst() }
        while text.last == character { text = text.dropLast() }
        return text
    }
}
