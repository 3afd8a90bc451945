/// Identifies a connection: IP version, client and server endpoints. The protocol is
/// always TCP. The addresses come first and the family last, so that the key packs into
/// 37 bytes (stride 40) instead of 50 (stride 56): every open connection holds one.
public struct ConnectionKey: Hashable, Sendable {
    public var source: IPAddress
    public var destination: IPAddress
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var family: IPFamily

    public init(family: IPFamily, source: IPAddress, sourcePort: UInt16, destination: IPAddress, destinationPort: UInt16) {
        self.source = source
        self.destination = destination
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.family = family
    }
}

/// Time as microseconds since the Unix epoch (UTC). Packet time, never the wall clock
/// read inside the logic.
public typealias Microseconds = Int64

extension Microseconds {
    /// 9999-12-31T23:59:59.999999Z: the last instant RFC 3339 can write.
    public static let latestTime: Microseconds = 253_402_300_799_999_999

    /// A time from untrusted input (a capture, a kernel attribute) brought into
    /// 1970...9999, so that adding timeouts to it can never overflow.
    @inline(__always)
    static func clampedTime(_ value: Int64) -> Microseconds { Swift.min(Swift.max(value, 0), latestTime) }
}

/// Everything sampler keeps of one client-to-server TCP packet: a fixed-size value built
/// from the header views, with no reference back into the receive buffer.
///
/// Its fields are in this order so that the small ones fill the key's tail and each
/// other's padding: 120 bytes, under two cache lines, because every summary is copied
/// into a ring and crosses a core (offline classify, the live shards). It had 168, with
/// the IPv6 flow label and the NFLOG sequence number that nothing read (the reader counts
/// gaps from the message itself).
public struct PacketSummary: Sendable {
    public var key: ConnectionKey
    /// IPv4 TTL or IPv6 hop limit.
    public var ttl: UInt8
    /// IPv4 DF bit; false for IPv6, which has no such bit (routers never fragment it).
    public var dontFragment: Bool
    /// IPv4 identification; 0 for IPv6, which has none.
    public var ipID: UInt16
    public var flags: TCPFlags
    public var window: UInt16
    /// An IP packet's payload fits in 16 bits (IPv4's total length, IPv6's payload length).
    private var payloadLength16: UInt16
    public var time: Microseconds
    public var sequenceNumber: UInt32
    public var acknowledgementNumber: UInt32
    public var options: TCPOptions

    /// TCP payload length from the IP header's lengths (not what the capture kept); more
    /// than 65535 is kept as 65535, as a connection's columns keep it.
    public var payloadLength: Int {
        get { Int(payloadLength16) }
        set { payloadLength16 = UInt16(clamping: newValue) }
    }

    public init(
        key: ConnectionKey, time: Microseconds, flags: TCPFlags, sequenceNumber: UInt32 = 0,
        acknowledgementNumber: UInt32 = 0, ttl: UInt8 = 64, ipID: UInt16 = 0, dontFragment: Bool = true,
        window: UInt16 = 64240, options: TCPOptions = TCPOptions(), payloadLength: Int = 0
    ) {
        self.key = key
        self.ttl = ttl
        self.dontFragment = dontFragment
        self.ipID = ipID
        self.flags = flags
        self.window = window
        payloadLength16 = UInt16(clamping: payloadLength)
        self.time = time
        self.sequenceNumber = sequenceNumber
        self.acknowledgementNumber = acknowledgementNumber
        self.options = options
    }
}

extension PacketSummary {
    /// Parses an IP packet (IPv4 or IPv6, told apart by the version nibble) carrying TCP.
    public init(ipPacket bytes: RawSpan, time: Microseconds) throws(WireError) {
        guard bytes.byteCount >= 1 else { throw .ipTruncated }
        switch bytes.u8(0) >> 4 {
        case 4:
            let ip = try IPv4Packet(checking: bytes)
            // A later fragment has no TCP header; a first fragment does, so it is parsed.
            guard ip.fragmentOffset == 0 else { throw .nonFirstFragment }
            guard ip.protocolNumber == IPProtocol.tcp else { throw .notTCP }
            let tcp = try TCPSegment(checking: ip.payload)
            let key = ConnectionKey(
                family: .v4, source: ip.source, sourcePort: tcp.sourcePort,
                destination: ip.destination, destinationPort: tcp.destinationPort)
            try self.init(
                key: key, tcp: tcp, time: time, ttl: ip.ttl, ipID: ip.identification,
                dontFragment: ip.dontFragment, payloadLength: ip.declaredPayloadLength - tcp.headerLength)
        case 6:
            let ip = try IPv6Packet(checking: bytes)
            guard ip.upperLayerProtocol == IPProtocol.tcp else { throw .notTCP }
            let tcp = try TCPSegment(checking: ip.upperLayer)
            let key = ConnectionKey(
                family: .v6, source: ip.source, sourcePort: tcp.sourcePort,
                destination: ip.destination, destinationPort: tcp.destinationPort)
            try self.init(
                key: key, tcp: tcp, time: time, ttl: ip.hopLimit, ipID: 0, dontFragment: false,
                payloadLength: ip.declaredUpperLayerLength - tcp.headerLength)
        default:
            throw .ipBadVersion
        }
    }

    private init(
        key: ConnectionKey, tcp: borrowing TCPSegment, time: Microseconds, ttl: UInt8, ipID: UInt16,
        dontFragment: Bool, payloadLength: Int
    ) throws(WireError) {
        // The declared lengths must leave room for the TCP header the buffer shows.
        guard payloadLength >= 0 else { throw .tcpBadHeaderLength }
        self.init(
            key: key, time: time, flags: tcp.flags, sequenceNumber: tcp.sequenceNumber,
            acknowledgementNumber: tcp.acknowledgementNumber, ttl: ttl, ipID: ipID,
            dontFragment: dontFragment, window: tcp.window,
            options: try tcp.options(), payloadLength: payloadLength)
    }
}

enum IPProtocol {
    static let tcp: UInt8 = 6
}
