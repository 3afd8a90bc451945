import Foundation
import SamplerClassifier
import SamplerSinks
import SamplerTestSupport
import Testing
@testable import SamplerReport

/// The report's own reader of record lines against Foundation's decoder: on every line it
/// reads itself it must give the same fields, and the lines sampler writes must be read
/// without the decoder (or the report would be as slow as before, and nothing would say).
@Suite struct RecordScannerTests {
    /// Every record of the real NFLOG fixture, copied into distinct connections, as the
    /// JSON writer writes it: IPv4 and IPv6, every stage, resets with their evidence.
    static let writtenLines: [[UInt8]] = NflogReplay.records(copies: 4).map { record in
        var line: [UInt8] = []
        JSONLines.append(record, to: &line)
        return Array(line.dropLast())  // without its newline, as the reader sees it
    }

    func agree(_ line: [UInt8], _ grouping: Grouping) -> Bool {
        let reader = RecordLines.Reader(host: "here", filter: ReportFilter())
        return line.withUnsafeBufferPointer { reader.readersAgree(on: $0, grouping: grouping) }
    }

    func scans(_ line: String) -> Bool { Array(line.utf8).withUnsafeBufferPointer { RecordLines.Reader.scans($0) } }

    @Test func everyLineTheWriterWritesIsScannedAsTheDecoderReadsIt() {
        #expect(Self.writtenLines.count >= 50)
        var stages = Set<Stage>()
        for line in Self.writtenLines {
            #expect(line.withUnsafeBufferPointer { RecordLines.Reader.scans($0) }, "\(String(decoding: line, as: UTF8.self))")
            for grouping in Grouping.allCases { #expect(agree(line, grouping), "\(grouping): \(String(decoding: line, as: UTF8.self))") }
            if let record = line.withUnsafeBufferPointer({ RecordScanner.scan($0, wantsSource: true, wantsHost: true) }) { stages.insert(record.stage) }
        }
        #expect(stages == Set(Stage.allCases), "the fixture has every stage")
    }

    /// What other tools or older versions may write: the scanner reads what it can in any
    /// order and spacing, and leaves the rest (escapes, non-ASCII, fractions, repeats) to the
    /// decoder; on all of them, records and bad lines alike, the two agree.
    @Test func otherLinesAreReadAlikeOrLeftToTheDecoder() {
        let scanned = [
            #"{"stage":"post_ack","tags":["reset","single_rst"],"dport":443,"src":"192.0.2.1","first_seen":"2026-11-21T20:00:00Z"}"#,
            #" { "first_seen" : "2026-11-21T20:00:00.5Z" , "src":"192.0.2.1", "dport":443, "stage":"none", "tags":[ ] } "#,
            #"{"first_seen":"2026-11-21T20:00:00Z","last_seen":null,"finalized":null,"close":null,"src":"x","dport":0,"stage":"later","tags":[]}"#,
            #"{"first_seen":"2026-11-21T20:00:00Z","src":"192.0.2.1","dport":443,"stage":"none","tags":[],"extra":{"a":[1,-2.5e3,true,false,null,{"b":"c"}]}}"#,
            #"{"first_seen":"2026-11-21T20:00:00Z","src":"192.0.2.1","dport":443,"stage":"none","close":"other","signature":"nope","tags":[]}"#,
            #"{"first_seen":"2026-11-21T20:00:00Z","src":"192.0.2.1","dport":443,"stage":"none","tags":[],"client_asn":4294967295,"client_country":"EU"}"#,
            "{\"first_seen\":\"2026-11-21T20:00:00Z\",\"src\":\"192.0.2.1\",\"dport\":443,\"stage\":\"none\",\"tags\":[]}\r",
        ]
        let declined = [
            #"{"first_seen":"2026-11-21T20:00:00Z","src":"192.0.2.\u0031","dport":443,"stage":"none","tags":[]}"#,
            #"{"first_seen":"2026-11-21T20:00:00Z","src":"192.0.2.1","dport":443.0,"stage":"none","tags":[]}"#,
            #"{"first_seen":"2026-11-21T20:00:00Z","src":"192.0.2.1","dport":443,"stage":"none","tags":["other_tool"]}"#,
            #"{"first_seen":"2026-11-21T20:00:00Z","src":"192.0.2.1","dport":443,"dport":80,"stage":"none","tags":[]}"#,
            #"{"first_seen":"2026-11-21T20:00:00Z","src":"ü","dport":443,"stage":"none","tags":[]}"#,
            #"{"first_seen":"2026-11-21T20:00:00Z","src":"192.0.2.1","dport":443,"stage":"none","tags":[],"x":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}"#,
            // Not records: the decoder says so, with the line counted as bad.
            #"{"first_seen":"2026-11-21T20:00:00Z","src":"192.0.2.1","dport":-1,"stage":"none","tags":[]}"#,
            #"{"first_seen":"2026-11-21T20:00:00Z","src":"192.0.2.1","dport":443,"packets":0,"stage":"none","tags":[]}"#,
            #"{"first_seen":"2026-11-21T20:00:00Z","src":"192.0.2.1","dport":443,"packets":123456789012345678901234567890,"stage":"none","tags":[]}"#,
            #"{"first_seen":"2026-11-21T20:00:00Z","src":"192.0.2.1","dport":443,"stage":"none","tags":[],"client_country":"Germany"}"#,
            #"{"first_seen":"2026-11-21T20:00:00Z","src":"192.0.2.1","dport":443,"stage":"none","tags":[],"client_asn":-1}"#,
            #"{"first_seen":"2026-11-21T20:00:00Z","src":"192.0.2.1","dport":443,"stage":"post_nothing","tags":[]}"#,
            #"{"first_seen":"yesterday","src":"192.0.2.1","dport":443,"stage":"none","tags":[]}"#,
            #"{"first_seen":"2026-11-21T20:00:00Z","src":"192.0.2.1","dport":443,"stage":"none"}"#,
            #"{"first_seen":"2026-11-21T20:00:00Z","src":"192.0.2.1","dport":443,"stage":"none","tags":[]} trailing"#,
            #"{"first_seen":"2026-11-21T20:00:00Z","src":"192.0.2.1","dport":443,"stage":"none","tags":[],"x":01}"#,
            #"{"first_seen":"2026-11-21T20:00:00Z","src":"192.0.2.1","dport":443,"stage":"none","tags":[],}"#,
            #"{"first_seen":"2026-11-21T20:00:00Z","src":"192.0.2.1","dport":443,"stage":"none","tags":[]"#,
            "not a record", "{}", "[]", "",
        ]
        for line in scanned {
            #expect(scans(line), "\(line)")
        }
        for line in declined {
            #expect(!scans(line), "\(line)")
        }
        for line in scanned + declined {
            for grouping in Grouping.allCases { #expect(agree(Array(line.utf8), grouping), "\(grouping): \(line)") }
        }
    }

    /// What `RecordLines.read` makes of `text` as a file (`name` keeps parallel tests apart).
    func readFile(_ text: String, name: String) throws -> RecordLines.Outcome {
        var table = StageTable(windowSeconds: 900, grouping: .none, ttlMargin: 2)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sampler-scanner-\(name)-\(getpid()).jsonl").path
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        defer { unlink(path) }
        let fd = open(path, O_RDONLY)
        try #require(fd >= 0)
        defer { close(fd) }
        return try RecordLines.read(fd: fd, into: &table, host: "here", filter: ReportFilter())
    }

    /// A line longer than any record can be (`maximumLineBytes`) is one bad line, skipped
    /// to its end without being held; the lines around it are read.
    @Test func aLineTooLongToHoldIsOneBadLine() throws {
        let line = String(decoding: Self.writtenLines[0], as: UTF8.self)
        let outcome = try readFile(line + "\n" + String(repeating: "y", count: RecordLines.maximumLineBytes + 5) + "\n" + line + "\n", name: "long")
        #expect(outcome.records == 2 && outcome.badLines == 1 && outcome.firstBadLine == 2)
    }

    /// Whole files: a line across the 1 MiB block boundary, a line longer than a block,
    /// and a last line without its newline are each one record.
    @Test func linesAcrossBlocksAreReadWhole() throws {
        let line = String(decoding: Self.writtenLines[0], as: UTF8.self)
        let long = #"{"first_seen":"2026-11-21T20:00:00Z","src":"192.0.2.1","dport":443,"stage":"none","tags":[],"pad":""#
            + String(repeating: "x", count: 3 << 20) + "\"}"
        var text = ""
        while text.utf8.count < (1 << 20) + 5000 { text += line + "\n" }
        let count = text.split(separator: "\n").count
        let outcome = try readFile(text + long + "\n" + line, name: "blocks")
        #expect(outcome.badLines == 0)
        #expect(outcome.records == count + 2)
    }
}

/// Compressed copies are told by their first bytes, whatever their name, so that report
/// says which tool reads them instead of counting every line as not a record.
@Suite struct CompressionTests {
    @Test func magicNumbersNameTheFormatAndItsReader() {
        let starts: [(Compression, [UInt8])] = [(.gzip, [0x1f, 0x8b, 8, 0]), (.xz, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0]),
                                                (.bzip2, Array("BZh9".utf8)), (.zstd, [0x28, 0xb5, 0x2f, 0xfd, 0x24])]
        for (format, bytes) in starts {
            #expect(Compression(start: bytes[...]) == format)
        }
        #expect(Compression(start: Array(#"{"first_seen":"2026"#.utf8)[...]) == nil)
        #expect(Compression(start: [0x1f][...]) == nil, "one byte is not a magic number")
        #expect([Compression.gzip, .xz, .bzip2, .zstd].map(\.reader) == ["zcat", "xzcat", "bzcat", "zstdcat"])
    }
}
