import Foundation
import Testing
import SamplerClassifier
import SamplerSinks
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

@Suite struct CountsTests {
    /// Each counter is published by exactly one of the lists the threads publish: none
    /// reads 0 for ever, none is added up twice.
    @Test func thePublishersListsPartitionTheCounters() {
        let lists = [Counter.Publisher.reader, .shard, .writer, .clickhouse].map(Counter.published(by:))
        let all = lists.flatMap { $0 }
        #expect(all.count == Counter.allCases.count && Set(all.map(\.rawValue)).count == all.count)
        // The ClickHouse sink's are read from its status, and only those.
        var shipping = ShippingStatus()
        (shipping.droppedRecords, shipping.insertedRecords, shipping.insertedBatches, shipping.failures, shipping.spoolWriteErrors) = (1, 2, 3, 4, 5)
        var counts = Counts()
        counts.add(shipping)
        #expect(Counter.allCases.filter { counts[$0] > 0 } == Counter.published(by: .clickhouse))
        #expect(counts[.clickhouseDroppedRecords] == 1 && counts[.clickhouseInsertFailures] == 4 && counts[.clickhouseSpoolWriteErrors] == 5)
    }

    @Test func everyCounterHasRoomAndItsOwnSlot() {
        #expect(Counter.allCases.count <= Counts.capacity, "raise Counts.capacity (and its InlineArray) for the new counter")
        var counts = Counts()
        for counter in Counter.allCases { counts[counter] = UInt64(counter.rawValue + 1) }
        #expect(Counter.allCases.allSatisfy { counts[$0] == UInt64($0.rawValue + 1) })
        var later = counts
        later[.lost] += 5
        #expect(later.since(counts)[.lost] == 5 && later.since(counts)[.records] == 0)
    }
}
