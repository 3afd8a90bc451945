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
    // Where the values of the attributes sampler reads start (and, for the variable-size
    // ones, end); unknown attributes are skipped. 0 means absent: a value always starts
    // after its 4-byte header. Small on purpose: this view is made once per packet.
    private var payloadStart: Int32 = 0, payloadEnd: Int32 = 0
    private var prefixStart: Int32 = 0, prefixEnd: Int32 = 0
    private var timestampOffset: Int32 = 0
    private var packetHeaderOffset: Int32 = 0
    private var inDeviceOffset: Int32 = 0
    private var sequenceOffset: Int32 = 0
    private var globalSequenceOffset: Int32 = 0

    /// Walks every attribute in `bytes` once, checking lengths and padding, and checking
    /// that the fixed-size ones have their size.
    @_lifetime(copy bytes)
    public init(checking bytes: RawSpan, order: ByteOrder) throws(WireError) {
        // Offsets are kept in 32 bits; a netlink buffer is at most a few hundred KiB.
        guard bytes.byteCount <= Int(Int32.max) else { throw .attributeBadLength }
        self.bytes = bytes
        var offset = 0
        while offset < bytes.byteCount {
            guard offset + Self.headerLength <= bytes.byteCount else { throw .attributeTruncated }
            let length = Int(bytes.u16(offset, order))
            let type = bytes.u16(offset + 2, order) & Self.typeMask
            guard length >= Self.headerLength else { throw .attributeBadLength }
            guard offset + length <= bytes.byteCount else { throw .attributeTruncated }
            let start = Int32(offset + Self.headerLength), end = Int32(offset + length)
            let size = length - Self.headerLength
            switch type {
            case Kind.payload: (payloadStart, payloadEnd) = (start, end)
            case Kind.prefix: (prefixStart, prefixEnd) = (start, end)
            case Kind.timestamp:
                guard size == 16 else { throw .nflogBadAttribute }
                timestampOffset = start
            case Kind.packetHeader:
                guard size >= 4 else { throw .nflogBadAttribute }
                packetHeaderOffset = start
            case Kind.inDevice:
                guard size == 4 else { throw .nflogBadAttribute }
                inDeviceOffset = start
            case Kind.sequence:
                guard size == 4 else { throw .nflogBadAttribute }
                sequenceOffset = start
            case Kind.globalSequence:
                guard size == 4 else { throw .nflogBadAttribute }
                globalSequenceOffset = start
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
            guard payloadStart != 0 else { return nil }
            return bytes.extracting(Int(payloadStart)..<Int(payloadEnd))
        }
    }

    /// The rule's `--nflog-prefix`, without its terminating NUL.
    public var prefix: RawSpan? {
        @_lifetime(copy self) get {
            guard prefixStart != 0 else { return nil }
            var end = Int(prefixStart)
            while end < Int(prefixEnd) && bytes.u8(end) != 0 { end += 1 }
            return bytes.extracting(Int(prefixStart)..<end)
        }
    }

    /// The kernel's timestamp of the packet (NFULA_TIMESTAMP), in microseconds. A value
    /// no kernel writes (past year 9999, a million microseconds or more) counts as absent,
    /// so that the record's own time is used instead.
    public var timestamp: Microseconds? {
        guard timestampOffset != 0 else { return nil }
        let offset = Int(timestampOffset)
        let seconds = bytes.u64(offset), micros = bytes.u64(offset + 8)
        guard seconds <= UInt64(Microseconds.latestTime / 1_000_000), micros < 1_000_000 else { return nil }
        return Int64(seconds) * 1_000_000 + Int64(micros)
    }

    /// The link layer's protocol (an EtherType: 0x0800 IPv4, 0x86dd IPv6).
    public var hardwareProtocol: UInt16? { packetHeaderOffset == 0 ? nil : bytes.u16(Int(packetHeaderOffset)) }
    /// The netfilter hook the packet was logged at (0 is PREROUTING).
    public var hook: UInt8? { packetHeaderOffset == 0 ? nil : bytes.u8(Int(packetHeaderOffset) + 2) }
    /// The interface index the packet came in on.
    public var inDevice: UInt32? { inDeviceOffset == 0 ? nil : bytes.u32(Int(inDeviceOffset)) }
    /// The instance's sequence number (with NFULNL_CFG_F_SEQ): gaps are lost messages.
    public var sequence: UInt32? { sequenceOffset == 0 ? nil : bytes.u32(Int(sequenceOffset)) }
    /// The logged packet's summary, with the kernel's timestamp (or `fallbackTime`). The
    /// same for netlink and for pcap NFLOG frames.
    public func summary(fallbackTime: Microseconds) throws(WireError) -> PacketSummary {
        guard let payload else { throw .nflogNoPayload }
        return try PacketSummary(ipPacket: payload, time: timestamp ?? fallbackTime)
    }

    /// The global sequence number (with NFULNL_CFG_F_SEQ_GLOBAL).
    public var globalSequence: UInt32? { globalSequenceOffset == 0 ? nil : bytes.u32(Int(globalSequenceOffset)) }
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
        try attributes.summary(fallbackTime: fallbackTime)
    }
}
