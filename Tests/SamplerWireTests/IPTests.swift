import Testing
@testable import SamplerWire

@Suite struct IPTests {
    @Test func summarizesAnIPv4SYN() throws {
        let packet = ipv4(TCPSpec(sport: 40001, dport: 443, seq: 77, options: TCPSpec.linuxSYNOptions).build(),
                          src: 0xc000_0201, dst: 0xc633_6401, ttl: 53, id: 999, df: true)
        try withSpan(packet) { span throws in
            let summary = try PacketSummary(ipPacket: span, time: 42)
            #expect(summary.key.family == .v4)
            #expect(summary.key.source.text(family: .v4) == "192.0.2.1")
            #expect(summary.key.destination.text(family: .v4) == "198.51.100.1")
            #expect(summary.key.sourcePort == 40001)
            #expect(summary.key.destinationPort == 443)
            #expect(summary.ttl == 53)
            #expect(summary.ipID == 999)
            #expect(summary.dontFragment)
            #expect(summary.sequenceNumber == 77)
            #expect(summary.options.kinds == [2, 4, 8, 1, 3])
            #expect(summary.payloadLength == 0)
            #expect(summary.time == 42)
        }
    }

    @Test func skipsIPv4OptionsAndTakesPayloadLengthFromTheHeader() throws {
        var packet = ipv4(TCPSpec(flags: 0x018, payload: [UInt8](repeating: 0x41, count: 300)).build(),
                          options: [0x94, 0x04, 0, 0])  // router alert: IHL 6
        packet.append(contentsOf: [0, 0, 0, 0])  // link-layer padding past the total length
        try withSpan(packet) { span throws in
            let ip = try IPv4Packet(checking: span)
            #expect(ip.headerLength == 24)
            #expect(ip.payload.byteCount == 320)  // padding dropped
            #expect(try PacketSummary(ipPacket: span, time: 0).payloadLength == 300)
        }
        // A capture cut inside the payload still gives the declared payload length.
        try withSpan(Array(packet.prefix(24 + 20 + 10))) { span throws in
            #expect(try PacketSummary(ipPacket: span, time: 0).payloadLength == 300)
        }
    }

    @Test func fragments() throws {
        let tcp = TCPSpec().build()
        try withSpan(ipv4(tcp, df: false, moreFragments: true)) { span throws in
            #expect(try PacketSummary(ipPacket: span, time: 0).key.destinationPort == 443)  // first fragment parses
        }
        withSpan(ipv4(tcp, df: false, fragmentOffset: 3)) { span in
            #expect(throws: WireError.nonFirstFragment) { _ = try PacketSummary(ipPacket: span, time: 0) }
        }
    }

    @Test func rejectsWhatIsNotTCPOverIP() {
        withSpan(ipv4(TCPSpec().build(), proto: 17)) { span in
            #expect(throws: WireError.notTCP) { _ = try PacketSummary(ipPacket: span, time: 0) }
        }
        var badVersion = ipv4(TCPSpec().build())
        badVersion[0] = 0x55
        withSpan(badVersion) { span in
            #expect(throws: WireError.ipBadVersion) { _ = try PacketSummary(ipPacket: span, time: 0) }
        }
        var badIHL = ipv4(TCPSpec().build())
        badIHL[0] = 0x44
        withSpan(badIHL) { span in
            #expect(throws: WireError.ipv4BadHeaderLength) { _ = try IPv4Packet(checking: span) }
        }
        var badTotal = ipv4(TCPSpec().build())
        badTotal[2] = 0; badTotal[3] = 19
        withSpan(badTotal) { span in
            #expect(throws: WireError.ipv4BadTotalLength) { _ = try IPv4Packet(checking: span) }
        }
        // Total length says 20 (IP header only): no room for TCP.
        var noTCP = ipv4(TCPSpec().build())
        noTCP[2] = 0; noTCP[3] = 20
        withSpan(noTCP) { span in
            #expect(throws: WireError.tcpTruncated) { _ = try PacketSummary(ipPacket: span, time: 0) }
        }
    }

    @Test func walksTheIPv6ExtensionChain() throws {
        let tcp = TCPSpec(sport: 5555, dport: 8443, flags: 0x018, payload: [1, 2, 3]).build()
        let chain: [(type: UInt8, body: [UInt8])] = [
            (0, [1, 4, 0, 0, 0, 0]),  // hop-by-hop: PadN
            (43, [0, 0, 0, 0, 0, 0]),  // routing, segments left 0
            (44, [0, 0, 0, 0, 0, 1]),  // fragment: offset 0, M clear, id 1
            (60, [1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),  // destination options, 16 bytes
        ]
        try withSpan(ipv6(tcp, hopLimit: 57, extensions: chain)) { span throws in
            let ip = try IPv6Packet(checking: span)
            #expect(ip.extensionHeaderCount == 4)
            #expect(ip.upperLayerProtocol == 6)
            #expect(ip.upperLayerOffset == 40 + 8 + 8 + 8 + 16)
            #expect(ip.flowLabel == 0x12345)
            let summary = try PacketSummary(ipPacket: span, time: 1)
            #expect(summary.key.family == .v6)
            #expect(summary.key.source.text(family: .v6) == "2001:db8::1")
            #expect(summary.key.destination.text(family: .v6) == "2001:db8:0:1::443")
            #expect(summary.key.destinationPort == 8443)
            #expect(summary.ttl == 57)
            #expect(summary.ipID == 0)
            #expect(!summary.dontFragment)
            #expect(summary.payloadLength == 3)
        }
    }

    @Test func rejectsBadIPv6Chains() {
        let tcp = TCPSpec().build()
        withSpan(ipv6(tcp, extensions: [(44, [0x00, 0x08, 0, 0, 0, 1])])) { span in  // offset 1 (x8 bytes)
            #expect(throws: WireError.nonFirstFragment) { _ = try PacketSummary(ipPacket: span, time: 0) }
        }
        let many = [(type: UInt8, body: [UInt8])](repeating: (60, [1, 4, 0, 0, 0, 0]), count: 9)
        withSpan(ipv6(tcp, extensions: many)) { span in
            #expect(throws: WireError.ipv6TooManyExtensions) { _ = try IPv6Packet(checking: span) }
        }
        withSpan(ipv6([], extensions: [], upper: 59)) { span in  // no next header: nothing to parse
            #expect(throws: WireError.ipv6BadPayloadLength) { _ = try IPv6Packet(checking: span) }
        }
        withSpan(ipv6(tcp, upper: 58)) { span in  // ICMPv6
            #expect(throws: WireError.notTCP) { _ = try PacketSummary(ipPacket: span, time: 0) }
        }
        // Hop-by-hop claiming 64 bytes with 40 present.
        var cut = ipv6(tcp, extensions: [(0, [1, 4, 0, 0, 0, 0])])
        cut[41] = 7
        withSpan(cut) { span in
            #expect(throws: WireError.ipv6ExtensionTruncated) { _ = try IPv6Packet(checking: span) }
        }
    }

    @Test(arguments: [
        ("2001:db8::1", "2001:db8::1"), ("2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1"),
        ("::", "::"), ("::1", "::1"), ("fe80::", "fe80::"), ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("1:0:0:2:0:0:0:3", "1:0:0:2::3"), ("1:0:0:2:0:0:3:4", "1::2:0:0:3:4"), ("fd00:abcd::", "fd00:abcd::"),
    ])
    func formatsIPv6AsRFC5952(input: String, text: String) throws {
        let address = try #require(IPAddress(parsing: input[...]))
        #expect(address.text(family: .v6) == text)
        #expect(IPAddress(parsing: text[...]) == address)
    }

    /// The table-driven dotted quad, every octet value in every place, against the text
    /// made the plain way; and inside a line, what follows it is not overwritten.
    @Test func formatsEveryIPv4OctetInEveryPlace() {
        for octet in UInt32(0)..<256 {
            for place in 0..<4 {
                let others: [UInt32] = [7, 42, 255, 100]
                var parts = others
                parts[place] = octet
                let value = parts.reduce(0) { $0 << 8 | $1 }
                #expect(IPAddress(v4: value).text(family: .v4) == parts.map(String.init).joined(separator: "."))
            }
        }
        var line: [UInt8] = []
        line.appendText(maximum: 64) { out in
            out.put("[")
            out.putDottedQuad(0x0a_00_00_01)
            out.put("]")
        }
        #expect(String(decoding: line, as: UTF8.self) == "[10.0.0.1]")
    }

    @Test func parsesAndMasksIPv4() throws {
        let address = try #require(IPAddress(parsing: "10.1.2.3"))
        #expect(address.text(family: .v4) == "10.1.2.3")
        #expect(address.masked(toPrefix: 24, family: .v4).text(family: .v4) == "10.1.2.0")
        #expect(address.masked(toPrefix: 0, family: .v4).text(family: .v4) == "0.0.0.0")
        for bad in ["10.1.2", "10.1.2.256", "1.2.3.4.5", "a.b.c.d", "1::2::3", ":::"] {
            #expect(IPAddress(parsing: bad[...]) == nil, "\(bad)")
        }
    }
}
