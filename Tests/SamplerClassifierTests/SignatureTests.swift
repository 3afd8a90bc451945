import Testing
import SamplerClassifier
import SamplerWire

/// The tampering signatures (spec section 8) and their evidence, one small script each.
/// The capture-level check, with every case crafted as packets on the wire, is
/// EndToEndTests' SignatureCaptureTests.
@Suite struct SignatureTests {
    struct Example: CustomTestStringConvertible, Sendable {
        var packets: @Sendable () -> [PacketSummary]
        var signature: String?
        var testDescription: String
    }

    /// Script packets are 10 ms apart with IP IDs 100, 101, ... and TTL 57.
    static let examples: [Example] = [
        Example(packets: { flow.script("S") }, signature: "syn_timeout", testDescription: "S"),
        Example(packets: { flow.script("S R") }, signature: "syn_rst", testDescription: "S R"),
        Example(packets: { flow.script("S R R") }, signature: "syn_rst", testDescription: "S R R"),
        Example(packets: { flow.script("S RA") }, signature: "syn_rstack", testDescription: "S RA"),
        Example(packets: { flow.script("S RA RA") }, signature: "syn_rstack", testDescription: "S RA RA"),
        Example(packets: { flow.script("S R RA") }, signature: "syn_rst_rstack", testDescription: "S R RA"),
        Example(packets: { flow.script("S A") }, signature: "ack_timeout", testDescription: "S A"),
        Example(packets: { flow.script("S A R") }, signature: "ack_rst", testDescription: "S A R"),
        Example(packets: { flow.script("S A R R") }, signature: "ack_rst_rst", testDescription: "S A R R"),
        Example(packets: { flow.script("S A RA") }, signature: "ack_rstack", testDescription: "S A RA"),
        Example(packets: { flow.script("S A RA RA") }, signature: "ack_rstack_rstack", testDescription: "S A RA RA"),
        Example(packets: { flow.script("S A R RA") }, signature: "other", testDescription: "S A R RA"),
        Example(packets: { flow.script("S A PA") }, signature: "psh_timeout", testDescription: "S A PA"),
        Example(packets: { flow.script("S A PA R") }, signature: "psh_rst", testDescription: "S A PA R"),
        Example(packets: { flow.script("S A PA RA") }, signature: "psh_rstack", testDescription: "S A PA RA"),
        Example(packets: { flow.script("S A PA R RA") }, signature: "psh_rst_rstack", testDescription: "S A PA R RA"),
        Example(packets: { flow.script("S A PA RA RA") }, signature: "psh_rstack_rstack", testDescription: "S A PA RA RA"),
        Example(packets: { [flow.packet("S"), flow.packet("A", ms: 10), flow.packet("PA", ms: 20),
                            flow.packet("R", ms: 30, ack: 7), flow.packet("R", ms: 40, ack: 7)] },
                signature: "psh_rst_eq_rst", testDescription: "S A PA R R, the same acknowledgement number"),
        Example(packets: { [flow.packet("S"), flow.packet("A", ms: 10), flow.packet("PA", ms: 20),
                            flow.packet("R", ms: 30, ack: 0), flow.packet("R", ms: 40, ack: 0)] },
                signature: "psh_rst_eq_rst", testDescription: "S A PA R R, both acknowledgement numbers zero"),
        Example(packets: { [flow.packet("S"), flow.packet("A", ms: 10), flow.packet("PA", ms: 20),
                            flow.packet("R", ms: 30, ack: 7), flow.packet("R", ms: 40, ack: 9)] },
                signature: "psh_rst_ne_rst", testDescription: "S A PA R R, numbers differ"),
        Example(packets: { [flow.packet("S"), flow.packet("A", ms: 10), flow.packet("PA", ms: 20),
                            flow.packet("R", ms: 30, ack: 7), flow.packet("R", ms: 40, ack: 0)] },
                signature: "psh_rst_rst0", testDescription: "S A PA R R, one number zero"),
        Example(packets: { flow.script("S A PA PA R") }, signature: "data_rst", testDescription: "S A PA PA R"),
        Example(packets: { flow.script("S A PA PA RA") }, signature: "data_rstack", testDescription: "S A PA PA RA"),
        Example(packets: { flow.script("S A PA PA R RA") }, signature: "other", testDescription: "S A PA PA R RA"),
        Example(packets: { flow.script("S A PA PA") }, signature: "other", testDescription: "S A PA PA: a timeout at later"),
        Example(packets: { flow.script("S A PA FA R") }, signature: "psh_rst", testDescription: "S A PA FA R: the FIN changes nothing"),
        Example(packets: { flow.script("S A PA A FA") }, signature: nil, testDescription: "S A PA A FA: stage none"),
        Example(packets: { flow.script("S A PA A A A A A A A") }, signature: nil, testDescription: "the cap: stage none"),
    ]

    @Test(arguments: examples)
    func signature(_ example: Example) throws {
        let (records, _) = classify(example.packets())
        let record = try #require(records.count == 1 ? records[0] : nil)
        #expect(record.signature?.name == example.signature, "\(record.stage) \(record.close) \(record.tags.names)")
        if let signature = record.signature, let stage = signature.stage { #expect(stage == record.stage) }
        #expect((record.resetEvidence != nil) == (record.close == .reset))
    }

    @Test func everySignatureOfTheStudyHasItsOwnNameAndNotation() {
        #expect(Signature.allCases.count == 20, "19 of the study's and other")
        #expect(Set(Signature.allCases.map(\.name)).count == 20)
        #expect(Set(Signature.allCases.map(\.notation)).count == 20)
        for signature in Signature.allCases { #expect(Signature(name: signature.name) == signature) }
        #expect(Signature(name: "psh_rst_rst") == nil)
    }

    /// (packets, IP ID gap, TTL gap), each written down from the packets.
    static let evidence: [(String, [PacketSummary], UInt16?, UInt8)] = [
        ("the client's next IP ID", [flow.packet("S", ipID: 3000), flow.packet("A", ms: 10, ipID: 3001),
                                     flow.packet("PA", ms: 20, ipID: 3002), flow.packet("R", ms: 30, ipID: 3003)], 1, 0),
        ("IP ID 0 from a socketless stack", [flow.packet("S", ipID: 12000), flow.packet("R", ms: 10, ipID: 0)], 12000, 0),
        ("the short way round the circle", [flow.packet("S", ipID: 65533), flow.packet("A", ms: 10, ipID: 65534),
                                            flow.packet("PA", ms: 20, ipID: 65535), flow.packet("RA", ms: 30, ipID: 2)], 3, 0),
        ("the nearest of all the client's packets", [flow.packet("S", ipID: 100), flow.packet("A", ms: 10, ipID: 30000),
                                                     flow.packet("PA", ms: 20, ipID: 30001), flow.packet("R", ms: 30, ipID: 150)], 50, 0),
        ("the largest over the RSTs", [flow.packet("S", ipID: 5000), flow.packet("A", ms: 10, ipID: 5001),
                                       flow.packet("R", ms: 20, ipID: 5003), flow.packet("R", ms: 30, ipID: 5300)], 299, 0),
        ("half the circle at most", [flow.packet("S", ipID: 1000), flow.packet("R", ms: 10, ipID: 33768)], 32768, 0),
        ("a TTL far from the SYN's", [flow.packet("S", ttl: 57), flow.packet("A", ms: 10, ttl: 57),
                                      flow.packet("RA", ms: 20, ttl: 250, ipID: 101)], 1, 193),
        ("TTL measured from the SYN", [flow.packet("S", ttl: 57, ipID: 100), flow.packet("A", ms: 10, ttl: 60, ipID: 101),
                                       flow.packet("R", ms: 20, ttl: 60, ipID: 102), flow.packet("R", ms: 30, ttl: 50, ipID: 103)], 2, 7),
        ("IPv6 has no IP ID gap", [Flow.v6.packet("S", ttl: 64, ipID: 0), Flow.v6.packet("RA", ms: 10, ttl: 200, ipID: 0)], nil, 136),
    ]

    @Test func resetEvidenceIsTheDistanceFromTheClientsOwnPackets() throws {
        for (name, packets, ipIDGap, ttlGap) in Self.evidence {
            let (records, _) = classify(packets)
            let evidence = try #require(records.first?.resetEvidence, "\(name)")
            #expect(evidence == ResetEvidence(ipIDGap: ipIDGap, ttlGap: ttlGap), "\(name)")
        }
        let timeout = classify(flow.script("S A PA")).0
        #expect(timeout.first?.resetEvidence == nil, "a timeout has no reset evidence")
    }
}
