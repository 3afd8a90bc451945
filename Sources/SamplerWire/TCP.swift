/// A TCP segment over borrowed bytes (RFC 9293 section 3.1). Made by `init(checking:)`,
/// which validates the header length once; every accessor after it is infallible.
public struct TCPSegment: ~Escapable {
    enum Field {
        static let sourcePort = 0
        static let destinationPort = 2
        static let sequence = 4
        static let acknowledgement = 8
        static let dataOffset = 12  // high nibble; low bit is the AE flag
        static let flags = 13
        static let window = 14
        static let checksum = 16
        static let urgentPointer = 18
        static let options = 20
    }

    public static let minimumHeaderLength = 20

    public let bytes: RawSpan

    @_lifetime(copy bytes)
    public init(checking bytes: RawSpan) throws(WireError) {
        guard bytes.byteCount >= Self.minimumHeaderLength else { throw .tcpTruncated }
        let headerLength = Int(bytes.u8(Field.dataOffset) >> 4) * 4
        guard headerLength >= Self.minimumHeaderLength else { throw .tcpBadHeaderLength }
        guard headerLength <= bytes.byteCount else { throw .tcpTruncated }
        self.bytes = bytes
    }

    public var sourcePort: UInt16 { bytes.u16(Field.sourcePort) }
    public var destinationPort: UInt16 { bytes.u16(Field.destinationPort) }
    public var sequenceNumber: UInt32 { bytes.u32(Field.sequence) }
    public var acknowledgementNumber: UInt32 { bytes.u32(Field.acknowledgement) }
    public var headerLength: Int { Int(bytes.u8(Field.dataOffset) >> 4) * 4 }
    public var flags: TCPFlags {
        TCPFlags(rawValue: UInt16(bytes.u8(Field.dataOffset) & 0x01) << 8 | UInt16(bytes.u8(Field.flags)))
    }
    public var window: UInt16 { bytes.u16(Field.window) }
    public var checksum: UInt16 { bytes.u16(Field.checksum) }
    public var urgentPointer: UInt16 { bytes.u16(Field.urgentPointer) }

    /// The option bytes, a sub-view of the caller's buffer.
    public var optionArea: RawSpan {
        @_lifetime(copy self) get { bytes.extracting(Field.options..<headerLength) }
    }

    /// The payload bytes present in the buffer (a capture may cut them short).
    public var payload: RawSpan {
        @_lifetime(copy self) get { bytes.extracting(headerLength...) }
    }

    /// Decodes the options; throws if an option's length runs past the header.
    public func options() throws(WireError) -> TCPOptions {
        try TCPOptions(parsing: optionArea)
    }
}
