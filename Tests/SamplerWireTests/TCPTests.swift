import Testing
@testable import SamplerWire

@Suite struct TCPTests {
    @Test func readsEveryFieldAndDecodesLinuxSYNOptions() throws {
        let bytes = TCPSpec(sport: 51234, dport: 443, seq: 0xdead_beef, ack: 7, flags: 0x002, window: 64240,
                            options: TCPSpec.linuxSYNOptions).build()
        try withSpan(bytes) { span throws in
            let tcp = try TCPSegment(checking: span)
            #expect(tcp.sourcePort == 51234)
            #expect(tcp.destinationPort == 443)
            #expect(tcp.sequenceNumber == 0xdead_beef)
            #expect(tcp.acknowledgementNumber == 7)
            #expect(tcp.flags == .syn)
            #expect(tcp.window == 64240)
            #expect(tcp.headerLength == 40)
            #expect(tcp.payload.byteCount == 0)
            let options = try tcp.options()
            #expect(options.kinds == [2, 4, 8, 1, 3])
            #expect(options.mss == 1460)
            #expect(options.sackPermitted)
            #expect(options.windowScale == 7)
            #expect(options.timestamp?.value == 1)
            #expect(options.timestamp?.echo == 0)
        }
    }

    @Test(arguments: [
        (UInt16(0x001), TCPFlags.fin, "F"), (0x002, .syn, "S"), (0x004, .rst, "R"), (0x008, .psh, "P"),
        (0x010, .ack, "A"), (0x020, .urg, "U"), (0x040, .ece, "E"), (0x080, .cwr, "C"), (0x100, .ae, "N"),
        (0x018, [.psh, .ack], "PA"), (0x014, [.rst, .ack], "RA"), (0x011, [.fin, .ack], "FA"),
    ] as [(UInt16, TCPFlags, String)])
    func decodesAllNineFlags(raw: UInt16, expected: TCPFlags, letters: String) throws {
        try withSpan(TCPSpec(flags: raw).build()) { span throws in
            let tcp = try TCPSegment(checking: span)
            #expect(tcp.flags == expected)
            #expect(tcp.flags.letters == letters)
        }
    }

    @Test func payloadIsASubViewAfterTheOptions() throws {
        let bytes = TCPSpec(flags: 0x018, options: [1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6], payload: Array("hello".utf8)).build()
        try withSpan(bytes) { span throws in
            let tcp = try TCPSegment(checking: span)
            #expect(tcp.headerLength == 32)
            #expect(tcp.payload.byteCount == 5)
            #expect(tcp.payload.u8(0) == UInt8(ascii: "h"))
            #expect(try tcp.options().kinds == [1, 1, 8])
        }
    }

    @Test func rejectsShortAndMalformedHeaders() {
        withSpan([UInt8](repeating: 0, count: 19)) { span in
            #expect(throws: WireError.tcpTruncated) { _ = try TCPSegment(checking: span) }
        }
        var bad = TCPSpec().build()
        bad[12] = 0x40  // data offset 4 words: shorter than the fixed header
        withSpan(bad) { span in
            #expect(throws: WireError.tcpBadHeaderLength) { _ = try TCPSegment(checking: span) }
        }
        var long = TCPSpec().build()
        long[12] = 0x60  // data offset 24 bytes, but only 20 present
        withSpan(long) { span in
            #expect(throws: WireError.tcpTruncated) { _ = try TCPSegment(checking: span) }
        }
    }

    @Test(arguments: [
        ([UInt8]([1, 1, 1, 2]), WireError.tcpOptionTruncated),  // a kind with no room for its length
        ([1, 1, 2, 4], .tcpOptionTruncated),  // MSS running past the header
        ([2, 3, 5, 0xb4], .tcpOptionBadLength),  // MSS with length 3
        ([3, 4, 7, 0], .tcpOptionBadLength),  // window scale with length 4
        ([8, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], .tcpOptionBadLength),  // timestamps with length 9
        ([30, 1, 0, 0], .tcpOptionBadLength),  // length below 2
        ([30, 40, 0, 0], .tcpOptionTruncated),  // runs past the header
    ])
    func rejectsBadOptions(options: [UInt8], expected: WireError) {
        withSpan(TCPSpec(options: options).build()) { span in
            #expect(throws: expected) { _ = try TCPSegment(checking: span).options() }
        }
    }

    @Test func endOfListStopsTheWalk() throws {
        try withSpan(TCPSpec(options: [2, 4, 5, 0xb4, 0, 0xff, 0xff, 0xff]).build()) { span throws in
            let options = try TCPSegment(checking: span).options()
            #expect(options.kinds == [2, 0])
            #expect(options.mss == 1460)
        }
    }
}
