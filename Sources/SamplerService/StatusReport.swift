import Foundation
import SamplerClassifier
import SamplerPipeline
import SamplerRules
import SamplerSinks
import SamplerWire

/// What the daemon answers on its status socket, and what `sampler status --json`
/// prints under `daemon`: the live loop's counters in plain units (times as RFC 3339,
/// durations in seconds). docs/operations.md describes every field.
public struct StatusReport: Codable, Sendable, Equatable {
    public var version: String
    public var pid: Int32
    public var startedAt: String
    public var uptimeSeconds: Double
    public var group: UInt16
    /// The rules the daemon works with, so that `status` judges the kernel against the
    /// daemon rather than against a configuration file it may not have read.
    public var rules: Rules?
    /// The daemon's network namespace ("net:[4026531840]"): its rules are that
    /// namespace's.
    public var networkNamespace: String?
    /// conntrack's table in the daemon's namespace, and the connections it dropped or
    /// could not track since the last window began: they never reached the sample.
    public var conntrack: Conntrack?
    public var conntrackNewLosses: UInt64?
    public var output: String
    public var receiveBufferBytes: Int
    public var maxReceiveBufferBytes: Int
    public var datagrams: UInt64
    public var bytes: UInt64
    public var messages: UInt64
    /// NFLOG messages lost: sequence gaps.
    public var lost: UInt64
    /// Receive buffer overruns (ENOBUFS).
    public var overruns: UInt64
    public var parseErrors: [String: UInt64]
    public var packets: UInt64
    public var orphans: UInt64
    public var opened: UInt64
    public var evicted: UInt64
    public var finalized: UInt64
    public var records: UInt64
    /// Packet summaries dropped because their shard's ring was full.
    public var ringDrops: UInt64
    /// Times a shard waited for the writer (nothing dropped).
    public var writerWaits: UInt64
    public var writeErrors: UInt64
    /// Records dropped, whole, because the output could not be written while the writer
    /// held its maximum (`records_dropped`).
    public var recordsDropped: UInt64
    /// Why writing the records fails now ("No space left on device"); absent when it works.
    public var writeFailure: String?
    /// Bytes of those records that wait in memory, not yet in the output.
    public var outputBytesWaiting: UInt64
    public var lateRecords: UInt64
    /// Each classifier shard: its table and its two rings.
    public var shards: [Shard]
    public var openConnections: Int
    public var maxConnections: Int
    public var lastPacketAt: String?
    public var lastPacketSecondsAgo: Double?
    public var currentWindow: Window
    public var lastWindow: Window?
    public var currentInterval: Interval
    public var lastInterval: Interval?
    /// Every connection since the start, `multiple_syns` included.
    public var totals: Outcomes
    /// The ClickHouse sink, when there is one.
    public var clickhouse: Shipping?

    /// Records on their way to ClickHouse: the spool and the inserts.
    public struct Shipping: Codable, Sendable, Equatable {
        public var destination: String
        public var spoolBatches: Int
        public var spoolRecords: Int
        public var spoolBytes: Int
        public var spoolLimitBytes: Int
        public var droppedRecords: UInt64
        public var spoolWriteErrors: UInt64
        public var insertedRecords: UInt64
        public var insertedBatches: UInt64
        public var failures: UInt64
        /// RFC 3339 times (they sort as text).
        public var lastInsertAt: String?
        public var lastFailureAt: String?
        public var lastError: String?
    }

    /// Connections finalized in one window, by stage (with its share), tag and close reason.
    public struct Window: Codable, Sendable, Equatable {
        public var start: String
        public var lengthSeconds: Double
        public var total: Int
        public var excluded: Int
        public var stages: [String: StageCount]
        public var tags: [String: Int]
        public var close: [String: Int]
    }

    public struct Shard: Codable, Sendable, Equatable {
        public var openConnections: Int
        public var maxConnections: Int
        public var packetsQueued: Int
        public var packetRingCapacity: Int
        public var recordsQueued: Int
        public var recordRingCapacity: Int
    }

    public struct StageCount: Codable, Sendable, Equatable {
        public var count: Int
        public var share: Double
    }

    /// Messages, losses and errors over one window of the clock.
    public struct Interval: Codable, Sendable, Equatable {
        public var start: String
        public var messages: UInt64
        public var lost: UInt64
        public var overruns: UInt64
        public var parseErrors: UInt64
        public var evicted: UInt64
        public var records: UInt64
        public var ringDrops: UInt64
        public var lossRatio: Double
    }

    public struct Outcomes: Codable, Sendable, Equatable {
        public var stages: [String: Int]
        public var tags: [String: Int]
        public var close: [String: Int]
    }
}

extension StatusReport {
    /// The sampling rules a daemon works with, and where it took them from.
    public struct Rules: Codable, Sendable, Equatable {
        public var probability: Double
        public var label: String
        public var group: UInt16
        public var packets: Int
        public var prefix: String
        /// "installed" (run --install-rules put them in), "found" (in the kernel when the
        /// daemon started), or "configured" (none were there: the configuration's).
        public var source: String

        public init(_ parameters: RuleParameters, source: String) {
            (probability, label, group, packets, prefix) =
                (parameters.probability, parameters.label, parameters.group, parameters.packets, parameters.prefix)
            self.source = source
        }

        public var parameters: RuleParameters {
            var p = RuleParameters()
            (p.probability, p.label, p.group, p.packets, p.prefix) = (probability, label, group, packets, prefix)
            return p
        }
    }

    /// This process's network namespace, as /proc names it.
    public static func currentNetworkNamespace() -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")
    }

    public init(_ snapshot: LiveSnapshot, version: String, rules: Rules? = nil,
                conntrack: (reading: Conntrack, newLosses: UInt64)? = nil, pid: Int32 = getpid()) {
        let c = snapshot.counters
        self.version = version
        self.pid = pid
        startedAt = Timestamp.string(snapshot.startedAt)
        uptimeSeconds = Self.seconds(snapshot.takenAt - snapshot.startedAt)
        group = snapshot.group
        self.rules = rules
        networkNamespace = Self.currentNetworkNamespace()
        self.conntrack = conntrack?.reading
        conntrackNewLosses = conntrack?.newLosses
        output = snapshot.output ?? "-"
        receiveBufferBytes = snapshot.receiveBufferBytes
        maxReceiveBufferBytes = snapshot.maximumReceiveBufferBytes
        datagrams = c.datagrams
        bytes = c.bytes
        messages = c.messages
        lost = c.lost
        overruns = c.overruns
        parseErrors = Dictionary(uniqueKeysWithValues: WireError.allCases.map { ($0.name, c.parseErrors[$0]) })
        packets = c.classifier.packets
        orphans = c.classifier.orphans
        opened = c.classifier.opened
        evicted = c.classifier.evicted
        finalized = c.classifier.finalized
        records = c.records
        ringDrops = c.ringDrops
        writerWaits = c.writerWaits
        writeErrors = c.writeErrors
        recordsDropped = c.recordsDropped
        writeFailure = c.writeFailure?.description
        outputBytesWaiting = c.outputBytesWaiting
        lateRecords = c.lateRecords
        shards = snapshot.shards.map {
            Shard(openConnections: $0.openConnections, maxConnections: $0.maximumOpenConnections, packetsQueued: $0.packetsQueued,
                  packetRingCapacity: $0.packetRingCapacity, recordsQueued: $0.recordsQueued, recordRingCapacity: $0.recordRingCapacity)
        }
        openConnections = snapshot.openConnections
        maxConnections = snapshot.maximumOpenConnections
        lastPacketAt = c.lastPacketTime.map(Timestamp.string)
        lastPacketSecondsAgo = c.lastPacketTime.map { Self.seconds(snapshot.takenAt - $0) }
        currentWindow = Window(snapshot.currentWindow)
        lastWindow = snapshot.lastWindow.map(Window.init)
        currentInterval = Interval(snapshot.currentInterval)
        lastInterval = snapshot.lastInterval.map(Interval.init)
        totals = Outcomes(c.outcomes)
        clickhouse = snapshot.shipping.map(Shipping.init)
    }

    static func seconds(_ microseconds: Microseconds) -> Double { Double(microseconds) / 1_000_000 }

    /// The JSON the daemon sends (keys in snake_case, sorted, so the text is stable).
    public func json(pretty: Bool = false) -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data("{}".utf8)
    }

    public static func decode(_ data: Data) throws -> StatusReport {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(StatusReport.self, from: data)
    }
}

extension StatusReport.Window {
    init(_ w: WindowSummary) {
        start = Timestamp.string(w.start)
        lengthSeconds = StatusReport.seconds(w.length)
        total = w.total
        excluded = w.excluded
        stages = Dictionary(uniqueKeysWithValues: Stage.allCases.map { ($0.name, StatusReport.StageCount(count: w.count($0), share: w.share($0))) })
        let counts = StatusReport.Outcomes(w)
        tags = counts.tags
        close = counts.close
    }
}

extension StatusReport.Shipping {
    init(_ s: ShippingStatus) {
        destination = s.destination
        spoolBatches = s.spoolBatches
        spoolRecords = s.spoolRecords
        spoolBytes = s.spoolBytes
        spoolLimitBytes = s.spoolLimitBytes
        droppedRecords = s.droppedRecords
        spoolWriteErrors = s.spoolWriteErrors
        insertedRecords = s.insertedRecords
        insertedBatches = s.insertedBatches
        failures = s.failures
        lastInsertAt = s.lastInsertAt.map(Timestamp.string)
        lastFailureAt = s.lastFailureAt.map(Timestamp.string)
        lastError = s.lastError
    }
}

extension StatusReport.Interval {
    init(_ i: IntervalCounters) {
        start = Timestamp.string(i.start)
        messages = i.messages
        lost = i.lost
        overruns = i.overruns
        parseErrors = i.parseErrors
        evicted = i.evicted
        records = i.records
        ringDrops = i.ringDrops
        lossRatio = i.lossRatio
    }
}

extension StatusReport.Outcomes {
    init(_ w: WindowSummary) {
        stages = Dictionary(uniqueKeysWithValues: Stage.allCases.map { ($0.name, w.count($0)) })
        tags = Dictionary(uniqueKeysWithValues: Tags.all.map { ($0.name, w.count($0.tag)) })
        close = Dictionary(uniqueKeysWithValues: CloseReason.allCases.map { ($0.name, w.count($0)) })
    }
}
