import SamplerClassifier
import SamplerSinks

/// The views of `sampler report` as rows (ReportRows) and as the JSON documents scripts
/// read (docs/clickhouse.md, "Reports for scripts").
extension StageTable {
    /// The stage view: per window (and group) the connections, each stage's count and
    /// share, the resets and their tags, the timeouts. `label` names a group (an AS's name).
    public func stageRows(label: (String) -> String = { $0 }) -> ReportRows {
        var columns = ["window"]
        if grouping != .none { columns.append(grouping.rawValue) }
        if grouping == .asn { columns.append("as_name") }
        columns.append("connections")
        columns += Stage.allCases.map(\.name) + Stage.allCases.map { $0.name + "_share" } + ["resets", "reset_tags", "timeouts"]
        let rows = sorted.map { key, row -> [ReportRows.Cell] in
            var cells: [ReportRows.Cell] = [.window(key.window)]
            if grouping != .none { cells.append(groupCell(key.group)) }
            if grouping == .asn { cells.append(.text(Self.name(in: label(key.group), of: key.group))) }
            cells.append(.count(row.total))
            cells += Stage.allCases.map { .count(row.count($0)) } + Stage.allCases.map { .share(row.share($0)) }
            cells += [.count(row.resets), .counts(Self.largestFirst(row.resetTags)), .count(row.timeouts)]
            return cells
        }
        return ReportRows(columns: columns, rows: rows)
    }

    /// Radar's view: per window (and group) Radar's five shares in percent, then `all`.
    public func radarRows() -> ReportRows {
        var columns = ["window"]
        if grouping != .none { columns.append(grouping.rawValue) }
        columns += ["connections"] + Self.radarNames
        func cells(_ window: ReportRows.Cell, _ group: String, _ row: Row) -> [ReportRows.Cell] {
            [window] + (grouping == .none ? [] : [groupCell(group)]) + [.count(row.total)] + row.radar.map { .percent($0.share * 100) }
        }
        var rows = sorted.map { cells(.window($0.key.window), $0.key.group, $0.row) }
        if !self.rows.isEmpty { rows.append(cells(.text("all"), "", whole)) }
        return ReportRows(columns: columns, rows: rows)
    }

    /// The signature view: per window, each signature in the study's order (then
    /// `unknown`, records written before records carried one, then `none`, the stage
    /// without a signature): its connections, their share of the window's, its resets,
    /// and, of those resets that carry their evidence, the share with an IPv4 IP ID gap above
    /// 1 (IPv6 resets count in the whole, never above it) and with a TTL gap above `ttlMargin`.
    public func signatureRows() -> ReportRows {
        let columns = ["window", "signature", "notation", "stage", "connections", "share", "resets",
                       "ipid_gap_over_1_share", "ttl_gap_over_margin_share"]
        let windows = Dictionary(uniqueKeysWithValues: byWindow.map { ($0.window, $0.row.total) })
        func order(_ group: String) -> Int {
            if let signature = Signature(name: group) { return Int(signature.rawValue) }
            return group == Grouping.unknown ? Signature.allCases.count : Signature.allCases.count + 1
        }
        let entries = rows.sorted { a, b in
            a.key.window != b.key.window ? a.key.window < b.key.window : order(a.key.group) < order(b.key.group)
        }
        let rows = entries.map { key, row -> [ReportRows.Cell] in
            let signature = Signature(name: key.group)
            let stage = signature.map { $0.stage?.name ?? "any" } ?? (key.group == Stage.none.name ? Stage.none.name : "")
            let total = windows[key.window] ?? 0
            // Of the resets that carry their evidence: records of an earlier sampler have none.
            func ofResets(_ count: Int) -> ReportRows.Cell {
                .share(row.evidencedResets == 0 ? nil : Double(count) / Double(row.evidencedResets))
            }
            return [.window(key.window), .text(key.group), .text(signature?.notation ?? ""), .text(stage), .count(row.total),
                    .share(total == 0 ? nil : Double(row.total) / Double(total)), .count(row.resets),
                    ofResets(row.ipIDGapResets), ofResets(row.ttlGapResets)]
        }
        return ReportRows(columns: columns, rows: rows)
    }

    /// A view's rows in a JSON document: what was counted and left out, then the rows.
    public func jsonDocument(view: String, rows: ReportRows) -> String {
        var fields = [("view", JSONText.string(view)), ("window_seconds", String(windowSeconds)),
                      ("grouping", JSONText.string(grouping.rawValue)), ("connections", String(whole.total)),
                      ("excluded", String(excluded)), ("lines_not_records", String(linesNotRecords))]
        if grouping == .signature { fields.append(("ttl_margin", String(ttlMargin))) }
        fields.append(("rows", rows.jsonArray()))
        return "{" + fields.map { JSONText.string($0.0) + ":" + $0.1 }.joined(separator: ",\n") + "}\n"
    }

    /// Radar's view in the shape of Radar's API answers (`/radar/tcp_resets_timeouts/summary`
    /// and `/timeseries_groups`): `result.summary_0` over the whole input and
    /// `result.serie_0` per window, with `meta.dateRange`; with a grouping, a summary and
    /// a series more per group, named as Radar names the series of a `name` parameter.
    /// Shares are percentages, as Radar's; Radar writes them as strings of digits, sampler
    /// as JSON numbers (docs/clickhouse.md says where else it differs).
    public func radarJSON() -> String {
        func summary(_ row: Row) -> String {
            "{" + row.radar.map { JSONText.string($0.name) + ":" + "\(JSONText.rounded($0.share * 100))" }.joined(separator: ",") + "}"
        }
        func serie(_ windows: [(window: Int64, row: Row)]) -> String {
            var parts = [JSONText.string("timestamps") + ":[" + windows.map { JSONText.string(JSONText.time($0.window)) }.joined(separator: ",") + "]"]
            for (i, name) in Self.radarNames.enumerated() {
                parts.append(JSONText.string(name) + ":[" + windows.map { "\(JSONText.rounded($0.row.radar[i].share * 100))" }.joined(separator: ",") + "]")
            }
            return "{" + parts.joined(separator: ",") + "}"
        }
        var result = [("summary_0", summary(whole)), ("serie_0", serie(byWindow))]
        if grouping != .none {
            let groups = Set(rows.keys.map(\.group)).sorted { Key(window: 0, group: $0) < Key(window: 0, group: $1) }
            for group in groups {
                let windows = sorted.filter { $0.key.group == group }.map { (window: $0.key.window, row: $0.row) }
                var all = Row()
                for (_, row) in windows { all.merge(row) }
                result += [("summary_" + group, summary(all)), ("serie_" + group, serie(windows))]
            }
        }
        let starts = rows.keys.map(\.window)
        let range = starts.isEmpty ? "[]"
            : "[{\"startTime\":\(JSONText.string(JSONText.time(starts.min()!))),\"endTime\":\(JSONText.string(JSONText.time(starts.max()! + windowSeconds)))}]"
        let meta = "{\"dateRange\":\(range),\"aggInterval\":\(JSONText.string(Self.aggregationInterval(windowSeconds))),"
            + "\"normalization\":\"PERCENTAGE\",\"connections\":\(whole.total),\"excluded\":\(excluded),\"lines_not_records\":\(linesNotRecords)}"
        result.append(("meta", meta))
        let body = result.map { JSONText.string($0.0) + ":" + $0.1 }.joined(separator: ",\n")
        return "{\"success\":true,\"errors\":[],\"result\":{\n" + body + "}}\n"
    }

    /// A group as scripts want it: ports and AS numbers as numbers (an AS the database did
    /// not know as null), the rest as text.
    func groupCell(_ group: String) -> ReportRows.Cell {
        switch grouping {
        case .port, .asn: Int(group).map { .count($0) } ?? .missing
        default: .text(group)
        }
    }

    /// Radar's five names, in `Row.radar`'s order (which declares them).
    static let radarNames = Row().radar.map(\.name)

    /// Radar's names of its aggregation intervals; other window lengths as seconds.
    static func aggregationInterval(_ seconds: Int64) -> String {
        switch seconds {
        case 900: "FIFTEEN_MINUTES"
        case 3600: "ONE_HOUR"
        case 86400: "ONE_DAY"
        case 604_800: "ONE_WEEK"
        default: "\(seconds)s"
        }
    }

    /// The name part of an AS label ("3320 Deutsche Telekom" → "Deutsche Telekom").
    static func name(in label: String, of group: String) -> String {
        label.hasPrefix(group + " ") ? String(label.dropFirst(group.count + 1)) : ""
    }

    static func largestFirst(_ counts: [String: Int]) -> [(name: String, count: Int)] {
        counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

extension StageTable {
    /// The signature view as a table people read, with what the numbers count.
    public func renderSignatures() -> String {
        var text = rows.isEmpty ? "(no connections)\n" : signatureRows().text()
        text += counted(whole.total, "connection") + (excluded > 0 ? "; \(excluded) \(WindowSummary.excludedNote)" : "") + "\n"
        text += "share: of the window's connections; ipid_gap_over_1_share and ttl_gap_over_margin_share: of the signature's "
            + "resets, those with an IPv4 IP ID gap above 1 and a TTL gap above \(ttlMargin) (ttl_margin): evidence, not proof, "
            + "of an injected reset (docs/classification.md)\n"
        return text
    }
}
