import Testing
import SamplerClassifier
import SamplerWire

@Suite struct WindowAggregatorTests {
    func record(_ script: String, port: UInt16, finalizedAt: Microseconds) -> ConnectionRecord {
        var records = classify(Flow().with(sourcePort: port).script(script)).records
        records[0].finalizedAt = finalizedAt
        return records[0]
    }

    @Test func countsStagesAndTagsPerClockAlignedWindow() throws {
        let minute: Microseconds = 60_000_000
        var aggregator = WindowAggregator(length: 15 * minute)
        var done: [WindowSummary] = []
        let base: Microseconds = 1_700_000_100_000_000  // 22:15:00 UTC on 2023-11-14
        aggregator.add(record("S A PA RA", port: 1, finalizedAt: base + minute)) { done.append($0) }
        aggregator.add(record("S", port: 2, finalizedAt: base + 2 * minute)) { done.append($0) }
        aggregator.add(record("S A PA A FA", port: 3, finalizedAt: base + 3 * minute)) { done.append($0) }
        aggregator.add(record("S S", port: 4, finalizedAt: base + 4 * minute)) { done.append($0) }
        #expect(done.isEmpty)
        aggregator.add(record("S R", port: 5, finalizedAt: base + 16 * minute)) { done.append($0) }
        let first = try #require(done.first)
        #expect(first.start == 1_700_000_100_000_000 - 1_700_000_100_000_000 % (15 * minute))
        #expect(first.total == 3)
        #expect(first.excluded == 1)  // multiple_syns
        #expect(first.count(Stage.postPSH) == 1)
        #expect(first.count(Stage.postSYN) == 1)
        #expect(first.count(Stage.none) == 1)
        #expect(first.count(Tags.reset) == 1)
        #expect(first.count(Tags.timeout) == 1)
        #expect(first.count(CloseReason.fin) == 1)
        #expect(abs(first.share(.postPSH) - 1.0 / 3.0) < 1e-9)
        var flushed: [WindowSummary] = []
        aggregator.flush { flushed.append($0) }
        let second = try #require(flushed.first)
        #expect(flushed.count == 1)
        #expect(second.start == first.start + 15 * minute)
        #expect(second.total == 1)
        var empty: [WindowSummary] = []
        aggregator.flush { empty.append($0) }
        #expect(empty.isEmpty)
    }

    @Test func multipleSYNsCanBeCounted() {
        var aggregator = WindowAggregator(length: 60_000_000, includeMultipleSyns: true)
        aggregator.add(record("S S", port: 1, finalizedAt: 0)) { _ in }
        var windows: [WindowSummary] = []
        aggregator.flush { windows.append($0) }
        #expect(windows.map(\.total) == [1])
    }

    /// Several shards feed one writer: a record may come after one of the next window.
    @Test func lateRecordsJoinTheirWindowWhileItWaits() {
        let minute: Microseconds = 60_000_000, base: Microseconds = 1_700_000_100_000_000
        var aggregator = WindowAggregator(length: 15 * minute, lateness: 5_000_000)
        var done: [WindowSummary] = []
        aggregator.add(record("S R", port: 1, finalizedAt: base + 14 * minute)) { done.append($0) }
        aggregator.add(record("S R", port: 2, finalizedAt: base + 15 * minute + 1)) { done.append($0) }
        aggregator.add(record("S R", port: 3, finalizedAt: base + 15 * minute - 1)) { done.append($0) }  // late
        #expect(done.isEmpty)
        aggregator.tick(now: base + 15 * minute + 4_000_000) { done.append($0) }
        #expect(done.isEmpty)
        aggregator.tick(now: base + 15 * minute + 5_000_000) { done.append($0) }
        #expect(done.map(\.total) == [2])
        aggregator.add(record("S R", port: 4, finalizedAt: base)) { done.append($0) }  // older than every open window
        #expect(aggregator.lateRecords == 1)
        aggregator.flush { done.append($0) }
        #expect(done.map(\.total) == [2, 2])
    }

    /// A quiet host: no later record comes to close a window, so the clock does.
    @Test func theClockHandsOutAWindowNoRecordCloses() {
        let minute: Microseconds = 60_000_000, base: Microseconds = 1_700_000_100_000_000
        var aggregator = WindowAggregator(length: 15 * minute, lateness: 5_000_000)
        var done: [WindowSummary] = []
        aggregator.add(record("S R", port: 1, finalizedAt: base + minute)) { done.append($0) }
        aggregator.tick(now: base + 15 * minute + 4_000_000) { done.append($0) }
        #expect(done.isEmpty)
        aggregator.tick(now: base + 15 * minute + 5_000_000) { done.append($0) }
        #expect(done.map(\.start) == [base] && done.map(\.total) == [1])
        // A straggler of that window is late: counted once, in the next window, never a
        // second line for the window already handed out.
        aggregator.add(record("S R", port: 2, finalizedAt: base + 2 * minute)) { done.append($0) }
        #expect(aggregator.lateRecords == 1)
        aggregator.add(record("S R", port: 3, finalizedAt: base + 16 * minute)) { done.append($0) }
        aggregator.flush { done.append($0) }
        #expect(done.map(\.start) == [base, base + 15 * minute] && done.map(\.total) == [1, 2])
    }

}

@Suite struct ServerFilterTests {
    @Test func matchesAddressPrefixAndPort() throws {
        let key = Flow().key  // to 198.51.100.1:443
        let prefix = try #require(ServerFilter.parsePrefix("198.51.100.0/24"))
        #expect(ServerFilter(prefix: prefix).accepts(key))
        #expect(ServerFilter(prefix: prefix, port: 443).accepts(key))
        #expect(!ServerFilter(prefix: prefix, port: 80).accepts(key))
        #expect(!ServerFilter(prefix: ServerFilter.parsePrefix("198.51.101.0/24")).accepts(key))
        #expect(!ServerFilter(prefix: ServerFilter.parsePrefix("2001:db8::/32")).accepts(key))
        #expect(ServerFilter(prefix: ServerFilter.parsePrefix("2001:db8:1::/48")).accepts(Flow.v6.key))
        #expect(ServerFilter().accepts(key))
        for bad in ["198.51.100.0/33", "nonsense", "2001:db8::/129", "1.2.3.4/"] {
            #expect(ServerFilter.parsePrefix(bad) == nil, "\(bad)")
        }
    }
}
