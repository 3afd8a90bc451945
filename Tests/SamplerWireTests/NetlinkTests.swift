import Testing
@testable import SamplerWire

@Suite struct NetlinkTests {
    let syn = ipv4(TCPSpec(options: TCPSpec.linuxSYNOptions).build())
    let ack = ipv4(TCPSpec(seq: 1001, ack: 5001, flags: 0x010).build())

    @Test func walksADatagramOfSeveralMessages() throws {
        let datagram = nflogMessage(packet: syn, seq: 1) + nflogMessage(packet: ack, seq: 2, time: nil) + netlinkDone()
        try withSpan(datagram) { span throws in
            var messages = NetlinkMessages(span)
            var summaries: [PacketSummary] = []
            var sequences: [UInt32?] = []
            var done = 0
            while let message = try messages.next() {
                if message.type == NetlinkMessage.ControlType.done { done += 1; continue }
                let nflog = try NflogPacketMessage(checking: message)
                #expect(nflog.family == 2)
                #expect(nflog.group == 7)
                #expect(nflog.attributes.hardwareProtocol == 0x0800)
                #expect(nflog.attributes.hook == 0)
                #expect(nflog.attributes.inDevice == 2)
                if let prefix = nflog.attributes.prefix {
                    #expect(String(decoding: copied(prefix), as: UTF8.self) == "sampler")
                } else {
                    Issue.record("no prefix")
                }
                summaries.append(try nflog.summary(fallbackTime: 99))
                sequences.append(nflog.attributes.sequence)
            }
            #expect(done == 1)
            #expect(summaries.count == 2)
            #expect(summaries[0].time == 1_700_000_000_250_000)  // the kernel's timestamp
            #expect(sequences == [1, 2])
            #expect(summaries[0].flags == .syn)
            #expect(summaries[1].time == 99)  // no timestamp attribute: the fallback
            #expect(summaries[1].flags == .ack)
        }
    }

    @Test func skipsUnknownAttributesAndReadsFlaggedTypes() throws {
        // An unknown attribute (type 99) and a conntrack attribute with NLA_F_NESTED set.
        let extra = attribute(99, [1, 2, 3]) + attribute(18 | 0x8000, [0, 0, 0, 0, 1, 2, 3, 4])
        try withSpan(nflogMessage(packet: syn, seq: 5, extra: extra)) { span throws in
            var messages = NetlinkMessages(span)
            guard let message = try messages.next() else { Issue.record("no message"); return }
            let nflog = try NflogPacketMessage(checking: message)
            let summary = try nflog.summary(fallbackTime: 0)
            #expect(nflog.attributes.sequence == 5)
            #expect(summary.flags.contains(.syn), "the packet still parses past the attributes skipped")
            var more = false
            if let _ = try messages.next() { more = true }
            #expect(!more)
        }
    }

    @Test func readsErrorMessages() throws {
        try withSpan(netlinkError(-1) + netlinkError(0)) { span throws in
            var messages = NetlinkMessages(span)
            let first = try messages.next()?.errorCode
            let second = try messages.next()?.errorCode
            #expect(first == -1)  // EPERM: the group is bound elsewhere
            #expect(second == 0)  // an acknowledgement
        }
    }

    @Test func rejectsBadLengths() {
        var short = nflogMessage(packet: syn, seq: 1)
        short[0] = 8; short[1] = 0  // nlmsg_len below the header
        withSpan(short) { span in
            var messages = NetlinkMessages(span)
            #expect(throws: WireError.netlinkBadLength) { _ = try messages.next() }
        }
        var long = nflogMessage(packet: syn, seq: 1)
        long[0] = 0xff; long[1] = 0x0f  // past the datagram
        withSpan(long) { span in
            var messages = NetlinkMessages(span)
            #expect(throws: WireError.netlinkTruncated) { _ = try messages.next() }
        }
        // An attribute whose length runs past the message.
        var attr = nflogMessage(packet: syn, seq: 1)
        attr[20] = 0xff  // first attribute's length low byte
        withSpan(attr) { span in
            var messages = NetlinkMessages(span)
            #expect(throws: WireError.attributeTruncated) {
                let message = try messages.next()!
                _ = try NflogPacketMessage(checking: message)
            }
        }
        var tiny = nflogMessage(packet: syn, seq: 1)
        tiny[20] = 2; tiny[21] = 0  // attribute length 2, below its own header
        withSpan(tiny) { span in
            var messages = NetlinkMessages(span)
            #expect(throws: WireError.attributeBadLength) {
                let message = try messages.next()!
                _ = try NflogPacketMessage(checking: message)
            }
        }
    }

    @Test func checksFixedSizeAttributes() {
        // A timestamp of 8 bytes instead of 16.
        let attrs = attribute(3, [0, 0, 0, 0, 0, 0, 0, 1]) + attribute(9, syn)
        withSpan([2, 0, 0, 7] + attrs) { span in
            #expect(throws: WireError.nflogBadAttribute) { _ = try NflogFrame(checking: span, order: .little) }
        }
    }

    @Test func aMessageWithoutPayloadIsCounted() {
        let attrs = attribute(1, [0x08, 0, 0, 0])
        withSpan([2, 0, 0, 7] + attrs) { span in
            #expect(throws: WireError.nflogNoPayload) {
                let frame = try NflogFrame(checking: span, order: .little)
                if frame.attributes.payload == nil { throw WireError.nflogNoPayload }
            }
        }
    }

    @Test func otherNetlinkMessagesAreNotNflogPackets() throws {
        try withSpan(netlinkDone()) { span throws in
            var messages = NetlinkMessages(span)
            guard let message = try messages.next() else { Issue.record("no message"); return }
            #expect(throws: WireError.netlinkNotNflogPacket) { _ = try NflogPacketMessage(checking: message) }
        }
    }
}

@Suite struct HostileTimestampTests {
    @Test func impossibleKernelTimestampsFallBackToTheRecordTime() throws {
        let packet = ipv4(TCPSpec().build())
        for (seconds, micros) in [(UInt64.max, UInt64.max), (UInt64(1) << 62, 0), (5, 2_000_000)] {
            let frame: [UInt8] = [2, 0, 0, 1] + attribute(3, timestampValue(seconds: seconds, micros: micros)) + attribute(9, packet)
            let results = try readAll(pcapFile(linkType: 239, records: [(77, 0, frame)]))
            #expect(try results[0].get().time == 77_000_000)
        }
    }

    @Test func recordTimesAreWithinRFC3339sRange() throws {
        // A pcapng timestamp of 2^64 - 1 nanoseconds is past year 9999: clamped, so that
        // adding an idle timeout cannot overflow.
        let file = pcapngFile([.interface(linkType: 101, tsresol: 0), .enhanced(interface: 0, ticks: .max, data: ipv4(TCPSpec().build()))])
        let time = try readAll(file)[0].get().time
        #expect(time == Microseconds.latestTime)
        #expect(time.addingReportingOverflow(30 * 86_400 * 1_000_000).overflow == false)
    }
}
