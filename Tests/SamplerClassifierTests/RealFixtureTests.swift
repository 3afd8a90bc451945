import Foundation
import Testing
import SamplerClassifier
import SamplerWire

/// The committed capture Tests/Fixtures/real-nflog.pcap, recorded through the kernel by
/// scripts/record-fixture.sh (the end-to-end scenarios plus an nmap probe), classified
/// without root: the real bytes keep the parser and the rules honest on every machine.
@Suite struct RealFixtureTests {
    static let fixture = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/real-nflog.pcap")

    @Test func classifiesTheRecordedConnections() throws {
        let bytes = [UInt8](try Data(contentsOf: Self.fixture))
        var configuration = ClassifierConfiguration()
        configuration.idleTimeout = 1_000_000
        var records: [ConnectionRecord] = []
        let result = CaptureClassification.run(capture: bytes.span.bytes, configuration: configuration) { records.append($0) }
        #expect(result.fileError == nil)
        #expect(result.parseErrors.total == 0)
        #expect(result.counters.orphans == 0)
        let byPort = Dictionary(uniqueKeysWithValues: records.map { ($0.key.sourcePort, $0) })
        let expected: [(UInt16, CloseReason, Stage, [String])] = [
            (41000, .timeout, .postSYN, ["timeout"]), (43000, .timeout, .postSYN, ["timeout"]),
            (41001, .fin, .none, []), (43001, .fin, .none, []),
            (41002, .reset, .postACK, ["reset", "single_rstack"]), (43002, .reset, .postACK, ["reset", "single_rstack"]),
            (41003, .reset, .postPSH, ["reset", "single_rstack"]), (43003, .reset, .postPSH, ["reset", "single_rstack"]),
            (41004, .reset, .later, ["reset", "single_rstack"]), (43004, .reset, .later, ["reset", "single_rstack"]),
            (41005, .cap, .none, []), (43005, .cap, .none, []),
            (44000, .reset, .postSYN, ["ipid_mismatch", "nmap", "reset", "single_rst", "ttl_mismatch"]),
        ]
        #expect(records.count == expected.count)
        for (port, close, stage, tags) in expected {
            let record = try #require(byPort[port], "no record from port \(port)")
            #expect(record.close == close, "port \(port)")
            #expect(record.stage == stage, "port \(port)")
            #expect(record.tags.names == tags, "port \(port)")
            #expect(record.key.family == (port >= 43000 && port < 44000 ? .v6 : .v4))
        }
    }
}
