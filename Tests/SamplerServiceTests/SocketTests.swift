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

/// Checked through pipes: the owner holds a write end, and the read end says whether it
/// is still open (EAGAIN) or closed (end of file), whatever other tests running in
/// parallel do with descriptor numbers.
@Suite struct OwnedDescriptorTests {
    /// A pipe: its read end (non-blocking) and its write end.
    func pipeEnds() throws -> (read: Descriptor, write: Descriptor) {
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        _ = fcntl(ends[0], F_SETFL, O_NONBLOCK)
        return (Descriptor(rawValue: ends[0]), Descriptor(rawValue: ends[1]))
    }

    func writeEndIsOpen(_ read: Descriptor) -> Bool {
        var byte: [UInt8] = [0]
        return (try? read.read(into: &byte)) == nil  // EAGAIN: a writer is there; 0: none
    }

    @Test func closesOnceAndSaysWhetherItFailed() throws {
        let ends = try pipeEnds()
        defer { ends.read.close() }
        let owner = OwnedDescriptor(ends.write)
        #expect(writeEndIsOpen(ends.read))
        #expect(owner.close() == nil)
        #expect(!writeEndIsOpen(ends.read), "closed by close()")
    }

    @Test func anOwnerThatGoesAwayCloses() throws {
        let ends = try pipeEnds()
        defer { ends.read.close() }
        do {
            let owner = OwnedDescriptor(ends.write)
            #expect(writeEndIsOpen(ends.read) && owner.descriptor == ends.write)
        }
        #expect(!writeEndIsOpen(ends.read), "closed by deinit")
    }

    @Test func replacingClosesTheOldOne() throws {
        let old = try pipeEnds(), fresh = try pipeEnds()
        defer { old.read.close(); fresh.read.close() }
        var owner = OwnedDescriptor(old.write)
        #expect(owner.replace(with: fresh.write) == nil)
        #expect(!writeEndIsOpen(old.read), "the old one is closed")
        #expect(writeEndIsOpen(fresh.read), "the new one is owned, and open")
        #expect(owner.close() == nil)
        #expect(!writeEndIsOpen(fresh.read))
    }
}
