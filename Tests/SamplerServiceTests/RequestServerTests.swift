import Foundation
import SamplerSystem
import SamplerWire
import Testing
@testable import SamplerService
@testable import SamplerStatus

/// The status and metrics servers' bounds, driven pass by pass as the live loop drives
/// them: silent clients cannot keep a real one from its answer, a request has its time and
/// its size, and what is held stays bounded.
@Suite struct RequestServerTests {
    final class Harness {
        let path: String
        let server: RequestServer

        init(_ name: String) throws {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("sampler-rs-\(getpid())-\(name).sock").path
            unlink(path)
            server = try RequestServer.unix(path: path, terminators: [[UInt8(ascii: "\n")]]) { request, _ in
                Array("answer \(request.count)\n".utf8)
            }
        }

        /// One pass of the loop at `now`: poll (up to 20 ms), then let the server work.
        func pass(now: Microseconds) throws {
            var descriptors: [PollDescriptor] = []
            server.addDescriptors(to: &descriptors)
            var fds: [pollfd] = []
            try LiveSampler.poll(&descriptors, fds: &fds, timeoutMilliseconds: 20)
            server.handle(descriptors[...], now: now) { sampleSnapshot() }
        }

        /// A connected, non-blocking client.
        func client() throws -> Int32 {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            try #require(fd >= 0)
            let address = try #require(UnixSocketAddress(path: path))
            _ = try address.withSockaddr { (pointer, length) throws(Errno) in try retryOnInterrupt { connect(fd, pointer, length) } }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            return fd
        }

        /// What the server has sent `fd` so far; nil at end of file.
        func received(_ fd: Int32) -> String? {
            var buffer = [UInt8](repeating: 0, count: 65536)
            let n = read(fd, &buffer, buffer.count)
            if n == 0 { return nil }
            return n < 0 ? "" : String(decoding: buffer[..<n], as: UTF8.self)
        }

        deinit { unlink(path) }
    }

    @Test func silentClientsCannotKeepARealOneFromItsAnswer() throws {
        let harness = try Harness("silent")
        let silent = try (0..<(RequestServer.maximumClients + 44)).map { _ in try harness.client() }
        defer { for fd in silent { close(fd) } }
        for _ in 0..<8 { try harness.pass(now: 1_000) }
        let real = try harness.client()
        defer { close(real) }
        #expect(write(real, "status\n", 7) == 7)
        var answer = ""
        for _ in 0..<50 where !answer.hasSuffix("\n") {
            try harness.pass(now: 2_000)
            answer += harness.received(real) ?? ""
        }
        #expect(answer == "answer 7\n")
        // Room was made by closing the silent clients that waited longest: at least the
        // ones beyond the maximum, and the real one's place.
        let closed = silent.filter { harness.received($0) == nil }.count
        #expect(closed >= 45, "\(closed) closed")
    }

    @Test func aSilentClientIsClosedAfterItsTime() throws {
        let harness = try Harness("timeout")
        let fd = try harness.client()
        defer { close(fd) }
        try harness.pass(now: 0)
        try harness.pass(now: RequestServer.requestTimeout - 1)
        #expect(harness.received(fd) == "", "still open within its time")
        try harness.pass(now: RequestServer.requestTimeout + 1)
        #expect(harness.received(fd) == nil, "closed after it")
    }

    @Test func aRequestThatNeverEndsIsAnsweredAtItsMaximum() throws {
        let harness = try Harness("long")
        let fd = try harness.client()
        defer { close(fd) }
        let long = [UInt8](repeating: UInt8(ascii: "x"), count: RequestServer.maximumRequestBytes + 3000)
        var sent = 0, answer = ""
        for _ in 0..<100 where !answer.hasSuffix("\n") {
            if sent < long.count {
                let n = long[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if n > 0 { sent += n }
            }
            try harness.pass(now: 1_000)
            answer += harness.received(fd) ?? ""
        }
        let size = try #require(Int(answer.dropFirst("answer ".count).dropLast()), "\(answer)")
        #expect(size > RequestServer.maximumRequestBytes && size <= RequestServer.maximumRequestBytes + 4096, "read at most one chunk past it")
    }
}
