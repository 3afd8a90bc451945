import Foundation
import SamplerSubprocess
import Testing

/// Through the kernel: a middlebox next to the client injects resets, and the live records
/// carry the signature and evidence that the injected packets imply.
@Suite(.enabled(if: Lab.isRoot && SignatureFixture.isAvailable, "needs root (namespaces) and python3-scapy"))
struct LiveSignatureTests {
    let sampler = samplerBinary().path

    @Test func injectedResetsShowAsTheStudysSignatureWithTheirGaps() throws {
        let lab = try Lab(index: 17)
        defer { lab.close() }
        let group = 5017
        try lab.run([sampler, "rules", "install", "--config", "/dev/null", "--probability", "1", "--group", String(group)], in: lab.server)
        let run = try lab.spawn([sampler, "run", "--config", "/dev/null", "--group", String(group), "--output", lab.file("records.jsonl").path,
                                 "--status-socket", lab.file("status.sock").path, "--location-database", "none"], in: lab.server, log: "run.log")
        try #require(lab.wait(seconds: 10) { lab.read("run.log").contains("reading NFLOG group") }, "\(lab.read("run.log"))")
        _ = try lab.spawn(["python3", "-c", Traffic.server, lab.serverV4, lab.serverV6], in: lab.server, log: "server.log")
        try #require(lab.wait(seconds: 10) { lab.read("server.log").contains("ready") })
        for (address, family, port) in [(lab.serverV4, 4, 47000), (lab.serverV6, 6, 47001)] {
            let client = try lab.run(["/usr/bin/python3", "-c", Traffic.injectingClient, lab.client, address, String(family), String(port)],
                                     in: lab.client)
            #expect(client.stdout.contains("done"), "\(client.stdout) \(client.stderr)")
        }
        #expect(lab.wait(seconds: 10) { lab.read("records.jsonl").split(separator: "\n").count >= 2 }, "\(lab.read("records.jsonl"))")
        lab.stop(run)
        #expect(run.wait() == 0, "\(lab.read("run.log"))")

        let records = try lab.read("records.jsonl").split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        for (family, port) in [(4, 47000), (6, 47001)] {
            let record = try #require(records.first { $0["sport"] as? Int == port }, "no record for IPv\(family): \(records)")
            let context = "IPv\(family): \(record)"
            #expect(record["close"] as? String == "reset", "\(context)")
            #expect(record["stage"] as? String == "post_psh", "\(context)")
            // Two RSTs without ACK, acknowledgement numbers 0 and the client's.
            #expect((record["tags"] as? [String])?.contains("acknumdiff0") == true, "\(context)")
            #expect(record["signature"] as? String == "psh_rst_rst0", "\(context)")
            // TTL 200 against the client's 64; IP IDs 30,000 (and one) from the data packet's,
            // a few more from the nearest of the client's other packets.
            #expect(record["rst_ttl_gap"] as? Int == 136, "\(context)")
            if family == 4 {
                let gap = try #require(record["rst_ipid_gap"] as? Int, "\(context)")
                #expect((29_990...30_001).contains(gap), "\(context)")
            } else {
                #expect(record["rst_ipid_gap"] == nil, "\(context)")
            }
        }
    }
}
