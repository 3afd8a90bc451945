import Foundation
import SamplerSubprocess
#if canImport(Glibc)
import Glibc
#endif

/// A real clickhouse-server (Debian's, 18.16) inside a lab namespace, on that
/// namespace's loopback, with its data in the lab's directory: parallel tests never
/// share one, and closing the lab ends it. `stop` and `start` keep the data, as a real
/// outage would.
final class ClickHouseServer {
    static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: "/usr/sbin/clickhouse-server") }
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    let lab: Lab
    let namespace: String
    let url = "http://127.0.0.1:8123"
    private let directory: URL
    private var process: Subprocess.Child?
    private var starts = 0

    init(lab: Lab, namespace: String) throws {
        self.lab = lab
        self.namespace = namespace
        directory = lab.file("clickhouse")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("log"), withIntermediateDirectories: true)
        let path = directory.path
        // A cluster of this one server, so that the Distributed table of schema.sql can be
        // created and read too.
        try """
            <?xml version="1.0"?>
            <yandex>
              <logger><level>warning</level><log>\(path)/log/server.log</log><errorlog>\(path)/log/error.log</errorlog></logger>
              <http_port>8123</http_port>
              <tcp_port>9000</tcp_port>
              <listen_host>127.0.0.1</listen_host>
              <path>\(path)/data/</path>
              <tmp_path>\(path)/tmp/</tmp_path>
              <user_files_path>\(path)/user_files/</user_files_path>
              <format_schema_path>\(path)/format_schemas/</format_schema_path>
              <users_config>\(path)/users.xml</users_config>
              <default_profile>default</default_profile>
              <default_database>default</default_database>
              <mark_cache_size>67108864</mark_cache_size>
              <uncompressed_cache_size>67108864</uncompressed_cache_size>
              <mlock_executable>false</mlock_executable>
              <remote_servers><sampler_cluster><shard><replica><host>127.0.0.1</host><port>9000</port></replica></shard></sampler_cluster></remote_servers>
            </yandex>
            """.write(to: directory.appendingPathComponent("config.xml"), atomically: true, encoding: .utf8)
        // One user, "sampler", with a password, as a real deployment would have.
        try """
            <?xml version="1.0"?>
            <yandex>
              <profiles><default></default></profiles>
              <users>
                <default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default>
                <sampler><password>\(Self.password)</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></sampler>
              </users>
              <quotas><default></default></quotas>
            </yandex>
            """.write(to: directory.appendingPathComponent("users.xml"), atomically: true, encoding: .utf8)
        try Self.password.write(to: passwordFile, atomically: true, encoding: .utf8)
    }

    static let password = "s3cret-for-tests"
    var passwordFile: URL { directory.appendingPathComponent("password") }

    /// The flags that point sampler at this server as user "sampler".
    var samplerFlags: [String] {
        ["--clickhouse-url", url, "--clickhouse-user", "sampler", "--clickhouse-password-file", passwordFile.path]
    }

    func start() throws {
        starts += 1
        process = try lab.spawn(["/usr/sbin/clickhouse-server", "--config-file=\(directory.path)/config.xml"],
                                in: namespace, log: "clickhouse-\(starts).log")
        let up = lab.wait(seconds: 30) {
            (try? lab.run(["curl", "-sf", "\(url)/ping"], in: namespace, allowFailure: true).stdout) == "Ok.\n"
        }
        guard up else {
            throw Lab.CommandFailed(command: ["clickhouse-server"], status: -1,
                                    output: lab.read("clickhouse-\(starts).log") + ((try? String(contentsOf: directory.appendingPathComponent("log/error.log"), encoding: .utf8)) ?? ""))
        }
    }

    /// Kills the server (as a crash or a power cut would) and waits until it is gone.
    func kill() {
        guard let process else { return }
        process.signal(SIGKILL)
        process.wait()
        self.process = nil
    }

    /// Runs a statement as the default user; throws with ClickHouse's message.
    @discardableResult
    func query(_ sql: String) throws -> String {
        let result = try lab.run(["curl", "-sS", "--fail-with-body", "--data-binary", sql, "\(url)/"], in: namespace, allowFailure: true)
        guard result.status == 0 else { throw Lab.CommandFailed(command: [sql], status: result.status, output: result.stdout + result.stderr) }
        return result.stdout
    }

    /// The statements of a SQL file in docs/clickhouse, without comments, by the name in
    /// their "-- name:" comment where they have one.
    static func statements(_ file: String) throws -> [(name: String?, sql: String)] {
        let text = try String(contentsOf: root.appendingPathComponent("docs/clickhouse/\(file)"), encoding: .utf8)
        // Comment lines may hold anything; a statement ends at a line ending in ';'.
        var statements: [(name: String?, sql: String)] = []
        var name: String?, lines: [Substring] = []
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("-- name: ") { name = String(trimmed.dropFirst("-- name: ".count)) }
            if trimmed.hasPrefix("--") { continue }
            lines.append(line)
            if trimmed.hasSuffix(";") {
                statements.append((name, lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines).dropLast().description))
                name = nil
                lines = []
            }
        }
        return statements
    }

    /// The ALTER TABLE statements in schema.sql's comments that bring a table of an
    /// earlier sampler up to date, in order: the comment lines from each "ALTER TABLE" to
    /// the one ending in ';', uncommented.
    static func upgradeStatements() throws -> [String] {
        let text = try String(contentsOf: root.appendingPathComponent("docs/clickhouse/schema.sql"), encoding: .utf8)
        var statements: [String] = [], lines: [String] = []
        for line in text.split(separator: "\n") where line.hasPrefix("--") {
            let body = line.dropFirst(2).trimmingCharacters(in: .whitespaces)
            if lines.isEmpty && !body.hasPrefix("ALTER TABLE") { continue }
            lines.append(body)
            if body.hasSuffix(";") {
                statements.append(String(lines.joined(separator: "\n").dropLast()))
                lines = []
            }
        }
        return statements
    }

    /// Creates the database and table of docs/clickhouse/schema.sql.
    func createSchema() throws {
        for statement in try Self.statements("schema.sql") { try query(statement.sql) }
    }
}

/// How shipping goes, from `sampler status --json`: the daemon's `clickhouse` object (the
/// spool, the last insert) with its ClickHouse counts (`clickhouse_inserted_records`, ...),
/// which status keeps beside the other counts.
func shippingState(_ status: [String: Any]) -> [String: Any] {
    guard let daemon = status["daemon"] as? [String: Any] else { return [:] }
    var state = daemon["clickhouse"] as? [String: Any] ?? [:]
    for (key, value) in daemon where key.hasPrefix("clickhouse_") { state[key] = value }
    return state
}
