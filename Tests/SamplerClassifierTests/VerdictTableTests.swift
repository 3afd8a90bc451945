import Testing
import SamplerClassifier
import SamplerWire

struct Case: CustomTestStringConvertible, Sendable {
    var name: String
    var packets: @Sendable () -> [PacketSummary]
    var close: CloseReason
    var stage: Stage
    var tags: [String]
    var testDescription: String { name }
}

let flow = Flow()

/// Every stage, every close and every tag, each with the smallest script that shows it.
let cases: [Case] = [
    // stages by reset
    Case(name: "post_syn reset", packets: { flow.script("S R") }, close: .reset, stage: .postSYN, tags: ["reset", "single_rst"]),
    Case(name: "post_ack reset", packets: { flow.script("S A RA") }, close: .reset, stage: .postACK, tags: ["reset", "single_rstack"]),
    Case(name: "post_psh reset", packets: { flow.script("S A PA RA") }, close: .reset, stage: .postPSH, tags: ["reset", "single_rstack"]),
    Case(name: "later reset", packets: { flow.script("S A PA A PA RA") }, close: .reset, stage: .later, tags: ["reset", "single_rstack"]),
    // stages by timeout
    Case(name: "post_syn timeout", packets: { flow.script("S") }, close: .timeout, stage: .postSYN, tags: ["timeout"]),
    Case(name: "post_ack timeout", packets: { flow.script("S A") }, close: .timeout, stage: .postACK, tags: ["timeout"]),
    Case(name: "post_psh timeout", packets: { flow.script("S A PA") }, close: .timeout, stage: .postPSH, tags: ["timeout"]),
    Case(name: "later timeout", packets: { flow.script("S A PA PA") }, close: .timeout, stage: .later, tags: ["timeout"]),
    Case(name: "no ACK after the SYN is post_syn", packets: { flow.script("S F R") }, close: .reset, stage: .postSYN,
         tags: ["fin", "reset", "single_rst"]),
    // normal ends
    Case(name: "fin close", packets: { flow.script("S A PA A FA") }, close: .fin, stage: .none, tags: []),
    Case(name: "10-packet cap", packets: { flow.script("S A PA A A A A A A A") }, close: .cap, stage: .none, tags: []),
    Case(name: "RST as the 10th packet", packets: { flow.script("S A PA A A A A A A RA") }, close: .reset, stage: .postPSH,
         tags: ["reset", "single_rstack"]),
    // reset tags
    Case(name: "fin with rst", packets: { flow.script("S A PA FA R") }, close: .reset, stage: .postPSH,
         tags: ["fin", "reset", "single_rst"]),
    Case(name: "acknumsame", packets: { [flow.packet("S"), flow.packet("A", ms: 1), flow.packet("R", ms: 2, ack: 7),
                                          flow.packet("R", ms: 3, ack: 7)] },
         close: .reset, stage: .postACK, tags: ["acknumsame", "multiple_rsts", "reset"]),
    Case(name: "acknumsame0", packets: { [flow.packet("S"), flow.packet("R", ms: 2, ack: 0), flow.packet("R", ms: 3, ack: 0)] },
         close: .reset, stage: .postSYN, tags: ["acknumsame0", "multiple_rsts", "reset"]),
    Case(name: "acknumdiff", packets: { [flow.packet("S"), flow.packet("R", ms: 2, ack: 7), flow.packet("R", ms: 3, ack: 9)] },
         close: .reset, stage: .postSYN, tags: ["acknumdiff", "multiple_rsts", "reset"]),
    Case(name: "acknumdiff0", packets: { [flow.packet("S"), flow.packet("R", ms: 2, ack: 7), flow.packet("R", ms: 3, ack: 0)] },
         close: .reset, stage: .postSYN, tags: ["acknumdiff0", "multiple_rsts", "reset"]),
    Case(name: "multiple_rstacks", packets: { flow.script("S A PA RA RA") }, close: .reset, stage: .postPSH,
         tags: ["multiple_rstacks", "reset"]),
    Case(name: "rst_and_rstacks", packets: { flow.script("S A PA R RA") }, close: .reset, stage: .postPSH,
         tags: ["reset", "rst_and_rstacks"]),
    // tags beyond the reference
    Case(name: "multiple_syns", packets: { flow.script("S S") }, close: .timeout, stage: .postSYN, tags: ["multiple_syns", "timeout"]),
    Case(name: "syn_payload", packets: { [flow.packet("S", payload: 32)] }, close: .timeout, stage: .postSYN,
         tags: ["syn_payload", "timeout"]),
    Case(name: "ttl_mismatch", packets: { [flow.packet("S", ttl: 50), flow.packet("A", ms: 1, ttl: 50, ipID: 101),
                                           flow.packet("RA", ms: 2, ttl: 53, ipID: 102)] },
         close: .reset, stage: .postACK, tags: ["reset", "single_rstack", "ttl_mismatch"]),
    Case(name: "ttl within the margin", packets: { [flow.packet("S", ttl: 50), flow.packet("RA", ms: 2, ttl: 52, ipID: 101)] },
         close: .reset, stage: .postSYN, tags: ["reset", "single_rstack"]),
    Case(name: "ipid_mismatch: zero from a socketless stack",
         packets: { [flow.packet("S", ipID: 40000), flow.packet("R", ms: 2, ack: 0, ipID: 0)] },
         close: .reset, stage: .postSYN, tags: ["ipid_mismatch", "reset", "single_rst"]),
    Case(name: "ipid_mismatch: far from the client's counter",
         packets: { [flow.packet("S", ipID: 1000), flow.packet("A", ms: 1, ipID: 1001), flow.packet("RA", ms: 2, ipID: 31000)] },
         close: .reset, stage: .postACK, tags: ["ipid_mismatch", "reset", "single_rstack"]),
    Case(name: "ipid following the counter across the wrap",
         packets: { [flow.packet("S", ipID: 65534), flow.packet("A", ms: 1, ipID: 65535), flow.packet("RA", ms: 2, ipID: 3)] },
         close: .reset, stage: .postACK, tags: ["reset", "single_rstack"]),
    Case(name: "zmap", packets: { [flow.packet("S", ttl: 255, ipID: 54321, window: 65535, options: [], mss: nil),
                                   flow.packet("R", ms: 1, ack: 0, ttl: 64, ipID: 0)] },
         close: .reset, stage: .postSYN, tags: ["ipid_mismatch", "reset", "single_rst", "ttl_mismatch", "zmap"]),
    Case(name: "masscan",
         packets: { [flow.packet("S", seq: 0x1234_5678, ttl: 255,
                                 ipID: UInt16(truncatingIfNeeded: flow.key.destination.v4 ^ 443 ^ 0x1234_5678),
                                 window: 1024, options: [], mss: nil)] },
         close: .timeout, stage: .postSYN, tags: ["masscan", "timeout"]),
    Case(name: "nmap", packets: { [flow.packet("S", ttl: 44, window: 1024, options: [2], dontFragment: false)] },
         close: .timeout, stage: .postSYN, tags: ["nmap", "timeout"]),
    Case(name: "nmap needs no DF", packets: { [flow.packet("S", window: 1024, options: [2], dontFragment: true)] },
         close: .timeout, stage: .postSYN, tags: ["timeout"]),
    // IPv6
    Case(name: "IPv6 post_psh reset", packets: { Flow.v6.script("S A PA RA") }, close: .reset, stage: .postPSH,
         tags: ["reset", "single_rstack"]),
    Case(name: "IPv6 has no zmap IP ID", packets: { [Flow.v6.packet("S", ipID: 0, window: 65535)] },
         close: .timeout, stage: .postSYN, tags: ["timeout"]),
]

@Suite struct VerdictTableTests {
    @Test(arguments: cases)
    func classifies(_ example: Case) throws {
        let (records, counters) = classify(example.packets())
        #expect(counters.orphans == 0)
        let record = try #require(records.count == 1 ? records[0] : nil, "expected one record, got \(records.count)")
        #expect(record.close == example.close)
        #expect(record.stage == example.stage)
        #expect(record.tags.names == example.tags)
        #expect(record.packetCount == example.packets().count)
    }
}
