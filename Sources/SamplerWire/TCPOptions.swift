/// The option kinds of one TCP header in order, and the values of the common ones.
/// Fixed size: a TCP header has at most 40 option bytes, so at most 40 kinds.
public struct TCPOptions: Sendable {
    public static let capacity = 40

    // Compact on purpose (56 bytes): every packet summary carries one.
    private var storage = InlineArray<40, UInt8>(repeating: 0)
    private var kindCount: UInt8 = 0
    private var present: Present = []
    private var windowScaleValue: UInt8 = 0
    private var mssValue: UInt16 = 0
    private var timestampValue: UInt32 = 0
    private var timestampEcho: UInt32 = 0

    private struct Present: OptionSet {
        let rawValue: UInt8
        static let mss = Present(rawValue: 1)
        static let windowScale = Present(rawValue: 2)
        static let sackPermitted = Present(rawValue: 4)
        static let timestamp = Present(rawValue: 8)
    }

    public init() {}

    /// How many option kinds the header listed.
    public var count: Int { Int(kindCount) }

    /// Maximum segment size (kind 2), if present.
    public var mss: UInt16? {
        get { present.contains(.mss) ? mssValue : nil }
        set { mssValue = newValue ?? 0; if newValue == nil { present.remove(.mss) } else { present.insert(.mss) } }
    }
    /// Window scale shift (kind 3), if present.
    public var windowScale: UInt8? { present.contains(.windowScale) ? windowScaleValue : nil }
    /// SACK permitted (kind 4).
    public var sackPermitted: Bool { present.contains(.sackPermitted) }
    /// Timestamps (kind 8): value and echo reply.
    public var timestamp: (value: UInt32, echo: UInt32)? {
        present.contains(.timestamp) ? (timestampValue, timestampEcho) : nil
    }

    public subscript(index: Int) -> UInt8 { storage[index] }

    /// The kinds in order, as an array (allocates; for tests and output, not the hot path).
    public var kinds: [UInt8] { (0..<count).map { storage[$0] } }

    mutating func append(kind: UInt8) {
        // A header holds at most 40 option bytes, hence at most 40 kinds; the check is a
        // backstop for callers that build options by hand.
        guard kindCount < Self.capacity else { return }
        storage[Int(kindCount)] = kind
        kindCount += 1
    }
}

extension TCPOptions {
    // Option kinds (IANA "TCP Option Kind Numbers").
    static let endOfList: UInt8 = 0
    static let noOperation: UInt8 = 1
    static let maximumSegmentSize: UInt8 = 2
    static let windowScaleKind: UInt8 = 3
    static let sackPermittedKind: UInt8 = 4
    static let timestampsKind: UInt8 = 8

    /// Walks an option area. Every length byte is checked against the area; a known kind
    /// with the wrong length is an error rather than a guess.
    public init(parsing area: RawSpan) throws(WireError) {
        self.init()
        var offset = 0
        while offset < area.byteCount {
            let kind = area.u8(offset)
            append(kind: kind)
            if kind == Self.endOfList { break }
            if kind == Self.noOperation { offset += 1; continue }
            guard offset + 1 < area.byteCount else { throw .tcpOptionTruncated }
            let length = Int(area.u8(offset + 1))
            guard length >= 2 else { throw .tcpOptionBadLength }
            guard offset + length <= area.byteCount else { throw .tcpOptionTruncated }
            switch kind {
            case Self.maximumSegmentSize:
                guard length == 4 else { throw .tcpOptionBadLength }
                mssValue = area.u16(offset + 2)
                present.insert(.mss)
            case Self.windowScaleKind:
                guard length == 3 else { throw .tcpOptionBadLength }
                windowScaleValue = area.u8(offset + 2)
                present.insert(.windowScale)
            case Self.sackPermittedKind:
                guard length == 2 else { throw .tcpOptionBadLength }
                present.insert(.sackPermitted)
            case Self.timestampsKind:
                guard length == 10 else { throw .tcpOptionBadLength }
                (timestampValue, timestampEcho) = (area.u32(offset + 2), area.u32(offset + 6))
                present.insert(.timestamp)
            default:
                break
            }
            offset += length
        }
    }
}
