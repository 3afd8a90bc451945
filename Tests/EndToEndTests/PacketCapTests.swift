import Foundation
import SamplerSubprocess
import Testing

/// The packet cap is one fact: the rules log the first `packets` of a connection and the
/// classifier finalizes it at that many (close cap, stage none), at 5 as at the maximum, 10.
/// Before, with packets = 5 every connection longer than 5 packets waited for the idle
/// timeout and became a `timeout` with a stage.
@Suite(.enabled(if: Lab.isRoot, "needs root (namespaces, iptables)"))
struct PacketCapTests {
    let sampler = samplerBinary().path

    @Test(arguments: [(5, 27), (10, 28)])
    func aLongConnectionIsCappedAtTheRulesPackets(packets: Int, index: Int) throws {
        let lab = try Lab(index: index)
        defer { lab.close() }
        let config = lab.file("sampler.conf").path
        try """
            probability = 1
            group = \(5000 + index)
            packets = \(packets)
            output = \(lab.file("records.jsonl").path)
            status_socket = \(lab.file("status.sock").path)
            idle_timeout = 1
            metrics = none
            location_database = none
            """.write(toFile: config, atomically: true, encoding: .utf8)
        try lab.run([sampler, "rules", "install", "--config", config], in: lab.server)
        let shown = try lab.run([sampler, "rules", "show", "--config", config], in: lab.server)
        #expect(shown.stdout.contains("--connbytes \(packets + 1) "), "\(shown.stdout)")
        let run = try lab.spawn([sampler, "run", "--config", config], in: lab.server, log: "run.log")
        try #require(lab.wait(seconds: 10) { lab.read("run.log").contains("reading NFLOG group") }, "\(lab.read("run.log"))")
        _ = try lab.spawn(["python3", "-c", Traffic.server, lab.serverV4, lab.serverV6], in: lab.server, log: "server.log")
        try #require(lab.wait(seconds: 10) { lab.read("server.log").contains("ready") })
        try lab.run(["python3", "-c", Traffic.client, lab.serverV4, "4", "46000", "rest"], in: lab.client)
        // The long exchange (twelve requests) from port 46005.
        #expect(lab.wait(seconds: 10) { lab.read("records.jsonl").contains("\"sport\":46005,") }, "\(lab.read("records.jsonl"))")
        lab.stop(run)
        #expect(run.wait() == 0, "\(lab.read("run.log"))")

        let records = try lab.read("records.jsonl").split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let long = try #require(records.first { $0["sport"] as? Int == 46005 })
        #expect(long["packets"] as? Int == packets, "\(long)")
        #expect(long["close"] as? String == "cap", "\(long)")
        #expect(long["stage"] as? String == "none", "\(long)")
        #expect(records.allSatisfy { ($0["packets"] as? Int ?? 99) <= packets }, "\(records)")
        #expect(lab.read("run.log").contains(" 0 orphans"), "nothing logged beyond the cap: \(lab.read("run.log"))")
    }

    @Test func moreThanTheClassifierKeepsIsRefused() throws {
        let result = try Subprocess.run([sampler, "config", "check", "/dev/stdin"], input: "packets = 20\n")
        #expect(result.status == 78)
        #expect(result.stderr.contains("packets = 20: a whole number of packets, 1 to 10"), "\(result.stderr)")
    }
}
