import Foundation
import Synchronization
import SamplerClassifier

/// conntrack's own view of its table, read from procfs in the daemon's network
/// namespace. Rule 1 sees only the connections conntrack accepted: when its table is full
/// the kernel drops new connections ("nf_conntrack: table full, dropping packet") and
/// fails some inserts, so they never reach the sample. To make room it first evicts
/// entries not yet answered (early drop): those were tracked, and perhaps sampled, but
/// their later packets start a new entry without the label, so a sampled one's record
/// ends early.
///
/// procfs rather than ctnetlink (libnetfilter_conntrack): the same counters, per
/// namespace, in two small text files, with no socket and no library to link.
public struct Conntrack: Codable, Sendable, Equatable {
    /// Entries in the table now (`nf_conntrack_count`, this namespace's).
    public var entries: UInt64
    /// The table's limit (`nf_conntrack_max`, global: a namespace may read, not set it).
    public var maximum: UInt64
    /// New connections dropped because the table was full (`drop`), entries evicted to
    /// make room (`early_drop`), and entries that could not be inserted (`insert_failed`),
    /// summed over the CPUs since the kernel (or the namespace) started.
    public var drops: UInt64
    public var earlyDrops: UInt64
    public var insertFailures: UInt64

    public init(entries: UInt64, maximum: UInt64, drops: UInt64 = 0, earlyDrops: UInt64 = 0, insertFailures: UInt64 = 0) {
        (self.entries, self.maximum, self.drops, self.earlyDrops, self.insertFailures) = (entries, maximum, drops, earlyDrops, insertFailures)
    }

    /// The sysctl that raises the limit, for messages.
    public static let maximumSysctl = "net.netfilter.nf_conntrack_max"

    /// Reads the files under `proc`; nil when conntrack is not loaded (no files).
    public static func read(proc: String = "/proc") -> Conntrack? {
        func number(_ path: String) -> UInt64? {
            (try? String(contentsOfFile: proc + path, encoding: .utf8)).flatMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        guard let entries = number("/sys/net/netfilter/nf_conntrack_count"),
              let maximum = number("/sys/net/netfilter/nf_conntrack_max") else { return nil }
        var reading = Conntrack(entries: entries, maximum: maximum)
        if let table = try? String(contentsOfFile: proc + "/net/stat/nf_conntrack", encoding: .utf8) {
            let sums = sumColumns(table)
            (reading.drops, reading.earlyDrops, reading.insertFailures) =
                (sums["drop"] ?? 0, sums["early_drop"] ?? 0, sums["insert_failed"] ?? 0)
        }
        return reading
    }

    /// /proc/net/stat/nf_conntrack: a header of column names, then a line of hex numbers
    /// per CPU; the columns summed.
    static func sumColumns(_ table: String) -> [String: UInt64] {
        let lines = table.split(separator: "\n")
        guard let header = lines.first?.split(separator: " ", omittingEmptySubsequences: true) else { return [:] }
        var sums: [String: UInt64] = [:]
        for line in lines.dropFirst() {
            for (name, field) in zip(header, line.split(separator: " ", omittingEmptySubsequences: true)) {
                sums[String(name), default: 0] &+= UInt64(field, radix: 16) ?? 0
            }
        }
        return sums
    }

    /// The table's fill, 0 to 1.
    public var fill: Double { maximum == 0 ? 0 : Double(entries) / Double(maximum) }

    /// New connections conntrack turned away since `earlier`: never sampled.
    public func lost(since earlier: Conntrack) -> UInt64 {
        (drops &- earlier.drops) &+ (insertFailures &- earlier.insertFailures)
    }

    /// Entries conntrack evicted to make room since `earlier` (early drops).
    public func evicted(since earlier: Conntrack) -> UInt64 { earlyDrops &- earlier.earlyDrops }

    /// Where the limit can be raised, for messages: the sysctl is one for the whole
    /// host, set from its initial namespace.
    public var raiseAdvice: String {
        "raise \(Self.maximumSysctl), which is host-wide (sysctl -w \(Self.maximumSysctl)=\(maximum * 2) in the host's own namespace)"
    }
}

/// The reading at the start of the current and of the last window (as status judges NFLOG
/// losses over the current and last window), so that status warns on new conntrack drops
/// and is OK again once a burst is two windows old. Readings are taken when asked
/// (status, metrics), not on a timer: a window's baseline is its first reading.
public final class ConntrackWatch: Sendable {
    private struct Baselines {
        var windowStart: Int64 = .min
        var current: Conntrack?
        var last: Conntrack?
    }
    /// The table now, and its counts since the last window began.
    public typealias Observation = (reading: Conntrack, newLosses: UInt64, newEvictions: UInt64)
    private let windowLength: Int64
    private let proc: String
    private let baselines = Mutex(Baselines())

    public init(windowLength: Int64, proc: String = "/proc", now: Int64) {
        self.windowLength = max(1, windowLength)
        self.proc = proc
        _ = observe(now: now)
    }

    /// The table now, and the connections conntrack lost and evicted since the last window
    /// began (nil without conntrack).
    public func observe(now: Int64) -> Observation? {
        guard let reading = Conntrack.read(proc: proc) else { return nil }
        let start = WindowAggregator.windowStart(of: now, length: windowLength)
        let baseline = baselines.withLock { b -> Conntrack in
            if start != b.windowStart {
                b.last = b.current ?? reading
                b.current = reading
                b.windowStart = start
            }
            return b.last ?? reading
        }
        return (reading, reading.lost(since: baseline), reading.evicted(since: baseline))
    }
}
