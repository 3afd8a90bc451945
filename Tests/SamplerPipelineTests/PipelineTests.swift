import Foundation
import Testing
import SamplerClassifier
@testable import SamplerPipeline

@Suite struct SequenceTrackerTests {
    @Test func countsGapsBetweenSequenceNumbers() {
        var tracker = SequenceTracker()
        #expect(tracker.observe(7) == 0)  // the first message sets the start
        #expect(tracker.observe(8) == 0)
        #expect(tracker.observe(12) == 3)  // 9, 10, 11 lost
        #expect(tracker.observe(13) == 0)
    }

    @Test func wrapsAroundAndIgnoresStepsBack() {
        var tracker = SequenceTracker()
        _ = tracker.observe(UInt32.max - 1)
        #expect(tracker.observe(UInt32.max) == 0)
        #expect(tracker.observe(1) == 1)  // 0 lost across the wrap
        #expect(tracker.observe(0) == 0)  // a step back is not four billion lost
    }
}
