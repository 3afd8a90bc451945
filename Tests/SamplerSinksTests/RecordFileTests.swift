import SystemPackage
import Foundation
import SamplerSinks
import Testing

@Suite struct RecordFileTests {
    /// A file left by a crash in the middle of a write ends in a torn record: opening it
    /// cuts that back to the last whole line, so the next record is not glued to it.
    @Test(arguments: [
        ("old\none\ntorn {\"first", "old\none\n"),
        ("torn, not one newline", ""),
        ("whole\n", "whole\n"),
        (String(repeating: "x", count: 100) + "\n" + String(repeating: "y", count: 200_000), String(repeating: "x", count: 100) + "\n"),
    ])
    func aTornTailIsCutBackToTheLastWholeLine(before: String, kept: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sampler-torn-\(getpid())-\(before.count)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("records.jsonl").path
        try before.write(toFile: path, atomically: false, encoding: .utf8)

        let file = try RecordFile(path: path)
        let cut = before.utf8.count - kept.utf8.count
        #expect(file.lastCut == Int64(cut))
        #expect(file.tornTailsCut == (cut > 0 ? 1 : 0))
        #expect(file.tornBytesCut == UInt64(cut))
        #expect((file.cutMessage != nil) == (cut > 0))
        file.append { $0.append(contentsOf: "new\n".utf8) }
        file.flush()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == kept + "new\n")

        // SIGHUP's reopen checks again.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
        handle.write(Data("half a rec".utf8))
        try handle.close()
        try file.reopen()
        #expect(file.lastCut == 10)
        #expect(file.tornTailsCut == (cut > 0 ? 2 : 1))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == kept + "new\n")
    }

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
        #expect(file.failure == .noSpace)
        #expect(file.writeErrors == 1)
        #expect(file.buffer.count == line.count, "a failed write keeps the line")
        var kept = 1
        while file.append({ $0.append(contentsOf: line) }) { kept += 1 }
        #expect(kept == RecordFile.maximumBuffered / line.count + 1)
        #expect(!file.append { $0.append(contentsOf: line) })
        #expect(file.recordsDropped == 2)
        #expect(file.buffer.count == kept * line.count, "only whole lines wait")
        #expect(file.recordsWaiting == kept)
        // The end: what still cannot be written is dropped and counted, not forgotten.
        #expect(file.finish() == kept)
        #expect(file.recordsDropped == UInt64(2 + kept))
        #expect(file.bytesWaiting == 0 && file.recordsWaiting == 0)
    }

    /// A disk that fills in the middle of a write takes half a line: the rest goes first
    /// when space returns; if it never does, `finish` cuts the half off, so that the file
    /// ends in a whole record, and counts the lines that did not make it. A rotation
    /// while half a line is out moves the whole line to the new file.
    @Test(.enabled(if: getuid() == 0, "mounts a small tmpfs: run as root (CI does)"))
    func aDiskThatFillsInTheMiddleOfALineLeavesOnlyWholeLines() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sampler-halfline-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try #require(mount("sampler-test", directory.path, "tmpfs", 0, "size=64k") == 0, "mount: \(errno)")
        defer {
            umount(directory.path)
            try? FileManager.default.removeItem(at: directory)
        }
        let path = directory.appendingPathComponent("records.jsonl").path
        let file = try RecordFile(path: path)
        // Lines of 10,000 bytes, numbered: 64 KiB holds six and a half of them.
        func line(_ n: Int) -> [UInt8] { Array("\(n) ".utf8) + Array(repeating: UInt8(ascii: "x"), count: 9_998 - "\(n)".utf8.count) + [0x0A] }
        for n in 0..<10 { file.append { $0.append(contentsOf: line(n)) } }
        file.flush()
        #expect(file.failure == .noSpace)
        let full = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(full.count % 10_000 != 0, "the disk filled inside a line (\(full.count) bytes)")
        let whole = full.count / 10_000
        #expect(file.recordsWaiting == 10 - whole)
        #expect(file.bytesWaiting == 10 * 10_000 - full.count)

        // logrotate moves the file away while the disk is still full: the half line is cut
        // from the old file, and the whole line goes to the new one once space returns.
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        try file.reopen()
        #expect(file.failure == .noSpace && file.recordsWaiting == 10 - whole)
        try #require(mount("sampler-test", directory.path, "tmpfs", UInt(MS_REMOUNT), "size=1m") == 0, "remount: \(errno)")
        file.flush()
        #expect(file.failure == nil && file.recordsWaiting == 0)
        let old = try String(contentsOfFile: path + ".1", encoding: .utf8)
        let new = try String(contentsOfFile: path, encoding: .utf8)
        // (Compared as a Bool, so that a failure does not print 100 kB.)
        let oldHoldsTheFirst = old == (0..<whole).map { String(decoding: line($0), as: UTF8.self) }.joined()
        let newHoldsTheRest = new == (whole..<10).map { String(decoding: line($0), as: UTF8.self) }.joined()
        #expect(oldHoldsTheFirst, "the old file: \(old.utf8.count) bytes, \(whole) whole lines expected")
        #expect(newHoldsTheRest, "the new file: \(new.utf8.count) bytes, \(10 - whole) whole lines expected")

        // The disk fills again, and sampler stops before space returns.
        try #require(mount("sampler-test", directory.path, "tmpfs", UInt(MS_REMOUNT), "size=\(200 << 10)") == 0, "remount: \(errno)")
        for n in 10..<30 { file.append { $0.append(contentsOf: line(n)) } }
        file.flush()
        #expect(file.failure == .noSpace)
        let lost = file.finish()
        let after = try String(contentsOfFile: path, encoding: .utf8)
        let lines = after.split(separator: "\n", omittingEmptySubsequences: false)
        let endsWhole = after.hasSuffix("\n")
        #expect(endsWhole, "no half line is left at the end (\(after.utf8.count) bytes)")
        #expect(lines.dropLast().allSatisfy { $0.utf8.count == 9_999 })
        #expect(lines.count - 1 + lost == 20 + 10 - whole, "every line is either in the file or counted as dropped")
        #expect(lost > 0 && file.recordsDropped == UInt64(lost))
    }

    @Test func aMissingDirectoryIsAClearError() {
        #expect {
            _ = try RecordFile(path: "/nonexistent-sampler-dir/records.jsonl")
        } throws: { error in
            "\(error)".contains("its directory does not exist")
        }
    }
}
