import Foundation
import SamplerSubprocess
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A SYN flood from random spoofed sources at the sampling rules with probability 1: the
/// connection table stops at max_connections, the refused SYNs are counted, resident
/// memory stays flat once the table is full, and status keeps answering.
@Suite(.enabled(if: Lab.isRoot, "needs root for network namespaces and iptables: run as root (CI does)"))
struct FloodTests {
    let sampler = samplerBinary().path

    func residentKiB(_ pid: pid_t) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? -1
    }

    func statusJSON(_ lab: Lab, _ config: String) throws -> (code: Int32, daemon: [String: Any]) {
        let result = try lab.run([sampler, "status", "--json", "--config", config, "--skip-rules"], in: lab.server, allowFailure: true)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)\(result.stderr)")
        return (result.status, try #require(object["daemon"] as? [String: Any], "\(result.stdout)"))
    }

    /// hping3 SYNs from random sources, as fast as it goes, `count` of them.
    func flood(_ lab: Lab, count: Int) throws {
        try lab.run(["hping3", "-q", "-S", "-p", "8080", "--rand-source", "-i", "u20", "-c", String(count), lab.serverV4],
                    in: lab.client, allowFailure: true)
    }

    @Test func aSYNFloodFillsTheTableThenIsRefusedWithFlatMemory() throws {
        let lab = try Lab(index: 34)
        defer { lab.close() }
        let config = lab.file("sampler.conf").path
        try """
            probability = 1
            group = 5034
            output = \(lab.file("records.jsonl").path)
            status_socket = \(lab.file("run/status.sock").path)
            max_connections = 2000
            shards = 2
            metrics = none
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let run = try lab.spawn([sampler, "run", "--install-rules", "--config", config], in: lab.server, log: "run.log")
        try #require(lab.wait(seconds: 10) { lab.read("run.log").contains("reading NFLOG group 5034") }, "\(lab.read("run.log"))")

        try flood(lab, count: 10_000)
        #expect(lab.wait(seconds: 10) { ((try? statusJSON(lab, config).daemon["open_connections"]) as? Int) == 2000 })
        let full = residentKiB(run.pid)

        // While the next flood runs, status still answers.
        let second = try lab.spawn(["hping3", "-q", "-S", "-p", "8080", "--rand-source", "-i", "u20", "-c", "20000", lab.serverV4],
                                   in: lab.client, log: "flood.log")
        let during = try statusJSON(lab, config)
        #expect(during.code == 0 || during.code == 1)
        #expect(lab.wait(seconds: 30) { !second.isRunning })
        let (code, daemon) = try statusJSON(lab, config)
        let after = residentKiB(run.pid)

        #expect(daemon["open_connections"] as? Int == 2000)
        let refused = try #require(daemon["refused"] as? Int), opened = try #require(daemon["opened"] as? Int)
        let drops = (daemon["ring_drops"] as? Int ?? 0) + (daemon["lost"] as? Int ?? 0)
        #expect(opened == 2000)
        #expect(refused + opened + drops >= 25_000, "\(daemon)")
        #expect(code == 1, "the full table is a WARNING")
        // Flat: 20,000 more SYNs at a full table cost (next to) no memory.
        #expect(full > 0 && after - full < 4096, "resident \(full) KiB when full, \(after) KiB after 20,000 more SYNs")
        lab.stop(run)
        #expect(run.wait() == 0, "\(lab.read("run.log"))")
    }
}
