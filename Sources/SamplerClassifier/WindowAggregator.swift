import SamplerWire

/// The counts of one aggregation window: connections finalized in it, by stage and tag.
public struct WindowSummary: Sendable, Equatable {
    public var start: Microseconds
    public var length: Microseconds
    /// Connections counted (not excluded).
    public var total = 0
    /// Connections left out of the shares: those still open at shutdown (their outcome
    /// is unknown) and, by default, those tagged `multiple_syns`.
    public var excluded = 0
    /// How the reports name what `excluded` counts.
    public static let excludedNote = "left out (multiple SYNs, or still open at shutdown)"
    // Inline, not arrays: the writer counts every record into two summaries, and arrays
    // made each count a uniqueness check and each copy of a summary a retain. A size is
    // a literal (a generic argument cannot be `allCases.count`); `init` checks them.
    public var stageCounts = InlineCounts<5>()
    public var tagCounts = InlineCounts<20>()
    public var closeCounts = InlineCounts<5>()

    public init(start: Microseconds, length: Microseconds) {
        self.start = start
        self.length = length
        assert(stageCounts.indices.count == Stage.allCases.count && tagCounts.indices.count == Tags.count
               && closeCounts.indices.count == CloseReason.allCases.count, "a count for each stage, tag and close reason")
    }

    public func count(_ stage: Stage) -> Int { stageCounts[Int(stage.rawValue)] }
    public func count(_ close: CloseReason) -> Int { closeCounts[Int(close.rawValue)] }
    public func count(_ tag: Tags) -> Int {
        Tags.all.firstIndex { $0.tag == tag }.map { tagCounts[$0] } ?? 0
    }

    /// The stage's share of the window's total, 0 when the window is empty.
    public func share(_ stage: Stage) -> Double {
        total == 0 ? 0 : Double(count(stage)) / Double(total)
    }

    /// Counts one record: its close reason always; its stage and tags unless it was still
    /// open at shutdown, whose outcome is unknown (counted in `excluded` instead). Leaving
    /// out `multiple_syns` is the aggregator's choice.
    public mutating func add(_ record: ConnectionRecord) {
        closeCounts[Int(record.close.rawValue)] += 1
        guard record.close != .shutdown else {
            excluded += 1
            return
        }
        total += 1
        stageCounts[Int(record.stage.rawValue)] += 1
        // Tags.all is in bit order, so a tag's bit is its counter's index.
        var bits = record.tags.rawValue
        while bits != 0 {
            tagCounts[bits.trailingZeroBitCount] += 1
            bits &= bits - 1
        }
    }

    /// Adds another summary's counts (for totals over several windows).
    public mutating func merge(_ other: WindowSummary) {
        total += other.total
        excluded += other.excluded
        for i in stageCounts.indices { stageCounts[i] += other.stageCounts[i] }
        for i in tagCounts.indices { tagCounts[i] += other.tagCounts[i] }
        for i in closeCounts.indices { closeCounts[i] += other.closeCounts[i] }
    }
}

/// A fixed number of counts, held inline (no storage of their own to share or copy).
public struct InlineCounts<let count: Int>: Sendable, Equatable, ExpressibleByArrayLiteral {
    private var storage = InlineArray<count, Int>(repeating: 0)

    public init() {}

    /// As many counts as there are, in order (for tests and hand-made summaries).
    public init(arrayLiteral counts: Int...) {
        precondition(counts.count == count, "\(counts.count) counts for \(count) places")
        for i in counts.indices { storage[i] = counts[i] }
    }

    public var indices: Range<Int> { 0..<count }

    public subscript(index: Int) -> Int {
        get { storage[index] }
        set { storage[index] = newValue }
    }

    public static func == (left: Self, right: Self) -> Bool {
        left.indices.allSatisfy { left[$0] == right[$0] }
    }
}

/// Counts finalized connections into windows aligned to the clock (a 15-minute window
/// starts at :00, :15, :30, :45).
///
/// Records may arrive a little out of order when several classifier shards feed one
/// writer, so a window stays open for `lateness` after a record of a later window
/// arrives: it is handed out by `tick(now:)` once the clock is `lateness` past its end,
/// or when a record two windows later arrives, or on `flush`. With `lateness` 0 (one
/// ordered stream, as offline) a window is handed out as soon as a later record comes.
/// A record older than every open window is counted in the oldest open one, and in
/// `lateRecords`.
public struct WindowAggregator {
    public let length: Microseconds
    public let includeMultipleSyns: Bool
    public let lateness: Microseconds
    /// The newest window, and the one before it while it waits for late records.
    public private(set) var current: WindowSummary?
    public private(set) var previous: WindowSummary?
    public private(set) var lateRecords: UInt64 = 0
    /// The end of the windows `tick` handed out while they were the newest (on a quiet
    /// host no later record comes to close them): a record of one of those is late.
    private var handedOutUntil: Microseconds = .min

    /// The window's default length, 15 minutes (the `window` setting's default).
    public static let defaultLength: Microseconds = 15 * 60 * 1_000_000

    public init(length: Microseconds = defaultLength, includeMultipleSyns: Bool = false, lateness: Microseconds = 0) {
        precondition(length > 0, "window length must be positive")
        self.length = length
        self.includeMultipleSyns = includeMultipleSyns
        self.lateness = max(0, lateness)
    }

    public func windowStart(of time: Microseconds) -> Microseconds { Self.windowStart(of: time, length: length) }

    /// The start of the clock-aligned window of `length` that holds `time`.
    public static func windowStart(of time: Microseconds, length: Microseconds) -> Microseconds {
        let remainder = time % length
        return time - (remainder < 0 ? remainder + length : remainder)
    }

    public mutating func add(_ record: ConnectionRecord, emit: (WindowSummary) -> Void) {
        var start = windowStart(of: record.finalizedAt)
        if start < handedOutUntil && current == nil && previous == nil {
            // Its window was handed out: count it in the next one, and as late.
            lateRecords += 1
            start = handedOutUntil
            current = WindowSummary(start: start, length: length)
            Self.count(record, in: &current!, includeMultipleSyns: includeMultipleSyns)
            return
        }
        if current == nil { current = WindowSummary(start: start, length: length) }
        if start > current!.start {
            if let previous { emit(previous) }
            previous = current
            current = WindowSummary(start: start, length: length)
            if lateness == 0 || previous!.start < start - length {
                emit(previous!)
                previous = nil
            }
        }
        if start == current!.start {
            Self.count(record, in: &current!, includeMultipleSyns: includeMultipleSyns)
        } else if previous != nil && start >= previous!.start {
            Self.count(record, in: &previous!, includeMultipleSyns: includeMultipleSyns)
        } else {
            lateRecords += 1
            if previous != nil {
                Self.count(record, in: &previous!, includeMultipleSyns: includeMultipleSyns)
            } else {
                Self.count(record, in: &current!, includeMultipleSyns: includeMultipleSyns)
            }
        }
    }

    // Static, so that counting into a window never copies the aggregator (whose copy
    // would share the window's arrays and make every count copy them).
    private static func count(_ record: ConnectionRecord, in window: inout WindowSummary, includeMultipleSyns: Bool) {
        if !includeMultipleSyns && record.tags.contains(.multipleSyns) {
            window.excluded += 1
        } else {
            window.add(record)
        }
    }

    /// Hands out the previous window once the clock is `lateness` past its end, and the
    /// current one too when it is over (a quiet host sends no later record to close it),
    /// so that the log has each window's line on time.
    public mutating func tick(now: Microseconds, emit: (WindowSummary) -> Void) {
        if let window = previous, now >= window.start + window.length + lateness {
            emit(window)
            previous = nil
        }
        if previous == nil, let window = current, now >= window.start + window.length + lateness {
            emit(window)
            current = nil
            handedOutUntil = window.start + window.length
        }
    }

    /// Hands out the open windows, oldest first.
    public mutating func flush(emit: (WindowSummary) -> Void) {
        if let previous { emit(previous) }
        if let current { emit(current) }
        previous = nil
        current = nil
    }
}
