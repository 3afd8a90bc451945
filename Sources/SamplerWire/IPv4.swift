/// An IPv4 packet over borrowed bytes (RFC 791). `init(checking:)` validates the version,
/// header length and total length once; the accessors after it cannot fail.
public struct IPv4Packet: ~Escapable {
    enum Field {
        static let versionAndHeaderLength = 0
        static let totalLength = 2
        static let identification = 4
        static let flagsAndFragmentOffset = 6
        static let ttl = 8
        static let protocolNumber = 9
        static let source = 12
        static let destination = 16
    }

    public static let minimumHeaderLength = 20
    static let dontFragmentBit: UInt16 = 0x4000
    static let moreFragmentsBit: UInt16 = 0x2000
    static let fragmentOffsetMask: UInt16 = 0x1fff

    /// The packet as captured: at least the header, perhaps less than `totalLength`
    /// when the capture cut it, never past `totalLength` (link padding is dropped).
    public let bytes: RawSpan

    @_lifetime(copy bytes)
    public init(checking bytes: RawSpan) throws(WireError) {
        guard bytes.byteCount >= Self.minimumHeaderLength else { throw .ipTruncated }
        let first = bytes.u8(Field.versionAndHeaderLength)
        guard first >> 4 == 4 else { throw .ipBadVersion }
        let headerLength = Int(first & 0x0f) * 4
        guard headerLength >= Self.minimumHeaderLength else { throw .ipv4BadHeaderLength }
        guard headerLength <= bytes.byteCount else { throw .ipTruncated }
        let totalLength = Int(bytes.u16(Field.totalLength))
        guard totalLength >= headerLength else { throw .ipv4BadTotalLength }
        self.bytes = totalLength < bytes.byteCount ? bytes.extracting(0..<totalLength) : bytes
    }

    public var headerLength: Int { Int(bytes.u8(Field.versionAndHeaderLength) & 0x0f) * 4 }
    public var totalLength: Int { Int(bytes.u16(Field.totalLength)) }
    public var identification: UInt16 { bytes.u16(Field.identification) }
    public var dontFragment: Bool { bytes.u16(Field.flagsAndFragmentOffset) & Self.dontFragmentBit != 0 }
    public var moreFragments: Bool { bytes.u16(Field.flagsAndFragmentOffset) & Self.moreFragmentsBit != 0 }
    /// The fragment offset in bytes.
    public var fragmentOffset: Int { Int(bytes.u16(Field.flagsAndFragmentOffset) & Self.fragmentOffsetMask) * 8 }
    public var ttl: UInt8 { bytes.u8(Field.ttl) }
    public var protocolNumber: UInt8 { bytes.u8(Field.protocolNumber) }
    public var source: IPAddress { IPAddress(v4: bytes.u32(Field.source)) }
    public var destination: IPAddress { IPAddress(v4: bytes.u32(Field.destination)) }

    /// The bytes after the header that the buffer holds.
    public var payload: RawSpan {
        @_lifetime(copy self) get { bytes.extracting(headerLength...) }
    }

    /// The payload length the header declares (more than `payload` when the capture cut it).
    public var declaredPayloadLength: Int { totalLength - headerLength }
}
