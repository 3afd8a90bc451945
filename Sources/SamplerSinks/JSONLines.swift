import SamplerClassifier
import SamplerWire

/// Writes connection records as JSON Lines (one object per line, `docs/records.md`).
/// Every string written is ASCII from a fixed set (names, addresses, digits), so nothing
/// needs escaping; a line is written through a `TextCursor` into room made once.
public enum JSONLines {
    /// The longest line a record can make: the field names and punctuation (about 250
    /// bytes), three timestamps, two IPv6 addresses, every tag (about 270), forty option
    /// kinds (160), ten packets of nine flag letters (120), the signature and reset
    /// evidence (70) and the client's AS number and country (50) come to about 1,120.
    public static let maximumLineLength = 1536

    public static func append(_ record: ConnectionRecord, to out: inout [UInt8]) {
        var dates = Timestamp.Dates()
        append(record, to: &out, dates: &dates)
    }

    /// The same, with the dates (and the last second's text) of the records before: a
    /// writer keeps one `Dates` for all its records.
    public static func append(_ record: ConnectionRecord, to out: inout [UInt8], dates: inout Timestamp.Dates) {
        out.appendText(maximum: maximumLineLength) { write(record, to: &$0, dates: &dates) }
    }

    public static func write(_ record: borrowing ConnectionRecord, to out: inout TextCursor) {
        var dates = Timestamp.Dates()
        write(record, to: &out, dates: &dates)
    }

    public static func write(_ record: borrowing ConnectionRecord, to out: inout TextCursor, dates: inout Timestamp.Dates) {
        let key = record.key
        out.put(#"{"first_seen":""#)
        Timestamp.write(record.firstSeen, to: &out, dates: &dates)
        out.put(#"","last_seen":""#)
        Timestamp.write(record.lastSeen, to: &out, dates: &dates)
        out.put(#"","finalized":""#)
        Timestamp.write(record.finalizedAt, to: &out, dates: &dates)
        out.put(#"","family":"#)
        out.putDecimal(UInt64(key.family.rawValue))
        out.put(#","src":""#)
        key.source.write(family: key.family, to: &out)
        writeFromSourcePortToSignature(record, to: &out)
        let syn = record.syn
        out.put(#","syn":{"ttl":"#)
        out.putDecimal(UInt64(syn.ttl))
        out.put(#","ipid":"#)
        out.putDecimal(UInt64(syn.ipID))
        out.put(#","window":"#)
        out.putDecimal(UInt64(syn.window))
        out.put(#","options":"#)
        writeOptionKinds(syn, to: &out)
        out.put(#"},"flags":"#)
        writeFlags(record, to: &out)
        out.put(#","payload_bytes":"#)
        out.putDecimal(record.payloadBytes)
        writeClient(record.client, to: &out)
        out.put("}\n")
    }

    /// `,"client_asn":3320,"client_country":"DE"`: each part only when it is known.
    public static func writeClient(_ client: Location, to out: inout TextCursor) {
        if let asn = client.asn {
            out.put(#","client_asn":"#)
            out.putDecimal(UInt64(asn))
        }
        if let country = client.country {
            out.put(#","client_country":""#)
            out.put(country.first)
            out.put(country.second)
            out.put(UInt8(ascii: "\""))
        }
    }

    // The parts shared with the other row formats (ClickHouse).

    /// `","sport":…,"dst":"…","dport":…,"packets":…,"close":"…","stage":"…","tags":[…],`
    /// `"signature":"…","rst_ipid_gap":…,"rst_ttl_gap":…`: the fields after the client
    /// address, the same in every format (the address itself differs: ClickHouse rows may
    /// truncate or drop it). The signature only where the stage is not `none`, the gaps only
    /// on a reset close (the IP ID gap only for IPv4).
    public static func writeFromSourcePortToSignature(_ record: borrowing ConnectionRecord, to out: inout TextCursor) {
        let key = record.key
        out.put(#"","sport":"#)
        out.putDecimal(UInt64(key.sourcePort))
        out.put(#","dst":""#)
        key.destination.write(family: key.family, to: &out)
        out.put(#"","dport":"#)
        out.putDecimal(UInt64(key.destinationPort))
        out.put(#","packets":"#)
        out.putDecimal(UInt64(record.packetCount))
        out.put(#","close":""#)
        out.put(record.close.staticName)
        out.put(#"","stage":""#)
        out.put(record.stage.staticName)
        out.put(#"","tags":"#)
        writeTags(record.tags, to: &out)
        if let signature = record.signature {
            out.put(#","signature":""#)
            out.put(signature.staticName)
            out.put(UInt8(ascii: "\""))
        }
        if let evidence = record.resetEvidence {
            if let gap = evidence.ipIDGap {
                out.put(#","rst_ipid_gap":"#)
                out.putDecimal(UInt64(gap))
            }
            out.put(#","rst_ttl_gap":"#)
            out.putDecimal(UInt64(evidence.ttlGap))
        }
    }


    /// `["reset","single_rst"]`: the tag names in bit order, which is alphabetical.
    public static func writeTags(_ tags: Tags, to out: inout TextCursor) {
        out.put(UInt8(ascii: "["))
        var bits = tags.rawValue
        while bits != 0 {
            out.put(UInt8(ascii: "\""))
            out.put(Tags.name(ofBit: bits.trailingZeroBitCount))
            out.put(UInt8(ascii: "\""))
            bits &= bits - 1
            if bits != 0 { out.put(UInt8(ascii: ",")) }
        }
        out.put(UInt8(ascii: "]"))
    }

    /// `[2,4,8,1,3]`: the SYN's option kinds in order.
    public static func writeOptionKinds(_ syn: SYNInfo, to out: inout TextCursor) {
        out.put(UInt8(ascii: "["))
        for i in 0..<syn.options.count {
            if i > 0 { out.put(UInt8(ascii: ",")) }
            out.putDecimal(UInt64(syn.options[i]))
        }
        out.put(UInt8(ascii: "]"))
    }

    /// `["S","A","PA"]`: each logged packet's flags.
    public static func writeFlags(_ record: borrowing ConnectionRecord, to out: inout TextCursor) {
        out.put(UInt8(ascii: "["))
        for i in 0..<record.packetCount {
            if i > 0 { out.put(UInt8(ascii: ",")) }
            out.put(UInt8(ascii: "\""))
            record.flags(at: i).writeLetters(to: &out)
            out.put(UInt8(ascii: "\""))
        }
        out.put(UInt8(ascii: "]"))
    }

    public static func line(_ record: ConnectionRecord) -> String {
        var out: [UInt8] = []
        append(record, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
