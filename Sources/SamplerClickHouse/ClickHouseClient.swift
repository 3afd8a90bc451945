import SamplerSystem
#if canImport(Glibc)
import Glibc
#endif

/// What went wrong talking to ClickHouse, in words an operator can act on.
public enum ClickHouseError: Error, Equatable, CustomStringConvertible {
    case resolve(host: String, reason: String)
    case connect(server: String, Errno)
    case io(operation: String, Errno)
    case badResponse(String)
    /// ClickHouse answered with an error: its HTTP status and the first line of its text.
    case server(status: Int, message: String)
    /// None of several servers could be reached; the last one's error.
    indirect case unreachable(servers: Int, last: String)

    public var description: String {
        switch self {
        case .resolve(let host, let reason): "cannot resolve \(host): \(reason)"
        case .connect(let server, let error):
            "cannot connect to ClickHouse at \(server): \(error)"
                + (error == .connectionRefused ? " (is clickhouse-server running, and is its http_port this one?)" : "")
        case .io(let operation, let error): "ClickHouse \(operation) failed: \(error)"
        case .badResponse(let what): "unexpected answer from ClickHouse: \(what)"
        case .unreachable(let servers, let last): "none of the \(servers) ClickHouse servers could be reached (the last: \(last))"
        case .server(let status, let message):
            "ClickHouse refused (HTTP \(status)): \(message)"
                + (message.contains("UNKNOWN_TABLE") || message.contains("doesn't exist") ? " (create the table with docs/clickhouse/schema.sql)" : "")
        }
    }
}

/// ClickHouse's HTTP interface: inserts of JSONEachRow batches and plain queries.
public struct ClickHouseClient: Sendable {
    public var target: ClickHouseTarget
    public var timeoutSeconds: Int

    public init(target: ClickHouseTarget, timeoutSeconds: Int = 10) {
        self.target = target
        self.timeoutSeconds = timeoutSeconds
    }

    /// Inserts rows, one JSON object per line, into the target table. Succeeds only when
    /// ClickHouse has written the whole block.
    public func insert(_ rows: [UInt8]) throws(ClickHouseError) {
        let statement = "INSERT INTO `\(target.database)`.`\(target.table)` FORMAT JSONEachRow"
        _ = try post(parameters: [("query", statement)], body: rows)
    }

    /// Runs `sql` (the statement in the body) and returns ClickHouse's output.
    public func query(_ sql: String) throws(ClickHouseError) -> String {
        String(decoding: try post(parameters: [], body: Array(sql.utf8)), as: UTF8.self)
    }

    private func post(parameters: [(String, String)], body: [UInt8]) throws(ClickHouseError) -> [UInt8] {
        let all = [("database", target.database)] + parameters
        let query = all.map { "\($0.0)=\(Self.percentEncoded($0.1))" }.joined(separator: "&")
        let credentials = Base64.encode(Array("\(target.user):\(target.password)".utf8))
        // The servers in order: one that cannot be reached passes the request to the next;
        // one that answers, even with an error, decides it.
        var response: HTTPExchange.Response? = nil
        var unreachable: ClickHouseError? = nil
        for server in target.servers {
            do throws(ClickHouseError) {
                response = try HTTPExchange.post(
                    host: server.host, port: server.port, target: "\(server.path)?\(query)",
                    headers: [("Authorization", "Basic \(credentials)"), ("Content-Type", "text/plain; charset=utf-8")],
                    body: body, timeoutSeconds: timeoutSeconds)
                break
            } catch {
                switch error {
                case .resolve, .connect, .io: unreachable = error
                case .badResponse, .server, .unreachable: throw error
                }
            }
        }
        guard let response else {
            throw unreachable.map { target.servers.count > 1 ? .unreachable(servers: target.servers.count, last: $0.description) : $0 }
                ?? .badResponse("no server")
        }
        guard response.status == 200 else {
            let text = String(decoding: response.body, as: UTF8.self)
            let firstLine = text.split(separator: "\n").first.map(String.init) ?? ""
            throw .server(status: response.status, message: String(firstLine.prefix(400)))
        }
        return response.body
    }

    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 15)]], as: UTF8.self)
            }
        }
        return out
    }
}

/// RFC 4648 base64, for the Basic authorization header.
enum Base64 {
    static func encode(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i], b1 = i + 1 < bytes.count ? bytes[i + 1] : 0, b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 3) << 4 | b1 >> 4)])
            out.append(i + 1 < bytes.count ? alphabet[Int((b1 & 15) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(b2 & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
