import SamplerWire
/// The tampering signatures of "Global, Passive Detection of Connection Tampering"
/// (Sundara Raman et al., ACM SIGCOMM 2023): the client's packets before the event and the
/// RSTs (or the silence) after it, finer than the stage (docs/classification.md,
/// "Tampering signatures"). Every connection whose stage is not `none` has exactly one.
///
/// A signature is a function of the stage, the close and the reset tags alone (the tags
/// already count the RSTs with and without ACK and compare their acknowledgement
/// numbers), so it costs nothing per packet, and a record that carries those three
/// carries its signature, whatever wrote it.
public enum Signature: UInt8, CaseIterable, Sendable, Comparable {
    case synTimeout, synRST, synRSTACK, synRSTAndRSTACK
    case ackTimeout, ackRST, ackRSTRST, ackRSTACK, ackRSTACKRSTACK
    case pshTimeout, pshRST, pshRSTACK, pshRSTAndRSTACK, pshRSTACKRSTACK
    case pshRSTEqualRST, pshRSTUnequalRST, pshRSTRSTZero
    case dataRST, dataRSTACK
    /// A reset or timeout that no row above matches (both kinds of RST at post_ack or
    /// later, a timeout at later).
    case other

    /// The name in records and reports.
    public var name: String { "\(staticName)" }

    public var staticName: StaticString {
        switch self {
        case .synTimeout: "syn_timeout"
        case .synRST: "syn_rst"
        case .synRSTACK: "syn_rstack"
        case .synRSTAndRSTACK: "syn_rst_rstack"
        case .ackTimeout: "ack_timeout"
        case .ackRST: "ack_rst"
        case .ackRSTRST: "ack_rst_rst"
        case .ackRSTACK: "ack_rstack"
        case .ackRSTACKRSTACK: "ack_rstack_rstack"
        case .pshTimeout: "psh_timeout"
        case .pshRST: "psh_rst"
        case .pshRSTACK: "psh_rstack"
        case .pshRSTAndRSTACK: "psh_rst_rstack"
        case .pshRSTACKRSTACK: "psh_rstack_rstack"
        case .pshRSTEqualRST: "psh_rst_eq_rst"
        case .pshRSTUnequalRST: "psh_rst_ne_rst"
        case .pshRSTRSTZero: "psh_rst_rst0"
        case .dataRST: "data_rst"
        case .dataRSTACK: "data_rstack"
        case .other: "other"
        }
    }

    /// The study's notation: the client's packets before the event → the RSTs after it.
    public var notation: String {
        switch self {
        case .synTimeout: "⟨SYN → ∅⟩"
        case .synRST: "⟨SYN → RST⟩"
        case .synRSTACK: "⟨SYN → RST+ACK⟩"
        case .synRSTAndRSTACK: "⟨SYN → RST;RST+ACK⟩"
        case .ackTimeout: "⟨SYN;ACK → ∅⟩"
        case .ackRST: "⟨SYN;ACK → RST⟩"
        case .ackRSTRST: "⟨SYN;ACK → RST;RST⟩"
        case .ackRSTACK: "⟨SYN;ACK → RST+ACK⟩"
        case .ackRSTACKRSTACK: "⟨SYN;ACK → RST+ACK;RST+ACK⟩"
        case .pshTimeout: "⟨PSH+ACK → ∅⟩"
        case .pshRST: "⟨PSH+ACK → RST⟩"
        case .pshRSTACK: "⟨PSH+ACK → RST+ACK⟩"
        case .pshRSTAndRSTACK: "⟨PSH+ACK → RST;RST+ACK⟩"
        case .pshRSTACKRSTACK: "⟨PSH+ACK → RST+ACK;RST+ACK⟩"
        case .pshRSTEqualRST: "⟨PSH+ACK → RST₌RST⟩"
        case .pshRSTUnequalRST: "⟨PSH+ACK → RST≠RST⟩"
        case .pshRSTRSTZero: "⟨PSH+ACK → RST;RST₀⟩"
        case .dataRST: "⟨PSH+ACK;Data → RST⟩"
        case .dataRSTACK: "⟨PSH+ACK;Data → RST+ACK⟩"
        case .other: "(none of the study's)"
        }
    }

    /// The stage every connection with this signature has (`nil` for `other`, which any
    /// stage but `none` can have).
    public var stage: Stage? {
        switch self {
        case .synTimeout, .synRST, .synRSTACK, .synRSTAndRSTACK: .postSYN
        case .ackTimeout, .ackRST, .ackRSTRST, .ackRSTACK, .ackRSTACKRSTACK: .postACK
        case .pshTimeout, .pshRST, .pshRSTACK, .pshRSTAndRSTACK, .pshRSTACKRSTACK,
             .pshRSTEqualRST, .pshRSTUnequalRST, .pshRSTRSTZero: .postPSH
        case .dataRST, .dataRSTACK: .later
        case .other: nil
        }
    }

    public init?(name: some StringProtocol) {
        guard let match = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    /// The signature of a connection, from its stage, close and tags (section 8 of the
    /// specification); `nil` for stage `none`.
    public init?(stage: Stage, close: CloseReason, tags: Tags) {
        switch (stage, close) {
        case (.none, _): return nil
        case (.postSYN, .timeout): self = .synTimeout
        case (.postACK, .timeout): self = .ackTimeout
        case (.postPSH, .timeout): self = .pshTimeout
        case (_, .reset): self = Self.reset(at: stage, tags: tags)
        default: self = .other
        }
    }

    /// The reset rows: RST counts come from the tags (`single_rst`: one RST without ACK;
    /// `multiple_rsts`: two or more; likewise `_rstack` for RST+ACK; `rst_and_rstacks`:
    /// both kinds).
    private static func reset(at stage: Stage, tags: Tags) -> Signature {
        let plain = tags.contains(.singleRst) || tags.contains(.multipleRsts)
        let withACK = tags.contains(.singleRstack) || tags.contains(.multipleRstacks)
        let both = tags.contains(.rstAndRstacks)
        switch stage {
        case .postSYN:
            return both ? .synRSTAndRSTACK : plain ? .synRST : withACK ? .synRSTACK : .other
        case .postACK:
            if tags.contains(.singleRst) { return .ackRST }
            if tags.contains(.multipleRsts) { return .ackRSTRST }
            if tags.contains(.singleRstack) { return .ackRSTACK }
            if tags.contains(.multipleRstacks) { return .ackRSTACKRSTACK }
            return .other
        case .postPSH:
            if tags.contains(.singleRst) { return .pshRST }
            if tags.contains(.singleRstack) { return .pshRSTACK }
            if both { return .pshRSTAndRSTACK }
            if tags.contains(.multipleRstacks) { return .pshRSTACKRSTACK }
            if tags.contains(.acknumsame) || tags.contains(.acknumsame0) { return .pshRSTEqualRST }
            if tags.contains(.acknumdiff) { return .pshRSTUnequalRST }
            if tags.contains(.acknumdiff0) { return .pshRSTRSTZero }
            return .other
        case .later:
            return both ? .other : plain ? .dataRST : withACK ? .dataRSTACK : .other
        case .none:
            return .other
        }
    }

    public static func < (a: Signature, b: Signature) -> Bool { a.rawValue < b.rawValue }
}

/// What corroborates a reset signature (the study's section 4.3): how far the RSTs' IP
/// IDs and TTLs are from the client's own packets. Only for connections closed by a reset.
public struct ResetEvidence: Sendable, Equatable {
    /// IPv4 only: for each RST, the distance from its IP ID to the nearest IP ID of the
    /// connection's packets without RST, the short way round the 16-bit circle (0 to
    /// 32,768); the largest over the RSTs. `nil` for IPv6, or when every packet is a RST.
    public var ipIDGap: UInt16?
    /// The largest difference between a RST's TTL (IPv6: hop limit) and the SYN's.
    public var ttlGap: UInt8

    public init(ipIDGap: UInt16?, ttlGap: UInt8) {
        self.ipIDGap = ipIDGap
        self.ttlGap = ttlGap
    }

    /// The evidence of a connection with at least one RST.
    public init(of connection: Connection) {
        var ttlGap = 0, ipIDGap: Int? = nil
        for i in 0..<connection.packetCount where connection.flags(at: i).contains(.rst) {
            let rst = connection[i]
            ttlGap = max(ttlGap, abs(Int(rst.ttl) - Int(connection.syn.ttl)))
            guard connection.key.family == .v4, let nearest = Verdict.nearestIPIDDistance(rst.ipID, in: connection) else { continue }
            ipIDGap = max(ipIDGap ?? 0, nearest)
        }
        self.ipIDGap = ipIDGap.map { UInt16($0) }
        self.ttlGap = UInt8(ttlGap)
    }
}
