import SamplerClassifier
import SamplerSinks
import SamplerWire

/// How `sampler report` splits each window.
public enum Grouping: String, Sendable, CaseIterable {
    case none, port, network, host, asn, country
    /// The study's tampering signature (docs/classification.md): its own view, with the
    /// evidence of the resets beside the counts.
    case signature

    /// The column heading.
    var heading: String {
        switch self {
        case .none: ""
        case .port: "port"
        case .network: "client network"
        case .host: "host"
        case .asn: "client AS"
        case .country: "country"
        case .signature: "signature"
        }
    }

    /// The group of a client AS or country that the location database did not know, and
    /// the signature of a record written before records carried one.
    public static let unknown = "unknown"

    /// The signature group of a connection: its signature, `none` at stage none (names
    /// made once: the report asks for each record).
    public static func signatureGroup(_ signature: Signature?, stage: Stage) -> String {
        stage == .none ? noneGroup : signature.map { signatureNames[Int($0.rawValue)] } ?? unknown
    }
    private static let signatureNames = Signature.allCases.map(\.name)
    private static let noneGroup = Stage.none.name
}

/// What `sampler report` prints: the stage shares as sampler counts them, or as
/// Cloudflare Radar's tcp_resets_timeouts summary does (docs/classification.md).
public enum ReportFormat: String, Sendable, CaseIterable {
    case table, radar
}

/// Connections per window (and group) by the stage at which they ended, and the tags of
/// those closed by a reset: the view of the reference write-up, from records in a file
/// or from ClickHouse. Connections tagged `multiple_syns`, and those still open at shutdown, are left out, as there.
public struct StageTable: Sendable, Equatable {
    public struct Key: Hashable, Comparable, Sendable {
        /// Window start, seconds since the epoch.
        public var window: Int64
        public var group: String

        public static func < (a: Key, b: Key) -> Bool {
            if a.window != b.window { return a.window < b.window }
            // Ports sort as numbers.
            if let x = Int(a.group), let y = Int(b.group) { return x < y }
            return a.group < b.group
        }
    }

    public struct Row: Sendable, Equatable {
        /// Counts in `Stage.allCases` order.
        public var stages = [Int](repeating: 0, count: Stage.allCases.count)
        /// Connections at the `later` stage closed by a reset: Radar's later_in_flow (its
        /// later timeouts are no_match).
        public var laterResets = 0
        /// Connections closed by a timeout (no packet for idle_timeout).
        public var timeouts = 0
        /// Connections closed by a reset, and each of their other tags.
        public var resets = 0
        public var resetTags: [String: Int] = [:]
        /// Of those, the ones that carry their evidence (records of an earlier sampler do
        /// not), and of these the ones whose IPv4 IP ID gap is above 1, and whose TTL gap is
        /// above the table's `ttlMargin` (docs/records.md, `rst_ipid_gap` and `rst_ttl_gap`).
        public var evidencedResets = 0
        public var ipIDGapResets = 0
        public var ttlGapResets = 0

        public var total: Int { stages.reduce(0, +) }

        public func count(_ stage: Stage) -> Int { stages[Int(stage.rawValue)] }

        public func share(_ stage: Stage) -> Double { share(count(stage)) }

        public func share(_ count: Int) -> Double { total == 0 ? 0 : Double(count) / Double(total) }

        /// Radar's shares: post_syn, post_ack and post_psh (resets and timeouts: a
        /// connection has a stage only when it ended so), later_in_flow (the later stage's
        /// resets only) and no_match (stage none, and the later stage's timeouts).
        public var radar: [(name: String, share: Double)] {
            [("post_syn", share(.postSYN)), ("post_ack", share(.postACK)), ("post_psh", share(.postPSH)),
             ("later_in_flow", share(laterResets)), ("no_match", share(count(.none) + count(.later) - laterResets))]
        }

        mutating func merge(_ other: Row) {
            for i in stages.indices { stages[i] += other.stages[i] }
            laterResets += other.laterResets
            timeouts += other.timeouts
            resets += other.resets
            for (tag, n) in other.resetTags { resetTags[tag, default: 0] += n }
            evidencedResets += other.evidencedResets
            ipIDGapResets += other.ipIDGapResets
            ttlGapResets += other.ttlGapResets
        }
    }

    public let windowSeconds: Int64
    public let grouping: Grouping
    /// The `ttl_margin` setting: a reset's TTL gap above it counts in `ttlGapResets`.
    public let ttlMargin: Int
    public private(set) var rows: [Key: Row] = [:]
    /// Lines of the input that were not records (counted by the reader, left out), for
    /// the JSON documents: a script sees there what the table could not hold.
    public var linesNotRecords = 0
    /// Connections left out because they had several SYNs.
    public private(set) var excluded = 0

    public init(windowSeconds: Int64, grouping: Grouping, ttlMargin: Int) {
        self.windowSeconds = windowSeconds
        self.grouping = grouping
        self.ttlMargin = ttlMargin
    }

    public func window(of seconds: Int64) -> Int64 {
        WindowAggregator.windowStart(of: seconds * 1_000_000, length: windowSeconds * 1_000_000) / 1_000_000
    }

    /// Counts one connection (`count` of them: ClickHouse answers with counts) in the
    /// window of its finalization time (docs/records.md).
    public mutating func add(finalizedSeconds: Int64, group: String, stage: Stage, reset: Bool, timeout: Bool = false, count: Int = 1) {
        let key = Key(window: window(of: finalizedSeconds), group: group)
        rows[key, default: Row()].stages[Int(stage.rawValue)] += count
        if reset && stage == .later { rows[key, default: Row()].laterResets += count }
        if timeout { rows[key, default: Row()].timeouts += count }
    }

    public mutating func addExcluded(_ count: Int = 1) { excluded += count }

    /// Updates the row of a window and group in place (one look-up), making it if new.
    mutating func withRow(finalizedSeconds: Int64, group: String, _ update: (inout Row) -> Void) {
        update(&rows[Key(window: window(of: finalizedSeconds), group: group), default: Row()])
    }

    /// Counts the evidence of connections closed by a reset: `evidenced` of them carry it,
    /// `ipIDGap` have an IPv4 IP ID gap above 1, `ttlGap` a TTL gap above `ttlMargin`.
    public mutating func addResetEvidence(finalizedSeconds: Int64, group: String, evidenced: Int, ipIDGap: Int, ttlGap: Int) {
        let key = Key(window: window(of: finalizedSeconds), group: group)
        rows[key, default: Row()].evidencedResets += evidenced
        rows[key, default: Row()].ipIDGapResets += ipIDGap
        rows[key, default: Row()].ttlGapResets += ttlGap
    }

    /// Counts the tags of `count` connections closed by a reset (`tag` "reset" counts them).
    public mutating func addResetTag(finalizedSeconds: Int64, group: String, tag: String, count: Int = 1) {
        let key = Key(window: window(of: finalizedSeconds), group: group)
        if tag == "reset" { rows[key, default: Row()].resets += count } else { rows[key, default: Row()].resetTags[tag, default: 0] += count }
    }

    /// The rows in time order (then by group).
    public var sorted: [(key: Key, row: Row)] { rows.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }

    /// One row per window over all groups, for the chart.
    public var byWindow: [(window: Int64, row: Row)] {
        var merged: [Int64: Row] = [:]
        for (key, row) in rows { merged[key.window, default: Row()].merge(row) }
        return merged.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Every connection in the table, as one row.
    public var whole: Row {
        var all = Row()
        for row in rows.values { all.merge(row) }
        return all
    }

    /// The client network for `--by network`: /24 for IPv4, /48 for IPv6 (addresses that
    /// arrive truncated or dropped stay as they are).
    public static func network(of source: String) -> String {
        guard let address = IPAddress(parsing: Substring(source)) else { return source }
        let family: IPFamily = source.contains(":") ? .v6 : .v4
        return address.masked(toPrefix: family.clientNetworkPrefix, family: family).text(family: family) + "/\(family.clientNetworkPrefix)"
    }

    /// The table people read: each row's connections and stage shares, then the reset
    /// tags. `label` names a group (an AS number with its name).
    public func render(label: (String) -> String = { $0 }) -> String {
        let stageNames = Stage.allCases.map(\.name)
        let labels = Dictionary(rows.keys.map { ($0.group, label($0.group)) }, uniquingKeysWith: { a, _ in a })
        let groupWidth = max(grouping.heading.count, labels.values.map(\.count).max() ?? 0)
        func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
            let fill = String(repeating: " ", count: max(0, width - text.count))
            return left ? text + fill : fill + text
        }
        var lines: [String] = []
        let (withSeconds, windowWidth) = windowColumn
        var header = pad("window (UTC)", windowWidth, left: true)
        if grouping != .none { header += "  " + pad(grouping.heading, groupWidth, left: true) }
        header += pad("connections", 13) + stageNames.map { pad($0, 10) }.joined() + pad("resets", 9) + pad("timeouts", 10)
        lines.append(header)
        for (key, row) in sorted {
            var line = pad(Self.windowText(key.window, seconds: withSeconds), windowWidth, left: true)
            if grouping != .none { line += "  " + pad(labels[key.group] ?? key.group, groupWidth, left: true) }
            line += pad(String(row.total), 13) + Stage.allCases.map { pad(SummaryTable.percent(row.share($0)), 10) }.joined() + pad(String(row.resets), 9)
                + pad(String(row.timeouts), 10)
            lines.append(line)
        }
        if rows.isEmpty { lines.append("(no connections)") }
        var footer = counted(rows.values.reduce(0) { $0 + $1.total }, "connection")
        footer += excluded > 0 ? "; \(excluded) \(WindowSummary.excludedNote)" : ""
        lines.append(footer)
        let withResets = sorted.filter { $0.row.resets > 0 }
        if !withResets.isEmpty {
            lines.append("")
            lines.append("tags of the connections closed by a reset:")
            for (key, row) in withResets {
                let tags = row.resetTags.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                lines.append(pad(Self.windowText(key.window, seconds: withSeconds), windowWidth, left: true) + (grouping == .none ? "" : "  " + pad(labels[key.group] ?? key.group, groupWidth, left: true))
                    + "  reset \(row.resets)" + (tags.isEmpty ? "" : ": " + tags.joined(separator: ", ")))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Radar's view: per window (and group) the shares of post_syn, post_ack, post_psh,
    /// later_in_flow and no_match, then `all` over the whole input.
    public func renderRadar(label: (String) -> String = { $0 }) -> String {
        let names = Self.radarNames
        let labels = Dictionary(rows.keys.map { ($0.group, label($0.group)) }, uniquingKeysWith: { a, _ in a })
        let groupWidth = max(grouping.heading.count, labels.values.map(\.count).max() ?? 0)
        func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
            let fill = String(repeating: " ", count: max(0, width - text.count))
            return left ? text + fill : fill + text
        }
        let (withSeconds, windowWidth) = windowColumn
        func line(_ first: String, _ group: String?, _ row: Row) -> String {
            var text = pad(first, windowWidth, left: true)
            if grouping != .none { text += "  " + pad(group ?? "", groupWidth, left: true) }
            return text + pad(String(row.total), 13) + row.radar.map { pad(SummaryTable.percent($0.share), max(10, $0.name.count + 2)) }.joined()
        }
        var header = pad("window (UTC)", windowWidth, left: true)
        if grouping != .none { header += "  " + pad(grouping.heading, groupWidth, left: true) }
        header += pad("connections", 13) + names.map { pad($0, max(10, $0.count + 2)) }.joined()
        var lines = [header]
        for (key, row) in sorted { lines.append(line(Self.windowText(key.window, seconds: withSeconds), labels[key.group] ?? key.group, row)) }
        if rows.isEmpty { lines.append("(no connections)") } else { lines.append(line("all", nil, whole)) }
        lines.append("Radar's tcp_resets_timeouts summary: later_in_flow counts resets only; timeouts at the later stage "
            + "and normal closes are no_match" + (excluded > 0 ? "; \(excluded) \(WindowSummary.excludedNote)" : ""))
        return lines.joined(separator: "\n") + "\n"
    }

    /// "2026-11-21 20:15".
    static func windowText(_ seconds: Int64, seconds withSeconds: Bool = false) -> String {
        Timestamp.windowLabel(seconds * 1_000_000, seconds: withSeconds)
    }

    /// Whether the table's windows need their seconds to be told apart (`--window` of
    /// less than a minute, or not a whole number of them), and so the window column's width.
    var windowsNeedSeconds: Bool { Timestamp.needsSeconds(rows.keys.map { $0.window * 1_000_000 }) }
    private var windowColumn: (seconds: Bool, width: Int) { windowsNeedSeconds ? (true, 19) : (false, 16) }
}
