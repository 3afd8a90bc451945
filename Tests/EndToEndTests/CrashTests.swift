import Foundation
import SamplerSubprocess
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A crash cannot corrupt the records file: sampler killed with SIGKILL while it writes,
/// at several points, and started again on the same file, leaves a file whose every line
/// is one whole record; a file torn by a crash before is cut back to its last whole line.
@Suite(.enabled(if: Lab.isRoot, "needs root (namespaces, iptables)"))
struct CrashTests {
    let sampler = samplerBinary().path

    @Test func sigkillAtAnyPointLeavesAFileEveryReaderParses() throws {
        let lab = try Lab(index: 18)
        defer { lab.close() }
        let group = 5018
        try lab.run([sampler, "rules", "install", "--config", "/dev/null", "--probability", "1", "--group", String(group)], in: lab.server)
        let output = lab.file("records.jsonl")
        // As a crash during a write leaves it: whole records, then half of one.
        let torn = #"{"first_seen":"2026-11-20T10:00:00.000000Z","finalized":"2026-11-20T10:00:01.000000Z","src":"192.0.2.1","dport":443,"stage":"none","close":"fin","tags":[]}"#
        try (torn + "\n" + torn.prefix(40)).write(to: output, atomically: false, encoding: .utf8)

        var cuts = 0
        for round in 0..<4 {
            let run = try lab.spawn([sampler, "run", "--config", "/dev/null", "--group", String(group), "--output", output.path,
                                     "--status-socket", lab.file("status.sock").path, "--idle-timeout", "1", "--location-database", "none"],
                                    in: lab.server, log: "run\(round).log")
            try #require(lab.wait(seconds: 10) { lab.read("run\(round).log").contains("reading NFLOG group") }, "\(lab.read("run\(round).log"))")
            if lab.read("run\(round).log").contains("ended in the middle of a record") { cuts += 1 }
            // A flood of SYNs to a closed port: a connection each, written 1 s later as it
            // times out, so records are being written when the kill comes.
            let before = lab.read("records.jsonl").count
            _ = try lab.spawn(["timeout", "6", "hping3", "-S", "-p", "8080", "-i", "u300", "-s", String(10_000 + round * 10_000), "-q", lab.serverV4],
                              in: lab.client, log: "flood\(round).log")
            #expect(lab.wait(seconds: 10) { lab.read("records.jsonl").count > before + 100_000 }, "records are written in round \(round)")
            // Kill at a different moment of the writing each round.
            usleep(UInt32(37_000 * (round + 1)))
            run.signal(SIGKILL)
            run.wait()
        }
        #expect(cuts >= 1, "the file torn before the first start was cut")

        // A last, clean run: it checks the file too, and stops with a stop line.
        let last = try lab.spawn([sampler, "run", "--config", "/dev/null", "--group", String(group), "--output", output.path,
                                  "--status-socket", lab.file("status.sock").path, "--location-database", "none"], in: lab.server, log: "last.log")
        try #require(lab.wait(seconds: 10) { lab.read("last.log").contains("reading NFLOG group") })
        lab.stop(last)
        #expect(last.wait() == 0, "\(lab.read("last.log"))")

        let text = lab.read("records.jsonl")
        #expect(text.hasSuffix("\n"))
        var records = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["stage"] is String, "not one whole record: \(line.prefix(300))")
            records += 1
        }
        #expect(records > 1000, "\(records) records")
        // Every reader parses it: the report finds no line that is not a record.
        let report = try lab.run([sampler, "report", "--config", "/dev/null", output.path], allowFailure: true)
        #expect(report.status == 0 && !report.stderr.contains("not a record"), "\(report.stderr)")
    }
}
