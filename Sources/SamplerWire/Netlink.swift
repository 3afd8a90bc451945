/// One netlink message over borrowed bytes (`struct nlmsghdr`, netlink(7)). Header fields
/// are in the host's byte order.
public struct NetlinkMessage: ~Escapable {
    enum Field {
        static let length = 0
        static let type = 4
        static let flags = 6
        static let sequence = 8
        static let portID = 12
    }

    public static let headerLength = 16

    /// Message types every netlink family shares (linux/netlink.h).
    public enum ControlType {
        public static let noop: UInt16 = 1
        public static let error: UInt16 = 2
        public static let done: UInt16 = 3
        public static let overrun: UInt16 = 4
    }

    /// The message, exactly `length` bytes.
    public let bytes: RawSpan

    /// Takes the message at the start of `stream`; checks that its length field fits.
    @_lifetime(copy stream)
    init(checkingPrefixOf stream: RawSpan) throws(WireError) {
        guard stream.byteCount >= Self.headerLength else { throw .netlinkTruncated }
        let length = Int(stream.u32(Field.length, .host))
        guard length >= Self.headerLength else { throw .netlinkBadLength }
        guard length <= stream.byteCount else { throw .netlinkTruncated }
        self.bytes = stream.extracting(0..<length)
    }

    public var length: Int { bytes.byteCount }
    public var type: UInt16 { bytes.u16(Field.type, .host) }
    public var flags: UInt16 { bytes.u16(Field.flags, .host) }
    public var sequence: UInt32 { bytes.u32(Field.sequence, .host) }
    public var portID: UInt32 { bytes.u32(Field.portID, .host) }

    public var payload: RawSpan {
        @_lifetime(copy self) get { bytes.extracting(Self.headerLength...) }
    }

    /// For an `NLMSG_ERROR` message: the error code (0 is an acknowledgement, otherwise a
    /// negative errno). Nil for other types or a short message.
    public var errorCode: Int32? {
        guard type == ControlType.error, payload.byteCount >= 4 else { return nil }
        return Int32(bitPattern: payload.u32(0, .host))
    }
}

/// The messages of one netlink datagram, as `recv()` returned it: several `nlmsghdr`,
/// each padded to 4 bytes. Iterate with `next()`; a bad length ends the walk with an error
/// (nothing after it can be framed).
public struct NetlinkMessages: ~Escapable {
    private var rest: RawSpan

    @_lifetime(copy datagram)
    public init(_ datagram: RawSpan) { self.rest = datagram }

    @_lifetime(copy self)
    public mutating func next() throws(WireError) -> NetlinkMessage? {
        guard rest.byteCount > 0 else { return nil }
        let message = try NetlinkMessage(checkingPrefixOf: rest)
        let advance = min(align4(message.length), rest.byteCount)
        rest = rest.extracting(advance...)
        return message
    }
}
