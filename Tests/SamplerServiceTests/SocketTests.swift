import Foundation
import SamplerSystem
import Testing

/// The socket layer under the status and metrics servers: address literals only, and a
/// listening socket that either listens or leaves nothing open.
@Suite struct SocketTests {
    @Test func addressesAreLiteralsOfEitherFamily() {
        #expect(IPSocketAddress(host: "127.0.0.1", port: 9731)?.family == AF_INET)
        #expect(IPSocketAddress(host: "::1", port: 9731)?.family == AF_INET6)
        for bad in ["localhost", "1.2.3", "::g", ""] { #expect(IPSocketAddress(host: bad, port: 1) == nil, "\(bad)") }
    }

    @Test func aListeningSocketAcceptsAndATakenPortIsAddressInUse() throws {
        // Port 0: the kernel picks a free one; read it back, then take it again.
        let first = try Descriptor.listening(on: #require(IPSocketAddress(host: "127.0.0.1", port: 0)), backlog: 4)
        defer { first.close() }
        var bound = sockaddr_in(), length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(first.rawValue, $0, &length) } }
        try #require(named == 0)
        let port = UInt16(bigEndian: bound.sin_port)
        #expect(port != 0)
        #expect(throws: Errno.addressInUse) { try Descriptor.listening(on: #require(IPSocketAddress(host: "127.0.0.1", port: port)), backlog: 4) }
        // A client connects; accept gives its descriptor, and nothing more is waiting.
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(client) }
        var target = bound
        let connected = withUnsafePointer(to: &target) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, length) } }
        #expect(connected == 0)
        var accepted: Descriptor?
        for _ in 0..<100 where accepted == nil {
            accepted = try first.acceptConnection()
            if accepted == nil { usleep(10_000) }
        }
        #expect(accepted != nil)
        accepted?.close()
        #expect(try first.acceptConnection() == nil, "would block: nil, not an error")
    }
}
