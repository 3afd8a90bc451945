import SamplerClassifier
import SamplerSystem
import SamplerWire

/// What the live loop counted since it started: the counts (`Counter`), and what is
/// not a count.
public struct LiveCounters: Sendable {
    public var counts = Counts()
    /// The parse errors by reason (their total is `counts[.parseErrorsTotal]`).
    public var parseErrors = WireErrorCounts()
    /// Why the output's last write failed, while writing fails (a full disk: ENOSPC).
    public var writeFailure: Errno?
    /// Bytes of records not yet written out (briefly, or while writing fails).
    public var outputBytesWaiting: UInt64 = 0
    public var lastPacketTime: Microseconds?
    /// Every record written, by stage, tag and close reason (`multiple_syns` included;
    /// the window summaries are where it is left out). `start` is when counting began.
    public var outcomes: WindowSummary

    public init(start: Microseconds = 0) { outcomes = WindowSummary(start: start, length: 0) }

    public subscript(_ counter: Counter) -> UInt64 {
        get { counts[counter] }
        set { counts[counter] = newValue }
    }
}

/// The counts over one stretch of time (a window of the clock): what status judges
/// whether the loop keeps up by.
public struct IntervalCounters: Sendable, Equatable {
    public var start: Microseconds
    public var counts: Counts

    /// What happened between `earlier` and `later`.
    public init(start: Microseconds, from earlier: LiveCounters, to later: LiveCounters) {
        self.start = start
        counts = later.counts.since(earlier.counts)
    }

    public subscript(_ counter: Counter) -> UInt64 { counts[counter] }

    public var lossRatio: Double { counts.lossRatio }
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
