import Foundation
import Testing
@testable import SamplerClickHouse

/// The spool on a real directory: order, durability across a reopen, the limit, the lock.
@Suite struct SpoolTests {
    final class Directory {
        let path: String
        init() {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("sampler-spool-\(getpid())-\(UUID().uuidString)").path
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
        var files: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
    }

    func body(_ records: Int, tag: String) -> [UInt8] {
        Array((0..<records).map { "{\"row\":\($0),\"tag\":\"\(tag)\"}\n" }.joined().utf8)
    }

    @Test func batchesComeBackInOrderAfterAReopenAndHalfWrittenOnesAreGone() throws {
        let directory = Directory()
        do {
            let spool = try Spool(directory: directory.path, limitBytes: 1 << 20)
            let first = spool.nextID(now: 1_000), second = spool.nextID(now: 500)  // the clock stepped back
            #expect(first == 1_000 && second == 1_001)
            try spool.add(id: second, records: 2, body: body(2, tag: "b"))
            try spool.add(id: first, records: 3, body: body(3, tag: "a"))
            #expect(spool.depth.batches == 2 && spool.depth.records == 5)
        }
        // A crash in the middle of a write leaves a temporary file behind.
        #expect(FileManager.default.createFile(atPath: directory.path + "/.00000000000000009999-1.jsonl.tmp", contents: Data("{".utf8)))
        let spool = try Spool(directory: directory.path, limitBytes: 1 << 20)
        #expect(directory.files == ["00000000000000001000-3.jsonl", "00000000000000001001-2.jsonl"])
        #expect(spool.nextID(now: 0) == 1_002, "ids keep increasing across restarts")
        let (oldest, bytes) = try #require(try spool.takeOldest())
        #expect(oldest.id == 1_000 && bytes == body(3, tag: "a"))
        spool.release(oldest)  // the insert failed: it stays first
        #expect(try spool.takeOldest()?.0.id == 1_000)
        spool.remove(oldest)
        #expect(try spool.takeOldest()?.1 == body(2, tag: "b"))
        #expect(directory.files == ["00000000000000001001-2.jsonl"])
    }

    /// A batch is written whole or not at all; one that is not (a disk fault, a hand) is
    /// moved aside at open, never sent.
    @Test func damagedBatchesAreMovedAsideAtOpen() throws {
        let directory = Directory()
        do {
            let spool = try Spool(directory: directory.path, limitBytes: 1 << 20)
            try spool.add(id: 1, records: 2, body: body(2, tag: "whole"))
            try spool.add(id: 2, records: 2, body: body(2, tag: "torn"))
            try spool.add(id: 3, records: 3, body: body(3, tag: "short"))
            #expect(spool.damaged.isEmpty)
        }
        let torn = directory.path + "/00000000000000000002-2.jsonl"
        try Data(body(2, tag: "torn").dropLast(5)).write(to: URL(fileURLWithPath: torn))
        let short = directory.path + "/00000000000000000003-3.jsonl"
        try Data(body(2, tag: "short")).write(to: URL(fileURLWithPath: short))
        let spool = try Spool(directory: directory.path, limitBytes: 1 << 20)
        #expect(spool.damaged == ["00000000000000000002-2.jsonl", "00000000000000000003-3.jsonl"])
        #expect(directory.files == ["00000000000000000001-2.jsonl", "00000000000000000002-2.jsonl.damaged", "00000000000000000003-3.jsonl.damaged"])
        #expect(spool.depth.batches == 1 && spool.depth.records == 2)
        #expect(try spool.takeOldest()?.1 == body(2, tag: "whole"))
    }

    @Test func aFullSpoolDropsTheOldestButNotTheOneBeingSentAndCountsThem() throws {
        let directory = Directory()
        let size = body(10, tag: "x").count
        let spool = try Spool(directory: directory.path, limitBytes: size * 3)
        for id in 1...3 { try spool.add(id: UInt64(id), records: 10, body: body(10, tag: "x")) }
        #expect(spool.depth.droppedRecords == 0)
        let (sending, _) = try #require(try spool.takeOldest())
        #expect(sending.id == 1)
        // Two more: batch 1 is being sent, so 2 and 3 go.
        for id in 4...5 { try spool.add(id: UInt64(id), records: 10, body: body(10, tag: "x")) }
        #expect(spool.depth.droppedRecords == 20)
        #expect(directory.files == ["00000000000000000001-10.jsonl", "00000000000000000004-10.jsonl", "00000000000000000005-10.jsonl"])
        spool.remove(sending)
        #expect(try spool.takeOldest()?.0.id == 4)
        #expect(spool.depth.bytes == size * 2)
    }

    @Test func aBatchThatVanishedIsDroppedAndCountedNotRetriedForever() throws {
        let directory = Directory()
        let spool = try Spool(directory: directory.path, limitBytes: 1 << 20)
        try spool.add(id: 1, records: 4, body: body(4, tag: "gone"))
        try spool.add(id: 2, records: 2, body: body(2, tag: "kept"))
        try FileManager.default.removeItem(atPath: directory.path + "/00000000000000000001-4.jsonl")
        #expect { _ = try spool.takeOldest() } throws: { "\($0)".hasPrefix("cannot read the batch ") }
        #expect(spool.depth.droppedRecords == 4)
        #expect(try spool.takeOldest()?.1 == body(2, tag: "kept"))
    }

    @Test func aSecondSamplerCannotShareTheSpool() throws {
        let directory = Directory()
        let first = try Spool(directory: directory.path, limitBytes: 1 << 20)
        #expect { _ = try Spool(directory: directory.path, limitBytes: 1 << 20) } throws: { error in
            "\(error)".contains("is in use by another sampler")
        }
        _ = first
        #expect { _ = try Spool(directory: "/proc/sampler-spool", limitBytes: 1 << 20) } throws: { error in
            "\(error)".hasPrefix("cannot use the spool directory /proc/sampler-spool")
        }
    }
}
