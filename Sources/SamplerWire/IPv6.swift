/// An IPv6 packet over borrowed bytes (RFC 8200), with its extension-header chain walked
/// up to the upper-layer header. `init(checking:)` validates the fixed header and every
/// extension header's length once; the accessors after it cannot fail.
public struct IPv6Packet: ~Escapable {
    enum Field {
        static let versionClassFlow = 0
        static let payloadLength = 4
        static let nextHeader = 6
        static let hopLimit = 7
        static let source = 8
        static let destination = 24
    }

    public static let headerLength = 40
    /// More extension headers than this is not a packet a real stack sends; stop walking.
    public static let maximumExtensionHeaders = 8

    enum NextHeader {
        static let hopByHop: UInt8 = 0
        static let routing: UInt8 = 43
        static let fragment: UInt8 = 44
        static let authentication: UInt8 = 51
        static let destinationOptions: UInt8 = 60
    }

    public let bytes: RawSpan
    /// Offset of the upper-layer header (after the extension headers).
    public let upperLayerOffset: Int
    /// The protocol number of the upper-layer header (6 for TCP).
    public let upperLayerProtocol: UInt8
    /// Number of extension headers walked.
    public let extensionHeaderCount: Int

    @_lifetime(copy bytes)
    public init(checking bytes: RawSpan) throws(WireError) {
        guard bytes.byteCount >= Self.headerLength else { throw .ipTruncated }
        guard bytes.u8(Field.versionClassFlow) >> 4 == 6 else { throw .ipBadVersion }
        let payloadLength = Int(bytes.u16(Field.payloadLength))
        // Zero means a jumbogram (RFC 2675), which a TCP client never sends unprompted.
        guard payloadLength > 0 else { throw .ipv6BadPayloadLength }
        let end = Self.headerLength + payloadLength
        let view = end < bytes.byteCount ? bytes.extracting(0..<end) : bytes

        var next = view.u8(Field.nextHeader)
        var offset = Self.headerLength
        var count = 0
        walk: while true {
            switch next {
            case NextHeader.hopByHop, NextHeader.routing, NextHeader.destinationOptions,
                 NextHeader.authentication, NextHeader.fragment:
                guard count < Self.maximumExtensionHeaders else { throw .ipv6TooManyExtensions }
                guard offset + 8 <= view.byteCount else { throw .ipv6ExtensionTruncated }
                let length: Int
                if next == NextHeader.fragment {
                    // Fragment header: fixed 8 bytes; a non-zero offset means no TCP header here.
                    guard view.u16(offset + 2) & 0xfff8 == 0 else { throw .nonFirstFragment }
                    length = 8
                } else if next == NextHeader.authentication {
                    length = (Int(view.u8(offset + 1)) + 2) * 4
                } else {
                    length = (Int(view.u8(offset + 1)) + 1) * 8
                }
                guard offset + length <= view.byteCount else { throw .ipv6ExtensionTruncated }
                next = view.u8(offset)
                offset += length
                count += 1
            default:
                break walk
            }
        }
        guard offset <= end else { throw .ipv6BadPayloadLength }
        self.bytes = view
        self.upperLayerOffset = offset
        self.upperLayerProtocol = next
        self.extensionHeaderCount = count
    }

    public var trafficClass: UInt8 { UInt8(truncatingIfNeeded: bytes.u32(Field.versionClassFlow) >> 20) }
    public var flowLabel: UInt32 { bytes.u32(Field.versionClassFlow) & 0x000f_ffff }
    public var payloadLength: Int { Int(bytes.u16(Field.payloadLength)) }
    public var hopLimit: UInt8 { bytes.u8(Field.hopLimit) }
    public var source: IPAddress { IPAddress(high: bytes.u64(Field.source), low: bytes.u64(Field.source + 8)) }
    public var destination: IPAddress {
        IPAddress(high: bytes.u64(Field.destination), low: bytes.u64(Field.destination + 8))
    }

    /// The upper-layer header and its payload, as far as the buffer holds them.
    public var upperLayer: RawSpan {
        @_lifetime(copy self) get { bytes.extracting(upperLayerOffset...) }
    }

    /// The upper-layer length the header declares.
    public var declaredUpperLayerLength: Int { Self.headerLength + payloadLength - upperLayerOffset }
}
