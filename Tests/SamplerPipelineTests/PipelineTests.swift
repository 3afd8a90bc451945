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

@Suite struct RecordFileTests {
    @Test func appendsAndReopensAfterRotation() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sampler-recordfile-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("records.jsonl").path
        try "old\n".write(toFile: path, atomically: false, encoding: .utf8)

        let file = try RecordFile(path: path)
        file.append { $0.append(contentsOf: "one\n".utf8) }
        file.flush()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old\none\n")  // appended, not truncated

        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")  // logrotate moves it away
        try file.reopen()
        file.append { $0.append(contentsOf: "two\n".utf8) }
        file.flush()
        #expect(try String(contentsOfFile: path + ".1", encoding: .utf8) == "old\none\n")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "two\n")
        #expect(file.writeErrors == 0)
    }

    /// /dev/full refuses every write with ENOSPC, as a full disk does: nothing is lost
    /// silently. What waits is kept whole; past the bound new records are dropped whole
    /// and counted.
    @Test func aFullDiskKeepsWhatWaitsAndCountsWhatItDrops() throws {
        let file = try RecordFile(path: "/dev/full")
        let line = Array(repeating: UInt8(ascii: "x"), count: 1 << 20) + [UInt8(ascii: "\n")]
        #expect(file.append { $0.append(contentsOf: line) })
        file.flush()
        #expect(file.failure == ENOSPC)
        #expect(file.writeErrors == 1)
        #expect(file.buffer.count == line.count, "a failed write keeps the line")
        var kept = 1
        while file.append({ $0.append(contentsOf: line) }) { kept += 1 }
        #expect(kept == RecordFile.maximumBuffered / line.count + 1)
        #expect(!file.append { $0.append(contentsOf: line) })
        #expect(file.recordsDropped == 2)
        #expect(file.buffer.count == kept * line.count, "only whole lines wait")
    }

    @Test func aMissingDirectoryIsAClearError() {
        #expect {
            _ = try RecordFile(path: "/nonexistent-sampler-dir/records.jsonl")
        } throws: { error in
            "\(error)".contains("its directory does not exist")
        }
    }
}

@Suite struct WindowLogTests {
    @Test func describesAWindowWithSharesAndLosses() {
        var window = WindowSummary(start: 1_725_537_600_000_000, length: 900_000_000)
        window.total = 4
        window.stageCounts[Int(Stage.postSYN.rawValue)] = 1
        window.stageCounts[Int(Stage.none.rawValue)] = 3
        window.excluded = 2
        var counters = LiveCounters()
        counters.lost = 5
        let line = LiveSampler.describe(window, counters: counters)
        #expect(line.hasPrefix("window 2024-09-05T12:00Z: 4 connections (post_syn 25.0%"))
        #expect(line.contains("none 75.0%"))
        #expect(line.contains("2 left out (multiple SYNs, or still open at shutdown)"))
        #expect(line.contains("lost messages so far 5"))
    }
}
