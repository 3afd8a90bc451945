import SamplerClassifier
import SamplerClickHouse

/// Fills a stage table from the ClickHouse table (docs/clickhouse/schema.sql), the way
/// docs/clickhouse/queries.sql counts: FINAL folds batches that arrived twice, and
/// `multiple_syns` connections and those still open at shutdown are left out. A record's
/// window is that of its `finalized` time, as in a file.
public enum ClickHouseStages {
    public static func load(_ client: ClickHouseClient, into table: inout StageTable, filter selection: ReportFilter) throws(ClickHouseError) {
        let target = client.target
        let source = "`\(target.database)`.`\(target.table)` FINAL"
        let window = windowSQL(seconds: table.windowSeconds)
        let conditions = selection.sql
        func filter(_ extra: [String]) -> String {
            let all = conditions + extra
            return all.isEmpty ? "" : " WHERE " + all.joined(separator: " AND ")
        }
        let group = groupExpression(table.grouping)

        let stages = try client.query("""
            SELECT \(window) AS window, \(group) AS grp, toString(stage), \(Exclusion.excludedSQL) AS excluded,
                close = 'reset' AS reset, close = 'timeout' AS timeout, count()
            FROM \(source)\(filter([])) GROUP BY window, grp, stage, excluded, reset, timeout FORMAT TabSeparated
            """)
        for fields in rows(stages) where fields.count == 7 {
            guard let start = Int64(fields[0]), let count = Int(fields[6]) else { continue }
            if fields[3] == "1" { table.addExcluded(count); continue }
            guard let stage = Stage.allCases.first(where: { $0.name == fields[2] }) else { continue }
            table.add(finalizedSeconds: start, group: fields[1], stage: stage, reset: fields[4] == "1", timeout: fields[5] == "1", count: count)
        }

        let tags = try client.query("""
            SELECT \(window) AS window, \(group) AS grp, tag, count() FROM \(source) ARRAY JOIN tags AS tag
            \(filter(["has(tags, 'reset')", Exclusion.countedSQL])) GROUP BY window, grp, tag FORMAT TabSeparated
            """)
        for fields in rows(tags) where fields.count == 4 {
            guard let start = Int64(fields[0]), let count = Int(fields[3]) else { continue }
            table.addResetTag(finalizedSeconds: start, group: fields[1], tag: fields[2], count: count)
        }

        let evidence = try client.query("""
            SELECT \(window) AS window, \(group) AS grp, countIf(rst_ttl_gap IS NOT NULL), countIf(ifNull(rst_ipid_gap, 0) > 1),
                countIf(ifNull(rst_ttl_gap, 0) > \(table.ttlMargin))
            FROM \(source)\(filter(["has(tags, 'reset')", Exclusion.countedSQL])) GROUP BY window, grp FORMAT TabSeparated
            """)
        for fields in rows(evidence) where fields.count == 5 {
            guard let start = Int64(fields[0]), let evidenced = Int(fields[2]), let ipIDGap = Int(fields[3]), let ttlGap = Int(fields[4]) else { continue }
            table.addResetEvidence(finalizedSeconds: start, group: fields[1], evidenced: evidenced, ipIDGap: ipIDGap, ttlGap: ttlGap)
        }
    }

    /// The start of a record's window, in seconds, as `WindowAggregator.windowStart` gives
    /// it: clock-aligned windows of `seconds` (for 900, what the queries' toStartOfFifteenMinutes
    /// gives; a test holds the two to each other).
    static func windowSQL(seconds: Int64) -> String { "intDiv(toUInt32(finalized), \(seconds)) * \(seconds)" }

    /// The same grouping as `StageTable`'s for records in a file.
    static func groupExpression(_ grouping: Grouping) -> String {
        switch grouping {
        case .none: "''"
        case .port: "toString(dport)"
        case .network:
            "if(family = 4, concat(IPv4NumToString(bitAnd(IPv4StringToNum(src), 4294967040)), '/24'), concat(cutIPv6(IPv6StringToNum(src), 10, 0), '/48'))"
        case .host: "host"
        case .asn: "if(client_asn = 0, '\(Grouping.unknown)', toString(client_asn))"
        case .country: "if(client_country = '', '\(Grouping.unknown)', client_country)"
        case .signature: "if(stage = 'none', 'none', if(signature = '', '\(Grouping.unknown)', signature))"
        }
    }

    private static func rows(_ text: String) -> [[String]] {
        text.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }
}
