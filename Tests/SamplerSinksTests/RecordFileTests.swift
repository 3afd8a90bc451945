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
    }

    @Test func aMissingDirectoryIsAClearError() {
        #expect {
            _ = try RecordFile(path: "/nonexistent-sampler-dir/records.jsonl")
        } throws: { error in
            "\(error)".contains("its directory does not exist")
        }
    }
}
