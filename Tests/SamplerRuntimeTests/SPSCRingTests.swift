import SamplerRuntime
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SPSCRingTests {
    @Test func keepsOrderAndRefusesWhenFull() {
        let ring = SPSCRing<Int>(capacity: 5)
        #expect(ring.capacity == 8)  // rounded up to a power of two
        for i in 0..<8 { #expect(ring.push(i)) }
        #expect(!ring.push(8), "a full ring refuses, and keeps what it has")
        #expect(ring.count == 8)
        #expect(ring.pop() == 0)
        #expect(ring.push(8))
        var seen: [Int] = []
        #expect(ring.drain(limit: 3) { seen.append($0) } == 3)
        #expect(ring.drain { seen.append($0) } == 5)
        #expect(seen == Array(1...8))
        #expect(ring.pop() == nil)
        #expect(ring.drain { _ in } == 0)
    }

    @Test(arguments: [1, 3, 8, 20])
    func theLookAheadSeesEachElementOnceInOrderBeforeTheBody(distance: Int) {
        let ring = SPSCRing<Int>(capacity: 16)
        var looked: [Int] = [], taken: [Int] = []
        var next = 0
        for batch in [5, 16, 1, 9, 12] {  // across the ring's end, batches shorter and longer than the distance
            let first = next
            for _ in 0..<batch { #expect(ring.push(next)); next += 1 }
            let last = first + min(10, batch) - 1  // the drain takes at most 10
            let count = ring.drain(limit: 10, ahead: distance, { looked.append($0) }) { element in
                #expect(looked.last == min(element + distance, last), "seen `distance` ahead, within the batch")
                taken.append(element)
            }
            #expect(count == min(10, batch))
            _ = ring.drain { taken.append($0); looked.append($0) }  // the rest, by a plain drain
        }
        #expect(taken == Array(0..<next))
        #expect(looked == taken, "each element looked at once, in order")
    }

    @Test func wrapsAroundManyTimes() {
        let ring = SPSCRing<UInt32>(capacity: 4)
        var next: UInt32 = 0, expected: UInt32 = 0
        for round in 0..<1000 {
            for _ in 0..<(round % 4 + 1) where ring.push(next) { next += 1 }
            while let value = ring.pop() {
                #expect(value == expected)
                expected += 1
            }
        }
        #expect(expected == next)
    }

    final class Tracked {
        static let alive = Atomic<Int>(0)
        init() { Self.alive.add(1, ordering: .relaxed) }
        deinit { Self.alive.subtract(1, ordering: .relaxed) }
    }

    @Test func releasesWhatIsStillQueuedWhenItGoes() {
        do {
            let ring = SPSCRing<Tracked>(capacity: 8)
            for _ in 0..<5 { _ = ring.push(Tracked()) }
            _ = ring.pop()
            let queued = Tracked.alive.load(ordering: .relaxed)
            #expect(queued == 4)
        }
        let left = Tracked.alive.load(ordering: .relaxed)
        #expect(left == 0)
    }

    /// One producer thread, one consumer thread, a small ring that is full and empty
    /// often: every item arrives once, in order. (Also run under ThreadSanitizer by
    /// scripts/test.)
    @Test func oneProducerOneConsumerAcrossThreads() throws {
        let ring = SPSCRing<UInt64>(capacity: 64)
        let total: UInt64 = 200_000
        let producer = try JoinableThread(name: "test-producer") {
            var next: UInt64 = 0
            while next < total {
                if ring.push(next) { next += 1 }
            }
        }
        var expected: UInt64 = 0, outOfOrder = 0
        while expected < total {
            let taken = ring.drain(limit: 17) { value in
                if value != expected { outOfOrder += 1 }
                expected += 1
            }
            if taken == 0, let value = ring.pop() {
                if value != expected { outOfOrder += 1 }
                expected += 1
            }
        }
        producer.join()
        #expect(outOfOrder == 0)
        #expect(ring.pop() == nil)
    }

    /// The sleeper is asleep (it said so, and saw no work) before the signal: only the
    /// signal can wake it before its 30 s timeout, so a signal() that did nothing fails
    /// here instead of passing late.
    @Test func aWakeupReachesASleeper() throws {
        let wakeup = try Wakeup()
        let flag = Atomic<Bool>(false)
        let asleep = Atomic<Bool>(false)
        let slept = Atomic<Int64>(0)
        let sleeper = try JoinableThread(name: "test-sleeper") {
            let start = ContinuousClock.now
            wakeup.wait(timeoutMilliseconds: 30_000) {
                asleep.store(true, ordering: .releasing)
                return flag.load(ordering: .acquiring)
            }
            slept.store((ContinuousClock.now - start).components.seconds, ordering: .releasing)
        }
        while !asleep.load(ordering: .acquiring) { usleep(1000) }
        usleep(100_000)  // into poll
        flag.store(true, ordering: .releasing)
        wakeup.signal()
        sleeper.join()
        #expect(slept.load(ordering: .acquiring) < 10, "woken by the signal, not by the 30 s timeout")
    }
}
