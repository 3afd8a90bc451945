import Foundation
import Testing
@testable import SamplerService
@testable import SamplerStatus

/// The metrics endpoint's answers and the request framing of both servers, below the
/// live loop (HostileClientTests drives them through sockets).
@Suite struct RequestTests {
    func answer(_ request: String) -> (status: String, headers: [String], body: String) {
        let text = String(decoding: Endpoints.httpAnswer(to: Array(request.utf8)) { "sampler_up 1\n" }, as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        let head = parts[0].components(separatedBy: "\r\n")
        return (head[0], Array(head.dropFirst()), parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    @Test(arguments: [
        ("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK", "sampler_up 1\n"),
        ("GET /metrics?x=1 HTTP/1.0\n\n", "HTTP/1.1 200 OK", "sampler_up 1\n"),
        ("GET /nothing HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found", "not found; the metrics are at /metrics\n"),
        ("POST /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 405 Method Not Allowed", "only GET\n"),
        ("garbage", "HTTP/1.1 400 Bad Request", "a request line is: GET /metrics HTTP/1.1\n"),
        ("GET /metrics SPDY/3\r\n\r\n", "HTTP/1.1 400 Bad Request", "a request line is: GET /metrics HTTP/1.1\n"),
    ])
    func answers(request: String, status: String, body: String) {
        let (got, headers, text) = answer(request)
        #expect(got == status)
        #expect(text == body)
        #expect(headers.contains("Content-Length: \(body.utf8.count)"))
        #expect(headers.contains("Connection: close"))
    }

    /// Found by the requests fuzzer: the request line's words are what count, so a line
    /// with a leading space is still a HEAD, answered without a body but with the length
    /// GET's body would have.
    @Test func aHeadRequestHasTheLengthButNoBody() {
        for request in ["HEAD / HTTP/1.0\n\n", " HEAD / HTTP/1.0\n\n", "HEAD /metrics HTTP/1.1\r\n\r\n"] {
            let (status, headers, body) = answer(request)
            #expect(status == "HTTP/1.1 200 OK", "\(request.debugDescription)")
            #expect(body.isEmpty, "\(request.debugDescription)")
            #expect(headers.contains { $0.hasPrefix("Content-Length: ") && $0 != "Content-Length: 0" }, "\(request.debugDescription)")
        }
    }

    /// A request ends at its empty line, CRLF or bare LF, however it was split between reads.
    @Test func framingFindsTheEndOfARequestHoweverItArrives() {
        let request = Array("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        for split in 0...request.count {
            let first = Array(request[..<split])
            let done = RequestServer.ends(first, from: 0, terminators: Endpoints.httpTerminators)
                || RequestServer.ends(request, from: max(0, split - 2), terminators: Endpoints.httpTerminators)
            #expect(done, "split at \(split)")
        }
        #expect(RequestServer.ends(Array("GET / HTTP/1.1\n\n".utf8), from: 0, terminators: Endpoints.httpTerminators))
        #expect(!RequestServer.ends(Array("GET / HTTP/1.1\r\nHost: x\r\n".utf8), from: 0, terminators: Endpoints.httpTerminators))
        #expect(RequestServer.ends(StatusReport.request, from: 0, terminators: [[UInt8(ascii: "\n")]]))
    }
}
