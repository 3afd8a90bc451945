import SamplerWire

/// The stage and tag rules of `docs/classification.md`, as pure functions of a
/// connection's set of packets. Nothing here depends on arrival order.
public enum Verdict {
    /// The stage: only reset and timeout closes have one; the rest are `none`.
    public static func stage(of connection: Connection, close: CloseReason) -> Stage {
        guard close == .reset || close == .timeout else { return .none }
        var allSYN = true, anyACK = false, pshCount = 0
        for i in 0..<connection.packetCount {
            let flags = connection[i].flags
            if flags.contains(.rst) { continue }  // N: the packets without RST
            if !flags.contains(.syn) { allSYN = false }
            if flags.contains(.ack) { anyACK = true }
            if flags.contains(.psh) { pshCount += 1 }
        }
        if allSYN { return .postSYN }
        if pshCount >= 2 { return .later }
        if pshCount == 1 { return .postPSH }
        // Packets beyond the SYN but no ACK among them (a bare FIN, say): the handshake
        // never completed, which is what post_syn means.
        return anyACK ? .postACK : .postSYN
    }

    /// Every tag that applies.
    public static func tags(of connection: Connection, close: CloseReason, configuration: ClassifierConfiguration) -> Tags {
        var tags: Tags = []
        switch close {
        case .reset: tags.insert(.reset); tags.formUnion(resetTags(of: connection, configuration: configuration))
        case .timeout: tags.insert(.timeout)
        case .fin, .cap, .shutdown: break
        }
        var synCount = 0
        for i in 0..<connection.packetCount where connection[i].flags.contains(.syn) {
            synCount += 1
            if connection[i].payloadLength > 0 { tags.insert(.synPayload) }
        }
        if synCount > 1 { tags.insert(.multipleSyns) }
        tags.formUnion(scannerTags(of: connection))
        return tags
    }

    /// Signatures of scanners in the SYN's header fields.
    static func scannerTags(of connection: Connection) -> Tags {
        let syn = connection.syn
        var tags: Tags = []
        if connection.key.family == .v4 {
            if syn.ipID == 54321 && syn.window == 65535 { tags.insert(.zmap) }
            // masscan derives the IP ID from its SYN cookie inputs.
            let cookie = connection.key.destination.v4 ^ UInt32(connection.key.destinationPort) ^ syn.sequenceNumber
            if syn.ipID == UInt16(truncatingIfNeeded: cookie) { tags.insert(.masscan) }
        }
        if syn.window == 1024 && syn.options.count == 1 && syn.options.mss == 1460 && !syn.dontFragment {
            tags.insert(.nmap)
        }
        return tags
    }

    /// The tags that only a reset close has: RST counts and flags, acknowledgement
    /// numbers, and evidence that another stack sent the RST.
    static func resetTags(of connection: Connection, configuration: ClassifierConfiguration) -> Tags {
        var tags: Tags = []
        var plain = 0, withACK = 0
        var firstAck: UInt32 = 0, allSameAck = true, anyZeroAck = false, allZeroAck = true
        for i in 0..<connection.packetCount {
            let note = connection[i]
            if note.flags.contains(.fin) { tags.insert(.fin) }
            guard note.flags.contains(.rst) else { continue }
            if note.flags.contains(.ack) {
                withACK += 1
            } else {
                if plain == 0 { firstAck = note.acknowledgementNumber }
                if note.acknowledgementNumber != firstAck { allSameAck = false }
                if note.acknowledgementNumber == 0 { anyZeroAck = true } else { allZeroAck = false }
                plain += 1
            }
            if abs(Int(note.ttl) - Int(connection.syn.ttl)) > configuration.ttlMargin { tags.insert(.ttlMismatch) }
            if connection.key.family == .v4 && ipIDMismatch(note.ipID, in: connection, window: configuration.ipIDWindow) {
                tags.insert(.ipidMismatch)
            }
        }
        switch (plain, withACK) {
        case (1, 0): tags.insert(.singleRst)
        case (0, 1): tags.insert(.singleRstack)
        case (2..., 0):
            tags.insert(.multipleRsts)
            if allZeroAck { tags.insert(.acknumsame0) }
            else if allSameAck { tags.insert(.acknumsame) }
            else if anyZeroAck { tags.insert(.acknumdiff0) }
            else { tags.insert(.acknumdiff) }
        case (0, 2...): tags.insert(.multipleRstacks)
        case (1..., 1...): tags.insert(.rstAndRstacks)
        default: break
        }
        return tags
    }

    /// A RST's IP ID does not follow the client's counter: it is zero where the client's
    /// other packets are not, or further than `window` (modulo 2^16) from all of them.
    static func ipIDMismatch(_ rstID: UInt16, in connection: Connection, window: Int) -> Bool {
        guard let nearest = nearestIPIDDistance(rstID, in: connection) else { return false }
        if rstID == 0 && (0..<connection.packetCount).contains(where: { !connection[$0].flags.contains(.rst) && connection[$0].ipID != 0 }) {
            return true
        }
        return nearest > window
    }

    /// The distance from `id` to the nearest IP ID of the connection's packets without RST,
    /// the short way round the 16-bit circle (0 to 32768); nil when every packet is a RST.
    /// `ipid_mismatch` and `rst_ipid_gap` both measure it.
    static func nearestIPIDDistance(_ id: UInt16, in connection: Connection) -> Int? {
        var nearest: Int? = nil
        for i in 0..<connection.packetCount where !connection[i].flags.contains(.rst) {
            let difference = id &- connection[i].ipID
            let distance = Int(min(difference, 0 &- difference))
            nearest = min(nearest ?? distance, distance)
        }
        return nearest
    }
}
