/// The attributes of one NFLOG packet, found in one walk and kept as offsets into the
/// borrowed bytes. The same TLV layout (16-bit length including the 4-byte header, 16-bit
/// type, value, padding to 4 bytes) appears in netlink messages, in the host's byte order,
/// and in pcap files of link type NFLOG, in the file's byte order. Values are big-endian.
public struct NflogAttributes: ~Escapable {
    /// Attribute types (enum nfulnl_attr_type, linux/netfilter/nfnetlink_log.h).
    public enum Kind {
        public static let packetHeader: UInt16 = 1
        public static let mark: UInt16 = 2
        public static let timestamp: UInt16 = 3
        public static let inDevice: UInt16 = 4
        public static let outDevice: UInt16 = 5
        public static let hardwareAddress: UInt16 = 8
        public static let payload: UInt16 = 9
        public static let prefix: UInt16 = 10
        public static let uid: UInt16 = 11
        public static let sequence: UInt16 = 12
        public static let globalSequence: UInt16 = 13
        public static let hardwareType: UInt16 = 15
    }

    static let headerLength = 4
    /// The top two bits of the type are flags (NLA_F_NESTED, NLA_F_NET_BYTEORDER).
    static let typeMask: UInt16 = 0x3fff

    public let bytes: RawSpan
    // Value ranges of the attributes sampler reads; unknown attributes are skipped.
    private var payloadRange: Range<Int>?
    private var prefixRange: Range<Int>?
    private var timestampOffset: Int?
    private var packetHeaderOffset: Int?
    private var inDeviceOffset: Int?
    private var sequenceOffset: Int?
    private var globalSequenceOffset: Int?

    /// Walks every attribute in `bytes` once, checking lengths and padding, and checking
    /// that the fixed-size ones have their size.
    @_lifetime(copy bytes)
    public init(checking bytes: RawSpan, order: ByteOrder) throws(WireError) {
        self.bytes = bytes
        var offset = 0
        while offset < bytes.byteCount {
            guard offset + Self.headerLength <= bytes.byteCount else { throw .attributeTruncated }
            let length = Int(bytes.u16(offset, order))
            let type = bytes.u16(offset + 2, order) & Self.typeMask
            guard length >= Self.headerLength else { throw .attributeBadLength }
            guard offset + length <= bytes.byteCount else { throw .attributeTruncated }
            let value = (offset + Self.headerLength)..<(offset + length)
            switch type {
            case Kind.payload: payloadRange = value
            case Kind.prefix: prefixRange = value
            case Kind.timestamp:
                guard value.count == 16 else { throw .nflogBadAttribute }
                timestampOffset = value.lowerBound
            case Kind.packetHeader:
                guard value.count >= 4 else { throw .nflogBadAttribute }
                packetHeaderOffset = value.lowerBound
            case Kind.inDevice:
                guard value.count == 4 else { throw .nflogBadAttribute }
                inDeviceOffset = value.lowerBound
            case Kind.sequence:
                guard value.count == 4 else { throw .nflogBadAttribute }
                sequenceOffset = value.lowerBound
            case Kind.globalSequence:
                guard value.count == 4 else { throw .nflogBadAttribute }
                globalSequenceOffset = value.lowerBound
            default:
                break
            }
            // The last attribute may end without its padding.
            offset = min(offset + align4(length), bytes.byteCount)
        }
    }

    /// The logged packet (network layer onwards), a sub-view of the caller's buffer.
    public var payload: RawSpan? {
        @_lifetime(copy self) get {
            guard let range = payloadRange else { return nil }
            return bytes.extracting(range)
        }
    }

    /// The rule's `--nflog-prefix`, without its terminating NUL.
    public var prefix: RawSpan? {
        @_lifetime(copy self) get {
            guard let range = prefixRange else { return nil }
            var end = range.lowerBound
            while end < range.upperBound && bytes.u8(end) != 0 { end += 1 }
            return bytes.extracting(range.lowerBound..<end)
        }
    }

    /// The kernel's timestamp of the packet (NFULA_TIMESTAMP), in microseconds. A value
    /// no kernel writes (past year 9999, a million microseconds or more) counts as absent,
    /// so that the record's own time is used instead.
    public var timestamp: Microseconds? {
        guard let offset = timestampOffset else { return nil }
        let seconds = bytes.u64(offset), micros = bytes.u64(offset + 8)
        guard seconds <= UInt64(Microseconds.latestTime / 1_000_000), micros < 1_000_000 else { return nil }
        return Int64(seconds) * 1_000_000 + Int64(micros)
    }

    /// The link layer's protocol (an EtherType: 0x0800 IPv4, 0x86dd IPv6).
    public var hardwareProtocol: UInt16? { packetHeaderOffset.map { bytes.u16($0) } }
    /// The netfilter hook the packet was logged at (0 is PREROUTING).
    public var hook: UInt8? { packetHeaderOffset.map { bytes.u8($0 + 2) } }
    /// The interface index the packet came in on.
    public var inDevice: UInt32? { inDeviceOffset.map { bytes.u32($0) } }
    /// The instance's sequence number (with NFULNL_CFG_F_SEQ): gaps are lost messages.
    public var sequence: UInt32? { sequenceOffset.map { bytes.u32($0) } }
    /// The global sequence number (with NFULNL_CFG_F_SEQ_GLOBAL).
    public var globalSequence: UInt32? { globalSequenceOffset.map { bytes.u32($0) } }
}

/// An NFLOG packet message from netlink: `nlmsghdr`, `nfgenmsg`, attributes.
public struct NflogPacketMessage: ~Escapable {
    /// (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET.
    public static let messageType: UInt16 = 4 << 8 | 0
    static let nfgenmsgLength = 4

    /// The address family in `nfgenmsg` (AF_INET 2, AF_INET6 10).
    public let family: UInt8
    /// The NFLOG group (`nfgenmsg.res_id`).
    public let group: UInt16
    public let attributes: NflogAttributes

    @_lifetime(copy message)
    public init(checking message: borrowing NetlinkMessage) throws(WireError) {
        guard message.type == Self.messageType else { throw .netlinkNotNflogPacket }
        let body = message.payload
        guard body.byteCount >= Self.nfgenmsgLength else { throw .netlinkTruncated }
        family = body.u8(0)
        group = body.u16(2)
        attributes = try NflogAttributes(
            checking: body.extracting(Self.nfgenmsgLength...), order: .host)
    }

    /// The packet's summary; the time is the kernel's timestamp, or `fallbackTime`.
    public func summary(fallbackTime: Microseconds) throws(WireError) -> PacketSummary {
        guard let payload = attributes.payload else { throw .nflogNoPayload }
        var summary = try PacketSummary(ipPacket: payload, time: attributes.timestamp ?? fallbackTime)
        summary.nflogSequence = attributes.sequence
        return summary
    }
}
