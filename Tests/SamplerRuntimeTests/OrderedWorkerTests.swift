import SamplerRuntime
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct OrderedWorkerTests {
    @Test func appliesTheBodyToEveryElementInOrderThroughAFullRing() {
        // A ring of 8 and 100,000 elements: the producer waits for a full ring many
        // times, and nothing is dropped or reordered.
        let worker = OrderedWorker<Int, [Int]>(name: "test-ordered", capacity: 8, batch: 3, state: []) { $0.append($1) }
        for i in 0..<100_000 { worker.push(i) }
        let seen = worker.finish()
        #expect(seen.count == 100_000)
        #expect(seen.enumerated().first { $0.offset != $0.element } == nil, "every element, once and in order")
    }

    @Test func finishAppliesWhatIsLeftWhenFewerThanABatchWerePushed() {
        let worker = OrderedWorker<Int, [Int]>(name: "test-ordered", capacity: 1024, batch: 512, state: [7]) { $0.append($1) }
        for i in 0..<5 { worker.push(i) }  // no batch's wake-up: only finish's
        #expect(worker.finish() == [7, 0, 1, 2, 3, 4], "the state starts as given")
    }

    @Test func theBodyRunsOnTheWorkerThreadNotTheProducers() {
        let producer = pthread_self()
        let worker = OrderedWorker<Int, (total: Int, onProducer: Int)>(name: "test-ordered", state: (0, 0)) { state, _ in
            state.total += 1
            if pthread_equal(pthread_self(), producer) != 0 { state.onProducer += 1 }
        }
        for i in 0..<10_000 { worker.push(i) }
        let state = worker.finish()
        #expect(state.total == 10_000)
        #expect(state.onProducer == 0)
    }

    final class Applied: Sendable {
        let count = Atomic<Int>(0)
    }

    @Test func aWorkerDroppedUnfinishedEndsItsThread() {
        let applied = Applied()
        do {
            let worker = OrderedWorker<Int, Int>(name: "test-ordered", state: 0) { _, _ in applied.count.add(1, ordering: .relaxed) }
            for i in 0..<100 { worker.push(i) }
        }  // deinit: joins after applying what was pushed
        #expect(applied.count.load(ordering: .relaxed) == 100)
    }
}
