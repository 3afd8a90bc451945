/// The fields of a connection record's JSON line (docs/records.md), in the order the
/// writer writes them, declared once: the report's reader looks them up by these names
/// (`RecordScanner`), and tests hold the writer's lines, the ClickHouse row's columns
/// (docs/clickhouse/schema.sql: `syn` flattened to `syn_ttl`, ..., times with `_usec`
/// beside them) and docs/records.md's table to this list. The writer itself keeps its keys
/// in literals with their punctuation (one copy per field, not two), so that a line is
/// written in about twenty moves.
public enum RecordField: Int, CaseIterable, Sendable {
    case firstSeen, lastSeen, finalized, family, src, sport, dst, dport, packets, close, stage, tags
    case signature, rstIPIDGap, rstTTLGap, syn, flags, payloadBytes, clientASN, clientCountry
    /// Not in a JSON line: the host a ClickHouse row (and other tools' lines) carry, which
    /// `report --by host` reads when it is there.
    case host

    public var name: StaticString {
        switch self {
        case .firstSeen: "first_seen"
        case .lastSeen: "last_seen"
        case .finalized: "finalized"
        case .family: "family"
        case .src: "src"
        case .sport: "sport"
        case .dst: "dst"
        case .dport: "dport"
        case .packets: "packets"
        case .close: "close"
        case .stage: "stage"
        case .tags: "tags"
        case .signature: "signature"
        case .rstIPIDGap: "rst_ipid_gap"
        case .rstTTLGap: "rst_ttl_gap"
        case .syn: "syn"
        case .flags: "flags"
        case .payloadBytes: "payload_bytes"
        case .clientASN: "client_asn"
        case .clientCountry: "client_country"
        case .host: "host"
        }
    }

    /// The fields of a JSON line, in order.
    public static let line = allCases.filter { $0 != .host }
}
