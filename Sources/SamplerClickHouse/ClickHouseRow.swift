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
        public var host: String { didSet { hostBytes = Array(host.utf8) } }
        public var clientAddresses: ClientAddressPolicy
        /// The host's bytes, made once rather than per row.
        fileprivate private(set) var hostBytes: [UInt8]

        public init(host: String, clientAddresses: ClientAddressPolicy) {
            self.host = host
            self.clientAddresses = clientAddresses
            hostBytes = Array(host.utf8)
        }
    }

    /// The longest row: a JSON line's bound plus the host (at most 253 bytes, checked by
    /// the settings) and the batch columns.
    public static let maximumRowLength = JSONLines.maximumLineLength + 512

    public static func append(_ record: ConnectionRecord, context: Context, batch: UInt64, row: Int, to out: inout [UInt8]) {
        out.appendText(maximum: maximumRowLength) { write(record, context: context, batch: batch, row: row, to: &$0) }
    }

    public static func write(_ record: borrowing ConnectionRecord, context: Context, batch: UInt64, row: Int, to out: inout TextCursor) {
        let key = record.key
        out.put(#"{"host":""#)
        context.hostBytes.withUnsafeBufferPointer { out.put($0) }
        out.put(#"","first_seen":""#)
        let firstMicros = Timestamp.writeDateTime(record.firstSeen, to: &out)
        out.put(#"","first_seen_usec":"#)
        out.putDecimal(firstMicros)
        out.put(#","last_seen":""#)
        let lastMicros = Timestamp.writeDateTime(record.lastSeen, to: &out)
        out.put(#"","last_seen_usec":"#)
        out.putDecimal(lastMicros)
        out.put(#","finalized":""#)
        let finalizedMicros = Timestamp.writeDateTime(record.finalizedAt, to: &out)
        out.put(#"","finalized_usec":"#)
        out.putDecimal(finalizedMicros)
        out.put(#","family":"#)
        out.putDecimal(UInt64(key.family.rawValue))
        out.put(#","src":""#)
        switch context.clientAddresses {
        case .keep: key.source.write(family: key.family, to: &out)
        case .truncate: key.source.masked(toPrefix: key.family.clientNetworkPrefix, family: key.family).write(family: key.family, to: &out)
        case .drop: break
        }
        JSONLines.writeFromSourcePortToSignature(record, to: &out)
        let syn = record.syn
        out.put(#","syn_ttl":"#)
        out.putDecimal(UInt64(syn.ttl))
        out.put(#","syn_ipid":"#)
        out.putDecimal(UInt64(syn.ipID))
        out.put(#","syn_window":"#)
        out.putDecimal(UInt64(syn.window))
        out.put(#","syn_options":"#)
        JSONLines.writeOptionKinds(syn, to: &out)
        out.put(#","flags":"#)
        JSONLines.writeFlags(record, to: &out)
        out.put(#","payload_bytes":"#)
        out.putDecimal(record.payloadBytes)
        // Unknown: the columns' defaults (0 and '').
        JSONLines.writeClient(record.client, to: &out)
        out.put(#","batch_id":"#)
        // Batch ids use all 64 bits.
        out.putDecimal(batch)
        out.put(#","batch_row":"#)
        out.putDecimal(UInt64(row))
        out.put("}\n")
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
