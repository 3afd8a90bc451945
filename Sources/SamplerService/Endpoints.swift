import SamplerStatus
import SamplerConfiguration
import SamplerPipeline

/// The two ways to ask a running sampler how it is: the status socket (one line in,
/// the JSON report out) and the Prometheus endpoint (HTTP GET /metrics).
public enum Endpoints {
    public static func statusServer(path: String, access: RequestServer.SocketAccess = RequestServer.SocketAccess(), version: String,
                                    rules: StatusReport.Rules? = nil, conntrack: ConntrackWatch? = nil,
                                    keeper: RuleKeeper? = nil) throws(RequestServer.OpenError) -> RequestServer {
        try RequestServer.unix(path: path, access: access, terminators: [[UInt8(ascii: "\n")]]) { _, snapshot in
            let taken = snapshot()
            return Array(StatusReport(taken, version: version, rules: rules, conntrack: conntrack?.observe(now: taken.takenAt),
                                      upkeep: keeper?.state).json())
                + [UInt8(ascii: "\n")]
        }
    }

    public static func metricsServer(_ address: ListenAddress, version: String,
                                     conntrack: ConntrackWatch? = nil, keeper: RuleKeeper? = nil) throws(RequestServer.OpenError) -> RequestServer {
        // The empty line that ends the header section, its line ends CRLF or, as RFC 9112
        // lets a recipient accept, a bare LF.
        try RequestServer.tcp(address, terminators: httpTerminators) { request, snapshot in
            httpAnswer(to: request) {
                let taken = snapshot()
                return PrometheusText.render(taken, version: version, conntrack: conntrack?.observe(now: taken.takenAt)?.reading,
                                             upkeep: keeper?.state)
            }
        }
    }

    /// The empty line that ends an HTTP request's header section, its line ends CRLF or,
    /// as RFC 9112 lets a recipient accept, a bare LF.
    public static let httpTerminators = [Array("\n\r\n".utf8), Array("\n\n".utf8)]

    /// The answer to one HTTP request (at most the server's bound of bytes): the metrics
    /// page for GET or HEAD /metrics, an index, 404, 405 or 400.
    public static func httpAnswer(to request: [UInt8], metrics: () -> String) -> [UInt8] {
        let line = request.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }
        let words = String(decoding: line, as: UTF8.self).split(separator: " ")
        guard words.count == 3, words[2].hasPrefix("HTTP/1.") else {
            return httpResponse(400, "Bad Request", "text/plain", "a request line is: GET /metrics HTTP/1.1\n")
        }
        guard words[0] == "GET" || words[0] == "HEAD" else {
            return httpResponse(405, "Method Not Allowed", "text/plain", "only GET\n", extra: "Allow: GET, HEAD\r\n")
        }
        let path = words[1].split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
        let head = words[0] == "HEAD"
        switch path {
        case "/metrics":
            return httpResponse(200, "OK", PrometheusText.contentType, metrics(), head: head)
        case "/":
            return httpResponse(200, "OK", "text/html; charset=utf-8",
                                "<html><body><h1>sampler</h1><p><a href=\"/metrics\">metrics</a></p></body></html>\n", head: head)
        default:
            return httpResponse(404, "Not Found", "text/plain", "not found; the metrics are at /metrics\n", head: head)
        }
    }

    public static func httpResponse(_ code: Int, _ reason: String, _ type: String, _ body: String, extra: String = "", head: Bool = false) -> [UInt8] {
        let bytes = Array(body.utf8)
        let header = "HTTP/1.1 \(code) \(reason)\r\nContent-Type: \(type)\r\nContent-Length: \(bytes.count)\r\n\(extra)Connection: close\r\n\r\n"
        return Array(header.utf8) + (head ? [] : bytes)
    }
}
