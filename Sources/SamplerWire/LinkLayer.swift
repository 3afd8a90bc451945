/// Link-layer header types of capture files (tcpdump.org "LINK-LAYER HEADER TYPES"), and
/// how to get from a frame to its IP packet.
public enum LinkType {
    public static let null: UInt32 = 0  // BSD loopback: 4-byte address family
    public static let ethernet: UInt32 = 1
    public static let rawAlias12: UInt32 = 12  // DLT_RAW on some systems
    public static let rawAlias14: UInt32 = 14  // DLT_RAW on others
    public static let raw: UInt32 = 101
    public static let linuxSLL: UInt32 = 113
    public static let ipv4: UInt32 = 228
    public static let ipv6: UInt32 = 229
    public static let nflog: UInt32 = 239
    public static let linuxSLL2: UInt32 = 276

    /// What `sampler classify` reads, for its messages.
    public static let supportedText = "NFLOG (239), Ethernet (1, with VLAN tags), Linux cooked SLL (113) and SLL2 (276), "
        + "raw IPv4/IPv6 (101, 12, 14, 228, 229) and BSD loopback (0)"
}

enum EtherType {
    static let ipv4: UInt16 = 0x0800
    static let ipv6: UInt16 = 0x86dd
    static let vlan: UInt16 = 0x8100
    static let qinq: UInt16 = 0x88a8
    static let vlanOld: UInt16 = 0x9100
}

/// The IP packet inside a frame of a non-NFLOG link type, as a sub-view.
@_lifetime(copy frame)
func ipPacket(inFrame frame: RawSpan, linkType: UInt32, order: ByteOrder) throws(WireError) -> RawSpan {
    switch linkType {
    case LinkType.ethernet:
        // Destination and source MAC, then EtherType, perhaps behind 802.1Q/802.1ad tags.
        var offset = 12
        for _ in 0..<3 {
            guard frame.byteCount >= offset + 2 else { throw .linkTruncated }
            let type = frame.u16(offset)
            switch type {
            case EtherType.vlan, EtherType.qinq, EtherType.vlanOld:
                offset += 4
            case EtherType.ipv4, EtherType.ipv6:
                return frame.extracting((offset + 2)...)
            default:
                throw .linkNotIP
            }
        }
        throw .linkNotIP
    case LinkType.linuxSLL:
        // Packet type, ARPHRD type, address length, 8 address bytes, protocol.
        guard frame.byteCount >= 16 else { throw .linkTruncated }
        return try checkedIP(frame.extracting(16...), etherType: frame.u16(14))
    case LinkType.linuxSLL2:
        // Protocol, reserved, interface index, ARPHRD type, packet type, address length, address.
        guard frame.byteCount >= 20 else { throw .linkTruncated }
        return try checkedIP(frame.extracting(20...), etherType: frame.u16(0))
    case LinkType.null:
        guard frame.byteCount >= 4 else { throw .linkTruncated }
        // The family is in the capturing host's order; AF_INET is 2 everywhere, AF_INET6
        // is 24, 28 or 30 depending on the BSD.
        switch frame.u32(0, order) {
        case 2, 24, 28, 30: return frame.extracting(4...)
        default: throw .linkNotIP
        }
    case LinkType.raw, LinkType.rawAlias12, LinkType.rawAlias14, LinkType.ipv4, LinkType.ipv6:
        return frame
    default:
        throw .unsupportedLinkType
    }
}

@_lifetime(copy packet)
private func checkedIP(_ packet: RawSpan, etherType: UInt16) throws(WireError) -> RawSpan {
    guard etherType == EtherType.ipv4 || etherType == EtherType.ipv6 else { throw .linkNotIP }
    return packet
}

/// A frame of link type NFLOG as libpcap writes it: a 4-byte header (address family,
/// version, resource id in network order), then TLVs in the capturing host's byte order.
public struct NflogFrame: ~Escapable {
    static let headerLength = 4

    public let family: UInt8
    public let group: UInt16
    public let attributes: NflogAttributes

    @_lifetime(copy frame)
    public init(checking frame: RawSpan, order: ByteOrder) throws(WireError) {
        guard frame.byteCount >= Self.headerLength else { throw .linkTruncated }
        family = frame.u8(0)
        group = frame.u16(2)
        attributes = try NflogAttributes(checking: frame.extracting(Self.headerLength...), order: order)
    }
}
