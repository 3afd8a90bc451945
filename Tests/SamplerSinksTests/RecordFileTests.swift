import Foundation
import SamplerSinks
import Testing

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
