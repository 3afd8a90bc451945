import Foundation
import SamplerClassifier
import SamplerSinks
import SamplerWire
import SamplerSystem

/// Reads JSON lines records (docs/records.md) into a stage table.
public enum RecordLines {
    public struct Outcome: Sendable {
        public var records = 0
        /// Lines that are not a record: how many, and the first one's number.
        public var badLines = 0
        public var firstBadLine: Int?
        /// The input starts as a compressed file does: not read.
        public var compressed: Compression?
        /// The input starts as a packet capture does (pcap, pcapng): not read.
        public var capture = false
    }

    /// A line as Foundation's decoder reads it: for the lines the scanner leaves to it.
    private struct Line: Decodable {
        var first_seen: String
        var last_seen: String?
        var finalized: String?
        var family: Int?
        var src: String
        var sport: Int?
        var dport: Int
        var packets: Int?
        var stage: String
        var close: String?
        var tags: [String]
        var signature: String?
        var rst_ipid_gap: Int?
        var rst_ttl_gap: Int?
        var host: String?
        var client_asn: UInt32?
        var client_country: String?

        /// The same fields as the scanner gives them; nil when the line is not a record.
        var counted: CountedRecord? {
            // Records from before `finalized` existed (sampler 0.1) are placed by their
            // last packet, the nearest time they carry.
            guard let finalized = Timestamp.parse(Substring(finalized ?? last_seen ?? first_seen)),
                  let stage = Stage.allCases.first(where: { $0.name == stage }) else { return nil }
            var record = CountedRecord(finalized: finalized, source: src, sourcePort: sport, destinationPort: dport, family: family,
                                       packets: packets, stage: stage, close: CloseReason.allCases.first { $0.name == close },
                                       signature: signature.flatMap { Signature(name: $0) }, ipIDGap: rst_ipid_gap, ttlGap: rst_ttl_gap,
                                       host: host, clientASN: client_asn)
            for name in tags {
                if let tag = Tags(name: name) { record.tags.insert(tag) } else { record.otherTags.append(name) }
            }
            if let client_country {
                guard let code = CountryCode(client_country) else { return nil }
                record.clientCountry = code
            }
            return record.isInRange ? record : nil
        }
    }

    /// The longest line read: a record's line is at most `JSONLines.maximumLineLength`
    /// (1.5 KiB), so a longer one is another tool's with much more in it; beyond this it
    /// is a bad line, skipped to its end without being held, so that memory stays bounded
    /// whatever the file holds.
    public static let maximumLineBytes = 16 << 20

    /// Reads every line from `fd` until end of file, in blocks of 1 MiB or more (a block
    /// grows to hold a longer line, up to `maximumLineBytes`). `host` fills the host
    /// column for `--by host` (records in a file carry none). A read error ends the
    /// reading with what was counted so far in `table`. One thread: two, each on half of
    /// a file, took as long on this project's machine (docs/benchmarks.md).
    public static func read(fd: Int32, into table: inout StageTable, host: String, filter: ReportFilter) throws(Errno) -> Outcome {
        var reader = Reader(host: host, filter: filter)
        var block = [UInt8](repeating: 0, count: 1 << 20)
        var kept = 0  // bytes of an unfinished line at the start of `block`
        var skipping = false  // in a line too long to hold, until its newline
        var first = true
        while true {
            if kept == block.count {
                if block.count * 2 <= maximumLineBytes {
                    block += [UInt8](repeating: 0, count: block.count)
                } else {
                    reader.countTooLong()
                    (kept, skipping) = (0, true)
                }
            }
            let n = try Descriptor(rawValue: fd).read(into: &block, at: kept)
            if n == 0 { break }
            if first {
                first = false
                // A rotated copy that logrotate compressed, piped in or renamed: not lines at all.
                if let compression = Compression(start: block[0..<n]) {
                    var outcome = Outcome()
                    outcome.compressed = compression
                    return outcome
                }
                // A capture, not its records: `classify` makes those.
                if block[0..<n].withUnsafeBytes({ CaptureFile.beginsACapture(RawSpan(_unsafeBytes: $0)) }) {
                    var outcome = Outcome()
                    outcome.capture = true
                    return outcome
                }
            }
            let end = kept + n
            kept = block.withUnsafeMutableBufferPointer { buffer in
                var start = 0
                let base = buffer.baseAddress!
                while let found = memchr(base + start, Int32(UInt8(ascii: "\n")), end - start) {
                    let newline = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                    if skipping { skipping = false } else { reader.consume(UnsafeBufferPointer(rebasing: buffer[start..<newline]), into: &table) }
                    start = newline + 1
                }
                if skipping { return 0 }
                if start > 0 && start < end {
                    buffer.baseAddress!.update(from: buffer.baseAddress! + start, count: end - start)
                }
                return end - start
            }
        }
        if kept > 0 && !skipping { block.withUnsafeBufferPointer { reader.consume(UnsafeBufferPointer(rebasing: $0[..<kept]), into: &table) } }
        return reader.outcome
    }

    /// Reads lines one at a time into a table, counting what is not a record.
    public struct Reader {
        public private(set) var outcome = Outcome()
        let host: String
        let filter: ReportFilter
        private var lineNumber = 0
        private let decoder = JSONDecoder()

        public init(host: String, filter: ReportFilter) {
            self.host = host
            self.filter = filter
        }

        /// A line longer than `maximumLineBytes`: a bad line, numbered like any other.
        mutating func countTooLong() {
            lineNumber += 1
            outcome.badLines += 1
            if outcome.firstBadLine == nil { outcome.firstBadLine = lineNumber }
        }

        /// One line, without its newline: read by the scanner, or when it cannot by
        /// Foundation's decoder.
        public mutating func consume(_ line: UnsafeBufferPointer<UInt8>, into table: inout StageTable) {
            lineNumber += 1
            if Self.isBlank(line) { return }
            let grouping = table.grouping
            guard let record = RecordScanner.scan(line, wantsSource: grouping == .network, wantsHost: grouping == .host)
                    ?? (try? decoder.decode(Line.self, from: Data(buffer: line)))?.counted else {
                outcome.badLines += 1
                if outcome.firstBadLine == nil { outcome.firstBadLine = lineNumber }
                return
            }
            outcome.records += 1
            count(record, into: &table)
        }

        /// Whether the scanner reads `line` as Foundation's decoder does: it declines it
        /// or gives the same fields. For the tests and the fuzzer (Fuzz/Targets).
        public func readersAgree(on line: UnsafeBufferPointer<UInt8>, grouping: Grouping) -> Bool {
            guard let scanned = RecordScanner.scan(line, wantsSource: grouping == .network, wantsHost: grouping == .host) else { return true }
            guard var decoded = (try? decoder.decode(Line.self, from: Data(buffer: line)))?.counted else { return false }
            if grouping != .network { decoded.source = "" }
            if grouping != .host { decoded.host = nil }
            return scanned == decoded
        }

        /// A line of JSON's white space only (none at all, spaces, tabs, a CR): skipped, not
        /// a bad line.
        public static func isBlank(_ line: some Collection<UInt8>) -> Bool {
            line.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }
        }

        /// Whether the scanner reads `line` itself (without the decoder).
        public static func scans(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
            RecordScanner.scan(line, wantsSource: true, wantsHost: true) != nil
        }

        private func count(_ record: CountedRecord, into table: inout StageTable) {
            guard filter.admits(finalized: record.finalized, asn: record.clientASN, country: record.clientCountry) else { return }
            if Exclusion.excludes(close: record.close, tags: record.tags) { table.addExcluded(); return }
            let group: String
            switch table.grouping {
            case .none: group = ""
            case .port: group = String(record.destinationPort)
            case .network: group = StageTable.network(of: record.source)
            case .host: group = record.host ?? host
            case .asn: group = record.clientASN.map(String.init) ?? Grouping.unknown
            case .country: group = record.clientCountry?.description ?? Grouping.unknown
            case .signature: group = Grouping.signatureGroup(record.signature, stage: record.stage)
            }
            let ttlMargin = table.ttlMargin
            let seconds = Timestamp.split(record.finalized).seconds
            table.withRow(finalizedSeconds: seconds, group: group) { row in
                row.stages[Int(record.stage.rawValue)] += 1
                if record.close == .reset && record.stage == .later { row.laterResets += 1 }
                if record.close == .timeout { row.timeouts += 1 }
                guard record.tags.contains(.reset) else { return }
                row.resets += 1
                var bits = record.tags.subtracting(.reset).rawValue
                while bits != 0 {
                    row.resetTags[Tags.all[bits.trailingZeroBitCount].name, default: 0] += 1
                    bits &= bits - 1
                }
                for name in record.otherTags { row.resetTags[name, default: 0] += 1 }
                if record.ttlGap != nil { row.evidencedResets += 1 }
                if (record.ipIDGap ?? 0) > 1 { row.ipIDGapResets += 1 }
                if (record.ttlGap ?? 0) > ttlMargin { row.ttlGapResets += 1 }
            }
        }
    }
}

/// The compressed formats logrotate's `compresscmd` commonly makes, told by their magic
/// numbers (whatever the file's name), with the tool that reads one to standard output.
public enum Compression: String, Sendable, CaseIterable {
    case gzip, xz, bzip2, zstd

    private var magic: [UInt8] {
        switch self {
        case .gzip: [0x1f, 0x8b]
        case .xz: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]
        case .bzip2: [0x42, 0x5a, 0x68]  // "BZh"
        case .zstd: [0x28, 0xb5, 0x2f, 0xfd]
        }
    }

    /// What prints it: `zcat FILE | sampler report -`.
    public var reader: String {
        switch self {
        case .gzip: "zcat"
        case .xz: "xzcat"
        case .bzip2: "bzcat"
        case .zstd: "zstdcat"
        }
    }

    /// The format whose magic number `start` begins with.
    public init?(start: ArraySlice<UInt8>) {
        guard let found = Self.allCases.first(where: { start.starts(with: $0.magic) }) else { return nil }
        self = found
    }

}
