import SamplerClassifier
import SamplerSinks
import SamplerWire

/// The fields of one record line that a report counts, whichever reader read them.
struct CountedRecord: Equatable {
    /// When the record counts: `finalized`, or for records from before it existed (sampler
    /// 0.1) `last_seen`, then `first_seen`.
    var finalized: Microseconds = 0
    /// The client address as written; filled only for `--by network` (the scanner leaves
    /// it empty otherwise, so that no string is made per line).
    var source = ""
    var sourcePort: Int?
    var destinationPort = 0
    var family: Int?
    var packets: Int?
    var stage = Stage.none
    /// Nil when the line has none, or a name sampler never writes.
    var close: CloseReason?
    var tags = Tags()
    /// Tag names sampler never writes (lines from other tools): counted among a reset's
    /// tags as they are.
    var otherTags: [String] = []
    /// Nil when the line has none or a name sampler never writes: both count as unknown.
    var signature: Signature?
    var ipIDGap: Int?
    var ttlGap: Int?
    var host: String?
    var clientASN: UInt32?
    /// Nil when absent; a line with a value that is not a code is not a record.
    var clientCountry: CountryCode?

    /// The ranges a record's fields cannot leave: a line with a value outside them is not a
    /// record (a port of -1, 1e40 packets), whatever wrote it.
    var isInRange: Bool {
        let ports = 0...65535
        return ports.contains(destinationPort) && sourcePort.map(ports.contains) != false
            && family.map { $0 == 4 || $0 == 6 } != false
            && packets.map { (1...Connection.capacity).contains($0) } != false
            && ipIDGap.map { (0...32768).contains($0) } != false
            && ttlGap.map { (0...255).contains($0) } != false
    }
}

/// Reads one JSON line into a `CountedRecord` without Foundation: the fields in any order,
/// every other field skipped (and checked to be JSON), one pass over the bytes and no
/// allocation. It answers nil for what it does not handle (escapes and non-ASCII in
/// strings, fractions and exponents, a repeated field, a name sampler never writes, a
/// value out of range): the caller gives that line to Foundation's full decoder, which
/// decides whether it is a record. So the scanner can only make reading faster, never
/// change what is counted (docs/records.md, "Reading records").
struct RecordScanner {
    private let line: UnsafeBufferPointer<UInt8>
    private var at = 0

    /// The deepest nesting skipped; deeper goes to the full decoder.
    private static let maximumDepth = 32

    /// The names the scanner looks up, packed once (`allCases` builds an array at each use);
    /// a class, so that a scanner holds one reference to them, not ten.
    private final class Names: Sendable {
        let fields = NameTable(Field.allCases, \.name)
        let stages = NameTable(Stage.allCases, \.staticName)
        let closes = NameTable(CloseReason.allCases, \.staticName)
        let signatures = NameTable(Signature.allCases, \.staticName)
        let tags = NameTable((0..<Tags.count).map { Tags(rawValue: 1 << $0) }, { Tags.name(ofBit: $0.rawValue.trailingZeroBitCount) })
    }
    private static let names = Names()
    private let names: Names

    /// `wantsSource` and `wantsHost`: whether the report groups by them (only then are they
    /// copied out of the line).
    static func scan(_ line: UnsafeBufferPointer<UInt8>, wantsSource: Bool, wantsHost: Bool) -> CountedRecord? {
        var scanner = RecordScanner(line: line)
        return scanner.record(wantsSource: wantsSource, wantsHost: wantsHost)
    }

    private init(line: UnsafeBufferPointer<UInt8>) {
        self.line = line
        names = Self.names
    }

    /// The record's fields (`RecordField`, in the writer's order, so that the field after
    /// the last one found is tried first); `dst`, `syn`, `flags` and `payload_bytes` are
    /// only skipped.
    private typealias Field = RecordField
    /// The fields a line must have (the rest may be missing or null).
    private static let required: [Field] = [.firstSeen, .src, .dport, .stage, .tags]
    private static let requiredBits = required.reduce(UInt32(0)) { $0 | 1 << $1.rawValue }

    private mutating func record(wantsSource: Bool, wantsHost: Bool) -> CountedRecord? {
        var record = CountedRecord()
        var seen: UInt32 = 0
        var last = -1
        var times: (first: Range<Int>?, last: Range<Int>?, finalized: Range<Int>?) = (nil, nil, nil)
        guard take(UInt8(ascii: "{")) else { return nil }
        skipSpace()
        if peek(UInt8(ascii: "}")) { return nil }
        repeat {
            guard let found = fieldName(guess: last + 1), take(UInt8(ascii: ":")) else { return nil }
            guard let field = found else {
                guard skipValue(depth: 1) else { return nil }
                continue
            }
            let bit: UInt32 = 1 << field.rawValue
            guard seen & bit == 0 else { return nil }
            seen |= bit
            last = field.rawValue
            if Self.requiredBits & bit == 0, takeNull() { continue }
            switch field {
            case .dst, .syn, .flags, .payloadBytes: guard skipValue(depth: 1) else { return nil }
            case .firstSeen: guard let text = string() else { return nil }; times.first = text
            case .lastSeen: guard let text = string() else { return nil }; times.last = text
            case .finalized: guard let text = string() else { return nil }; times.finalized = text
            case .family: guard let value = integer() else { return nil }; record.family = value
            case .src:
                guard let text = string() else { return nil }
                if wantsSource { record.source = String(decoding: UnsafeBufferPointer(rebasing: line[text]), as: UTF8.self) }
            case .sport: guard let value = integer() else { return nil }; record.sourcePort = value
            case .dport: guard let value = integer() else { return nil }; record.destinationPort = value
            case .packets: guard let value = integer() else { return nil }; record.packets = value
            case .stage:
                guard let text = string(), let stage = names.stages.value(of: text, in: line) else { return nil }
                record.stage = stage
            case .close:
                guard let text = string() else { return nil }
                record.close = names.closes.value(of: text, in: line)
            case .tags: guard let tags = tagList() else { return nil }; record.tags = tags
            case .signature:
                guard let text = string() else { return nil }
                record.signature = names.signatures.value(of: text, in: line)
            case .rstIPIDGap: guard let value = integer() else { return nil }; record.ipIDGap = value
            case .rstTTLGap: guard let value = integer() else { return nil }; record.ttlGap = value
            case .host:
                guard let text = string() else { return nil }
                if wantsHost { record.host = String(decoding: UnsafeBufferPointer(rebasing: line[text]), as: UTF8.self) }
            case .clientASN:
                guard let value = integer(), let asn = UInt32(exactly: value) else { return nil }
                record.clientASN = asn
            case .clientCountry:
                guard let text = string(), text.count == 2,
                      let code = CountryCode(first: line[text.lowerBound], second: line[text.lowerBound + 1]) else { return nil }
                record.clientCountry = code
            }
        } while take(UInt8(ascii: ","))
        guard take(UInt8(ascii: "}")) else { return nil }
        skipSpace()
        guard at == line.count, seen & Self.requiredBits == Self.requiredBits, record.isInRange,
              let time = times.finalized ?? times.last ?? times.first,
              let finalized = Timestamp.parse(UnsafeBufferPointer(rebasing: line[time])) else { return nil }
        record.finalized = finalized
        return record
    }

    /// The name of the next field: `.some(nil)` for one the scanner does not know, nil
    /// when there is no string. The field `guess` is tried in place first: when it is
    /// the one, its name is not scanned again.
    private mutating func fieldName(guess: Int) -> Field?? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        if let (field, length) = names.fields.matches(guess, at: at, in: line) {
            at += length + 1
            return field
        }
        at -= 1
        guard let key = string() else { return nil }
        return .some(names.fields.value(of: key, in: line))
    }

    private static func same(_ text: Range<Int>, _ name: StaticString, in line: UnsafeBufferPointer<UInt8>) -> Bool {
        guard text.count == name.utf8CodeUnitCount else { return false }
        let bytes = name.utf8Start
        for i in 0..<text.count where line[text.lowerBound + i] != bytes[i] { return false }
        return true
    }

    /// `["reset","single_rst"]` as tags; nil for a name sampler never writes.
    private mutating func tagList() -> Tags? {
        guard take(UInt8(ascii: "[")) else { return nil }
        var tags = Tags()
        if take(UInt8(ascii: "]")) { return tags }
        repeat {
            guard let text = string(),
                  let tag = names.tags.value(of: text, in: line) else { return nil }
            tags.insert(tag)
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "]")) ? tags : nil
    }

    // MARK: JSON tokens

    private mutating func skipSpace() {
        if at < line.count, line[at] > UInt8(ascii: " ") { return }  // mostly: the writer writes no space
        while at < line.count {
            switch line[at] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): at += 1
            default: return
            }
        }
    }

    private func peek(_ byte: UInt8) -> Bool { at < line.count && line[at] == byte }

    /// Skips space, then `byte` if it is next.
    private mutating func take(_ byte: UInt8) -> Bool {
        skipSpace()
        guard peek(byte) else { return false }
        at += 1
        return true
    }

    private mutating func takeWord(_ word: StaticString) -> Bool {
        skipSpace()
        let end = at + word.utf8CodeUnitCount
        guard end <= line.count, Self.same(at..<end, word, in: line) else { return false }
        at = end
        return true
    }

    private mutating func takeNull() -> Bool { takeWord("null") }

    /// A string's bytes, without its quotes: printable ASCII without escapes only.
    private mutating func string() -> Range<Int>? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = at
        // Eight bytes at a time while none of them is a quote, a backslash, a control
        // character or above ASCII (the classic bit tricks: a byte b is zero exactly when
        // (b - 0x01) & ~b & 0x80 is set, in each lane).
        while at + 8 <= line.count {
            let word = UInt64(littleEndian: UnsafeRawPointer(line.baseAddress! + at).loadUnaligned(as: UInt64.self))
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            let quote = word ^ (ones &* 0x22), backslash = word ^ (ones &* 0x5C)
            let special = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word) | word
            if special & highs != 0 { break }
            at += 8
        }
        while at < line.count {
            let byte = line[at]
            if byte == UInt8(ascii: "\"") {
                at += 1
                return start..<(at - 1)
            }
            guard byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\\") else { return nil }
            at += 1
        }
        return nil
    }

    /// A JSON integer of at most 18 digits (no fraction, no exponent).
    private mutating func integer() -> Int? {
        skipSpace()
        let negative = peek(UInt8(ascii: "-"))
        if negative { at += 1 }
        let start = at
        var value = 0
        while at < line.count, line[at] &- UInt8(ascii: "0") < 10 {
            value = value &* 10 &+ Int(line[at] &- UInt8(ascii: "0"))  // wraps past 18 digits, refused below
            at += 1
        }
        let digits = at - start
        guard digits > 0, digits <= 18, digits == 1 || line[start] != UInt8(ascii: "0") else { return nil }
        if at < line.count, line[at] == UInt8(ascii: ".") || line[at] | 0x20 == UInt8(ascii: "e") { return nil }
        return negative ? -value : value
    }

    /// Skips any JSON value (a number in its full grammar), checking that it is one.
    private mutating func skipValue(depth: Int) -> Bool {
        guard depth <= Self.maximumDepth else { return false }
        skipSpace()
        guard at < line.count else { return false }
        switch line[at] {
        case UInt8(ascii: "\""): return string() != nil
        case UInt8(ascii: "{"):
            at += 1
            if take(UInt8(ascii: "}")) { return true }
            repeat {
                guard string() != nil, take(UInt8(ascii: ":")), skipValue(depth: depth + 1) else { return false }
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "}"))
        case UInt8(ascii: "["):
            at += 1
            if take(UInt8(ascii: "]")) { return true }
            repeat {
                guard skipValue(depth: depth + 1) else { return false }
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "]"))
        case UInt8(ascii: "t"): return takeWord("true")
        case UInt8(ascii: "f"): return takeWord("false")
        case UInt8(ascii: "n"): return takeWord("null")
        default: return skipNumber()
        }
    }

    /// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    private mutating func skipNumber() -> Bool {
        if peek(UInt8(ascii: "-")) { at += 1 }
        func digits() -> Int {
            let start = at
            while at < line.count, line[at] &- UInt8(ascii: "0") < 10 { at += 1 }
            return at - start
        }
        let start = at
        let whole = digits()
        guard whole > 0, whole == 1 || line[start] != UInt8(ascii: "0") else { return false }
        if peek(UInt8(ascii: ".")) {
            at += 1
            guard digits() > 0 else { return false }
        }
        if at < line.count, line[at] | 0x20 == UInt8(ascii: "e") {
            at += 1
            if peek(UInt8(ascii: "+")) || peek(UInt8(ascii: "-")) { at += 1 }
            guard digits() > 0 else { return false }
        }
        return true
    }
}

/// Names looked up by their bytes: each packed into two words (its first 16 bytes) and its
/// length, so that a look-up compares two words a name instead of a byte at a time.
private struct NameTable<Value: Sendable>: Sendable {
    private let values: [Value]
    private let names: [StaticString]
    private let packed: [(low: UInt64, high: UInt64, count: Int)]

    init(_ values: [Value], _ name: (Value) -> StaticString) {
        self.values = values
        names = values.map(name)
        packed = names.map { name in
            let (low, high) = Self.pack(UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            return (low, high, name.utf8CodeUnitCount)
        }
    }

    /// The first 16 bytes of `line[start..<end]`, little-endian, zero beyond the end:
    /// two loads where 16 bytes follow `start` in the line.
    private static func pack(_ line: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> (UInt64, UInt64) {
        let count = end - start
        if start + 16 <= line.count {
            let base = UnsafeRawPointer(line.baseAddress! + start)
            let low = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
            let high = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            if count >= 16 { return (low, high) }
            if count > 8 { return (low, high & (UInt64(1) << (8 * (count - 8)) - 1)) }
            return (count == 8 ? low : low & (UInt64(1) << (8 * count) - 1), 0)
        }
        var low: UInt64 = 0, high: UInt64 = 0
        for i in 0..<min(count, 16) {
            if i < 8 { low |= UInt64(line[start + i]) << (8 * i) } else { high |= UInt64(line[start + i]) << (8 * (i - 8)) }
        }
        return (low, high)
    }

    private static func pack(_ bytes: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64) { pack(bytes, 0, bytes.count) }

    /// Whether name `i` is `line[start..<end]`.
    private func matches(_ i: Int, _ start: Int, _ end: Int, in line: UnsafeBufferPointer<UInt8>) -> Bool {
        let entry = packed[i]
        guard entry.count == end - start else { return false }
        let (low, high) = Self.pack(line, start, end)
        return entry.low == low && entry.high == high && tailMatches(i, start, in: line)
    }

    /// Whether the bytes of name `i` past its first 16 are those at `start + 16` (a name's
    /// first 16 are in its packed words; only signatures are longer).
    private func tailMatches(_ i: Int, _ start: Int, in line: UnsafeBufferPointer<UInt8>) -> Bool {
        let name = names[i].utf8Start
        for j in min(16, packed[i].count)..<packed[i].count where line[start + j] != name[j] { return false }
        return true
    }

    /// The value named `line[text]`; nil when it is none. The text is packed once, then
    /// compared with each name.
    func value(of text: Range<Int>, in line: UnsafeBufferPointer<UInt8>) -> Value? {
        let (low, high) = Self.pack(line, text.lowerBound, text.upperBound)
        for i in packed.indices where packed[i] == (low, high, text.count) && tailMatches(i, text.lowerBound, in: line) { return values[i] }
        return nil
    }

    /// When name `i` followed by a quote starts at `start`: its value and length.
    func matches(_ i: Int, at start: Int, in line: UnsafeBufferPointer<UInt8>) -> (Value, Int)? {
        guard i < packed.count else { return nil }
        let end = start + packed[i].count
        guard end < line.count, line[end] == UInt8(ascii: "\""), matches(i, start, end, in: line) else { return nil }
        return (values[i], packed[i].count)
    }
}
