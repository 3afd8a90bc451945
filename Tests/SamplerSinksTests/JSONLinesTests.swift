import Foundation
import Testing
import SamplerClassifier
import SamplerSinks
import SamplerWire

@Suite struct JSONLinesTests {
    func record(family: IPFamily) -> ConnectionRecord {
        let key = family == .v4
            ? ConnectionKey(family: .v4, source: IPAddress(parsing: "192.0.2.10")!, sourcePort: 50000,
                            destination: IPAddress(parsing: "198.51.100.1")!, destinationPort: 443)
            : ConnectionKey(family: .v6, source: IPAddress(parsing: "2001:db8::10")!, sourcePort: 50000,
                            destination: IPAddress(parsing: "2001:db8:1::1")!, destinationPort: 443)
        let area: [UInt8] = [2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7]
        var options = try! TCPOptions(parsing: area.span.bytes)
        options.mss = 1460
        let start: Microseconds = 1_725_537_600_000_042  // 2024-09-05T12:00:00.000042Z
        let flags: [TCPFlags] = [.syn, .ack, [.psh, .ack], [.rst, .ack]]
        var classifier = Classifier()
        var result: ConnectionRecord?
        for (i, f) in flags.enumerated() {
            let packet = PacketSummary(key: key, time: start + Int64(i) * 1000, flags: f, ttl: 57, ipID: 321,
                                       window: 64240, options: options, payloadLength: f.contains(.psh) ? 517 : 0)
            classifier.ingest(packet) { result = $0 }
        }
        classifier.finishAll { result = $0 }
        return result!
    }

    /// The one percent formatter: one decimal in tables and reports, two in status.
    @Test func percentagesRoundAtTheirDecimals() {
        #expect(SummaryTable.percent(0.2308) == "23.1%" && SummaryTable.percent(1) == "100.0%" && SummaryTable.percent(0) == "0.0%")
        #expect(SummaryTable.percent(0.005, decimals: 2) == "0.50%" && SummaryTable.percent(0.0001, decimals: 2) == "0.01%")
        #expect(SummaryTable.percent(0.12345, decimals: 2) == "12.35%" && SummaryTable.percent(0.4, decimals: 0) == "40%")
    }

    @Test func writesTheDocumentedFieldsInOrder() {
        let line = JSONLines.line(record(family: .v4))
        #expect(line == """
            {"first_seen":"2024-09-05T12:00:00.000042Z","last_seen":"2024-09-05T12:00:00.003042Z",\
            "finalized":"2024-09-05T12:00:00.003042Z","family":4,\
            "src":"192.0.2.10","sport":50000,"dst":"198.51.100.1","dport":443,"packets":4,"close":"reset",\
            "stage":"post_psh","tags":["reset","single_rstack"],"signature":"psh_rstack","rst_ipid_gap":0,"rst_ttl_gap":0,"syn":{"ttl":57,"ipid":321,"window":64240,\
            "options":[2,4,8,1,3]},"flags":["S","A","PA","RA"],"payload_bytes":517}

            """)
    }

    /// The top-level keys of a JSON object line, in order (nested objects' keys left out).
    static func topLevelKeys(_ line: String) -> [String] {
        var keys: [String] = [], depth = 0, inString = false, current = "", afterString = false
        for character in line {
            if inString {
                if character == "\"" { inString = false; afterString = true } else { current.append(character) }
                continue
            }
            switch character {
            case "\"": inString = true; current = ""; afterString = false
            case ":": if depth == 1 && afterString { keys.append(current) }; afterString = false
            case "{", "[": depth += 1; afterString = false
            case "}", "]": depth -= 1; afterString = false
            default: afterString = false
            }
        }
        return keys
    }

    /// The writer writes `RecordField.line`, in its order: every field, the optional ones
    /// when they are there.
    @Test func writesTheDeclaredFieldsInTheirOrder() {
        var located = record(family: .v4)
        located.client = Location(asn: 3320, country: CountryCode("DE"))
        #expect(located.signature != nil && located.resetEvidence?.ipIDGap != nil, "every optional field")
        #expect(Self.topLevelKeys(JSONLines.line(located)) == RecordField.line.map { "\($0.name)" })
        let plain = JSONLines.line(record(family: .v6))
        #expect(Self.topLevelKeys(plain) == RecordField.line.filter { $0 != .rstIPIDGap && $0 != .clientASN && $0 != .clientCountry }.map { "\($0.name)" })
    }

    /// docs/records.md's table and docs/clickhouse/schema.sql's columns name the declared
    /// fields: the table each, in order; the schema each, `syn` as its parts.
    @Test func theDocsAndTheSchemaNameTheDeclaredFields() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let records = try String(contentsOf: root.appendingPathComponent("docs/records.md"), encoding: .utf8)
        let section = records.components(separatedBy: "## Connection records")[1].components(separatedBy: "\n### ")[0]
        let documented = section.split(separator: "\n").filter { $0.hasPrefix("| `") }.flatMap { row in
            row.split(separator: "|")[0].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "`")) }
        }
        #expect(documented == RecordField.line.map { "\($0.name)" })
        let schema = try String(contentsOf: root.appendingPathComponent("docs/clickhouse/schema.sql"), encoding: .utf8)
        let columns = Set(schema.split(separator: "\n").compactMap { $0.split(separator: " ", omittingEmptySubsequences: true).first.map(String.init) })
        for field in RecordField.allCases {
            let names = field == .syn ? ["syn_ttl", "syn_ipid", "syn_window", "syn_options"] : ["\(field.name)"]
            for name in names { #expect(columns.contains(name), "\(name) is not a column of schema.sql") }
        }
    }

    /// The client's AS and country go last, each only when known.
    @Test func writesTheClientsASAndCountryWhenKnown() throws {
        var located = record(family: .v6)
        located.client = Location(asn: 3320, country: CountryCode("DE"))
        #expect(JSONLines.line(located).hasSuffix(#""payload_bytes":517,"client_asn":3320,"client_country":"DE"}"# + "\n"))
        located.client = Location(asn: nil, country: CountryCode("FR"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(JSONLines.line(located).utf8)) as? [String: Any])
        #expect(object["client_asn"] == nil && object["client_country"] as? String == "FR")
        #expect(!JSONLines.line(record(family: .v4)).contains("client_"), "unknown: absent")
    }

    @Test func isValidJSONForBothFamilies() throws {
        for family in [IPFamily.v4, .v6] {
            let line = JSONLines.line(record(family: family))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(object["family"] as? Int == Int(family.rawValue))
            #expect(object["src"] as? String == (family == .v4 ? "192.0.2.10" : "2001:db8::10"))
            #expect((object["syn"] as? [String: Any])?["options"] as? [Int] == [2, 4, 8, 1, 3])
            #expect(line.hasSuffix("}\n"))
        }
    }

    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000000Z"),
        (951_782_400_000_000, "2000-02-29T00:00:00.000000Z"),
        (1_709_164_799_999_999, "2024-02-28T23:59:59.999999Z"),
        (1_709_251_200_123_456, "2024-03-01T00:00:00.123456Z"),
        (4_102_444_800_000_001, "2100-01-01T00:00:00.000001Z"),
        (-1, "1969-12-31T23:59:59.999999Z"),
    ])
    func formatsRFC3339(time: Int64, text: String) {
        #expect(Timestamp.string(time) == text)
        #expect(Timestamp.parse(Substring(text)) == time, "parses back")
    }

    @Test func sharedDatesWriteWhatAFreshComputationWrites() {
        // One `Dates` across times of different days, back and forth, as a record's
        // first_seen, last_seen and finalized may be around midnight.
        let times: [Int64] = [1_709_164_799_999_999, 1_709_164_800_000_000, 1_709_164_799_000_000, 0, -1, 4_102_444_800_000_001,
                              4_102_444_800_000_002, 951_782_400_000_000]
        var dates = Timestamp.Dates()
        for time in times {
            var shared: [UInt8] = []
            shared.appendText(maximum: Timestamp.maximumLength) { Timestamp.write(time, to: &$0, dates: &dates) }
            #expect(String(decoding: shared, as: UTF8.self) == Timestamp.string(time), "\(time)")
        }
        // And the second's text kept for the next: the same second again (other
        // microseconds), the next one, a second of another day, each separator in turn.
        var random = SystemRandomNumberGenerator()
        var previous: Int64 = 1_795_291_200_000_000
        for step in 0..<20_000 {
            let time = step % 7 == 0 ? Int64.random(in: 0...4_102_444_800_000_000, using: &random)
                : previous + Int64.random(in: -1_500_000...1_500_000, using: &random)
            previous = max(0, time)
            let separator = step % 5 == 0 ? UInt8(ascii: " ") : UInt8(ascii: "T")
            var shared: [UInt8] = [], fresh: [UInt8] = []
            shared.appendText(maximum: Timestamp.maximumLength) {
                if separator == UInt8(ascii: "T") { Timestamp.write(previous, to: &$0, dates: &dates) } else {
                    _ = Timestamp.writeDateTime(previous, separator: separator, to: &$0, dates: &dates)
                }
            }
            fresh.appendText(maximum: Timestamp.maximumLength) {
                if separator == UInt8(ascii: "T") { Timestamp.write(previous, to: &$0) } else {
                    _ = Timestamp.writeDateTime(previous, separator: separator, to: &$0)
                }
            }
            #expect(shared == fresh, "\(previous)")
        }
    }

    @Test func parsesRFC3339AndRefusesTheRest() {
        #expect(Timestamp.parse("2026-11-21T20:00:00Z") == 1_795_291_200_000_000)  // date -d 2026-11-21T20:00:00Z +%s
        #expect(Timestamp.parse("2026-11-21 20:00:00.5Z") == 1_795_291_200_500_000)
        // Other tools' forms (a trial: +01:00 was refused): the offset is how far ahead of UTC.
        #expect(Timestamp.parse("2026-11-21T21:00:00+01:00") == 1_795_291_200_000_000)
        #expect(Timestamp.parse("2026-11-21T15:30:00.25-04:30") == 1_795_291_200_250_000)
        #expect(Timestamp.parse("2026-11-21t20:00:00.123456789z") == 1_795_291_200_123_456)
        #expect(Timestamp.parse("2028-02-29T00:00:00Z") != nil)  // a leap year
        for bad in ["2026-11-21T20:00:00", "2026-13-01T00:00:00Z", "2026-11-21T20:00:00.Z", "2026-11-21T20:00:00.1234567890Z",
                    "2026-02-29T00:00:00Z", "2026-02-30T00:00:00Z", "2026-04-31T00:00:00Z", "2100-02-29T00:00:00Z",
                    "2026-11-21T20:00:00+01", "2026-11-21T20:00:00+0100", "2026-11-21T20:00:00+24:00", "2026-11-21T20:00:00Z ",
                    "yesterday"] {
            #expect(Timestamp.parse(Substring(bad)) == nil, "\(bad)")
        }
        var out: [UInt8] = []
        #expect(Timestamp.appendDateTime(1_795_291_200_123_456, to: &out) == 123_456)
        #expect(String(decoding: out, as: UTF8.self) == "2026-11-21 20:00:00")
    }

    @Test func summaryTableShowsSharesAndTags() {
        var aggregator = WindowAggregator()
        aggregator.add(record(family: .v4)) { _ in }
        var windows: [WindowSummary] = []
        aggregator.flush { windows.append($0) }
        let table = SummaryTable.render(windows: windows)
        #expect(table.contains("post_psh"))
        #expect(table.contains("100.0%"))
        #expect(table.contains("single_rstack 1"))
        #expect(table.contains("2024-09-05T12:00"))
    }
}

@Suite struct WordingTests {
    @Test func countsAndWindowLengthsRead() {
        #expect(counted(1, "connection") == "1 connection" && counted(2, "connection") == "2 connections")
        #expect(counted(1, "batch", "batches") == "1 batch" && counted(0, "batch", "batches") == "0 batches")
        #expect(windowLength(seconds: 900) == "15-minute" && windowLength(seconds: 3600) == "1-hour")
        #expect(windowLength(seconds: 31_622_400) == "366-day" && windowLength(seconds: 90) == "90-second")
    }
}
