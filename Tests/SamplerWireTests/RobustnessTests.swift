import SamplerTestSupport
import Testing
@testable import SamplerWire

/// Parses a netlink datagram all the way to summaries, as the live reader will.
func parseDatagram(_ bytes: [UInt8]) -> (summaries: Int, error: WireError?) {
    withSpan(bytes) { span in
        var messages = NetlinkMessages(span)
        var count = 0
        do throws(WireError) {
            while let message = try messages.next() {
                guard message.type == NflogPacketMessage.messageType else { continue }
                _ = try NflogPacketMessage(checking: message).summary(fallbackTime: 0)
                count += 1
            }
            return (count, nil)
        } catch {
            return (count, error)
        }
    }
}


@Suite struct RobustnessTests {
    static let messages: [[UInt8]] = [
        nflogMessage(packet: ipv4(TCPSpec(options: TCPSpec.linuxSYNOptions).build(), options: [1, 1, 1, 0]), seq: 1),
        nflogMessage(packet: ipv4(TCPSpec(flags: 0x018, payload: Array("GET / HTTP/1.1\r\n".utf8)).build()), seq: 2),
        nflogMessage(packet: ipv6(TCPSpec(flags: 0x014).build(), extensions: [(0, [1, 4, 0, 0, 0, 0]), (44, [0, 0, 0, 0, 0, 9])]), seq: 3),
    ]

    @Test(arguments: messages)
    func everyTruncationIsAnError(message: [UInt8]) {
        #expect(parseDatagram(message) == (1, nil))
        for length in 0..<message.count {
            let (summaries, error) = parseDatagram(Array(message.prefix(length)))
            if length == 0 {
                #expect(summaries == 0 && error == nil)  // an empty datagram holds no messages
            } else {
                #expect(summaries == 0, "prefix \(length) parsed")
                #expect(error != nil, "prefix \(length) gave no error")
            }
        }
    }

    @Test(arguments: messages)
    func truncatedIPPacketsInsideIntactMessagesAreErrors(message: [UInt8]) {
        // Shorten the payload attribute itself (fixing up the lengths), so that framing
        // is valid and the IP/TCP parsers see every short packet.
        let payloadStart = message.count - 4 - packetLength(message)
        let packet = Array(message[(payloadStart + 4)...])
        let headers = headerLength(packet)
        for cut in 0..<headers {
            let shortened = nflogMessage(packet: Array(packet.prefix(cut)), seq: 1)
            let (summaries, error) = parseDatagram(shortened)
            #expect(summaries == 0 && error != nil, "packet cut to \(cut) of \(headers) header bytes")
        }
    }

    @Test func randomBytesNeverCrashTheParsers() {
        var rng = SplitMix64(state: 0x5a4d_504c_4552)
        var errors = WireErrorCounts()
        var parsed = 0
        for round in 0..<20_000 {
            let length = Int.random(in: 0..<200, using: &rng)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            // Half the rounds start from a valid message and flip a few bytes, which reaches
            // deeper into the parsers than pure noise.
            if round % 2 == 0 {
                bytes = Self.messages[round / 2 % Self.messages.count]
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
            }
            let (summaries, error) = parseDatagram(bytes)
            parsed += summaries
            if let error { errors.record(error) }
            withSpan(bytes) { span in
                if let summary = try? PacketSummary(ipPacket: span, time: 0) {
                    #expect(summary.payloadLength >= 0)
                    #expect(summary.options.count <= TCPOptions.capacity)
                }
            }
        }
        // Mutated valid messages parse sometimes and fail for many reasons.
        #expect(parsed > 0)
        #expect(errors.nonZero.count >= 5)
    }
}

private func packetLength(_ message: [UInt8]) -> Int {
    // The payload attribute is last: walk to it.
    var offset = 20
    while offset < message.count {
        let length = Int(message[offset]) | Int(message[offset + 1]) << 8
        let type = Int(message[offset + 2]) | Int(message[offset + 3]) << 8
        if type == 9 { return length - 4 }
        offset += (length + 3) & ~3
    }
    return 0
}

private func headerLength(_ packet: [UInt8]) -> Int {
    withSpan(packet) { span in
        if packet[0] >> 4 == 4, let ip = try? IPv4Packet(checking: span), let tcp = try? TCPSegment(checking: ip.payload) {
            return ip.headerLength + tcp.headerLength
        }
        if let ip = try? IPv6Packet(checking: span), let tcp = try? TCPSegment(checking: ip.upperLayer) {
            return ip.upperLayerOffset + tcp.headerLength
        }
        return packet.count
    }
}
