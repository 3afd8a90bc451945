/// Which connections the stage shares leave out, declared once: those still open when
/// sampler stopped or the input ended (close `shutdown`: their outcome is unknown), and
/// those with several SYNs, as the reference write-up does (`include_multiple_syns` keeps
/// them in the live windows). `sampler report` over a file and over ClickHouse uses it;
/// docs/clickhouse/queries.sql writes `countedSQL`, and a test holds it to this. (The
/// window aggregator applies the same two conditions in its own order, so that a window
/// still counts the closes of the connections open at shutdown.)
public enum Exclusion {
    public static func excludes(close: CloseReason?, tags: Tags) -> Bool {
        close == .shutdown || tags.contains(.multipleSyns)
    }

    /// The same over ClickHouse's columns (docs/clickhouse/schema.sql): true when left out.
    public static let excludedSQL = "has(tags, 'multiple_syns') OR close = 'shutdown'"
    /// What is counted, as the queries' WHERE clauses write it.
    public static let countedSQL = "NOT has(tags, 'multiple_syns') AND close != 'shutdown'"
}
