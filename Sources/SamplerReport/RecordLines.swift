import Foundation
import SamplerClassifier
import SamplerSinks
import SamplerSystem

/// Reads JSON lines records (docs/records.md) into a stage table.
public enum RecordLines {
    public struct Outcome: Sendable {
        public var records = 0
        /// Lines that are not a record: how many, and the first one's number.
        public var badLines = 0
        public var firstBadLine: Int?
    }

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

        /// Fields a record cannot hold out of these ranges: a line with one is not a record
        /// (a port of -1, 1e40 packets), whatever wrote it.
        var isInRange: Bool {
            let ports = 0...65535
            return ports.contains(dport) && sport.map(ports.contains) != false
                && family.map { $0 == 4 || $0 == 6 } != false
                && packets.map { (1...Connection.capacity).contains($0) } != false
                && rst_ipid_gap.map { (0...32768).contains($0) } != false
                && rst_ttl_gap.map { (0...255).contains($0) } != false
                && client_country.map { CountryCode($0) != nil } != false
        }
    }

    /// Reads every line from `fd` until end of file, in 1 MiB chunks. `host` fills the
    /// host column for `--by host` (records in a file carry none). A read error ends the
    /// reading with what was counted so far in `table`.
    public static func read(fd: Int32, into table: inout StageTable, host: String, filter: ReportFilter) throws(Errno) -> Outcome {
        var reader = Reader(host: host, filter: filter)
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try Descriptor(rawValue: fd).read(into: &chunk)
            if n == 0 { break }
            pending += chunk[0..<n]
            var start = 0
            while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                reader.consume(pending[start..<newline], into: &table)
                start = newline + 1
            }
            pending.removeFirst(start)
        }
        if !pending.isEmpty { reader.consume(pending[...], into: &table) }
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

        /// One line, without its newline.
        public mutating func consume(_ line: ArraySlice<UInt8>, into table: inout StageTable) {
            lineNumber += 1
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { return }
            // Records from before `finalized` existed (sampler 0.1) are placed by their
            // last packet, the nearest time they carry.
            guard let record = try? decoder.decode(Line.self, from: Data(line)), record.isInRange,
                  let finalized = Timestamp.parse(Substring(record.finalized ?? record.last_seen ?? record.first_seen)),
                  let stage = Stage.allCases.first(where: { $0.name == record.stage }) else {
                outcome.badLines += 1
                if outcome.firstBadLine == nil { outcome.firstBadLine = lineNumber }
                return
            }
            outcome.records += 1
            let seconds = finalized / 1_000_000 - (finalized % 1_000_000 < 0 ? 1 : 0)
            let country = record.client_country.flatMap { CountryCode($0) }
            guard filter.admits(finalizedSeconds: seconds, asn: record.client_asn, country: country) else { return }
            let group: String
            switch table.grouping {
            case .none: group = ""
            case .port: group = String(record.dport)
            case .network: group = StageTable.network(of: record.src)
            case .host: group = record.host ?? host
            case .asn: group = record.client_asn.map(String.init) ?? Grouping.unknown
            case .country: group = country?.description ?? Grouping.unknown
            case .signature: group = Grouping.signatureGroup(record.signature, stage: stage)
            }
            if record.tags.contains("multiple_syns") || record.close == "shutdown" { table.addExcluded(); return }
            table.add(finalizedSeconds: seconds, group: group, stage: stage, reset: record.close == "reset", timeout: record.close == "timeout")
            if record.tags.contains("reset") {
                for tag in record.tags { table.addResetTag(finalizedSeconds: seconds, group: group, tag: tag) }
                table.addResetEvidence(finalizedSeconds: seconds, group: group, evidenced: record.rst_ttl_gap == nil ? 0 : 1,
                                       ipIDGap: (record.rst_ipid_gap ?? 0) > 1 ? 1 : 0, ttlGap: (record.rst_ttl_gap ?? 0) > table.ttlMargin ? 1 : 0)
            }
        }
    }
}
