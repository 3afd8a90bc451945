import SamplerClassifier
import SamplerRuntime
import SamplerSystem
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
    /// Packet summaries the reader dropped because their shard's ring was full.
    public var ringDrops: UInt64 = 0
    /// Times a shard waited because the writer's ring was full (nothing is dropped there).
    public var writerWaits: UInt64 = 0
    /// Writes of records that failed (what they held was kept and written later).
    public var writeErrors: UInt64 = 0
    /// Records dropped, whole, because writes failed while the writer held its maximum.
    public var recordsDropped: UInt64 = 0
    /// Why the output's last write failed, while writing fails (a full disk: ENOSPC).
    public var writeFailure: Errno?
    /// Bytes of records not yet written out (briefly, or while writing fails).
    public var outputBytesWaiting: UInt64 = 0
    /// Records that came after their window was handed out (see WindowAggregator).
    public var lateRecords: UInt64 = 0
    public var parseErrors = WireErrorCounts()
    public var classifier = ClassifierCounters()
    public var lastPacketTime: Microseconds?
    /// Every record written, by stage, tag and close reason (`multiple_syns` included;
    /// the window summaries are where it is left out). `start` is when counting began.
    public var outcomes: WindowSummary

    public init(start: Microseconds = 0) { outcomes = WindowSummary(start: start, length: 0) }
}

/// The counters that say whether the loop keeps up, over one stretch of time (a window
/// of the clock): differences of two `LiveCounters`.
public struct IntervalCounters: Sendable, Equatable {
    public var start: Microseconds
    public var messages: UInt64 = 0
    public var lost: UInt64 = 0
    public var overruns: UInt64 = 0
    public var parseErrors: UInt64 = 0
    public var evicted: UInt64 = 0
    public var records: UInt64 = 0
    public var ringDrops: UInt64 = 0

    /// What happened between `earlier` and `later`.
    public init(start: Microseconds, from earlier: LiveCounters, to later: LiveCounters) {
        self.start = start
        messages = later.messages &- earlier.messages
        lost = later.lost &- earlier.lost
        overruns = later.overruns &- earlier.overruns
        parseErrors = later.parseErrors.total &- earlier.parseErrors.total
        evicted = later.classifier.evicted &- earlier.classifier.evicted
        records = later.records &- earlier.records
        ringDrops = later.ringDrops &- earlier.ringDrops
    }

    /// Messages lost (by the kernel, or dropped at a full ring) as a share of those the
    /// kernel sent.
    public var lossRatio: Double {
        let sent = messages + lost
        return sent == 0 ? 0 : Double(lost + ringDrops) / Double(sent)
    }
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
