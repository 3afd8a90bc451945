import Foundation
import SamplerClassifier
import SamplerSinks
import SamplerTestSupport
import SamplerWire
import Synchronization
import Testing
@testable import SamplerClickHouse

/// The sink without a ClickHouse (a closed port): batches sealed by size, by age and at the
/// end, kept in the spool for the next start; and a spool that cannot be written keeps the
/// open batch in memory up to its bound, then drops it and counts it.
@Suite struct ClickHouseSinkTests {
    static let records = NflogReplay.records(copies: 1)

    func sink(_ name: String, batch: Int, log: @escaping @Sendable (String) -> Void) throws -> (ClickHouseSink, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sampler-sink-\(getpid())-\(name)").path
        try? FileManager.default.removeItem(atPath: directory)
        // Port 1 on loopback: nothing listens, every insert fails at once.
        var options = ClickHouseSink.Options(target: try ClickHouseTarget(url: "http://127.0.0.1:1"),
                                             row: ClickHouseRow.Context(host: "test", clientAddresses: .truncate), spoolDirectory: directory)
        options.batchRecords = batch
        options.finishTimeout = 200_000
        options.requestTimeoutSeconds = 1
        return (try ClickHouseSink(options: options, log: log), directory)
    }

    @Test func batchesAreSealedBySizeAndAtTheEndAndWaitInTheSpool() throws {
        let logged = Mutex<[String]>([])
        let (sink, directory) = try sink("seal", batch: 3) { line in logged.withLock { $0.append(line) } }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for record in Self.records.prefix(7) { sink.add(record) }
        #expect(sink.spool.depth.records == 6, "two full batches sealed, one open")
        sink.tick(now: .max)  // older than the flush interval: sealed too
        #expect(sink.spool.depth.records == 7)
        sink.add(Self.records[7])
        sink.finish()
        let depth = sink.spool.depth
        #expect(depth.batches == 4 && depth.records == 8 && depth.droppedRecords == 0)
        #expect(logged.withLock { $0 }.contains { $0.hasPrefix("8 records in 4 batches stay in the spool \(directory) for the next start") },
                "\(logged.withLock { $0 })")
    }

    @Test func aSpoolThatCannotBeWrittenKeepsTheBatchUpToItsBoundThenDropsIt() throws {
        let logged = Mutex<[String]>([])
        let (sink, directory) = try sink("bound", batch: 1 << 30) { line in logged.withLock { $0.append(line) } }
        // The directory goes: every write into it fails.
        try FileManager.default.removeItem(atPath: directory)
        var added = 0
        while added * 300 < 70 << 20 {  // rows are 300 to 600 bytes: past 64 MiB
            for record in Self.records { sink.add(record) }
            added += Self.records.count
        }
        sink.finish()
        let status = sink.status()
        #expect(status.spoolWriteErrors == 1)
        #expect(status.droppedRecords == UInt64(added))
        #expect(logged.withLock { $0 }.contains("dropped \(added) records that could not be spooled"), "\(logged.withLock { $0 }.suffix(3))")
    }
}
