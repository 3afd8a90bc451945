import Foundation
import SamplerClassifier
import Testing
@testable import SamplerReport

/// docs/clickhouse/queries.sql says the exclusion rule and the window as the code does.
@Suite struct QueriesTests {
    static let queries = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/clickhouse/queries.sql")

    @Test func theQueriesLeaveOutWhatTheReportLeavesOut() throws {
        let text = try String(contentsOf: Self.queries, encoding: .utf8)
        let code = text.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("--") }
        let mentions = code.filter { $0.contains("multiple_syns") || $0.contains("shutdown") }
        #expect(mentions.count >= 9)
        for line in mentions { #expect(line.contains(Exclusion.countedSQL), "\(line)") }
        // Every query counts by the window of the finalized time, 15 minutes: the default.
        let windows = code.filter { $0.contains(" AS window") }
        #expect(windows.count >= 9)
        for line in windows { #expect(line.contains("toStartOfFifteenMinutes(finalized)"), "\(line)") }
        #expect(WindowAggregator.defaultLength == 900 * 1_000_000)
        #expect(ClickHouseStages.windowSQL(seconds: 900) == "intDiv(toUInt32(finalized), 900) * 900")
    }

    @Test func theRuleLeavesOutShutdownsAndMultipleSYNs() {
        #expect(Exclusion.excludes(close: .shutdown, tags: []))
        #expect(Exclusion.excludes(close: .reset, tags: [.multipleSyns, .reset]))
        #expect(!Exclusion.excludes(close: .reset, tags: [.reset]))
        #expect(!Exclusion.excludes(close: nil, tags: []))
    }
}
