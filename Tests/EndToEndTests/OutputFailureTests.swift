import Foundation
import SamplerSubprocess
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What happens when the records cannot be written: a full disk (a tmpfs of 64 KiB under
/// real traffic) is CRITICAL with the reason while it lasts and loses nothing once space
/// returns, with no torn line; a closed standard output stops `sampler run` cleanly.
@Suite(.enabled(if: Lab.isRoot, "needs root for network namespaces, mounts and iptables: run as root (CI does)"))
struct OutputFailureTests {
    let sampler = samplerBinary().path

    func status(_ lab: Lab) throws -> (code: Int32, problems: [String], daemon: [String: Any]) {
        let config = lab.file("status.conf")
        try "group = 5035\nstatus_socket = \(lab.file("status.sock").path)\n".write(to: config, atomically: true, encoding: .utf8)
        let result = try lab.run([sampler, "status", "--json", "--config", config.path, "--skip-rules"], in: lab.server, allowFailure: true)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)\(result.stderr)")
        return (result.status, object["problems"] as? [String] ?? [], object["daemon"] as? [String: Any] ?? [:])
    }

    /// sampler writing its records to a tmpfs of 64 KiB, with rules that sample every
    /// connection: the disk, the records file and the run. `closeSmallDisk` cleans up.
    func runOnASmallDisk(_ lab: Lab, group: Int) throws -> (disk: URL, output: URL, run: Subprocess.Child) {
        let disk = lab.file("disk")
        try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
        try lab.run(["mount", "-t", "tmpfs", "-o", "size=64k", "sampler-test", disk.path])
        try lab.run([sampler, "rules", "install", "--config", "/dev/null", "--probability", "1", "--group", "\(group)", "--family", "4"], in: lab.server)
        let output = disk.appendingPathComponent("records.jsonl")
        let run = try lab.spawn([sampler, "run", "--config", "/dev/null", "--group", "\(group)", "--output", output.path, "--idle-timeout", "1",
                                 "--status-socket", lab.file("status.sock").path, "--metrics", "none"], in: lab.server, log: "run.log")
        try #require(lab.wait(seconds: 10) { lab.read("run.log").contains("reading NFLOG group") }, "\(lab.read("run.log"))")
        return (disk, output, run)
    }

    func closeSmallDisk(_ lab: Lab) {
        // Lazily: sampler may still hold the file if the test failed before stopping it.
        _ = try? lab.run(["umount", "-l", lab.file("disk").path], allowFailure: true)
        lab.close()
    }

    @Test func aFullDiskIsCriticalAndLosesNothingOnceSpaceReturns() throws {
        let lab = try Lab(index: 35)
        defer { closeSmallDisk(lab) }
        let (disk, output, run) = try runOnASmallDisk(lab, group: 5035)

        // 3,000 connections (hping3 counts its source port up), about 1 MB of records:
        // the 64 KiB disk fills after a couple of hundred.
        try lab.run(["hping3", "-q", "-S", "-p", "9", "-s", "20000", "-i", "u300", "-c", "3000", lab.serverV4], in: lab.client, allowFailure: true)
        var full: (code: Int32, problems: [String], daemon: [String: Any]) = (0, [], [:])
        #expect(lab.wait(seconds: 20) {
            full = (try? status(lab)) ?? full
            return full.code == 2
        }, "\(full)")
        #expect(full.problems.first?.contains("cannot write records to \(output.path): No space left on device") == true, "\(full.problems)")
        #expect(full.daemon["write_failure"] as? String == "No space left on device")
        #expect(lab.read("run.log").contains("No space left on device"), "\(lab.read("run.log"))")

        // Space returns: everything waiting is written, the first line completed first.
        try lab.run(["mount", "-o", "remount,size=16m", disk.path])
        var after: (code: Int32, problems: [String], daemon: [String: Any]) = (0, [], [:])
        #expect(lab.wait(seconds: 20) {
            after = (try? status(lab)) ?? after
            return after.code == 0 && (after.daemon["records"] as? Int ?? 0) >= 3000
        }, "\(after)")
        #expect(lab.wait(seconds: 5) { lab.read("run.log").contains("works again") }, "\(lab.read("run.log"))")
        lab.stop(run)
        #expect(run.wait() == 0, "\(lab.read("run.log"))")

        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(text.hasSuffix("\n"))
        let parsed = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(parsed.count == lines.count, "every line is a whole record")
        #expect(Set(parsed.compactMap { $0["sport"] as? Int }) == Set(20000..<23000), "every connection has its record, once")
        #expect(lines.count == 3000)
        let stop = lab.read("run.log")
        #expect(stop.contains("0 records dropped"), "\(stop)")
    }

    /// Stopped while the disk is still full: what waited in memory cannot be kept, so it
    /// is counted as dropped in the stop line, the exit status says the sample is not
    /// whole, and the file still ends in a whole record.
    @Test func aStopWhileTheDiskIsFullCountsWhatIsLost() throws {
        let lab = try Lab(index: 45)
        defer { closeSmallDisk(lab) }
        let (_, output, run) = try runOnASmallDisk(lab, group: 5045)
        try lab.run(["hping3", "-q", "-S", "-p", "9", "-s", "20000", "-i", "u300", "-c", "1500", lab.serverV4], in: lab.client, allowFailure: true)
        // Every connection finalized (1 s idle), most of them waiting for the full disk.
        #expect(lab.wait(seconds: 20) { lab.read("run.log").contains("No space left on device") }, "\(lab.read("run.log"))")
        usleep(2_500_000)
        lab.stop(run)
        let log = lab.read("run.log")
        #expect(run.wait() == 74, "\(log)")

        let stop = try #require(log.split(separator: "\n").first { $0.hasPrefix("sampler: stopped;") }, "\(log)")
        #expect(log.split(separator: "\n").last == stop, "the stop line is the log's last: \(log)")
        // "sampler: stopped; 1500 messages, 1500 records made, ...": each count by its name.
        var counts: [String: Int] = [:]
        for part in stop.dropFirst("sampler: stopped; ".count).split(separator: ", ") {
            let words = part.split(separator: " ", maxSplits: 1)
            if words.count == 2, let n = Int(words[0]) { counts[String(words[1])] = n }
        }
        let records = try #require(counts["records made"], "\(stop)")
        let dropped = try #require(counts["records dropped (output not writable)"], "\(stop)")
        #expect(records == 1500, "\(stop)")
        #expect(dropped > 0, "\(stop)")
        #expect(log.contains("records that waited for \(output.path) could not be written (No space left on device) and are lost"), "\(log)")
        #expect(log.contains("sampler run: \(dropped) records were dropped because \(output.path) could not be written"), "\(log)")

        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        #expect(text.hasSuffix("\n"), "the file ends in a whole record")
        let lines = text.split(separator: "\n")
        #expect(lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil }, "every line is a whole record")
        #expect(lines.count + dropped == records, "each record is in the file or counted as dropped: \(lines.count) + \(dropped)")
    }

    @Test func aClosedStandardOutputStopsRunCleanly() throws {
        let lab = try Lab(index: 36)
        defer { lab.close() }
        try lab.run([sampler, "rules", "install", "--config", "/dev/null", "--probability", "1", "--group", "5036", "--family", "4"], in: lab.server)
        let script = """
            \(sampler) run --config /dev/null --group 5036 --output - --idle-timeout 1 --status-socket \(lab.file("status.sock").path) \
              --metrics none 2> \(lab.file("run.log").path) | head -n 1 > \(lab.file("first.jsonl").path)
            echo "${PIPESTATUS[0]}" > \(lab.file("status.txt").path)
            """
        let pipeline = try lab.spawn(["bash", "-c", script], in: lab.server, log: "pipeline.log")
        try #require(lab.wait(seconds: 10) { lab.read("run.log").contains("reading NFLOG group") }, "\(lab.read("run.log"))")
        let traffic = try lab.spawn(["hping3", "-q", "-S", "-p", "9", "-i", "u20000", "-c", "500", lab.serverV4], in: lab.client, log: "hping.log")
        // Once head has its line, no more traffic: sampler notices the closed pipe itself.
        try #require(lab.wait(seconds: 20) { !lab.read("first.jsonl").isEmpty }, "\(lab.read("run.log"))")
        lab.stop(traffic)
        #expect(lab.wait(seconds: 10) { !pipeline.isRunning }, "\(lab.read("run.log"))")
        #expect(lab.read("first.jsonl").hasPrefix("{\"first_seen\""))
        #expect(lab.read("status.txt").trimmingCharacters(in: .whitespacesAndNewlines) == "0", "\(lab.read("run.log"))")
        let log = lab.read("run.log")
        #expect(log.contains("standard output was closed"), "\(log)")
        #expect(log.contains("sampler: stopped;"), "\(log)")
    }

    /// `classify` to a full disk through the shell's redirection: exit 74 with the count of
    /// records dropped, and the half record the last write left is cut, so the file ends
    /// in a whole line and every record is in it or counted.
    @Test func classifyToAFullDiskEndsWithAWholeLine() throws {
        let synthetic = try SyntheticCapture(connections: 3000, name: "fulldisk")
        defer { synthetic.remove() }
        let capture = synthetic.path, disk = synthetic.directory.appendingPathComponent("disk")
        try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
        try #require(try Subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "sampler-test", disk.path]).status == 0)
        defer { _ = try? Subprocess.run(["umount", "-l", disk.path]) }
        let output = disk.appendingPathComponent("records.jsonl").path
        let result = try Subprocess.run(["bash", "-c", "\(sampler) classify --quiet --location-database none \(capture) > \(output)"])
        #expect(result.status == 74, "\(result.stderr)")
        let dropped = try #require(result.stderr.firstMatch(of: /; (\d+) records dropped/).flatMap { Int($0.1) }, "\(result.stderr)")
        let text = try String(contentsOfFile: output, encoding: .utf8)
        #expect(text.last == "\n", "the file ends in a whole record")
        let lines = text.split(separator: "\n")
        #expect(lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil }, "every line is a whole record")
        #expect(lines.count + dropped == 3000, "each record is in the file or counted as dropped: \(lines.count) + \(dropped)")
    }
}
