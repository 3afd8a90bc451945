import SamplerSubprocess
import Foundation
import Testing

/// Records real NFLOG captures through the kernel and classifies them with the built
/// `sampler classify`: the two sampling rules (probability 1) in a server namespace,
/// `tcpdump -i nflog:GROUP` writing the pcap, real TCP clients in a client namespace.
@Suite(.serialized, .enabled(if: Lab.isRoot, "needs root for network namespaces and iptables: run as root (CI does)"))
struct RealCaptureTests {
    struct Expected {
        var close: String, stage: String, tags: [String], packets: Int?
    }

    /// What each client scenario must become, by source-port offset.
    static let expected: [Int: Expected] = [
        0: Expected(close: "timeout", stage: "post_syn", tags: ["timeout"], packets: 1),  // SYN to a closed port
        1: Expected(close: "fin", stage: "none", tags: [], packets: nil),  // normal exchange, FIN
        2: Expected(close: "reset", stage: "post_ack", tags: ["reset", "single_rstack"], packets: 3),  // abort before data
        3: Expected(close: "reset", stage: "post_psh", tags: ["reset", "single_rstack"], packets: nil),  // abort after data
        4: Expected(close: "reset", stage: "later", tags: ["reset", "single_rstack"], packets: nil),  // two requests, abort
        5: Expected(close: "cap", stage: "none", tags: [], packets: 10),  // long exchange
    ]

    @Test func classifiesRealConnectionsFromAnNflogCapture() throws {
        let lab = try Lab(index: 1)
        defer { lab.close() }
        let group = 4100 + Int(getpid() % 1000)
        // The two rules of the spec, section 1, with probability 1.
        try lab.run([samplerBinary().path, "rules", "install", "--config", "/dev/null", "--probability", "1", "--group", String(group)], in: lab.server)

        let capture = lab.file("nflog.pcap")
        let tcpdump = try lab.spawn(["tcpdump", "-i", "nflog:\(group)", "-U", "-w", capture.path], in: lab.server, log: "tcpdump.log")
        try #require(lab.wait(seconds: 10) { lab.read("tcpdump.log").contains("listening on") }, "tcpdump did not start: \(lab.read("tcpdump.log"))")
        _ = try lab.spawn(["python3", "-c", Traffic.server, lab.serverV4, lab.serverV6], in: lab.server, log: "server.log")
        try #require(lab.wait(seconds: 10) { lab.read("server.log").contains("ready") }, "server did not start: \(lab.read("server.log"))")

        let client = ["python3", "-c", Traffic.client]
        try lab.run(client + [lab.serverV4, "4", "41000", "closed"], in: lab.client)
        try lab.run(client + [lab.serverV6, "6", "43000", "closed"], in: lab.client)
        usleep(1_500_000)  // longer than --idle-timeout 1: the closed-port SYNs time out
        try lab.run(client + [lab.serverV4, "4", "41000", "rest"], in: lab.client)
        try lab.run(client + [lab.serverV6, "6", "43000", "rest"], in: lab.client)
        // nmap's raw SYN scan from source port 44000; the client kernel resets the SYN-ACK.
        try lab.run(["nmap", "-sS", "-n", "-Pn", "--max-retries", "0", "-g", "44000", "-p", "8080", lab.serverV4], in: lab.client)
        usleep(1_500_000)  // past the grace period of the last RSTs
        lab.stop(tcpdump)

        let result = try lab.run([samplerBinary().path, "classify", "--idle-timeout", "1", capture.path])
        let records = try result.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        var byPort: [Int: [String: Any]] = [:]
        for record in records { byPort[record["sport"] as! Int] = record }

        for (family, base, src, dst) in [(4, 41000, lab.clientV4, lab.serverV4), (6, 43000, lab.clientV6, lab.serverV6)] {
            for (offset, want) in Self.expected.sorted(by: { $0.key < $1.key }) {
                let record = try #require(byPort[base + offset], "no record for IPv\(family) scenario \(offset); got \(result.stdout)")
                let context = "IPv\(family) scenario \(offset): \(record)"
                #expect(record["family"] as? Int == family, "\(context)")
                #expect(record["src"] as? String == src, "\(context)")
                #expect(record["dst"] as? String == dst, "\(context)")
                #expect(record["close"] as? String == want.close, "\(context)")
                #expect(record["stage"] as? String == want.stage, "\(context)")
                #expect(record["tags"] as? [String] == want.tags, "\(context)")
                if let packets = want.packets { #expect(record["packets"] as? Int == packets, "\(context)") }
                #expect((record["flags"] as? [String])?.first == "S", "\(context)")
            }
        }
        let fin = try #require(byPort[41001])
        #expect((fin["flags"] as? [String])?.contains("FA") == true)
        #expect((fin["syn"] as? [String: Any])?["options"] as? [Int] == [2, 4, 8, 1, 3])  // Linux's SYN
        #expect((try #require(byPort[41003])["payload_bytes"] as? Int) ?? 0 > 0)

        let nmap = try #require(byPort[44000], "no record for the nmap probe")
        #expect(nmap["close"] as? String == "reset")
        #expect(nmap["stage"] as? String == "post_syn")
        let nmapTags = Set(nmap["tags"] as? [String] ?? [])
        #expect(nmapTags.isSuperset(of: ["nmap", "reset", "single_rst", "ipid_mismatch"]), "\(nmapTags)")
        #expect(result.stderr.contains("post_syn"))  // the summary table

        // The same capture cut short: the complete records are written, then the error
        // names the file and the byte offset.
        let bytes = try Data(contentsOf: capture)
        let cut = lab.file("cut.pcap")
        try bytes.prefix(bytes.count - 7).write(to: cut)
        let damaged = try lab.run([samplerBinary().path, "classify", "--idle-timeout", "1", cut.path], allowFailure: true)
        #expect(damaged.status == 1)
        #expect(damaged.stderr.contains("\(cut.path): file is cut short: the record at byte"), "\(damaged.stderr)")
        #expect(damaged.stdout.split(separator: "\n").count >= records.count - 1)
    }
}
