import Foundation
import SamplerSubprocess
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A fleet on a real sharded ClickHouse (scripts/clickhouse-cluster: Debian's 18.16, three
/// servers as three shards, each in its namespace): four sampler hosts, each a lab of its
/// own with its rules, its clients' traffic and its spool, insert into their shards' local
/// tables (docs/clickhouse.md, "Where hosts insert"). During the run one host's shard is
/// killed and later restarted, and that host is restarted while its shard is down. At the
/// end every record of every host's file is in the cluster exactly once, each host's
/// status says what it shipped and what waits, and the fleet report over the Distributed
/// table equals the report over the union of the files.
@Suite(.enabled(if: Lab.isRoot && ClickHouseServer.isInstalled,
                "needs root (namespaces) and clickhouse-server (apt-get install clickhouse-server; scripts/test installs it)"))
struct ClusterTests {
    let sampler = samplerBinary().path
    static let script = ClickHouseServer.root.appendingPathComponent("scripts/clickhouse-cluster").path

    struct Host {
        let lab: Lab
        let id: String
        let group: Int
        let shard: Int
        var config: String { lab.file("sampler.conf").path }
        var records: [String] { lab.read("records.jsonl").split(separator: "\n").map(String.init) }
    }

    @discardableResult
    func cluster(_ arguments: [String]) throws -> String {
        let result = try Subprocess.run([Self.script] + arguments)
        guard result.status == 0 else { throw Lab.CommandFailed(command: arguments, status: result.status, output: result.stdout + result.stderr) }
        return result.stdout
    }

    func start(_ host: Host, log: String) throws -> Subprocess.Child {
        let run = try host.lab.spawn([sampler, "run", "--config", host.config], in: host.lab.server, log: log)
        try #require(host.lab.wait(seconds: 10) { host.lab.read(log).contains("reading NFLOG group") }, "\(host.lab.read(log))")
        return run
    }

    /// The `clickhouse` object of a host's `status --json`.
    func shipping(_ host: Host) -> [String: Any] {
        guard let result = try? host.lab.run([sampler, "status", "--json", "--config", host.config, "--skip-rules"], in: host.lab.server, allowFailure: true),
              let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else { return [:] }
        return shippingState(object)
    }

    /// Connections from the host's own clients: SYNs that hping3's kernel resets (post_syn
    /// resets), and the scenarios of `Traffic.client` (every stage, both families).
    func traffic(_ host: Host, round: Int) throws {
        let base = 20_000 + round * 2_000
        try host.lab.run(["timeout", "20", "hping3", "-S", "-p", "8080", "-i", "u3000", "-c", "60", "-s", String(base), "-q", host.lab.serverV4],
                         in: host.lab.client, allowFailure: true)
        for (address, family, offset) in [(host.lab.serverV4, "4", 1000), (host.lab.serverV6, "6", 1500)] {
            try host.lab.run(["python3", "-c", Traffic.client, address, family, String(base + offset), "rest"], in: host.lab.client)
        }
    }

    @Test func fourHostsOnThreeShardsLoseNothingAcrossAShardOutageAndAHostRestart() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sampler-cluster-\(getpid())")
        try? FileManager.default.removeItem(at: directory)
        let dir = directory.path
        try cluster(["start", dir, "--shards", "3", "--namespace-prefix", "scl\(getpid() % 100_000)", "--subnet", "10.251.61"])
        defer {
            _ = try? Subprocess.run([Self.script, "stop", dir, "--purge"])
            try? FileManager.default.removeItem(at: directory)
        }
        try cluster(["schema", dir])
        let password = directory.appendingPathComponent("password").path

        var hosts: [Host] = []
        defer { for host in hosts { host.lab.close() } }
        for i in 0..<4 {
            let lab = try Lab(index: 51 + i)
            let id = "fleet-\(i)"
            let placed = try cluster(["shard", dir, id]).split(separator: " ").map(String.init)
            let shard = try #require(Int(placed[0])), url = placed[1].trimmingCharacters(in: .whitespacesAndNewlines)
            hosts.append(Host(lab: lab, id: id, group: 5051 + i, shard: shard))
            _ = try cluster(["attach", dir, lab.server])
            try lab.run([sampler, "rules", "install", "--config", "/dev/null", "--probability", "1", "--group", String(5051 + i)], in: lab.server)
            // Host 0 lists a server that refuses first: the next one takes its inserts.
            let urls = i == 0 ? "http://10.251.61.11:1," + url : url
            try """
                probability = 1
                group = \(5051 + i)
                output = \(lab.file("records.jsonl").path)
                status_socket = \(lab.file("status.sock").path)
                idle_timeout = 1
                metrics = none
                location_database = none
                clickhouse_url = \(urls)
                clickhouse_table = connections_local
                clickhouse_user = sampler
                clickhouse_password_file = \(password)
                clickhouse_batch_size = 25
                clickhouse_flush_interval = 0.3
                host_id = \(id)
                spool_directory = \(lab.file("spool").path)
                """.write(toFile: lab.file("sampler.conf").path, atomically: true, encoding: .utf8)
            _ = try lab.spawn(["python3", "-c", Traffic.server, lab.serverV4, lab.serverV6], in: lab.server, log: "server.log")
            try #require(lab.wait(seconds: 10) { lab.read("server.log").contains("ready") })
        }
        var runs = try hosts.map { try start($0, log: "run.log") }

        // Round 0: every shard up.
        for host in hosts { try traffic(host, round: 0) }
        // Host 1's shard goes down (SIGKILL) while every host sends more.
        let victim = hosts[1]
        try cluster(["kill", dir, String(victim.shard)])
        for host in hosts { try traffic(host, round: 1) }
        #expect(victim.lab.wait(seconds: 15) { (shipping(victim)["spool_records"] as? Int ?? 0) > 0 }, "its records wait in its spool: \(shipping(victim))")
        // Host 1 restarts while its shard is down: the spool carries over.
        victim.lab.stop(runs[1])
        runs[1] = try start(victim, log: "run-again.log")
        #expect(victim.lab.read("run-again.log").contains("from before; sending them first"), "\(victim.lab.read("run-again.log"))")
        for host in hosts { try traffic(host, round: 2) }
        // The shard comes back; everything waiting goes in.
        try cluster(["restart", dir, String(victim.shard)])
        for host in hosts { try traffic(host, round: 3) }
        for host in hosts {
            #expect(host.lab.wait(seconds: 60) {
                let state = shipping(host)
                return state["spool_records"] as? Int == 0 && (state["clickhouse_inserted_records"] as? Int ?? 0) > 0
            }, "\(host.id): \(shipping(host))")
        }
        for (host, run) in zip(hosts, runs) {
            host.lab.stop(run)
            #expect(run.wait() == 0, "\(host.lab.read("run.log"))")
        }

        // Exactly once: every host's file against its rows over the Distributed table.
        let counted = try cluster(["query", dir, "SELECT host, count(), uniqExact(batch_id, batch_row) FROM sampler.connections FINAL GROUP BY host ORDER BY host FORMAT TSV"])
        let expected = hosts.map { "\($0.id)\t\($0.records.count)\t\($0.records.count)" }.joined(separator: "\n") + "\n"
        #expect(counted == expected)
        for host in hosts { #expect(host.records.count > 150, "\(host.id): \(host.records.count) records") }

        // The fleet report: over the Distributed table as over the union of the files.
        let union = hosts.flatMap(\.records).joined(separator: "\n") + "\n"
        let unionFile = directory.appendingPathComponent("union.jsonl").path
        try union.write(toFile: unionFile, atomically: true, encoding: .utf8)
        let url = try cluster(["urls", dir]).split(separator: "\n")[0]
        let flags = ["--clickhouse-url", String(url), "--clickhouse-table", "connections", "--clickhouse-user", "sampler",
                     "--clickhouse-password-file", password]
        for arguments in [["--by", "none"], ["--by", "port"], ["--by", "network"], ["--by", "asn"], ["--by", "country"], ["--format", "radar"],
                          ["--by", "signature"], ["--by", "signature", "--as", "json"]] {
            let fleet = try hosts[0].lab.run([sampler, "report", "--config", "/dev/null", "--clickhouse", "--window", "86400"] + flags + arguments,
                                             in: hosts[0].lab.server, allowFailure: true)
            let files = try hosts[0].lab.run([sampler, "report", "--config", "/dev/null", unionFile, "--window", "86400"] + arguments, allowFailure: true)
            #expect(fleet.status == 0 && fleet.stdout == files.stdout, "\(arguments): \(fleet.stderr)\n\(fleet.stdout)\n\(files.stdout)")
        }
        let byHost = try hosts[0].lab.run([sampler, "report", "--config", "/dev/null", "--clickhouse", "--window", "86400", "--by", "host", "--as", "csv"] + flags,
                                          in: hosts[0].lab.server)
        for host in hosts { #expect(byHost.stdout.contains(",\(host.id),"), "\(byHost.stdout)") }
        // Every named query of queries.sql reads the Distributed table unchanged; the
        // stage shares count what the files hold (less what they leave out).
        for query in try ClickHouseServer.statements("queries.sql") {
            let answer = try cluster(["query", dir, query.sql + " FORMAT TSV"])
            #expect(!answer.isEmpty, "\(query.name ?? "")")
        }
        let shares = try cluster(["query", dir, "SELECT sum(connections) FROM (" + (try ClickHouseServer.statements("queries.sql")
            .first { $0.name == "stage_shares" }!.sql) + ")"])
        let kept = hosts.flatMap(\.records).filter { !$0.contains("\"close\":\"shutdown\"") && !$0.contains("multiple_syns") }.count
        #expect(shares == "\(kept)\n", "\(shares)")
    }
}
