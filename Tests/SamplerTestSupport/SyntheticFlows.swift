import SamplerWire

/// An endless stream of packets that keeps a classifier's table at about `openConnections`
/// open connections, for the benchmarks at realistic scale (10^4 to 10^6).
///
/// The packets go round-robin over lanes; each lane runs one connection after another,
/// ten packets each (SYN, ACK, seven PSH+ACK, FIN+ACK: the tenth finalizes it), and lane
/// `c` starts `c` packets into its first connection, so that the lanes finish at different
/// times and about a tenth of them are between two connections at any moment (hence
/// 10/9 as many lanes as open connections). A lane sees a packet every 10 s, well inside
/// the idle timeout, at any table size.
public struct SyntheticFlows {
    public let openConnections: Int
    private let lanes: Int
    private let spacing: Microseconds
    private var packetNumber = 0
    private let start: Microseconds = 1_795_000_000_000_000
    private static let server = IPAddress(v4: 0xC633_6401)  // 198.51.100.1

    public init(openConnections: Int) {
        self.openConnections = openConnections
        lanes = openConnections + openConnections / 9
        spacing = max(1, 10_000_000 / Microseconds(lanes))
    }

    public mutating func next() -> PacketSummary {
        let n = packetNumber
        packetNumber += 1
        let lane = n % lanes, k = n / lanes + lane % 10
        let step = k % 10
        let id = UInt64(k / 10) * UInt64(lanes) + UInt64(lane)
        // Clients in 10.0.0.0/8, 60,000 ports each: distinct keys for 10^12 connections.
        let key = ConnectionKey(
            family: .v4, source: IPAddress(v4: 0x0A00_0000 | UInt32(truncatingIfNeeded: id / 60_000) & 0x00FF_FFFF),
            sourcePort: UInt16(1024 + id % 60_000), destination: Self.server, destinationPort: 443)
        let flags: TCPFlags = step == 0 ? .syn : step == 1 ? .ack : step == 9 ? [.fin, .ack] : [.psh, .ack]
        return PacketSummary(key: key, time: start + Microseconds(n) * spacing, flags: flags,
                             sequenceNumber: UInt32(truncatingIfNeeded: id), acknowledgementNumber: step == 0 ? 0 : 1,
                             ipID: UInt16(truncatingIfNeeded: id &+ UInt64(step)), payloadLength: step >= 2 && step < 9 ? 100 : 0)
    }
}
