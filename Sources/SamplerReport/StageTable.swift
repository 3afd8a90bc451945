import SamplerClassifier
import SamplerSinks
import SamplerWire

/// How `sampler report` splits each window.
public enum Grouping: String, Sendable, CaseIterable {
    case none, port, network, host

    /// The column heading.
    var heading: String {
        switch self {
        case .none: ""
        case .port: "port"
        case .network: "client network"
        case .host: "host"
        }
    }
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
        /// Connections closed by a reset, and each of their other tags.
        public var resets = 0
        public var resetTags: [String: Int] = [:]

        public var total: Int { stages.reduce(0, +) }

        public func share(_ stage: Stage) -> Double {
            total == 0 ? 0 : Double(stages[Stage.allCases.firstIndex(of: stage)!]) / Double(total)
        }
    }

    public let windowSeconds: Int64
    public let grouping: Grouping
    public private(set) var rows: [Key: Row] = [:]
    /// Connections left out because they had several SYNs.
    public private(set) var excluded = 0

    public init(windowSeconds: Int64, grouping: Grouping) {
        self.windowSeconds = windowSeconds
        self.grouping = grouping
    }

    public func window(of seconds: Int64) -> Int64 {
        WindowAggregator.windowStart(of: seconds * 1_000_000, length: windowSeconds * 1_000_000) / 1_000_000
    }

    /// Counts one connection (`count` of them: ClickHouse answers with counts).
    public mutating func add(firstSeenSeconds: Int64, group: String, stage: Stage, count: Int = 1) {
        rows[Key(window: window(of: firstSeenSeconds), group: group), default: Row()].stages[Stage.allCases.firstIndex(of: stage)!] += count
    }

    public mutating func addExcluded(_ count: Int = 1) { excluded += count }

    /// Counts the tags of `count` connections closed by a reset (`tag` "reset" counts them).
    public mutating func addResetTag(firstSeenSeconds: Int64, group: String, tag: String, count: Int = 1) {
        let key = Key(window: window(of: firstSeenSeconds), group: group)
        if tag == "reset" { rows[key, default: Row()].resets += count } else { rows[key, default: Row()].resetTags[tag, default: 0] += count }
    }

    /// The rows in time order (then by group).
    public var sorted: [(key: Key, row: Row)] { rows.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }

    /// One row per window over all groups, for the chart.
    public var byWindow: [(window: Int64, row: Row)] {
        var merged: [Int64: Row] = [:]
        for (key, row) in rows {
            var m = merged[key.window, default: Row()]
            for i in m.stages.indices { m.stages[i] += row.stages[i] }
            m.resets += row.resets
            for (tag, n) in row.resetTags { m.resetTags[tag, default: 0] += n }
            merged[key.window] = m
        }
        return merged.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// The client network for `--by network`: /24 for IPv4, /48 for IPv6 (addresses that
    /// arrive truncated or dropped stay as they are).
    public static func network(of source: String) -> String {
        guard let address = IPAddress(parsing: Substring(source)) else { return source }
        let family: IPFamily = source.contains(":") ? .v6 : .v4
        return address.masked(toPrefix: family == .v4 ? 24 : 48, family: family).text(family: family) + (family == .v4 ? "/24" : "/48")
    }

    /// The table people read: each row's connections and stage shares, then the reset
    /// tags.
    public func render() -> String {
        let stageNames = Stage.allCases.map(\.name)
        let groupWidth = max(grouping.heading.count, rows.keys.map(\.group.count).max() ?? 0)
        func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
            let fill = String(repeating: " ", count: max(0, width - text.count))
            return left ? text + fill : fill + text
        }
        var lines: [String] = []
        var header = pad("window (UTC)", 16, left: true)
        if grouping != .none { header += "  " + pad(grouping.heading, groupWidth, left: true) }
        header += pad("connections", 13) + stageNames.map { pad($0, 10) }.joined() + pad("resets", 9)
        lines.append(header)
        for (key, row) in sorted {
            var line = pad(Self.windowText(key.window), 16, left: true)
            if grouping != .none { line += "  " + pad(key.group, groupWidth, left: true) }
            line += pad(String(row.total), 13) + Stage.allCases.map { pad(SummaryTable.percent(row.share($0)), 10) }.joined() + pad(String(row.resets), 9)
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
                lines.append(pad(Self.windowText(key.window), 16, left: true) + (grouping == .none ? "" : "  " + pad(key.group, groupWidth, left: true))
                    + "  reset \(row.resets)" + (tags.isEmpty ? "" : ": " + tags.joined(separator: ", ")))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// "2026-11-21 20:15".
    static func windowText(_ seconds: Int64) -> String {
        var out: [UInt8] = []
        Timestamp.appendDateTime(seconds * 1_000_000, to: &out)
        return String(decoding: out.prefix(16), as: UTF8.self)
    }
}
