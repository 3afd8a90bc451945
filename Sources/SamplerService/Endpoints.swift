import SamplerPipeline

/// The two ways to ask a running sampler how it is: the status socket (one line in,
/// the JSON report out) and the Prometheus endpoint (HTTP GET /metrics).
public enum Endpoints {
    /// What a status client sends.
    public static let statusRequest = Array("status\n".utf8)

    public static func statusServer(path: String, version: String, rules: StatusReport.Rules? = nil,
                                    conntrack: ConntrackWatch? = nil) throws(RequestServer.OpenError) -> RequestServer {
        try RequestServer.unix(path: path, terminators: [[UInt8(ascii: "\n")]]) { _, snapshot in
            let taken = snapshot()
            return Array(StatusReport(taken, version: version, rules: rules, conntrack: conntrack?.observe(now: taken.takenAt)).json())
                + [UInt8(ascii: "\n")]
        }
    }

    public static func metricsServer(_ address: ListenAddress, version: String,
                                     conntrack: ConntrackWatch? = nil) throws(RequestServer.OpenError) -> RequestServer {
        // The empty line that ends the header section, its line ends CRLF or, as RFC 9112
        // lets a recipient accept, a bare LF.
        try RequestServer.tcp(address, terminators: [Array("\n\r\n".utf8), Array("\n\n".utf8)]) { request, snapshot in
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
                let taken = snapshot()
                let table = conntrack?.observe(now: taken.takenAt)?.reading
                return httpResponse(200, "OK", PrometheusText.contentType, PrometheusText.render(taken, version: version, conntrack: table), head: head)
            case "/":
                return httpResponse(200, "OK", "text/html; charset=utf-8",
                                    "<html><body><h1>sampler</h1><p><a href=\"/metrics\">metrics</a></p></body></html>\n", head: head)
            default:
                return httpResponse(404, "Not Found", "text/plain", "not found; the metrics are at /metrics\n", head: head)
            }
        }
    }

    static func httpResponse(_ code: Int, _ reason: String, _ type: String, _ body: String, extra: String = "", head: Bool = false) -> [UInt8] {
        let bytes = Array(body.utf8)
        let header = "HTTP/1.1 \(code) \(reason)\r\nContent-Type: \(type)\r\nContent-Length: \(bytes.count)\r\n\(extra)Connection: close\r\n\r\n"
        return Array(header.utf8) + (head ? [] : bytes)
    }
}
