import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import SamplerClassifier
import SamplerSinks
import Testing
@testable import SamplerReport

@Suite struct StageTableTests {
    func table(_ lines: String, by grouping: Grouping = .none) throws -> (StageTable, RecordLines.Outcome) {
        var table = StageTable(windowSeconds: 900, grouping: grouping, ttlMargin: 2)
        var pipe: [Int32] = [0, 0]
        #expect(Foundation.pipe(&pipe) == 0)
        let bytes = Array(lines.utf8)
        #expect(bytes.withUnsafeBytes { write(pipe[1], $0.baseAddress, $0.count) } == bytes.count)
        close(pipe[1])
        defer { close(pipe[0]) }
        let outcome = try RecordLines.read(fd: pipe[0], into: &table, host: "here", filter: ReportFilter())
        return (table, outcome)
    }

    static let lines = """
        {"first_seen":"2026-11-21T20:14:59.999999Z","src":"192.0.2.1","dport":443,"stage":"post_syn","tags":["reset","single_rst"]}
        {"first_seen":"2026-11-21T20:15:00.000000Z","src":"2001:db8:1:2::1","dport":80,"stage":"none","tags":[]}
        {"first_seen":"2026-11-21T20:16:00.000000Z","src":"192.0.2.200","dport":443,"stage":"post_ack","tags":["reset","single_rstack","ttl_mismatch"]}
        {"first_seen":"2026-11-21T20:17:00.000000Z","src":"192.0.2.3","dport":443,"stage":"post_syn","tags":["multiple_syns","reset"]}
        {"first_seen":"2026-11-21T20:18:00.000000Z","src":"192.0.2.4","dport":443,"stage":"none","close":"shutdown","tags":[]}
        not a record
        {"first_seen":"yesterday","src":"192.0.2.3","dport":443,"stage":"none","tags":[]}
        {"first_seen":"2026-11-21T20:18:00.000000Z","src":"192.0.2.4","dport":-1,"stage":"none","tags":[]}
        {"first_seen":"2026-11-21T20:18:00.000000Z","src":"192.0.2.4","dport":443,"packets":1e40,"stage":"none","tags":[]}
        {"first_seen":"2026-11-21T20:18:00.000000Z","src":"192.0.2.4","dport":443,"packets":0,"stage":"none","tags":[]}
        {"first_seen":"2026-11-21T20:18:00.000000Z","src":"192.0.2.4","sport":70000,"dport":443,"stage":"none","tags":[]}
        {"first_seen":"2026-11-21T20:18:00.000000Z","src":"192.0.2.4","dport":443,"stage":"post_syn","close":"reset","rst_ttl_gap":300,"tags":[]}
        {"first_seen":"2026-11-21T20:18:00.000000Z","src":"192.0.2.4","dport":443,"stage":"none","client_country":"Germany","tags":[]}

        """

    @Test func windowsAlignToTheClockAndMultipleSYNsAndShutdownsAreLeftOut() throws {
        let (table, outcome) = try table(Self.lines)
        // Out of range is not a record: a port of -1 or 70000, 0 or 1e40 packets, a TTL gap
        // of 300, a country that is not a code.
        #expect(outcome.records == 5 && outcome.badLines == 8 && outcome.firstBadLine == 6)
        #expect(table.excluded == 2)
        let rows = table.sorted
        #expect(rows.map(\.key.window) == [1_795_291_200, 1_795_292_100])  // date -d 2026-11-21T20:00:00Z +%s
        #expect(rows[0].row.share(.postSYN) == 1 && rows[0].row.resets == 1 && rows[0].row.resetTags == ["single_rst": 1])
        #expect(rows[1].row.total == 2 && rows[1].row.share(.postACK) == 0.5 && rows[1].row.share(.none) == 0.5)
        #expect(rows[1].row.resetTags == ["single_rstack": 1, "ttl_mismatch": 1])
    }

    @Test func groupsByNetworkPortAndHost() throws {
        let (byNetwork, _) = try table(Self.lines, by: .network)
        #expect(Set(byNetwork.rows.keys.map(\.group)) == ["192.0.2.0/24", "2001:db8:1::/48"])
        let (byPort, _) = try table(Self.lines, by: .port)
        #expect(byPort.sorted.map(\.key.group) == ["443", "80", "443"], "ports sort as numbers within a window")
        let (byHost, _) = try table(Self.lines, by: .host)
        #expect(Set(byHost.rows.keys.map(\.group)) == ["here"])
    }

    /// A record counts in the window of its `finalized` time, not its first or last packet
    /// (a timeout finalized two minutes after its SYN is in the next window); one without
    /// `finalized` (sampler 0.1) by its last packet, then its first.
    @Test func aRecordCountsInTheWindowOfItsFinalizedTime() throws {
        let (table, outcome) = try table("""
            {"first_seen":"2026-11-21T20:14:00.000000Z","last_seen":"2026-11-21T20:14:00.000000Z","finalized":"2026-11-21T20:16:00.000000Z","src":"192.0.2.1","dport":443,"stage":"post_syn","close":"timeout","tags":["timeout"]}
            {"first_seen":"2026-11-21T20:14:00.000000Z","last_seen":"2026-11-21T20:15:00.000000Z","src":"192.0.2.2","dport":443,"stage":"none","close":"fin","tags":["fin"]}
            {"first_seen":"2026-11-21T20:14:59.000000Z","src":"192.0.2.3","dport":443,"stage":"none","close":"fin","tags":["fin"]}
            {"first_seen":"2026-11-21T20:16:00.000000Z","finalized":"not a time","src":"192.0.2.4","dport":443,"stage":"none","tags":[]}

            """)
        #expect(outcome.records == 3 && outcome.badLines == 1 && outcome.firstBadLine == 4)
        let rows = table.sorted
        #expect(rows.map(\.key.window) == [1_795_291_200, 1_795_292_100])  // 20:00 and 20:15
        #expect(rows[0].row.total == 1 && rows[0].row.share(.none) == 1)
        #expect(rows[1].row.total == 2 && rows[1].row.timeouts == 1 && rows[1].row.count(.postSYN) == 1)
    }

    /// Lines of white space only (none, spaces, tabs, a CR) are skipped, not bad, and
    /// still numbered.
    @Test func blankLinesAreSkippedButNumbered() throws {
        let (table, outcome) = try table("\n \t\r\n\t\nnot a record\n")
        #expect(outcome.records == 0 && outcome.badLines == 1 && outcome.firstBadLine == 4)
        #expect(table.rows.isEmpty)
    }

    @Test func timeoutsAreCountedBesideResets() throws {
        let (table, _) = try table("""
            {"first_seen":"2026-11-21T20:00:01.000000Z","src":"192.0.2.1","dport":443,"stage":"post_syn","close":"timeout","tags":["timeout"]}
            {"first_seen":"2026-11-21T20:00:02.000000Z","src":"192.0.2.2","dport":443,"stage":"post_psh","close":"timeout","tags":["timeout"]}
            {"first_seen":"2026-11-21T20:00:03.000000Z","src":"192.0.2.3","dport":443,"stage":"post_ack","close":"reset","tags":["reset"]}

            """)
        let row = try #require(table.sorted.first?.row)
        #expect(row.timeouts == 2 && row.resets == 1 && row.total == 3)
        #expect(table.render().split(separator: "\n")[0].hasSuffix("resets  timeouts"))
        #expect(table.render().split(separator: "\n")[1].hasSuffix("       1         2"))
        let rows = table.stageRows()
        #expect(rows.columns.last == "timeouts")
    }

    @Test func theTableReads() throws {
        let (table, _) = try table(Self.lines, by: .port)
        #expect(table.render() == """
            window (UTC)      port  connections  post_syn  post_ack  post_psh     later      none   resets  timeouts
            2026-11-21 20:00  443             1    100.0%      0.0%      0.0%      0.0%      0.0%        1         0
            2026-11-21 20:15  80              1      0.0%      0.0%      0.0%      0.0%    100.0%        0         0
            2026-11-21 20:15  443             1      0.0%    100.0%      0.0%      0.0%      0.0%        1         0
            3 connections; 2 left out (multiple SYNs, or still open at shutdown)

            tags of the connections closed by a reset:
            2026-11-21 20:00  443   reset 1: single_rst 1
            2026-11-21 20:15  443   reset 1: single_rstack 1, ttl_mismatch 1

            """)
        #expect(StageTable(windowSeconds: 900, grouping: .none, ttlMargin: 2).render().contains("(no connections)"))
    }

    /// `--by country --svg`: a panel per country, largest first, each named with its
    /// count, the count under each column, and a legend that says what the stages mean.
    @Test func aGroupedChartDrawsOnePanelPerGroup() throws {
        var lines = ""
        for (country, n) in [("DE", 3), ("BR", 5), ("US", 1)] {
            for i in 0..<n {
                lines += #"{"first_seen":"2026-11-21T20:0\#(i):00.000000Z","src":"192.0.2.\#(i)","dport":443,"stage":"\#(i == 0 ? "post_psh" : "none")","client_country":"\#(country)","tags":[]}"# + "\n"
            }
        }
        let (byCountry, _) = try table(lines, by: .country)
        let svg = StageChart.svg(byCountry)
        #expect(XMLParser(data: Data(svg.utf8)).parse())
        let titles = svg.split(separator: "\n").filter { $0.contains("class=\"panel-title\"") }
        #expect(titles.count == 3)
        #expect(titles[0].contains(">BR <tspan") && titles[0].contains("5 connections") && titles[1].contains(">DE ") && titles[2].contains(">US "), "\(titles)")
        #expect(svg.contains("by country") && svg.contains("after the first data packet") && svg.contains("no reset or timeout"))
        #expect(svg.contains("<g id=\"series-post_psh-1\" class=\"series\""))
        #expect(svg.contains("<title>2026-11-21 20:00 UTC, BR, post_psh: 20.0% (1 of 5)</title>"), "\(svg)")
        // Each column's count below it (one window, 20:00, per country here).
        let counts = svg.components(separatedBy: "<g class=\"counts\"").dropFirst().map { $0.prefix(200) }
        #expect(counts.count == 3 && counts[0].contains(">5</text>") && counts[1].contains(">3</text>") && counts[2].contains(">1</text>"), "\(counts)")

        // More groups than panels: the rest are counted in the subtitle.
        var many = ""
        for i in 0..<8 { many += #"{"first_seen":"2026-11-21T20:00:00.000000Z","src":"192.0.2.1","dport":\#(1000 + i),"stage":"none","tags":[]}"# + "\n" }
        let (ports, _) = try table(many, by: .port)
        let chart = StageChart.svg(ports)
        #expect(chart.contains("the 6 largest of 8 groups (2 connections in the others)"), "\(chart)")
        #expect(chart.split(separator: "\n").filter { $0.contains("class=\"panel-title\"") }.count == 6)
    }

    @Test func theChartHasOneSeriesPerStageAndSaysWhenThereIsNothing() throws {
        let (table, _) = try table(Self.lines)
        let svg = StageChart.svg(table)
        for stage in Stage.allCases { #expect(svg.contains("<g id=\"series-\(stage.name)\"")) }
        #expect(svg.contains("<title>2026-11-21 20:00 UTC, post_syn: 100.0% (1 of 1)</title>"))
        #expect(svg.contains(">3 connections, 2 left out (multiple SYNs, or still open at shutdown); "))
        #expect(StageChart.svg(StageTable(windowSeconds: 900, grouping: .none, ttlMargin: 2)).contains(">no connections</text>"))
    }
}

/// Windows of a few seconds are told apart in every table people read (a trial saw six
/// rows of --window 1 all labelled 15:46); windows on whole minutes keep "20:15".
@Suite struct WindowLabelTests {
    @Test func secondsShowWhenWindowsStartWithinAMinute() {
        var seconds = StageTable(windowSeconds: 1, grouping: .none, ttlMargin: 2)
        for t in [1_795_292_107, 1_795_292_108, 1_795_292_109] as [Int64] {  // 2026-11-21T20:15:07Z and on
            seconds.add(finalizedSeconds: t, group: "", stage: .postSYN, reset: false)
        }
        let text = seconds.render()
        #expect(text.contains("2026-11-21 20:15:07 ") && text.contains("2026-11-21 20:15:08 ") && text.contains("2026-11-21 20:15:09 "), "\(text)")
        #expect(seconds.renderRadar().contains("2026-11-21 20:15:08 "))
        #expect(seconds.renderSignatures().contains("2026-11-21 20:15:09 "))
        var minutes = StageTable(windowSeconds: 900, grouping: .none, ttlMargin: 2)
        minutes.add(finalizedSeconds: 1_795_292_107, group: "", stage: .postSYN, reset: false)
        #expect(minutes.render().contains("2026-11-21 20:15 "), "\(minutes.render())")
        // classify's summary table, and the live log's window line.
        let windows = [0, 1].map { WindowSummary(start: 1_795_292_107_000_000 + $0 * 1_000_000, length: 1_000_000) }
        let table = SummaryTable.render(windows: windows)
        #expect(table.contains("2026-11-21T20:15:07 ") && table.contains("2026-11-21T20:15:08 "), "\(table)")
        #expect(SummaryTable.render(windows: [WindowSummary(start: 1_795_292_100_000_000, length: 900_000_000)]).contains("2026-11-21T20:15 "))
        // No window: said, not a table of 0.0% (a trial).
        #expect(SummaryTable.render(windows: [], counters: ClassifierCounters()) == "no connections\npackets: 0, orphans: 0, evicted (table full): 0\n")
    }
}

@Suite struct ReportTimeTests {
    let now: Int64 = 1_795_297_425  // 2026-11-21T21:43:45Z

    func micros(_ text: String) -> Int64? { ReportTime.microseconds(text, now: now) }

    @Test func relativeTimesAreAsPeopleSayThem() {
        #expect(micros("now") == now * 1_000_000)
        #expect(micros("-90s") == (now - 90) * 1_000_000)
        #expect(micros("-15m") == (now - 900) * 1_000_000)
        #expect(micros("-1h") == (now - 3600) * 1_000_000)
        #expect(micros("-2d") == (now - 172_800) * 1_000_000)
        #expect(micros("-1w") == (now - 604_800) * 1_000_000)
        #expect(micros("today") == 1_795_219_200_000_000)  // date -d 2026-11-21T00:00:00Z +%s
        #expect(micros("yesterday") == 1_795_132_800_000_000)
        #expect(micros("2026-11-21T00:00:00Z") == 1_795_219_200_000_000)
        // A fraction is kept, not cut to the second (a trial: records earlier in that
        // second were counted).
        #expect(micros("2026-11-21T00:00:00.5Z") == 1_795_219_200_500_000)
    }

    @Test func otherTextIsNotATime() {
        for text in ["", "-", "-h", "1h", "-1y", "-1.5h", "--1h", "-99999999999999w", "tomorrow", "2026-11-21"] {
            #expect(micros(text) == nil, "\(text)")
        }
    }

    @Test func aTimeWithAFractionSelectsToTheMicrosecond() {
        let filter = ReportFilter(since: 1_795_219_200_500_000, until: 1_795_219_201_250_000)
        #expect(!filter.admits(finalized: 1_795_219_200_499_999, asn: nil, country: nil))
        #expect(filter.admits(finalized: 1_795_219_200_500_000, asn: nil, country: nil))
        #expect(filter.admits(finalized: 1_795_219_201_249_999, asn: nil, country: nil))
        #expect(!filter.admits(finalized: 1_795_219_201_250_000, asn: nil, country: nil))
        #expect(filter.sql == [
            "(finalized > toDateTime(1795219200) OR (finalized = toDateTime(1795219200) AND finalized_usec >= 500000))",
            "(finalized < toDateTime(1795219201) OR (finalized = toDateTime(1795219201) AND finalized_usec < 250000))",
        ])
        // Whole seconds compare the ordering column alone.
        #expect(ReportFilter(since: 1_795_219_200_000_000, until: 1_795_219_201_000_000).sql
            == ["finalized >= toDateTime(1795219200)", "finalized < toDateTime(1795219201)"])
        // Before 1970 the fraction counts up from the second below.
        #expect(Timestamp.split(-1) == (-1, 999_999))
    }
}
