import SamplerClassifier
import SamplerWire

/// Writes connection records as JSON Lines (one object per line, `docs/records.md`),
/// straight into a reusable byte buffer. Every string written is ASCII from a fixed set
/// (names, addresses, digits), so nothing needs escaping.
public enum JSONLines {
    public static func append(_ record: ConnectionRecord, to out: inout [UInt8]) {
        let key = record.key
        field("first_seen", first: true, &out); quoted(&out) { Timestamp.append(record.firstSeen, to: &$0) }
        field("last_seen", &out); quoted(&out) { Timestamp.append(record.lastSeen, to: &$0) }
        field("family", &out); number(Int64(key.family.rawValue), &out)
        field("src", &out); quoted(&out) { key.source.appendText(family: key.family, to: &$0) }
        field("sport", &out); number(Int64(key.sourcePort), &out)
        field("dst", &out); quoted(&out) { key.destination.appendText(family: key.family, to: &$0) }
        field("dport", &out); number(Int64(key.destinationPort), &out)
        field("packets", &out); number(Int64(record.packetCount), &out)
        field("close", &out); string(record.close.name, &out)
        field("stage", &out); string(record.stage.name, &out)
        field("tags", &out); appendTags(record.tags, to: &out)
        field("syn", &out)
        let syn = record.syn
        field("ttl", first: true, &out); number(Int64(syn.ttl), &out)
        field("ipid", &out); number(Int64(syn.ipID), &out)
        field("window", &out); number(Int64(syn.window), &out)
        field("options", &out); appendOptionKinds(syn, to: &out)
        out.append(UInt8(ascii: "}"))
        field("flags", &out); appendFlags(record, to: &out)
        field("payload_bytes", &out); number(Int64(record.payloadBytes), &out)
        out.append(contentsOf: "}\n".utf8)
    }

    // The arrays, shared with the other row formats (ClickHouse).

    /// `["reset","single_rst"]`: the tag names in `Tags.all` order (alphabetical).
    public static func appendTags(_ tags: Tags, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        var first = true
        for entry in Tags.all where tags.contains(entry.tag) {
            if !first { out.append(UInt8(ascii: ",")) }
            string(entry.name, &out)
            first = false
        }
        out.append(UInt8(ascii: "]"))
    }

    /// `[2,4,8,1,3]`: the SYN's option kinds in order.
    public static func appendOptionKinds(_ syn: SYNInfo, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for i in 0..<syn.options.count {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            number(Int64(syn.options[i]), &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// `["S","A","PA"]`: each logged packet's flags.
    public static func appendFlags(_ record: borrowing ConnectionRecord, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for i in 0..<record.packetCount {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            record.flags(at: i).appendLetters(to: &out)
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "]"))
    }

    public static func line(_ record: ConnectionRecord) -> String {
        var out: [UInt8] = []
        append(record, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Writes `"name":` (opening the object when `first`).
    private static func field(_ name: StaticString, first: Bool = false, _ out: inout [UInt8]) {
        out.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
        out.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(contentsOf: "\":".utf8)
    }

    private static func quoted(_ out: inout [UInt8], _ body: (inout [UInt8]) -> Void) {
        out.append(UInt8(ascii: "\""))
        body(&out)
        out.append(UInt8(ascii: "\""))
    }

    private static func string(_ value: String, _ out: inout [UInt8]) {
        quoted(&out) { $0.append(contentsOf: value.utf8) }
    }

    private static func number(_ value: Int64, _ out: inout [UInt8]) {
        Timestamp.appendDigits(value, width: 1, to: &out)
    }
}
