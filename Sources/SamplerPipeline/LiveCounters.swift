import SamplerClassifier
import SamplerWire

/// What the live loop counted since it started.
public struct LiveCounters: Sendable {
    public var datagrams: UInt64 = 0
    public var bytes: UInt64 = 0
    public var messages: UInt64 = 0
    /// NFLOG messages the kernel numbered but we never saw (sequence gaps).
    public var lost: UInt64 = 0
    /// Times the socket overflowed (ENOBUFS).
    public var overruns: UInt64 = 0
    public var records: UInt64 = 0
    public var parseErrors = WireErrorCounts()
    public var classifier = ClassifierCounters()
    public var lastPacketTime: Microseconds?

    public init() {}
}

/// Counts messages lost between NFLOG sequence numbers (NFULNL_CFG_F_SEQ): the kernel
/// numbers each message of the instance; a jump forward is that many lost.
public struct SequenceTracker: Sendable {
    private var expected: UInt32?

    public init() {}

    /// Returns how many messages went missing before `sequence`.
    public mutating func observe(_ sequence: UInt32) -> UInt64 {
        defer { expected = sequence &+ 1 }
        guard let expected else { return 0 }
        let gap = sequence &- expected
        // A small step back is reordering or a restart, not a loss of four billion.
        return gap < 1 << 31 ? UInt64(gap) : 0
    }
}
