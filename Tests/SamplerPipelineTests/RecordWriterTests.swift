import Foundation
import SamplerClassifier
import SamplerRuntime
import SamplerSinks
import SamplerTestSupport
import SamplerWire
import Synchronization
import Testing
@testable import SamplerPipeline

/// The writer thread on its own: records from every shard's ring to the file, counted, in
/// windows; and a file that cannot be written (a full disk) counted and said, with the
/// records kept.
@Suite struct RecordWriterTests {
    static let records = NflogReplay.records(copies: 3)

    /// Two shards whose rings hold the records, alternately, and have finished.
    func shards() throws -> [ClassifierShard] {
        let wakeup = try Wakeup()
        let shards = try (0..<2).map { i in
            try ClassifierShard(index: i, classifier: ClassifierConfiguration(), inputCapacity: 16, outputCapacity: 256,
                                followWallClock: false, writerWakeup: wakeup)
        }
        for (i, record) in Self.records.enumerated() { #expect(shards[i % 2].output.push(record)) }
        for shard in shards { shard.finished.store(true, ordering: .releasing) }
        return shards
    }

    @Test func writesEveryRecordOfEveryShardCountsThemAndClosesTheirWindows() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sampler-writer-\(getpid()).jsonl").path
        unlink(path)
        defer { unlink(path) }
        let logged = Mutex<[String]>([])
        let writer = try RecordWriter(file: try RecordFile(path: path), sink: nil, locator: nil, aggregator: WindowAggregator(length: 60_000_000),
                                      start: 0, log: { line in logged.withLock { $0.append(line) } }) { "window \($0.start) \($0.total + $0.excluded)" }
        writer.run(shards: try shards())
        let written = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init).sorted()
        #expect(written == Self.records.map { JSONLines.line($0).dropLast() }.map(String.init).sorted())
        #expect(written.count == 39)  // 13 connections a copy
        let counts = writer.counters.counts()
        #expect(counts[.records] == 39 && counts[.writeErrors] == 0 && counts[.recordsDropped] == 0)
        let windows = writer.windows.withLock { $0 }
        #expect(windows.outcomes.total + windows.outcomes.excluded == 39)
        // Every record in one window line, the last one flushed at the end.
        let lines = logged.withLock { $0 }.filter { $0.hasPrefix("window ") }
        #expect(lines.map { Int($0.split(separator: " ")[2])! }.reduce(0, +) == 39, "\(lines)")
        #expect(writer.writeFailure.load(ordering: .relaxed) == 0)
    }

    @Test func aFullDiskIsCountedAndSaidAndWhatWaitsAtTheEndIsDropped() throws {
        let logged = Mutex<[String]>([])
        let writer = try RecordWriter(file: try RecordFile(path: "/dev/full"), sink: nil, locator: nil, aggregator: WindowAggregator(),
                                      start: 0, log: { line in logged.withLock { $0.append(line) } }) { _ in "window" }
        writer.run(shards: try shards())
        let counts = writer.counters.counts()
        #expect(counts[.records] == 39)
        #expect(writer.writeFailure.load(ordering: .relaxed) == ENOSPC)
        let log = logged.withLock { $0 }
        // Under 64 MiB nothing is dropped while it runs ...
        #expect(log.contains { $0.hasPrefix("cannot write records to /dev/full: ") && $0.contains("0 records dropped so far") }, "\(log)")
        // ... but what still waits when the records end is lost, and counted: none is
        // left uncounted for the stop line.
        #expect(counts[.writeErrors] > 0 && counts[.recordsDropped] == 39)
        #expect(writer.bytesWaiting.load(ordering: .relaxed) == 0)
        #expect(log.contains { $0.hasPrefix("stopping: 39 records that waited for /dev/full could not be written (No space left on device)") }, "\(log)")
    }
}
