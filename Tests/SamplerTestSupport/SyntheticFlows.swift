import SamplerWire

/// An endless stream of packets that keeps a classifier's table at `openConnections`
/// open connections: connections are interleaved round-robin, each gets ten packets
/// (SYN, ACK, seven PSH+ACK, FIN+ACK; the tenth finalizes it), and a new connection takes
/// the place of each one that ends. Packets are `10 s / openConnections` apart, so every
/// connection sees a packet every 10 s, well inside the idle timeout, at any table size.
/// For the benchmarks at realistic scale (10^4 to 10^6 open connections).
public struct SyntheticFlows {
    public let openConnections: Int
    private var packetNumber = 0
    private let spacing: Microseconds
    private let start: Microseconds = 1_795_000_000_000_000
    private static let server = IPAddress(v4: 0xC633_6401)  // 198.51.100.1

    public init(openConnections: Int) {
        self.openConnections = openConnections
        spacing = max(1, 10_000_000 / Microseconds(openConnections))
    }

    public mutating func next() -> PacketSummary {
        let n = packetNumber
        packetNumber += 1
        let round = n / (10 * openConnections), withinRound = n % (10 * openConnections)
        let step = withinRound / openConnections
        let id = UInt32(truncatingIfNeeded: round * openConnections + withinRound % openConnections)
        // Clients in 10.0.0.0/8, 60,000 ports each: distinct keys for 10^11 connections.
        let key = ConnectionKey(
            family: .v4, source: IPAddress(v4: 0x0A00_0000 | (id / 60_000) & 0x00FF_FFFF), sourcePort: UInt16(1024 + id % 60_000),
            destination: Self.server, destinationPort: 443)
        let flags: TCPFlags = step == 0 ? .syn : step == 1 ? .ack : step == 9 ? [.fin, .ack] : [.psh, .ack]
        return PacketSummary(key: key, time: start + Microseconds(n) * spacing, flags: flags, sequenceNumber: id,
                             acknowledgementNumber: step == 0 ? 0 : 1, ipID: UInt16(truncatingIfNeeded: id &+ UInt32(step)),
                             payloadLength: step >= 2 && step < 9 ? 100 : 0)
    }
}
