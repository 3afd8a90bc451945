import SamplerWire

/// What a connection keeps of each of its packets: a few dozen bytes, fixed size.
public struct PacketNote: Sendable, Equatable {
    public var time: Microseconds
    public var sequenceNumber: UInt32
    public var acknowledgementNumber: UInt32
    /// TCP payload bytes; an IP packet cannot carry more than 65535.
    public var payloadLength: UInt16
    public var flags: TCPFlags
    public var ipID: UInt16
    public var ttl: UInt8

    public init(_ packet: PacketSummary) {
        time = packet.time
        sequenceNumber = packet.sequenceNumber
        acknowledgementNumber = packet.acknowledgementNumber
        payloadLength = UInt16(clamping: packet.payloadLength)
        flags = packet.flags
        ipID = packet.ipID
        ttl = packet.ttl
    }
}

/// The SYN's fields that records carry and scanner signatures look at.
public struct SYNInfo: Sendable {
    public var time: Microseconds
    public var ttl: UInt8
    public var ipID: UInt16
    public var window: UInt16
    public var dontFragment: Bool
    public var sequenceNumber: UInt32
    public var options: TCPOptions

    public init(_ packet: PacketSummary) {
        time = packet.time
        ttl = packet.ttl
        ipID = packet.ipID
        window = packet.window
        dontFragment = packet.dontFragment
        sequenceNumber = packet.sequenceNumber
        options = packet.options
    }
}

/// An open connection: its key, the SYN that opened it, and up to `packetCap` packets in
/// arrival order. Fixed size; nothing grows per packet.
public struct Connection: Sendable {
    public static let capacity = 10

    public var key: ConnectionKey
    /// The earliest SYN (by packet time), so that arrival order does not change it.
    public var syn: SYNInfo
    public private(set) var packetCount = 0
    private var notes = InlineArray<10, PacketNote>(repeating: PacketNote(PacketSummary(
        key: ConnectionKey(family: .v4, source: .init(v4: 0), sourcePort: 0, destination: .init(v4: 0), destinationPort: 0),
        time: 0, flags: [])))
    public private(set) var firstSeen: Microseconds
    public private(set) var lastSeen: Microseconds
    /// When the grace period that started at the first RST (or a FIN) ends.
    public private(set) var closingDeadline: Microseconds?

    public init(opening syn: PacketSummary) {
        key = syn.key
        self.syn = SYNInfo(syn)
        firstSeen = syn.time
        lastSeen = syn.time
    }

    public subscript(index: Int) -> PacketNote { notes[index] }

    public var isFull: Bool { packetCount >= Self.capacity }

    public var hasRST: Bool { contains(.rst) }
    public var hasFIN: Bool { contains(.fin) }

    func contains(_ flag: TCPFlags) -> Bool {
        for i in 0..<packetCount where notes[i].flags.contains(flag) { return true }
        return false
    }

    /// Adds a packet; the caller checks `isFull` first. A RST (re)starts the grace period,
    /// so that RSTs within `grace` of the first belong here; a FIN starts one if none runs.
    public mutating func append(_ packet: PacketSummary, grace: Microseconds) {
        let hadRST = hasRST
        notes[packetCount] = PacketNote(packet)
        packetCount += 1
        firstSeen = min(firstSeen, packet.time)
        lastSeen = max(lastSeen, packet.time)
        if packet.flags.contains(.syn) && !packet.flags.contains(.ack) && packet.time < syn.time {
            syn = SYNInfo(packet)
        }
        if packet.flags.contains(.rst) && !hadRST {
            closingDeadline = packet.time + grace
        } else if packet.flags.contains(.fin) && closingDeadline == nil {
            closingDeadline = packet.time + grace
        }
    }

    /// When this connection must be finalized if nothing else happens.
    public func deadline(idleTimeout: Microseconds) -> Microseconds {
        let idle = lastSeen + idleTimeout
        guard let closing = closingDeadline else { return idle }
        return min(closing, idle)
    }
}
