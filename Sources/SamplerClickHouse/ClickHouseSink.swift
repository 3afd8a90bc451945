import Synchronization
import SamplerClassifier
import SamplerRuntime
import SamplerSinks
import SamplerSystem
import SamplerWire
#if canImport(Glibc)
import Glibc
#endif

/// Records to ClickHouse without losing them: the writer thread appends each record as
/// a row to the open batch; a batch is closed when it has `batchRecords` rows or is
/// `flushInterval` old, written durably to the spool, and sent by the shipping thread
/// (docs/clickhouse.md). Every row carries its batch's id and its place in it, so a
/// batch sent twice (sent, but the answer lost) is recognised in ClickHouse.
public final class ClickHouseSink: RecordSink, @unchecked Sendable {
    // @unchecked: the open batch belongs to the writer's thread (add, tick, finish); the
    // spool and the shipper are Sendable.
    public struct Options: Sendable {
        public var target: ClickHouseTarget
        public var row: ClickHouseRow.Context
        public var batchRecords = defaultBatchRecords
        public var flushInterval = defaultFlushInterval
        public var spoolDirectory: String
        public var spoolMaxBytes = defaultSpoolMaxBytes
        /// The defaults of the settings clickhouse_batch_size, clickhouse_flush_interval
        /// and spool_max_bytes.
        public static let defaultBatchRecords = 10_000
        public static let defaultFlushInterval: Microseconds = 60_000_000
        public static let defaultSpoolMaxBytes = 256 << 20
        /// How batches are named: from the clock (live), or derived from the input, so
        /// that loading the same capture twice gives the same batches.
        public var batchIDs = BatchIDs.clock
        /// How long `finish` keeps sending before leaving the rest in the spool.
        public var finishTimeout: Microseconds = 10_000_000
        public var requestTimeoutSeconds = 10

        public init(target: ClickHouseTarget, row: ClickHouseRow.Context, spoolDirectory: String) {
            self.target = target
            self.row = row
            self.spoolDirectory = spoolDirectory
        }
    }

    public enum BatchIDs: Sendable {
        case clock
        /// `seed`'s top 40 bits (with the top bit set, above any clock id) and a count.
        case derived(seed: UInt64)
    }

    public let options: Options
    let spool: Spool
    private let shipper: Shipper
    private var thread: JoinableThread?
    private let log: @Sendable (String) -> Void

    private var batch: [UInt8] = []
    private var rows = 0
    private var batchID: UInt64 = 0
    private var openedAt: Microseconds = 0
    private var derivedCount: UInt64 = 0
    /// After the disk refused a batch, no new attempt before this time.
    private var sealRetryAt: Microseconds = 0

    /// Opens the spool (what an earlier run left there is sent first) and starts the
    /// shipping thread.
    public init(options: Options, log: @escaping @Sendable (String) -> Void) throws(Spool.SpoolError) {
        self.options = options
        self.log = log
        spool = try Spool(directory: options.spoolDirectory, limitBytes: options.spoolMaxBytes)
        do {
            shipper = try Shipper(spool: spool, client: ClickHouseClient(target: options.target, timeoutSeconds: options.requestTimeoutSeconds), log: log)
        } catch {
            throw .start(error)
        }
        batch.reserveCapacity(1 << 20)
        for name in spool.damaged {
            log("the spool batch \(options.spoolDirectory)/\(name) is damaged (not whole lines, or not as many as its name says): "
                + "moved aside as \(name).damaged, not sent; look at it, then delete it")
        }
        let waiting = spool.depth
        if waiting.batches > 0 {
            log("the spool \(options.spoolDirectory) holds \(waiting.records) records in \(batches(waiting.batches)) from before; sending them first")
        }
        let shipper = shipper
        do { thread = try JoinableThread(name: "sampler-ship") { shipper.run() } } catch { throw .start(error) }
    }

    public func add(_ record: borrowing ConnectionRecord) {
        if rows == 0 { open() }
        ClickHouseRow.append(record, context: options.row, batch: batchID, row: rows, to: &batch)
        rows += 1
        if rows >= options.batchRecords { seal() }
    }

    public func tick(now: Microseconds) {
        if rows > 0 && now - openedAt >= options.flushInterval { seal() }
    }

    /// Seals the open batch, then lets the shipper send until the spool is empty or the
    /// timeout passes; what is left stays in the spool for the next start.
    public func finish() {
        seal()
        shipper.stop(deadline: wallClock() + options.finishTimeout)
        thread?.join()
        thread = nil
        let left = spool.depth
        if left.batches > 0 {
            log("\(left.records) records in \(batches(left.batches)) stay in the spool \(options.spoolDirectory) for the next start"
                + (shipper.counters.withLock { $0.lastError }.map { " (last ClickHouse error: \($0))" } ?? ""))
        }
    }

    public func status() -> ShippingStatus {
        var status = ShippingStatus()
        status.destination = options.target.display
        let depth = spool.depth
        status.spoolBatches = depth.batches
        status.spoolRecords = depth.records
        status.spoolBytes = depth.bytes
        status.spoolMaxBytes = options.spoolMaxBytes
        status.droppedRecords = depth.droppedRecords
        shipper.counters.withLock { c in
            status.insertedRecords = c.insertedRecords
            status.insertedBatches = c.insertedBatches
            status.failures = c.failures
            status.spoolWriteErrors = c.spoolWriteErrors
            status.lastInsertAt = c.lastInsertAt
            status.lastFailureAt = c.lastFailureAt
            status.lastError = c.lastError
        }
        return status
    }

    private func open() {
        openedAt = wallClock()
        switch options.batchIDs {
        case .clock:
            batchID = spool.nextID(now: UInt64(max(0, openedAt)))
        case .derived(let seed):
            batchID = (seed | 1 << 63) & ~UInt64(0xFF_FFFF) | (derivedCount & 0xFF_FFFF)
            derivedCount += 1
        }
    }

    /// Writes the open batch to the spool. If the disk refuses, the rows stay in memory
    /// and the next seal tries again; past 64 MiB they are dropped and counted.
    private func seal() {
        guard rows > 0 else { return }
        let now = wallClock()
        guard now >= sealRetryAt else { return }
        do {
            let dropped = try spool.add(id: batchID, records: rows, body: batch)
            if dropped > 0 {
                log("the spool reached its limit (\(options.spoolMaxBytes) bytes): dropped the oldest \(dropped) records")
            }
        } catch {
            shipper.counters.withLock { $0.spoolWriteErrors += 1 }
            sealRetryAt = now + 1_000_000
            log("\(error); keeping the batch in memory and trying again")
            if batch.count > 64 << 20 {
                let lost = rows
                batch.removeAll(keepingCapacity: true)
                rows = 0
                spool.countDropped(records: lost)
                log("dropped \(lost) records that could not be spooled")
            }
            return
        }
        batch.removeAll(keepingCapacity: true)
        rows = 0
        shipper.wakeup.signal()
    }
}
