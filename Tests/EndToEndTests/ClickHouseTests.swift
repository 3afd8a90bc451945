import Foundation
import SamplerSubprocess
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The ClickHouse sink, the spool and the queries against a real clickhouse-server
/// (Debian's 18.16) started in a lab namespace.
@Suite(.enabled(if: Lab.isRoot && ClickHouseServer.isInstalled,
                "needs root (namespaces) and clickhouse-server (apt-get install clickhouse-server; scripts/test installs it)"))
struct ClickHouseTests {
    let sampler = samplerBinary().path
    static let fixture = ClickHouseServer.root.appendingPathComponent("Tests/Fixtures/real-nflog.pcap").path

    /// Rows of a JSONEachRow answer.
    func rows(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    @Test func aClassifiedCaptureArrivesFieldByFieldAndLoadingItTwiceCountsItOnce() throws {
        let lab = try Lab(index: 41)
        defer { lab.close() }
        let clickhouse = try ClickHouseServer(lab: lab, namespace: lab.server)
        try clickhouse.start()
        try clickhouse.createSchema()
        let load = [sampler, "classify", Self.fixture, "--quiet", "--host-id", "test-host", "--clickhouse-client-addresses", "keep",
                    "--clickhouse-batch-size", "5", "--spool-directory", lab.file("spool").path] + clickhouse.samplerFlags
        let first = try lab.run(load, in: lab.server)
        let records = try rows(first.stdout)
        #expect(records.count == 13)

        let stored = try rows(clickhouse.query("SELECT * FROM sampler.connections FINAL FORMAT JSONEachRow"))
        #expect(stored.count == records.count)
        for record in records {
            let sport = try #require(record["sport"] as? Int), family = try #require(record["family"] as? Int)
            let row = try #require(stored.first { $0["sport"] as? Int == sport && $0["family"] as? Int == family }, "no row for \(record)")
            let syn = try #require(record["syn"] as? [String: Any])
            #expect(row["host"] as? String == "test-host")
            for field in ["first_seen", "last_seen"] {
                // "2026-11-21 20:20:35" + 479837 is "2026-11-21T20:20:35.479837Z".
                let seconds = try #require(row[field] as? String).replacingOccurrences(of: " ", with: "T")
                let micros = String(format: "%06d", try #require(row[field + "_usec"] as? Int))
                #expect("\(seconds).\(micros)Z" == record[field] as? String, "\(field)")
            }
            for field in ["family", "sport", "dport", "packets", "payload_bytes"] {
                #expect(row[field] as? Int == record[field] as? Int, "\(field)")
            }
            for field in ["src", "dst", "close", "stage"] {
                #expect(row[field] as? String == record[field] as? String, "\(field)")
            }
            for field in ["tags", "flags"] {
                #expect(row[field] as? [String] == record[field] as? [String], "\(field)")
            }
            #expect(row["syn_ttl"] as? Int == syn["ttl"] as? Int)
            #expect(row["syn_ipid"] as? Int == syn["ipid"] as? Int)
            #expect(row["syn_window"] as? Int == syn["window"] as? Int)
            #expect(row["syn_options"] as? [Int] == syn["options"] as? [Int])
        }
        // Three batches of at most 5, each row numbered within its batch.
        #expect(try clickhouse.query("SELECT uniqExact(batch_id), max(batch_row) FROM sampler.connections") == "3\t4\n")

        // The same capture again: the same batches, which FINAL folds into one copy.
        _ = try lab.run(load, in: lab.server)
        #expect(try clickhouse.query("SELECT count() FROM sampler.connections FINAL") == "13\n")
        #expect(try clickhouse.query("SELECT uniqExact(batch_id, batch_row) FROM sampler.connections") == "13\n")

        // The Distributed table of schema.sql, over a cluster of this one server.
        try clickhouse.query("CREATE TABLE sampler.connections_all AS sampler.connections ENGINE = Distributed(sampler_cluster, sampler, connections, cityHash64(host))")
        #expect(try clickhouse.query("SELECT count() FROM sampler.connections_all") == clickhouse.query("SELECT count() FROM sampler.connections"))

        // Default privacy: client addresses leave the host as their /24 or /48.
        let truncated = try lab.run([sampler, "classify", Self.fixture, "--quiet", "--host-id", "private", "--spool-directory", lab.file("spool").path]
                                        + clickhouse.samplerFlags, in: lab.server)
        #expect(truncated.stderr.contains("client addresses: truncate"))
        #expect(try clickhouse.query("SELECT DISTINCT src FROM sampler.connections WHERE host = 'private' ORDER BY src FORMAT TSV") == "10.250.9.0\nfd5a:9::\n")
    }

    /// A configuration for a live run that ships to the lab's ClickHouse quickly.
    func configure(_ lab: Lab, _ clickhouse: ClickHouseServer) throws -> String {
        let path = lab.file("sampler.conf").path
        try """
            probability = 1
            group = 5042
            output = \(lab.file("records.jsonl").path)
            status_socket = \(lab.file("run/status.sock").path)
            idle_timeout = 1
            metrics = none
            clickhouse_url = \(clickhouse.url)
            clickhouse_user = sampler
            clickhouse_password_file = \(clickhouse.passwordFile.path)
            clickhouse_batch_size = 4
            clickhouse_flush_interval = 0.3
            host_id = lab-host
            spool_directory = \(lab.file("spool").path)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func records(_ lab: Lab) -> [String] { lab.read("records.jsonl").split(separator: "\n").map(String.init) }

    func daemonStatus(_ lab: Lab, _ config: String) throws -> (Int32, [String: Any]) {
        let result = try lab.run([sampler, "status", "--json", "--config", config, "--skip-rules"], in: lab.server, allowFailure: true)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        return (result.status, ((object["daemon"] as? [String: Any])?["clickhouse"] as? [String: Any]) ?? [:])
    }

    @Test func anOutageAndARestartLoseNothingAndCountNothingTwice() throws {
        let lab = try Lab(index: 42)
        defer { lab.close() }
        let clickhouse = try ClickHouseServer(lab: lab, namespace: lab.server)
        try clickhouse.start()
        try clickhouse.createSchema()
        let config = try configure(lab, clickhouse)
        _ = try lab.spawn(["python3", "-c", Traffic.server, lab.serverV4, lab.serverV6], in: lab.server, log: "server.log")
        try #require(lab.wait(seconds: 10) { lab.read("server.log").contains("ready") })
        /// Twelve connections (six per family) from source ports base+0...base+5.
        func traffic(_ base: Int) throws {
            for (address, family, offset) in [(lab.serverV4, "4", 0), (lab.serverV6, "6", 2000)] {
                for scenario in ["closed", "rest"] {
                    try lab.run(["python3", "-c", Traffic.client, address, family, String(base + offset), scenario], in: lab.client)
                }
            }
        }
        func count() -> Int { Int((try? clickhouse.query("SELECT count() FROM sampler.connections FINAL"))?.dropLast() ?? "") ?? -1 }

        // 1. ClickHouse up: records arrive.
        var run = try lab.spawn([sampler, "run", "--install-rules", "--config", config], in: lab.server, log: "run1.log")
        try #require(lab.wait(seconds: 10) { lab.read("run1.log").contains("reading NFLOG group 5042") }, "\(lab.read("run1.log"))")
        try traffic(41000)
        try #require(lab.wait(seconds: 20) { count() == 12 }, "\(count()) rows; \(lab.read("run1.log"))")

        // 2. ClickHouse dies mid-stream: records wait in the spool, and status says so.
        clickhouse.kill()
        try traffic(41100)
        try #require(lab.wait(seconds: 20) { records(lab).count == 24 }, "\(records(lab).count) records; \(lab.read("run1.log"))")
        try #require(lab.wait(seconds: 20) { (try? daemonStatus(lab, config).1["spool_records"] as? Int) == 12 })
        let (state, down) = try daemonStatus(lab, config)
        #expect(state == 1, "WARNING while inserts fail")
        #expect((down["failures"] as? Int ?? 0) > 0)
        #expect((down["last_error"] as? String)?.contains("cannot connect to ClickHouse") == true, "\(down)")
        #expect(down["inserted_records"] as? Int == 12)

        // 3. sampler restarts while ClickHouse is still down, and more records come.
        lab.stop(run)
        #expect(run.wait() == 0, "\(lab.read("run1.log"))")
        #expect(lab.read("run1.log").contains("stay in the spool"), "\(lab.read("run1.log"))")
        run = try lab.spawn([sampler, "run", "--install-rules", "--config", config], in: lab.server, log: "run2.log")
        try #require(lab.wait(seconds: 10) { lab.read("run2.log").contains("reading NFLOG group 5042") }, "\(lab.read("run2.log"))")
        #expect(lab.read("run2.log").contains("holds 12 records"), "\(lab.read("run2.log"))")
        try traffic(41200)
        try #require(lab.wait(seconds: 20) { records(lab).count == 36 })
        try #require(lab.wait(seconds: 20) { (try? daemonStatus(lab, config).1["spool_records"] as? Int) == 24 })

        // 4. ClickHouse is back: everything arrives, each record once.
        try clickhouse.start()
        try #require(lab.wait(seconds: 40) { count() == 36 }, "\(count()) rows; \(lab.read("run2.log"))")
        #expect(try clickhouse.query("SELECT uniqExact(batch_id, batch_row), uniqExact(family, sport, first_seen, first_seen_usec) FROM sampler.connections") == "36\t36\n")
        let stored = Set(try rows(clickhouse.query("SELECT family, sport, first_seen, first_seen_usec FROM sampler.connections FINAL FORMAT JSONEachRow"))
            .map { "\($0["family"]!) \($0["sport"]!) \(($0["first_seen"] as! String).replacingOccurrences(of: " ", with: "T")).\(String(format: "%06d", $0["first_seen_usec"] as! Int))Z" })
        let written = Set(try records(lab).map { line in
            let r = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return "\(r["family"]!) \(r["sport"]!) \(r["first_seen"]!)"
        })
        #expect(stored == written)
        #expect(try clickhouse.query("SELECT DISTINCT src FROM sampler.connections ORDER BY src FORMAT TSV") == "10.250.42.0\nfd5a:42::\n")
        try #require(lab.wait(seconds: 10) { (try? daemonStatus(lab, config).1["spool_records"] as? Int) == 0 })
        let (after, up) = try daemonStatus(lab, config)
        #expect(after == 0, "OK again: \(up)")
        #expect(up["inserted_records"] as? Int == 24 && up["dropped_records"] as? Int == 0, "\(up)")
        lab.stop(run)
        #expect(run.wait() == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: lab.file("spool").path).isEmpty)
    }
}
