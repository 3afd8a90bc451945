import SystemPackage
import Foundation
import SamplerClassifier
import SamplerPipeline
import SamplerRules
import SamplerSinks
import SamplerWire

/// What the daemon answers on its status socket, and what `sampler status --json`
/// prints under `daemon`: the live loop's counters in plain units (times as RFC 3339,
/// durations in seconds). docs/operations.md describes every field.
@dynamicMemberLookup
public struct StatusReport: Codable, Sendable, Equatable {
    /// Everything but the counts.
    public var fields: Fields
    /// Every count (`Counter`), at the top level of the JSON as the rest is.
    public var counts: Counts

    public subscript<T>(dynamicMember path: WritableKeyPath<Fields, T>) -> T {
        get { fields[keyPath: path] }
        set { fields[keyPath: path] = newValue }
    }

    public init(_ snapshot: LiveSnapshot, version: String, rules: Rules? = nil,
                conntrack: ConntrackWatch.Observation? = nil, upkeep: RuleUpkeep? = nil, pid: Int32 = getpid()) {
        fields = Fields(snapshot, version: version, rules: rules, conntrack: conntrack, upkeep: upkeep, pid: pid)
        counts = snapshot.counters.counts
    }

    public func encode(to encoder: any Encoder) throws {
        try fields.encode(to: encoder)
        try counts.encode(to: encoder)
    }

    public init(from decoder: any Decoder) throws {
        fields = try Fields(from: decoder)
        counts = try Counts(from: decoder)
    }

    public struct Fields: Codable, Sendable, Equatable {
        public var version: String
        public var pid: Int32
        public var startedAt: String
        public var uptimeSeconds: Double
        public var group: UInt16
        /// The rules the daemon works with, so that `status` judges the kernel against the
        /// daemon rather than against a configuration file it may not have read.
        public var rules: Rules?
        /// The daemon's own checks of its rules and their repairs (absent from a daemon
        /// that does not keep them).
        public var rulesUpkeep: RulesUpkeep?
        /// The daemon's network namespace ("net:[4026531840]"): its rules are that
        /// namespace's.
        public var networkNamespace: String?
        /// conntrack's table in the daemon's namespace, the connections it dropped or
        /// could not track since the last window began (they never reached the sample),
        /// and the entries it evicted to make room then (a sampled one ends early).
        public var conntrack: Conntrack?
        public var conntrackNewLosses: UInt64?
        public var conntrackNewEvictions: UInt64?
        public var output: String
        public var receiveBufferBytes: Int
        public var maxReceiveBufferBytes: Int
        public var parseErrors: [String: UInt64]
        /// Why writing the records fails now ("No space left on device"); absent when it works.
        public var writeFailure: String?
        /// Bytes of those records that wait in memory, not yet in the output.
        public var outputBytesWaiting: UInt64
        /// Each classifier shard: its table and its two rings.
        public var shards: [ShardState]
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

        public init(_ snapshot: LiveSnapshot, version: String, rules: Rules? = nil,
                    conntrack: ConntrackWatch.Observation? = nil, upkeep: RuleUpkeep? = nil, pid: Int32 = getpid()) {
            let c = snapshot.counters
            self.version = version
            self.pid = pid
            startedAt = Timestamp.string(snapshot.startedAt)
            uptimeSeconds = StatusReport.seconds(snapshot.takenAt - snapshot.startedAt)
            group = snapshot.group
            self.rules = rules
            rulesUpkeep = upkeep.map { RulesUpkeep($0, at: snapshot.takenAt) }
            networkNamespace = StatusReport.currentNetworkNamespace()
            self.conntrack = conntrack?.reading
            conntrackNewLosses = conntrack?.newLosses
            conntrackNewEvictions = conntrack?.newEvictions
            output = snapshot.output ?? "-"
            receiveBufferBytes = snapshot.receiveBufferBytes
            maxReceiveBufferBytes = snapshot.maximumReceiveBufferBytes
            parseErrors = Dictionary(uniqueKeysWithValues: WireError.allCases.map { ($0.name, c.parseErrors[$0]) })
            writeFailure = c.writeFailure?.description
            outputBytesWaiting = c.outputBytesWaiting
            shards = snapshot.shards
            openConnections = snapshot.openConnections
            maxConnections = snapshot.maxConnections
            lastPacketAt = c.lastPacketTime.map(Timestamp.string)
            lastPacketSecondsAgo = c.lastPacketTime.map { StatusReport.seconds(snapshot.takenAt - $0) }
            currentWindow = Window(snapshot.currentWindow)
            lastWindow = snapshot.lastWindow.map(Window.init)
            currentInterval = Interval(snapshot.currentInterval)
            lastInterval = snapshot.lastInterval.map(Interval.init)
            totals = Outcomes(c.outcomes)
            clickhouse = snapshot.shipping.map(Shipping.init)
        }
    }

    /// Records on their way to ClickHouse: the spool and the inserts.
    public struct Shipping: Codable, Sendable, Equatable {
        public var destination: String
        public var spoolBatches: Int
        public var spoolRecords: Int
        public var spoolBytes: Int
        public var spoolLimitBytes: Int  // "spool_limit_bytes" in status (the setting spool_max_bytes)
        // Its counts are `Counter`s, beside the others (clickhouse_inserted_records, ...).
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

    public struct StageCount: Codable, Sendable, Equatable {
        public var count: Int
        public var share: Double
    }

    /// The counts over one window of the clock, flat beside its start and loss ratio.
    public struct Interval: Codable, Sendable, Equatable {
        public var start: String
        public var counts: Counts
        public var lossRatio: Double

        private enum CodingKeys: String, CodingKey { case start, lossRatio }

        public subscript(_ counter: Counter) -> UInt64 { counts[counter] }

        init(start: String, counts: Counts, lossRatio: Double) {
            self.start = start
            self.counts = counts
            self.lossRatio = lossRatio
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(start, forKey: .start)
            try container.encode(lossRatio, forKey: .lossRatio)
            try counts.encode(to: encoder)
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            start = try container.decode(String.self, forKey: .start)
            lossRatio = try container.decode(Double.self, forKey: .lossRatio)
            counts = try Counts(from: decoder)
        }
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
        /// The tools the daemon reads and repairs them with (`Backend`), and the nftables
        /// table: status reads the kernel as the daemon does.
        public var backend: String?
        public var nftablesTable: String?
        /// The IP versions whose rules the daemon keeps ("4", "6"): status checks those.
        public var families: [String]?

        public init(_ parameters: RuleParameters, source: String, manager: RuleManager? = nil, versions: [IPVersion]? = nil) {
            (probability, label, group, packets, prefix) =
                (parameters.probability, parameters.label, parameters.group, parameters.packets, parameters.prefix)
            self.source = source
            backend = manager?.backend.rawValue
            nftablesTable = manager?.nftablesTable
            families = versions?.map(\.rawValue)
        }

        /// `families` as versions; nil when absent (an older daemon) or not understood.
        public var versions: [IPVersion]? {
            guard let versions = families?.map(IPVersion.init(rawValue:)), !versions.isEmpty, !versions.contains(nil) else { return nil }
            return versions.compactMap { $0 }
        }

        public var parameters: RuleParameters {
            var p = RuleParameters()
            (p.probability, p.label, p.group, p.packets, p.prefix) = (probability, label, group, packets, prefix)
            return p
        }
    }

    /// The daemon's upkeep of its rules (`RuleKeeper`), times as RFC 3339.
    public struct RulesUpkeep: Codable, Sendable, Equatable {
        public var repair: Bool
        /// Why `repair` is false (nil from an older daemon).
        public var repairOff: String?
        public var checks: UInt64
        public var lastCheckAt: String?
        /// Complete in the kernel at the last check; absent before the first.
        public var present: Bool?
        /// Missing since (from the last check that saw them), while they are.
        public var missingSince: String?
        /// The rules were in the kernel at some check since the start: when not,
        /// `missing_since` is the first check that looked (nil from an older daemon).
        public var everPresent: Bool?
        public var repairs: UInt64
        public var missingSeconds: Double
        public var lastGapStart: String?
        public var lastGapEnd: String?
        public var problem: String?

        init(_ s: RuleUpkeep, at now: Microseconds) {
            repair = s.repair
            repairOff = s.repairOff
            checks = s.checks
            lastCheckAt = s.lastCheckAt.map(Timestamp.string)
            present = s.present
            missingSince = s.missingSince.map(Timestamp.string)
            everPresent = s.everPresent
            repairs = s.repairs
            missingSeconds = StatusReport.seconds(s.missing(at: now))
            lastGapStart = s.lastGap.map { Timestamp.string($0.start) }
            lastGapEnd = s.lastGap.map { Timestamp.string($0.end) }
            problem = s.problem
        }
    }

    /// This process's network namespace, as /proc names it.
    public static func currentNetworkNamespace() -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")
    }

    static func seconds(_ microseconds: Microseconds) -> Double { Double(microseconds) / 1_000_000 }

    /// What a client sends the status socket to get one (the answer: `json()`, a line).
    public static let request = Array("status\n".utf8)

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
        spoolLimitBytes = s.spoolMaxBytes
        lastInsertAt = s.lastInsertAt.map(Timestamp.string)
        lastFailureAt = s.lastFailureAt.map(Timestamp.string)
        lastError = s.lastError
    }
}

extension StatusReport.Interval {
    init(_ i: IntervalCounters) {
        self.init(start: Timestamp.string(i.start), counts: i.counts, lossRatio: i.lossRatio)
    }
}

extension StatusReport.Outcomes {
    init(_ w: WindowSummary) {
        stages = Dictionary(uniqueKeysWithValues: Stage.allCases.map { ($0.name, w.count($0)) })
        tags = Dictionary(uniqueKeysWithValues: Tags.all.map { ($0.name, w.count($0.tag)) })
        close = Dictionary(uniqueKeysWithValues: CloseReason.allCases.map { ($0.name, w.count($0)) })
    }
}

/// The counts in JSON: one member per `Counter`, named as the case (the report's
/// encoder turns `ringDrops` into `ring_drops`), beside the object's other members.
extension Counts: Codable {
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for counter in Counter.allCases { try container.encode(self[counter], forKey: Key(stringValue: "\(counter)")) }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        self.init()
        for counter in Counter.allCases {
            self[counter] = try container.decodeIfPresent(UInt64.self, forKey: Key(stringValue: "\(counter)")) ?? 0
        }
    }
}
