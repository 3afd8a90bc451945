import SamplerWire

/// What the rules look at of one packet: flags, the fields the reset tags compare, and
/// the payload length. A view made on demand from a connection's columns.
public struct PacketNote: Sendable, Equatable {
    public var acknowledgementNumber: UInt32
    /// IPv4 identification; 0 for IPv6.
    public var ipID: UInt16
    /// TCP payload bytes; an IP packet cannot carry more than 65535.
    public var payloadLength: UInt16
    public var flags: TCPFlags
    /// IPv4 TTL or IPv6 hop limit.
    public var ttl: UInt8
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

/// An open connection: its key, the SYN that opened it, and up to `capacity` packets in
/// arrival order. Fixed size (256 bytes), updated in place in its table slot; nothing
/// grows per packet.
///
/// The packets are kept as columns (one small array per field) rather than an array of
/// notes: a note's fields would be padded to 14 bytes, the columns take 12 a packet, and
/// only the fields the rules read are kept (no per-packet time or sequence number).
public struct Connection: Sendable {
    public static let capacity = 10

    // The fields are in this order so that their padding adds up to 5 bytes.
    public var key: ConnectionKey
    public private(set) var firstSeen: Microseconds
    public private(set) var lastSeen: Microseconds
    /// When the grace period that started at the first RST (or a FIN) ends; `.max` while
    /// none runs (a sentinel rather than an optional: 8 bytes less per connection).
    private var closing: Microseconds = .max
    /// The earliest SYN (by packet time), so that arrival order does not change it.
    public var syn: SYNInfo
    private var acknowledgementNumbers = InlineArray<10, UInt32>(repeating: 0)
    private var ipIDs = InlineArray<10, UInt16>(repeating: 0)
    private var payloadLengths = InlineArray<10, UInt16>(repeating: 0)
    private var flagColumn = InlineArray<10, TCPFlags>(repeating: [])
    private var ttls = InlineArray<10, UInt8>(repeating: 0)
    private var count: UInt8 = 0

    public init(opening syn: PacketSummary) {
        key = syn.key
        self.syn = SYNInfo(syn)
        firstSeen = syn.time
        lastSeen = syn.time
    }

    public var packetCount: Int { Int(count) }

    /// Whether the slot holding this value is free: a connection always has its SYN.
    var isVacant: Bool { count == 0 }

    /// Marks the slot free (the table's `remove`).
    mutating func vacate() { count = 0 }

    /// Packet `index` in arrival order.
    public subscript(index: Int) -> PacketNote {
        PacketNote(acknowledgementNumber: acknowledgementNumbers[index], ipID: ipIDs[index],
                   payloadLength: payloadLengths[index], flags: flagColumn[index], ttl: ttls[index])
    }

    /// The flags of packet `index`.
    public func flags(at index: Int) -> TCPFlags { flagColumn[index] }

    public var hasRST: Bool { contains(.rst) }
    public var hasFIN: Bool { contains(.fin) }

    func contains(_ flag: TCPFlags) -> Bool {
        for i in 0..<packetCount where flagColumn[i].contains(flag) { return true }
        return false
    }

    /// When the grace period after the first RST (or a FIN) ends, if one runs.
    public var closingDeadline: Microseconds? { closing == .max ? nil : closing }

    /// Adds a packet; the caller finalizes the connection once it holds `capacity`. A
    /// RST starts the grace period, so that RSTs within `grace` of the first belong
    /// here; a FIN starts one if none runs.
    public mutating func append(_ packet: PacketSummary, grace: Microseconds) {
        let hadRST = hasRST
        let i = packetCount
        acknowledgementNumbers[i] = packet.acknowledgementNumber
        ipIDs[i] = packet.ipID
        payloadLengths[i] = UInt16(clamping: packet.payloadLength)
        flagColumn[i] = packet.flags
        ttls[i] = packet.ttl
        count += 1
        firstSeen = min(firstSeen, packet.time)
        lastSeen = max(lastSeen, packet.time)
        if packet.flags.contains(.syn) && !packet.flags.contains(.ack) && packet.time < syn.time {
            syn = SYNInfo(packet)
        }
        if packet.flags.contains(.rst) && !hadRST {
            closing = packet.time + grace
        } else if packet.flags.contains(.fin) && closing == .max {
            closing = packet.time + grace
        }
    }

    /// When this connection must be finalized if nothing else happens.
    public func deadline(idleTimeout: Microseconds) -> Microseconds {
        min(closing, lastSeen + idleTimeout)
    }

    /// How the connection closes when its deadline passes (or it is evicted): by its RST,
    /// by its FIN, or else by the idle timeout.
    var closeAtDeadline: CloseReason { hasRST ? .reset : hasFIN ? .fin : .timeout }

    /// How the connection closes when its packet set is complete (the kernel rule sends no
    /// more): by its RST, by its FIN, or else at the cap.
    var closeAtCap: CloseReason { hasRST ? .reset : hasFIN ? .fin : .cap }
}
