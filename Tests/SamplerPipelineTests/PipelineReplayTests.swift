import Foundation
import SamplerClassifier
import SamplerSinks
import SamplerTestSupport
import SamplerWire
import Synchronization
import Testing
@testable import SamplerPipeline

/// The threaded pipeline over replayed NFLOG datagrams (the real fixture, copied into
/// distinct connections): whatever the number of shards, the records are exactly those
/// of one classifier over the same packets. Also run under ThreadSanitizer.
@Suite struct PipelineReplayTests {
    static let frames = NflogReplay.distinctFrames(copies: 100)
    static let datagrams = NflogReplay.datagrams(of: frames)

    /// One classifier, in order: the reference.
    static let reference: [String] = {
        var classifier = Classifier()
        var lines: [String] = []
        let emit = { (record: ConnectionRecord) in
            var buffer: [UInt8] = []
            JSONLines.append(record, to: &buffer)
            lines.append(String(decoding: buffer, as: UTF8.self))
        }
        for packet in NflogReplay.packets(of: frames) { classifier.ingest(packet, emit: emit) }
        classifier.finishAll(emit: emit)
        return lines.sorted()
    }()

    struct Outcome {
        var lines: [String]
        var counters: LiveCounters
        /// Each window the writer closed, as `describe` was given it, and the log lines.
        var windows: [WindowSummary]
        var logged: [String]
    }

    func replay(shards: Int, ringSize: Int = 16384, startBeforeFeeding: Bool = true) throws -> Outcome {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sampler-pipeline-\(getpid())-\(shards)-\(ringSize).jsonl").path
        unlink(path)
        defer { unlink(path) }
        var options = Pipeline.Options(ringSize: ringSize)
        options.shards = shards
        options.followWallClock = false
        let counters: LiveCounters
        let windows = Mutex<[WindowSummary]>([]), logged = Mutex<[String]>([])
        do {
            let pipeline = try Pipeline(options: options, output: try RecordFile(path: path), start: 0, log: { line in logged.withLock { $0.append(line) } }) {
                window, _ in
                windows.withLock { $0.append(window) }
                return "window \(window.start) \(window.total) \(window.excluded)"
            }
            if startBeforeFeeding { try pipeline.start() }
            for datagram in Self.datagrams {
                datagram.withUnsafeBytes { pipeline.dispatch(RawSpan(_unsafeBytes: $0), now: 0) }
            }
            if !startBeforeFeeding { try pipeline.start() }
            pipeline.finish()
            counters = pipeline.counters()
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return Outcome(lines: text.split(separator: "\n").map { String($0) + "\n" }.sorted(), counters: counters,
                       windows: windows.withLock { $0 }, logged: logged.withLock { $0 })
    }

    @Test(arguments: [1, 2, 4])
    func shardsGiveTheSameRecordsAsOneClassifier(shards: Int) throws {
        #expect(Self.reference.count == 1300)  // 13 connections × 100 copies
        let outcome = try replay(shards: shards)
        #expect(outcome.lines == Self.reference)
        #expect(outcome.counters[.messages] == UInt64(Self.frames.count))
        #expect(outcome.counters[.packets] == UInt64(Self.frames.count))
        #expect(outcome.counters[.records] == 1300 && outcome.counters[.ringDrops] == 0)
        // The connections still open when the replay ends are written, but left out of
        // the shares: their outcome is unknown.
        #expect(outcome.counters.outcomes.total + outcome.counters.outcomes.excluded == 1300)
        #expect(outcome.counters.outcomes.excluded == outcome.counters.outcomes.count(CloseReason.shutdown))
        #expect(outcome.counters.outcomes.excluded > 0)
        // Every record is in one window line: the windows the writer describes, in time
        // order, add up to all of them, and each description is what was logged. (How many
        // windows depends on when the writer's wall clock closes the first: one or more.)
        #expect(!outcome.windows.isEmpty)
        #expect(outcome.windows.map { $0.total + $0.excluded }.reduce(0, +) == 1300)
        #expect(zip(outcome.windows, outcome.windows.dropFirst()).allSatisfy { $0.start < $1.start })
        let described = outcome.windows.map { "window \($0.start) \($0.total) \($0.excluded)" }
        #expect(outcome.logged.filter { $0.hasPrefix("window ") } == described, "\(outcome.logged)")
    }

    /// A full ring drops the newest summary and counts it; what was queued is classified.
    @Test func aFullRingDropsTheNewestAndCountsThem() throws {
        let outcome = try replay(shards: 1, ringSize: 64, startBeforeFeeding: false)
        #expect(outcome.counters[.ringDrops] == UInt64(Self.frames.count - 64))
        #expect(outcome.counters[.packets] == 64)
        // The first 64 packets are the fixture's first copy: its 13 connections, whole.
        #expect(outcome.lines.count == 13)
    }

    @Test func shardsSplitConnectionsEvenly() throws {
        var options = Pipeline.Options(ringSize: 16384)
        options.shards = 4
        let pipeline = try Pipeline(options: options, output: try RecordFile(path: "/dev/null"), start: 0, log: { _ in }) { _, _ in "" }
        var perShard = [0, 0, 0, 0]
        for packet in NflogReplay.packets(of: Self.frames) where packet.flags.contains(.syn) && !packet.flags.contains(.ack) {
            perShard[pipeline.shardIndex(packet.key)] += 1
        }
        let mean = Double(perShard.reduce(0, +)) / 4
        for count in perShard { #expect(abs(Double(count) - mean) < mean * 0.25, "\(perShard)") }
    }
}
