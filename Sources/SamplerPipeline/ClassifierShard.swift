import SamplerRuntime
import SamplerSystem
import SamplerClassifier
import SamplerWire
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One classifier and the thread that owns it. The reader pushes the packet summaries of
/// the connections that hash to this shard into `input`; the shard classifies them and
/// pushes finalized records into `output` for the writer. The classifier is touched by
/// the shard's thread only, so flow state needs no lock.
final class ClassifierShard: @unchecked Sendable {
    // @unchecked: `classifier` and the local counters belong to the shard's thread; the
    // rings, atomics and wake-ups are the only things other threads touch.
    /// What a shard counts (the classifier's counters and its waits for the writer).
    private static let shardCounts = Counter.published(by: .shard)

    let index: Int
    let input: SPSCRing<PacketSummary>
    let output: SPSCRing<ConnectionRecord>
    let wakeup: Wakeup
    let counters = AtomicCounters(counting: Counter.self)
    /// Connections open in this shard's table now.
    let openConnections = Atomic<Int>(0)
    /// Set by the reader after its last push; the shard then finalizes everything at
    /// `finalTime` (the latest packet time the reader saw) and says it is `finished`.
    let stopRequested = Atomic<Bool>(false)
    let finalTime = Atomic<Int64>(.min)
    let finished = Atomic<Bool>(false)
    /// A new configuration for the classifier (SIGHUP), taken by the shard's thread
    /// between batches; the flag keeps the check to one relaxed load per pass.
    let reconfigureRequested = Atomic<Bool>(false)
    let pendingConfiguration = Mutex<ClassifierConfiguration?>(nil)

    // The shard thread's own state. A class's stored variable is checked for overlapping
    // access at run time on every use (a thread-local access set: a tenth of the shard's
    // time in a SYN flood); these are used by the shard's thread only, and no access to
    // one is nested in another to the same (`emit` touches the counts, not the
    // classifier it is called from), so the check is off.
    @exclusivity(unchecked) private var classifier: Classifier
    private let writerWakeup: Wakeup
    private let followWallClock: Bool
    @exclusivity(unchecked) private var writerWaits: UInt64 = 0
    @exclusivity(unchecked) private var emitted = false

    init(index: Int, classifier configuration: ClassifierConfiguration, inputCapacity: Int, outputCapacity: Int,
         followWallClock: Bool, writerWakeup: Wakeup) throws(Errno) {
        wakeup = try Wakeup()
        self.index = index
        input = SPSCRing(capacity: inputCapacity)
        output = SPSCRing(capacity: outputCapacity)
        // The table is sized for its maximum up front (address space, not resident
        // memory until used), so that it never rehashes or grows under a flood.
        classifier = Classifier(configuration: configuration, expectedConnections: configuration.maxConnections)
        self.followWallClock = followWallClock
        self.writerWakeup = writerWakeup
    }

    /// The shard thread's loop: classify what comes, move the clock when idle, finish on stop.
    func run() {
        while true {
            if reconfigureRequested.load(ordering: .relaxed), reconfigureRequested.exchange(false, ordering: .acquiring),
               let new = pendingConfiguration.withLock({ pending in defer { pending = nil }; return pending }) {
                classifier.reconfigure(new)
            }
            let taken = input.drain(limit: 4096, ahead: Classifier.prefetchDistance, { classifier.prefetch($0) }) { packet in
                classifier.ingest(packet) { record in emit(record) }
            }
            if taken > 0 {
                publish()
                continue
            }
            if stopRequested.load(ordering: .acquiring) {
                // Everything the reader pushed before asking to stop is visible now.
                if input.count > 0 { continue }
                classifier.advance(to: finalTime.load(ordering: .acquiring)) { record in emit(record) }
                classifier.finishAll { record in emit(record) }
                publish()
                finished.store(true, ordering: .releasing)
                writerWakeup.signal()
                return
            }
            if followWallClock { classifier.advance(to: wallClock()) { record in emit(record) } }
            publish()
            wakeup.wait(timeoutMilliseconds: 100) { input.count > 0 || stopRequested.load(ordering: .relaxed) }
        }
    }

    /// Hands a record to the writer. A full ring waits for the writer: a record already
    /// classified is never dropped (the reader's ring is where overload is shed, counted).
    private func emit(_ record: ConnectionRecord) {
        while !output.push(record) {
            writerWaits += 1
            writerWakeup.signal()
            usleep(200)
        }
        emitted = true
    }

    private func publish() {
        let c = classifier.counters
        var counts = Counts()
        counts[.packets] = c.packets
        counts[.orphans] = c.orphans
        counts[.opened] = c.opened
        counts[.evicted] = c.evicted
        counts[.finalized] = c.finalized
        counts[.writerWaits] = writerWaits
        counters.publish(counts, Self.shardCounts)
        openConnections.store(classifier.openConnections, ordering: .relaxed)
        if emitted {
            emitted = false
            writerWakeup.signal()
        }
    }
}

