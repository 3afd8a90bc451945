import SamplerClassifier
import SamplerSinks
import SamplerWire

/// What happens to the client's address before a record leaves the host.
public enum ClientAddressPolicy: String, Sendable, CaseIterable {
    /// Keep the network only: IPv4 /24, IPv6 /48 ("192.0.2.0", "2001:db8:1::").
    case truncate
    /// An empty string.
    case drop
    /// The full address.
    case keep
}

/// One connection record as a row of the ClickHouse table (docs/clickhouse/schema.sql),
/// in JSONEachRow: the JSON lines record flattened (`syn` becomes `syn_ttl`, ...),
/// times as DateTime text plus microseconds, and the host and batch columns that let
/// many hosts share a table and a retried batch be recognised.
public enum ClickHouseRow {
    public struct Context: Sendable {
        /// The host column: letters, digits, '.', '-', '_', ':' only (checked by the
        /// settings), so it needs no escaping.
        public var host: String
        public var clientAddresses: ClientAddressPolicy

        public init(host: String, clientAddresses: ClientAddressPolicy) {
            self.host = host
            self.clientAddresses = clientAddresses
        }
    }

    public static func append(_ record: borrowing ConnectionRecord, context: Context, batch: UInt64, row: Int, to out: inout [UInt8]) {
        let key = record.key
        out.append(contentsOf: #"{"host":""#.utf8)
        out.append(contentsOf: context.host.utf8)
        out.append(contentsOf: #"","first_seen":""#.utf8)
        let firstMicros = Timestamp.appendDateTime(record.firstSeen, to: &out)
        out.append(contentsOf: #"","first_seen_usec":"#.utf8)
        number(firstMicros, &out)
        out.append(contentsOf: #","last_seen":""#.utf8)
        let lastMicros = Timestamp.appendDateTime(record.lastSeen, to: &out)
        out.append(contentsOf: #"","last_seen_usec":"#.utf8)
        number(lastMicros, &out)
        out.append(contentsOf: #","family":"#.utf8)
        number(Int64(key.family.rawValue), &out)
        out.append(contentsOf: #","src":""#.utf8)
        switch context.clientAddresses {
        case .keep: key.source.appendText(family: key.family, to: &out)
        case .truncate: key.source.masked(toPrefix: key.family == .v4 ? 24 : 48, family: key.family).appendText(family: key.family, to: &out)
        case .drop: break
        }
        out.append(contentsOf: #"","sport":"#.utf8)
        number(Int64(key.sourcePort), &out)
        out.append(contentsOf: #","dst":""#.utf8)
        key.destination.appendText(family: key.family, to: &out)
        out.append(contentsOf: #"","dport":"#.utf8)
        number(Int64(key.destinationPort), &out)
        out.append(contentsOf: #","packets":"#.utf8)
        number(Int64(record.packetCount), &out)
        out.append(contentsOf: #","close":""#.utf8)
        out.append(contentsOf: record.close.name.utf8)
        out.append(contentsOf: #"","stage":""#.utf8)
        out.append(contentsOf: record.stage.name.utf8)
        out.append(contentsOf: #"","tags":"#.utf8)
        JSONLines.appendTags(record.tags, to: &out)
        let syn = record.syn
        out.append(contentsOf: #","syn_ttl":"#.utf8)
        number(Int64(syn.ttl), &out)
        out.append(contentsOf: #","syn_ipid":"#.utf8)
        number(Int64(syn.ipID), &out)
        out.append(contentsOf: #","syn_window":"#.utf8)
        number(Int64(syn.window), &out)
        out.append(contentsOf: #","syn_options":"#.utf8)
        JSONLines.appendOptionKinds(syn, to: &out)
        out.append(contentsOf: #","flags":"#.utf8)
        JSONLines.appendFlags(record, to: &out)
        out.append(contentsOf: #","payload_bytes":"#.utf8)
        number(Int64(record.payloadBytes), &out)
        out.append(contentsOf: #","batch_id":"#.utf8)
        // Batch ids use all 64 bits; Int64 would misprint the upper half.
        appendUnsigned(batch, &out)
        out.append(contentsOf: #","batch_row":"#.utf8)
        number(Int64(row), &out)
        out.append(contentsOf: "}\n".utf8)
    }

    private static func number(_ value: Int64, _ out: inout [UInt8]) {
        Timestamp.appendDigits(value, width: 1, to: &out)
    }

    private static func appendUnsigned(_ value: UInt64, _ out: inout [UInt8]) {
        if value >= 10 { appendUnsigned(value / 10, &out) }
        out.append(UInt8(ascii: "0") + UInt8(value % 10))
    }
}

extension ClickHouseRow {
    /// A host column value that needs no escaping: 1 to 253 of letters, digits, '.', '-',
    /// '_' and ':'.
    public static func isHostID(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 253 && text.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: ":"): true
            default: false
            }
        }
    }
}
