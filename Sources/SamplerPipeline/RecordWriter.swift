import SamplerClassifier
import SamplerLocation
import SamplerRuntime
import SamplerSystem
import SamplerSinks
import SamplerWire
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The windows as the writer last published them, for status: taken under a lock held
/// for a copy, at most every 50 ms by the writer and on each status request.
public struct PublishedWindows: Sendable {
    public var current: WindowSummary?
    public var previous: WindowSummary?
    public var lastEmitted: WindowSummary?
    public var outcomes: WindowSummary
}

/// The writer thread: takes finalized records from every shard's ring, writes them as
/// JSON lines, counts them by stage, tag and close reason, and aggregates windows.
final class RecordWriter: @unchecked Sendable {
    // @unchecked: the file, the aggregator and the local counts belong to the writer's
    // thread; other threads touch only `wakeup`, `reopenRequested`, `counters` and
    // `windows`.
    /// What the writer counts.
    private static let writerCounts = Counter.published(by: .writer)

    let wakeup: Wakeup
    let reopenRequested = Atomic<Bool>(false)
    let counters = AtomicCounters(counting: Counter.self)
    /// The errno of the failing output (0 while writing works), and the bytes waiting.
    let writeFailure = Atomic<Int32>(0)
    let bytesWaiting = Atomic<UInt64>(0)
    let windows: Mutex<PublishedWindows>

    private let file: RecordFile
    private let sink: (any RecordSink)?
    private let locator: ClientLocator?
    // Touched for every record, by the writer's thread alone, and never by an access
    // nested in another to the same variable: no run-time exclusivity check
    // (docs/architecture.md).
    @exclusivity(unchecked) private var aggregator: WindowAggregator
    @exclusivity(unchecked) private var outcomes: WindowSummary
    private var lastEmitted: WindowSummary?
    @exclusivity(unchecked) private var records: UInt64 = 0
    /// The dates of the records written, shared from one to the next.
    @exclusivity(unchecked) private var dates = Timestamp.Dates()
    /// Records taken from the rings and not yet written: at most `lookupLanes`.
    @exclusivity(unchecked) private var batch: [ConnectionRecord] = []
    private let log: @Sendable (String) -> Void
    private let describe: @Sendable (WindowSummary) -> String
    private var lastPublish: Microseconds = 0
    /// When the log last said that writing fails (at most every 10 s), and whether it
    /// did, so that it can say when writing works again.
    private var lastFailureLog: Microseconds = 0
    private var failureLogged = false

    init(file: RecordFile, sink: (any RecordSink)?, locator: ClientLocator?, aggregator: WindowAggregator, start: Microseconds,
         log: @escaping @Sendable (String) -> Void, describe: @escaping @Sendable (WindowSummary) -> String) throws(Errno) {
        wakeup = try Wakeup()
        self.file = file
        self.sink = sink
        self.locator = locator
        self.aggregator = aggregator
        self.log = log
        self.describe = describe
        outcomes = WindowSummary(start: start, length: 0)
        windows = Mutex(PublishedWindows(outcomes: outcomes))
        batch.reserveCapacity(LocationDatabase.lookupLanes)
    }

    func run(shards: [ClassifierShard]) {
        while true {
            var taken = 0
            for shard in shards {
                taken += shard.output.drain(limit: 4096) { record in
                    batch.append(record)
                    if batch.count == LocationDatabase.lookupLanes { writeBatch() }
                }
            }
            writeBatch()
            if reopenRequested.exchange(false, ordering: .acquiring) {
                file.flush()
                do {
                    try file.reopen()
                    log("reopened \(file.path ?? "standard output")")
                    if let cut = file.cutMessage { log(cut) }
                }
                catch { log("cannot reopen the output, still writing to the old file: \(error)") }
                locator?.reopen()
            }
            // Flush when idle or when a buffer's worth is waiting; publish at most every
            // 50 ms (a publication shares the window counts, whose next update copies them).
            let now = wallClock()
            if taken == 0 || file.buffer.count >= 1 << 16 { flush(now: now) }
            sink?.tick(now: now)
            if now - lastPublish >= 50_000 {
                aggregator.tick(now: now) { window in emit(window) }
                publish(now: now)
            }
            if taken > 0 { continue }
            // Finished shards pushed their last record before saying so.
            if shards.allSatisfy({ $0.finished.load(ordering: .acquiring) }) && shards.allSatisfy({ $0.output.count == 0 }) {
                break
            }
            wakeup.wait(timeoutMilliseconds: 100) {
                shards.contains { $0.output.count > 0 || $0.finished.load(ordering: .relaxed) }
                    || reopenRequested.load(ordering: .relaxed)
            }
        }
        aggregator.flush { window in emit(window) }
        flush(now: wallClock())
        let lost = file.finish()
        if lost > 0 {
            log("stopping: \(lost) records that waited for \(file.name) could not be written (\(file.failure?.description ?? "")) and are lost; "
                + "\(file.recordsDropped) dropped in all")
        }
        sink?.finish()
        publish(now: wallClock())
    }

    /// Locates the records taken (once per connection, here rather than per packet in the
    /// shards; eight together, so that their lookups overlap) and writes them.
    private func writeBatch() {
        guard !batch.isEmpty else { return }
        locator?.locate(&batch)
        // Each record where it is: `for record in batch` copied every one out first.
        batch.withUnsafeBufferPointer { for index in $0.indices { write($0[index]) } }
        batch.removeAll(keepingCapacity: true)
    }

    private func write(_ record: ConnectionRecord) {
        file.append { JSONLines.append(record, to: &$0, dates: &dates) }
        sink?.add(record)
        records += 1
        outcomes.add(record)
        aggregator.add(record) { window in emit(window) }
    }

    /// Writes what waits, and says in the log when that starts or stops failing. (A
    /// closed standard output, `sampler run --output - | head`, is the live loop's to
    /// notice: it watches the descriptor and stops, as any Unix tool does.)
    private func flush(now: Microseconds) {
        file.flush()
        guard let failure = file.failure else {
            if failureLogged {
                log("writing records to \(file.name) works again; \(file.recordsDropped) records were dropped while it failed")
                failureLogged = false
            }
            return
        }
        if failure == .brokenPipe && file.path == nil { return }
        if now - lastFailureLog >= 10_000_000 {
            lastFailureLog = now
            failureLogged = true
            log("cannot write records to \(file.name): \(failure); \(file.bytesWaiting) bytes wait "
                + "(at most \(RecordFile.maximumBuffered)), \(file.recordsDropped) records dropped so far: free space there (or make it writable), "
                + "and what waits is written at once; stopping sampler before that loses it")
        }
    }

    private func emit(_ window: WindowSummary) {
        lastEmitted = window
        log(describe(window))
    }

    private func publish(now: Microseconds) {
        lastPublish = now
        var counts = Counts()
        counts[.records] = records
        counts[.writeErrors] = file.writeErrors
        counts[.recordsDropped] = file.recordsDropped
        counts[.tornTails] = file.tornTailsCut
        counts[.lateRecords] = aggregator.lateRecords
        counters.publish(counts, Self.writerCounts)
        writeFailure.store(file.failure?.rawValue ?? 0, ordering: .relaxed)
        bytesWaiting.store(UInt64(file.bytesWaiting), ordering: .relaxed)
        let published = PublishedWindows(current: aggregator.current, previous: aggregator.previous, lastEmitted: lastEmitted, outcomes: outcomes)
        windows.withLock { $0 = published }
    }
}
