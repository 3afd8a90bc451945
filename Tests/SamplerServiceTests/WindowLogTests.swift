import SamplerClassifier
import SamplerPipeline
@testable import SamplerService
@testable import SamplerStatus
import Testing

@Suite struct WindowLogTests {
    @Test func describesAWindowWithSharesAndLosses() {
        var window = WindowSummary(start: 1_725_537_600_000_000, length: 900_000_000)
        window.total = 4
        window.stageCounts[Int(Stage.postSYN.rawValue)] = 1
        window.stageCounts[Int(Stage.none.rawValue)] = 3
        window.excluded = 2
        var counters = LiveCounters()
        counters[.lost] = 5
        let line = LiveSampler.describe(window, counters: counters)
        #expect(line.hasPrefix("window 2024-09-05T12:00Z: 4 connections (post_syn 25.00%"))
        #expect(line.contains("none 75.00%"))
        #expect(line.contains("2 left out (multiple SYNs, or still open at shutdown)"))
        #expect(line.contains("lost messages so far 5"))
    }

    /// One post_syn among 10,000: the log says what status says (99.99% and 0.01%), not
    /// 100.0% and 0.0%, which read as "none at all".
    @Test func showsASmallShareAsStatusDoes() {
        var window = WindowSummary(start: 1_725_537_600_000_000, length: 900_000_000)
        window.total = 10_000
        window.stageCounts[Int(Stage.postSYN.rawValue)] = 1
        window.stageCounts[Int(Stage.none.rawValue)] = 9_999
        let line = LiveSampler.describe(window, counters: LiveCounters())
        #expect(line.contains("post_syn 0.01%") && line.contains("none 99.99%"), "\(line)")
        #expect(line.contains(percent(window.share(.none))), "\(line)")
    }
}
