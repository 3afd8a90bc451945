import SamplerRuntime
import SamplerSystem
import SamplerSinks
import SamplerWire
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The shipping thread: sends the spool's oldest batch to ClickHouse, deletes it once
/// ClickHouse has it, and goes on in order; after a failure it waits (0.5 s, doubling to
/// 15 s) and tries the same batch again, so batches arrive in the order they were made.
/// When asked to stop it sends what it can until the deadline or the first failure.
final class Shipper: Sendable {
    struct Counters {
        var insertedRecords: UInt64 = 0
        var insertedBatches: UInt64 = 0
        var failures: UInt64 = 0
        var spoolWriteErrors: UInt64 = 0
        var lastInsertAt: Microseconds?
        var lastFailureAt: Microseconds?
        var lastError: String?
        /// Failures since the last success, for the log (first one, then each minute).
        var failingSince: Microseconds?
        var lastFailureLog: Microseconds = 0
    }

    let spool: Spool
    let client: ClickHouseClient
    let counters = Mutex(Counters())
    let wakeup: Wakeup
    /// Set to the time by which the shipper gives up when stopping.
    private let stopDeadline = Atomic<Int64>(.max)
    private let log: @Sendable (String) -> Void

    init(spool: Spool, client: ClickHouseClient, log: @escaping @Sendable (String) -> Void) throws(Errno) {
        wakeup = try Wakeup()
        self.spool = spool
        self.client = client
        self.log = log
    }

    /// Asks the thread to send what it can until `deadline`, then end.
    func stop(deadline: Microseconds) {
        stopDeadline.store(deadline, ordering: .releasing)
        wakeup.signal()
    }

    func run() {
        blockSignals()
        var backoff: Int32 = 500
        while true {
            let deadline = stopDeadline.load(ordering: .acquiring)
            let stopping = deadline != .max
            if stopping && wallClock() >= deadline { break }
            let taken: (Spool.Batch, [UInt8])?
            do { taken = try spool.takeOldest() } catch {
                fail(error.description, retrying: !stopping)
                taken = nil
            }
            guard let (batch, body) = taken else {
                if stopping { break }
                wakeup.wait(timeoutMilliseconds: 1000) { spool.depth.batches > 0 || stopDeadline.load(ordering: .relaxed) != .max }
                continue
            }
            do {
                try client.insert(body)
                spool.remove(batch)
                succeed(batch)
                backoff = 500
            } catch {
                spool.release(batch)
                fail(error.description, retrying: !stopping)
                // Stopping, a failure ends the attempt: the batches keep in the spool, and
                // waiting for ClickHouse would only hold up the shutdown.
                if stopping { break }
                wakeup.wait(timeoutMilliseconds: backoff) { stopDeadline.load(ordering: .relaxed) != .max }
                backoff = min(backoff * 2, 15_000)
            }
        }
    }

    private func succeed(_ batch: Spool.Batch) {
        let now = wallClock()
        let recovered = counters.withLock { c -> Microseconds? in
            c.insertedRecords += UInt64(batch.records)
            c.insertedBatches += 1
            c.lastInsertAt = now
            defer { c.failingSince = nil }
            return c.failingSince
        }
        if let since = recovered {
            log("ClickHouse inserts work again after \((now - since) / 1_000_000) s; sending the spooled batches in order")
        }
    }

    private func fail(_ message: String, retrying: Bool) {
        let now = wallClock()
        let shouldLog = counters.withLock { c -> Bool in
            c.failures += 1
            c.lastFailureAt = now
            c.lastError = message
            if c.failingSince == nil { c.failingSince = now }
            guard now - c.lastFailureLog >= 60_000_000 else { return false }
            c.lastFailureLog = now
            return true
        }
        if shouldLog {
            let depth = spool.depth
            log("\(message); \(depth.records) records in \(batches(depth.batches)) wait in the spool \(spool.directory)"
                + (retrying ? ", retrying" : ""))
        }
    }

    /// Signals go to the reader's signalfd; this thread must never take one.
    private func blockSignals() {
        var all = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_BLOCK, &all, nil)
    }
}

/// "1 batch", "3 batches".
public func batches(_ count: Int) -> String { counted(count, "batch", "batches") }
