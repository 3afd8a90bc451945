import SamplerSystem

/// One HTTP/1.1 request and its response over a fresh TCP connection (`Connection:
/// close`), blocking, with a timeout on connect, on each send and on each receive. This
/// is all a batch insert needs: sampler sends one request at a time from its own thread,
/// at most once per batch, so keep-alive, pipelining and a dependency on an HTTP stack
/// would buy nothing.
enum HTTPExchange {
    struct Response {
        var status: Int
        var body: [UInt8]
    }

    static func post(host: String, port: UInt16, target: String, headers: [(String, String)], body: [UInt8],
                     timeoutSeconds: Int) throws(ClickHouseError) -> Response {
        let connection: Descriptor
        do { connection = try TCPConnection.open(host: host, port: port, timeoutSeconds: timeoutSeconds) } catch {
            switch error {
            case .resolve(let reason): throw .resolve(host: host, reason: reason)
            case .connect(let error): throw .connect(server: "\(host):\(port)", error)
            }
        }
        defer { connection.close() }
        var head = "POST \(target) HTTP/1.1\r\nHost: \(host.contains(":") ? "[\(host)]" : host):\(port)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        do {
            try TCPConnection.send(connection, Array(head.utf8))
            try TCPConnection.send(connection, body)
        } catch {
            throw .io(operation: "send", error)
        }
        let answer: [UInt8]
        do { answer = try TCPConnection.receiveAll(connection) } catch { throw .io(operation: "receive", error) }
        return try parse(answer)
    }

    /// Status line, headers (only Transfer-Encoding matters: ClickHouse answers chunked),
    /// body.
    static func parse(_ bytes: [UInt8]) throws(ClickHouseError) -> Response {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = firstIndex(of: separator, in: bytes[...]) else {
            throw .badResponse(bytes.isEmpty ? "the server closed the connection without answering" : "no end of headers")
        }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).split(separator: "\r\n")
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            throw .badResponse("not an HTTP response: \(lines.first ?? "")")
        }
        let chunked = lines.dropFirst().contains { line in
            let lower = line.lowercased()
            return lower.hasPrefix("transfer-encoding:") && lower.contains("chunked")
        }
        let rest = bytes[(end + 4)...]
        return Response(status: status, body: chunked ? try dechunk(rest) : Array(rest))
    }

    private static func dechunk(_ bytes: ArraySlice<UInt8>) throws(ClickHouseError) -> [UInt8] {
        var body: [UInt8] = []
        var rest = bytes
        while true {
            guard let lineEnd = firstIndex(of: [13, 10], in: rest) else { throw .badResponse("chunked body cut short") }
            let sizeText = String(decoding: rest[rest.startIndex..<lineEnd], as: UTF8.self).split(separator: ";")[0]
            guard let size = Int(sizeText.trimmingSpaces, radix: 16), size >= 0 else { throw .badResponse("bad chunk size") }
            let start = lineEnd + 2
            if size == 0 { return body }
            guard rest.endIndex >= start + size else { throw .badResponse("chunked body cut short") }
            body += rest[start..<(start + size)]
            rest = rest[min(rest.endIndex, start + size + 2)...]
        }
    }

    private static func firstIndex(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var i = haystack.startIndex
        while i <= haystack.endIndex - needle.count {
            if haystack[i] == needle[0] && haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return text
    }
}
