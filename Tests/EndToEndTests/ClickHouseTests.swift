import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
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
        // FINAL on both sides: without it a background merge between the two queries
        // (ReplacingMergeTree folding the second load) changes the plain count.
        #expect(try clickhouse.query("SELECT count() FROM sampler.connections_all FINAL") == "13\n")

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
        return (result.status, shippingState(object))
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
        #expect((down["clickhouse_insert_failures"] as? Int ?? 0) > 0)
        #expect((down["last_error"] as? String)?.contains("cannot connect to ClickHouse") == true, "\(down)")
        #expect(down["clickhouse_inserted_records"] as? Int == 12)

        // 3. sampler restarts while ClickHouse is still down, and more records come.
        lab.stop(run)
        #expect(run.wait() == 0, "\(lab.read("run1.log"))")
        #expect(lab.read("run1.log").contains("stay in the spool"), "\(lab.read("run1.log"))")
        #expect(lab.read("run1.log").contains(", 0 records dropped from the ClickHouse spool"), "the stop line counts the spool's losses too")
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
        #expect(up["clickhouse_inserted_records"] as? Int == 24 && up["clickhouse_dropped_records"] as? Int == 0, "\(up)")
        lab.stop(run)
        #expect(run.wait() == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: lab.file("spool").path).isEmpty)
    }

    /// A known data set: two windows, two hosts, two ports, three client networks; one
    /// connection with multiple SYNs (left out), and the first window's batch sent twice.
    static let known: [(host: String, minute: Int, family: Int, src: String, dport: Int, stage: String, tags: [String])] = [
        ("a", 1, 4, "192.0.2.7", 443, "post_syn", ["reset", "single_rst"]),
        ("a", 2, 4, "192.0.2.8", 443, "post_syn", ["reset", "single_rst", "ttl_mismatch"]),
        ("a", 3, 4, "192.0.2.9", 443, "post_ack", ["reset", "single_rstack"]),
        ("a", 4, 4, "192.0.2.10", 443, "none", []), ("a", 5, 4, "192.0.2.10", 443, "none", []),
        ("a", 6, 4, "192.0.2.10", 443, "none", []), ("a", 7, 4, "192.0.2.10", 443, "none", []),
        ("a", 8, 4, "192.0.2.10", 443, "none", []),
        ("a", 9, 4, "192.0.2.11", 443, "post_syn", ["multiple_syns", "reset", "single_rst"]),
        ("b", 10, 6, "2001:db8:1::5", 80, "later", ["timeout"]),
        ("b", 11, 6, "2001:db8:1:2::6", 80, "none", []),
        ("a", 16, 4, "198.51.100.1", 443, "post_psh", ["acknumsame", "multiple_rsts", "reset"]),
        ("a", 17, 4, "198.51.100.2", 443, "none", []), ("a", 18, 4, "198.51.100.2", 443, "none", []),
        ("a", 19, 4, "198.51.100.2", 443, "none", []),
    ]

    /// The signature and reset evidence of each `known` connection, in the same order, as
    /// sampler writes them (none at stage none, gaps on resets only).
    static let knownEvidence: [(signature: String?, ipIDGap: Int?, ttlGap: Int?)] = [
        ("syn_rst", 1, 0), ("syn_rst", 5, 9), ("ack_rstack", 300, 0),
        (nil, nil, nil), (nil, nil, nil), (nil, nil, nil), (nil, nil, nil), (nil, nil, nil),
        ("syn_rst", 1, 0),
        ("other", nil, nil), (nil, nil, nil),
        ("psh_rst_eq_rst", 0, 3), (nil, nil, nil), (nil, nil, nil), (nil, nil, nil),
    ]

    @Test func theQueriesAndTheReportGiveTheExpectedSharesOnAKnownDataSet() throws {
        let lab = try Lab(index: 43)
        defer { lab.close() }
        let clickhouse = try ClickHouseServer(lab: lab, namespace: lab.server)
        try clickhouse.start()
        try clickhouse.createSchema()
        func json(_ value: Any) -> String { String(decoding: try! JSONSerialization.data(withJSONObject: value), as: UTF8.self) }
        var batches: [Int: String] = [:], lines = ""
        for (i, c) in Self.known.enumerated() {
            // The window comes from `finalized`; first_seen lies a window earlier, so that
            // a query or report that used it would put every row in the wrong window.
            let time = String(format: "2026-11-20 10:%02d:30", c.minute), batch = c.minute < 15 ? 1 : 2
            let started = String(format: "2026-11-20 09:%02d:30", 45 + c.minute % 15)
            let close = c.tags.contains("reset") ? "reset" : c.tags.contains("timeout") ? "timeout" : "fin"
            // Documentation AS numbers (RFC 5398): 192.0.2.0/24 in one, 2001:db8:1::/48 in
            // another, 198.51.100.0/24 unknown to the database.
            let (asn, country) = c.src.hasPrefix("192.0.2.") ? (64500, "DE") : c.src.hasPrefix("2001:db8:1:") ? (64501, "FR") : (0, "")
            var row: [String: Any] = ["host": c.host, "first_seen": started, "finalized": time, "family": c.family, "src": c.src,
                                      "dport": c.dport, "close": close, "stage": c.stage, "tags": c.tags, "batch_id": batch, "batch_row": i]
            var line: [String: Any] = ["first_seen": started.replacingOccurrences(of: " ", with: "T") + ".000000Z",
                                       "finalized": time.replacingOccurrences(of: " ", with: "T") + ".000000Z", "host": c.host,
                                       "family": c.family, "src": c.src, "dport": c.dport, "close": close, "stage": c.stage, "tags": c.tags]
            let evidence = Self.knownEvidence[i]
            for (field, value) in [("signature", evidence.signature as Any?), ("rst_ipid_gap", evidence.ipIDGap), ("rst_ttl_gap", evidence.ttlGap)] {
                if let value { row[field] = value; line[field] = value }
            }
            if asn != 0 {
                row["client_asn"] = asn
                row["client_country"] = country
                line["client_asn"] = asn
                line["client_country"] = country
            }
            batches[batch, default: ""] += json(row) + "\n"
            lines += json(line) + "\n"
        }
        for batch in [1, 1, 2] {
            let insert = try lab.run(["curl", "-sS", "--fail-with-body", "--data-binary", batches[batch]!,
                                      "\(clickhouse.url)/?query=INSERT%20INTO%20sampler.connections%20FORMAT%20JSONEachRow"], in: lab.server)
            #expect(insert.status == 0)
        }
        #expect(try clickhouse.query("SELECT count() FROM sampler.connections") == "26\n", "the first batch twice")

        let w1 = "2026-11-20 10:00:00", w2 = "2026-11-20 10:15:00"
        let expected: [String: String] = [
            "stage_shares": "\(w1)\t10\t0.2\t0.1\t0\t0.1\t0.6\n\(w2)\t4\t0\t0\t0.25\t0\t0.75\n",
            "stage_shares_by_port": "\(w1)\t80\t2\t0\t0\t0\t0.5\t0.5\n\(w1)\t443\t8\t0.25\t0.125\t0\t0\t0.625\n\(w2)\t443\t4\t0\t0\t0.25\t0\t0.75\n",
            "stage_shares_by_network": "\(w1)\t192.0.2.0/24\t8\t0.25\t0.125\t0\t0\t0.625\n\(w1)\t2001:db8:1::/48\t2\t0\t0\t0\t0.5\t0.5\n"
                + "\(w2)\t198.51.100.0/24\t4\t0\t0\t0.25\t0\t0.75\n",
            "stage_shares_by_host": "\(w1)\ta\t8\t0.25\t0.125\t0\t0\t0.625\n\(w1)\tb\t2\t0\t0\t0\t0.5\t0.5\n\(w2)\ta\t4\t0\t0\t0.25\t0\t0.75\n",
            "reset_tags": "\(w1)\treset\t3\n\(w1)\tsingle_rst\t2\n\(w1)\tsingle_rstack\t1\n\(w1)\tttl_mismatch\t1\n"
                + "\(w2)\tacknumsame\t1\n\(w2)\tmultiple_rsts\t1\n\(w2)\treset\t1\n",
            "stage_shares_by_asn": "\(w1)\t64500\t8\t0.25\t0.125\t0\t0\t0.625\n\(w1)\t64501\t2\t0\t0\t0\t0.5\t0.5\n"
                + "\(w2)\t0\t4\t0\t0\t0.25\t0\t0.75\n",
            "stage_shares_by_country": "\(w1)\tDE\t8\t0.25\t0.125\t0\t0\t0.625\n\(w1)\tFR\t2\t0\t0\t0\t0.5\t0.5\n"
                + "\(w2)\t\t4\t0\t0\t0.25\t0\t0.75\n",
            // The later connection timed out: Radar's no_match, not later_in_flow.
            "radar_summary": "\(w1)\t10\t0.2\t0.1\t0\t0\t0.7\n\(w2)\t4\t0\t0\t0.25\t0\t0.75\n",
            // Of the two syn_rst resets one has both gaps above 1 and above the TTL margin
            // of 2; the left-out multiple_syns one counts nowhere.
            "signature_shares": "\(w1)\tack_rstack\t1\t0.1\t1\t1\t0\n\(w1)\tnone\t6\t0.6\t0\t\\N\t\\N\n"
                + "\(w1)\tother\t1\t0.1\t0\t\\N\t\\N\n\(w1)\tsyn_rst\t2\t0.2\t2\t0.5\t0.5\n"
                + "\(w2)\tnone\t3\t0.75\t0\t\\N\t\\N\n\(w2)\tpsh_rst_eq_rst\t1\t0.25\t1\t0\t1\n",
        ]
        let queries = try ClickHouseServer.statements("queries.sql")
        #expect(Set(queries.compactMap(\.name)) == Set(expected.keys))
        for query in queries {
            let name = try #require(query.name)
            #expect(try clickhouse.query(query.sql + " FORMAT TabSeparated") == expected[name], "\(name)")
        }

        // sampler report: from ClickHouse and from the same records in a file, the same
        // table, for every grouping.
        try lines.write(to: lab.file("known.jsonl"), atomically: true, encoding: .utf8)
        for arguments in [["--by", "none"], ["--by", "port"], ["--by", "network"], ["--by", "host"], ["--by", "asn"], ["--by", "country"],
                          ["--format", "radar"], ["--format", "radar", "--by", "asn"], ["--asn", "64501"], ["--country", "DE", "--format", "radar"],
                          ["--by", "signature"], ["--by", "signature", "--as", "csv"], ["--by", "signature", "--as", "json", "--ttl-margin", "8"],
                          ["--by", "port", "--as", "json"], ["--by", "country", "--as", "csv"], ["--format", "radar", "--by", "host", "--as", "json"],
                          // Fractions of a second select within it, in SQL too (the rows are at :30.000000).
                          ["--since", "2026-11-20T10:05:29.5Z", "--until", "2026-11-20T10:20:30.5Z"], ["--since", "2026-11-20T10:05:30.5Z"]] {
            let fromClickHouse = try lab.run([sampler, "report", "--config", "/dev/null", "--location-database", "none"] + arguments
                                             + clickhouse.samplerFlags, in: lab.server)
            let fromFile = try lab.run([sampler, "report", "--config", "/dev/null", "--location-database", "none", lab.file("known.jsonl").path]
                                       + arguments, in: lab.server)
            #expect(fromClickHouse.status == 0 && fromClickHouse.stdout == fromFile.stdout, "\(arguments): \(fromClickHouse.stderr)")
        }
        let radar = try lab.run([sampler, "report", lab.file("known.jsonl").path, "--format", "radar"], in: lab.server)
        #expect(radar.stdout.contains("2026-11-20 10:00           10     20.0%     10.0%      0.0%           0.0%     70.0%"), "\(radar.stdout)")
        let report = try lab.run([sampler, "report", lab.file("known.jsonl").path, "--by", "port", "--svg", lab.file("ports.svg").path], in: lab.server)
        #expect(lab.read("ports.svg").contains("<g id=\"panel-2\" class=\"panel\">"), "one panel per port")
        try lab.run([sampler, "report", lab.file("known.jsonl").path, "--svg", lab.file("stages.svg").path], in: lab.server)
        #expect(report.stdout.contains("2026-11-20 10:00  443             8     25.0%     12.5%      0.0%      0.0%     62.5%        3"), "\(report.stdout)")
        #expect(report.stdout.contains("14 connections; 1 left out (multiple SYNs, or still open at shutdown)"), "\(report.stdout)")
        #expect(report.stdout.contains("2026-11-20 10:00  443   reset 3: single_rst 2, single_rstack 1, ttl_mismatch 1"), "\(report.stdout)")

        // The chart: well-formed, one series per stage, labelled axes and legend, and it
        // renders.
        let svg = lab.read("stages.svg")
        let parser = XMLParser(data: Data(svg.utf8))
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        for stage in ["post_syn", "post_ack", "post_psh", "later", "none"] {
            #expect(svg.contains("<g id=\"series-\(stage)\""), "\(stage)")
        }
        #expect(svg.components(separatedBy: "<rect x=").count - 1 == 6 + 5, "6 column segments (4 + 2 stages) and 5 legend swatches")
        for label in ["14 connections, 1 left out (multiple SYNs, or still open at shutdown)", "share of connections", "window start (UTC)", "100%", "11-20", "10:00",
                      "10:15", "post_syn 14.3%", "none 64.3%", "10:00 UTC, post_syn: 20.0% (2 of 10)"] {
            #expect(svg.contains(label), "\(label)")
        }
        let png = try Subprocess.run(["rsvg-convert", "-o", lab.file("stages.png").path, lab.file("stages.svg").path])
        #expect(png.status == 0, "\(png.stderr)")

        // A table made by sampler 0.1 takes the new columns with the ALTERs in schema.sql's
        // comments; its old rows are placed by last_seen and have no AS, country, signature
        // or gaps, and new rows go in.
        let create = try #require(try ClickHouseServer.statements("schema.sql").first { $0.sql.contains("CREATE TABLE") }).sql
        let added = ["finalized", "client_asn", "client_country", "signature", "rst_ipid_gap", "rst_ttl_gap"]
        let old = create.split(separator: "\n").filter { line in !added.contains { line.contains($0) } }
            .joined(separator: "\n").replacingOccurrences(of: "sampler.connections", with: "sampler.old_connections")
        try clickhouse.query(old)
        try clickhouse.query("INSERT INTO sampler.old_connections (host, first_seen, last_seen, last_seen_usec, stage) "
            + "VALUES ('a', '2026-11-20 10:01:00', '2026-11-20 10:02:00', 7, 'post_syn')")
        let upgrades = try ClickHouseServer.upgradeStatements()
        #expect(upgrades.count == 2)
        for statement in upgrades {
            try clickhouse.query(statement.replacingOccurrences(of: "sampler.connections", with: "sampler.old_connections"))
        }
        #expect(try clickhouse.query("SELECT finalized = last_seen, finalized_usec, client_asn, client_country, signature, rst_ipid_gap, rst_ttl_gap "
                                     + "FROM sampler.old_connections FORMAT TSV") == "1\t7\t0\t\t\t\\N\t\\N\n")
        let newRow = try lab.run(["curl", "-sS", "--fail-with-body", "--data-binary", batches[2]!,
                                  "\(clickhouse.url)/?query=INSERT%20INTO%20sampler.old_connections%20FORMAT%20JSONEachRow"], in: lab.server)
        #expect(newRow.status == 0, "\(newRow.stdout)")
        #expect(try clickhouse.query("SELECT count() FROM sampler.old_connections") == "5\n")
    }
}
