import Foundation
import SamplerSubprocess
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The tampering signatures and their evidence from a capture crafted offline by
/// scripts/make-signature-capture.py (one connection per signature of the study and per
/// `other` case, FIN beside RST, IPv6, IP IDs 0 and next, near and far TTLs; nothing is
/// sent). What each connection must become is written down by hand in the generator's
/// table, from the packets, not computed by anything under test. Then the report's
/// signature view, and every view as JSON and CSV read back by python3's json and csv
/// modules, against the table.
@Suite(.enabled(if: SignatureFixture.isAvailable, SignatureFixture.unavailableMessage))
struct SignatureCaptureTests {
    let sampler = samplerBinary().path

    @Test func classifyGivesEveryConnectionItsSignatureAndEvidence() throws {
        let fixture = try SignatureFixture.make()
        defer { fixture.remove() }
        let result = try Subprocess.run([sampler, "classify", "--location-database", "none", fixture.capture])
        #expect(result.status == 0, "\(result.stderr)")
        let records = try Dictionary(uniqueKeysWithValues: LocationFixture.objects(result.stdout).map { ("\($0["src"]!) \($0["sport"]!)", $0) })
        #expect(records.count == fixture.connections.count)
        for want in fixture.connections {
            let record = try #require(records["\(want.client) \(want.sport)"], "no record for \(want.client)")
            #expect(record["close"] as? String == want.close, "\(want.client): \(want.why)")
            #expect(record["stage"] as? String == want.stage, "\(want.client): \(want.why)")
            // Absent, not null, where there is none.
            #expect(record["signature"] as? String == want.signature, "\(want.client): \(want.why)")
            #expect(record["rst_ipid_gap"] as? Int == want.ipIDGap, "\(want.client): \(want.why)")
            #expect(record["rst_ttl_gap"] as? Int == want.ttlGap, "\(want.client): \(want.why)")
            #expect(want.signature != nil || record.keys.contains("signature") == false)
        }
        let named = Set(fixture.connections.compactMap(\.signature))
        #expect(named.count == 20, "all 19 of the study's signatures and other: \(named.sorted())")
        #expect(fixture.connections.contains { $0.family == 6 && $0.close == "reset" && $0.ipIDGap == nil && $0.ttlGap != nil })
    }

    @Test func theSignatureViewCountsWhatTheCaptureHoldsInEveryStyle() throws {
        let fixture = try SignatureFixture.make()
        defer { fixture.remove() }
        let records = try fixture.records(sampler)
        let base = [sampler, "report", "--config", "/dev/null", records, "--by", "signature", "--window", "86400"]
        let text = try Subprocess.run(base)
        let json = try Subprocess.run(base + ["--as", "json"])
        let csv = try Subprocess.run(base + ["--as", "csv"])
        for output in [text, json, csv] { #expect(output.status == 0, "\(output.stderr)") }
        let rows = try fixture.readBack(text: text.stdout, json: json.stdout, csv: csv.stdout)

        // Per signature: its connections, its resets, those with an IP ID gap above 1 and a
        // TTL gap above 2 (the default ttl_margin), from the generator's table.
        let total = fixture.connections.count
        for (signature, connections) in Dictionary(grouping: fixture.connections, by: { $0.signature ?? "none" }) {
            let row = try #require(rows.first { $0["signature"] as? String == signature }, "no row for \(signature)")
            let resets = connections.filter { $0.close == "reset" }
            #expect(row["connections"] as? Int == connections.count, "\(signature)")
            #expect(abs((row["share"] as? Double ?? -1) - Double(connections.count) / Double(total)) < 1e-9, "\(signature)")
            #expect(row["resets"] as? Int == resets.count, "\(signature)")
            func share(_ count: Int) -> Double? { resets.isEmpty ? nil : Double(count) / Double(resets.count) }
            #expect(row["ipid_gap_over_1_share"] as? Double == share(resets.filter { ($0.ipIDGap ?? 0) > 1 }.count), "\(signature)")
            #expect(row["ttl_gap_over_margin_share"] as? Double == share(resets.filter { ($0.ttlGap ?? 0) > 2 }.count), "\(signature)")
        }
        #expect(rows.count == Set(fixture.connections.map { $0.signature ?? "none" }).count)
        #expect(text.stdout.contains("psh_rst_rst0       ⟨PSH+ACK → RST;RST₀⟩"), "\(text.stdout)")
        #expect(text.stdout.contains("\(total) connections\n"), "\(text.stdout)")

        // A wider TTL margin counts fewer TTL gaps, from the same records.
        let wide = try Subprocess.run(base + ["--as", "json", "--ttl-margin", "100"])
        let wideRows = try #require(try JSONSerialization.jsonObject(with: Data(wide.stdout.utf8)) as? [String: Any])
        #expect(wideRows["ttl_margin"] as? Int == 100)
        let far = fixture.connections.filter { ($0.ttlGap ?? 0) > 100 }
        #expect(!far.isEmpty)
        let counted = (wideRows["rows"] as? [[String: Any]] ?? []).reduce(0.0) { sum, row in
            sum + (row["ttl_gap_over_margin_share"] as? Double ?? 0) * Double(row["resets"] as? Int ?? 0)
        }
        #expect(Int(counted.rounded()) == far.count)
    }

    @Test func theStageAndRadarViewsAsJSONAndCSVAgreeWithTheirTables() throws {
        let fixture = try SignatureFixture.make()
        defer { fixture.remove() }
        let records = try fixture.records(sampler)
        let base = [sampler, "report", "--config", "/dev/null", records, "--by", "port"]
        let rows = try fixture.readBack(text: try Subprocess.run(base).stdout, json: try Subprocess.run(base + ["--as", "json"]).stdout,
                                        csv: try Subprocess.run(base + ["--as", "csv"]).stdout)
        let row = try #require(rows.count == 1 ? rows[0] : nil, "one window, one port: \(rows)")
        #expect(row["port"] as? Int == 443)
        #expect(row["connections"] as? Int == fixture.connections.count)
        for stage in ["post_syn", "post_ack", "post_psh", "later", "none"] {
            #expect(row[stage] as? Int == fixture.connections.filter { $0.stage == stage }.count, "\(stage)")
        }
        #expect(row["resets"] as? Int == fixture.connections.filter { $0.close == "reset" }.count)

        // Radar's view: the keys of Radar's summary and timeseries answers.
        let radar = [sampler, "report", "--config", "/dev/null", records, "--format", "radar"]
        let answer = try Subprocess.run(radar + ["--as", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(answer.stdout.utf8)) as? [String: Any])
        #expect(object["success"] as? Bool == true)
        let result = try #require(object["result"] as? [String: Any])
        let summary = try #require(result["summary_0"] as? [String: Any])
        #expect(Set(summary.keys) == ["post_syn", "post_ack", "post_psh", "later_in_flow", "no_match"])
        let postSYN = fixture.connections.filter { $0.stage == "post_syn" }.count
        #expect(abs((summary["post_syn"] as? Double ?? -1) - 100 * Double(postSYN) / Double(fixture.connections.count)) < 1e-5)
        let serie = try #require(result["serie_0"] as? [String: Any])
        #expect((serie["timestamps"] as? [String])?.allSatisfy { $0.hasSuffix(":00Z") } == true)
        #expect((serie["no_match"] as? [Double])?.count == (serie["timestamps"] as? [String])?.count)
        let range = try #require(((result["meta"] as? [String: Any])?["dateRange"] as? [[String: Any]])?.first)
        #expect(range["startTime"] is String && range["endTime"] is String)
        // The CSV of Radar's view: the table's rows, and `all`.
        let table = try Subprocess.run(radar).stdout.split(separator: "\n")
        let csvRows = try SignatureFixture.python("import csv, sys, json; print(json.dumps(list(csv.DictReader(sys.stdin))))",
                                                  input: try Subprocess.run(radar + ["--as", "csv"]).stdout)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(csvRows.utf8)) as? [[String: String]])
        #expect(parsed.last?["window"] == "all")
        #expect(parsed.count == table.count - 2, "a CSV row per table row: \(table)")
    }
}

/// The capture of scripts/make-signature-capture.py and its description.
struct SignatureFixture {
    static let python = GeneratedCapture.python
    static let isAvailable: Bool = (try? Subprocess.run([python, "-c", "import scapy"]).status) == 0
    static let unavailableMessage = Comment(rawValue: "needs \(python) with scapy: apt-get install python3-scapy (scripts/test does)")

    struct Connection {
        var client: String
        var family: Int
        var sport: Int
        var close: String
        var stage: String
        var signature: String?
        var ipIDGap: Int?
        var ttlGap: Int?
        var why: String
    }

    let generated: GeneratedCapture
    let connections: [Connection]
    var capture: String { generated.capture }
    var directory: URL { generated.directory }

    static func make() throws -> SignatureFixture {
        let generated = try GeneratedCapture.make(script: "make-signature-capture.py", name: "signatures")
        let connections = generated.connections.map { c in
            Connection(client: c["client"] as? String ?? "", family: c["family"] as? Int ?? 0, sport: c["sport"] as? Int ?? 0,
                       close: c["close"] as? String ?? "", stage: c["stage"] as? String ?? "", signature: c["signature"] as? String,
                       ipIDGap: c["rst_ipid_gap"] as? Int, ttlGap: c["rst_ttl_gap"] as? Int, why: c["why"] as? String ?? "")
        }
        guard connections.count >= 30 else { throw LocationFixture.Failed(description: "the description holds \(connections.count) connections") }
        return SignatureFixture(generated: generated, connections: connections)
    }

    func records(_ sampler: String) throws -> String { try generated.records(sampler, locationDatabase: "none") }

    func remove() { generated.remove() }

    static func python(_ program: String, input: String? = nil, arguments: [String] = []) throws -> String {
        let result = try Subprocess.run([python, "-c", program] + arguments, input: input)
        guard result.status == 0 else { throw LocationFixture.Failed(description: "python3: \(result.stderr)") }
        return result.stdout
    }

    /// Reads one view's three outputs back with python3's json and csv modules, checks that
    /// they hold the same rows as the table (the table's percentages are the JSON shares
    /// rounded to 0.1%), and returns the JSON rows.
    func readBack(text: String, json: String, csv: String) throws -> [[String: Any]] {
        for (name, content) in [("text", text), ("json", json), ("csv", csv)] {
            try content.write(to: directory.appendingPathComponent("view.\(name)"), atomically: true, encoding: .utf8)
        }
        let program = """
            import csv, json, math, re, sys
            d = sys.argv[1]
            rows = json.load(open(d + "/view.json"))["rows"]
            with open(d + "/view.csv", newline="") as f:
                table = list(csv.DictReader(f))
            assert len(table) == len(rows), (len(table), len(rows))
            for j, c in zip(rows, table):
                assert list(j.keys()) == list(c.keys()), (list(j.keys()), list(c.keys()))
                for k, v in j.items():
                    if v is None: assert c[k] == "", (k, c[k])
                    elif isinstance(v, bool) or isinstance(v, str): assert c[k] == v, (k, v, c[k])
                    elif isinstance(v, (int, float)): assert abs(float(c[k]) - v) < 1e-12, (k, v, c[k])
                    elif isinstance(v, dict): assert c[k] == " ".join(f"{n}:{m}" for n, m in v.items()), (k, v, c[k])
            lines = open(d + "/view.text").read().split("\\n")[1:1 + len(rows)]
            for j, line in zip(rows, lines):
                cells = re.split(r"  +", line.strip())
                for k, v in j.items():
                    if k.endswith("share") and isinstance(v, float):
                        tenths = int(math.floor(v * 1000 + 0.5))  # the table rounds half up
                        assert f"{tenths // 10}.{tenths % 10}%" in cells, (k, v, line)
                    elif k in ("connections", "resets"):
                        assert str(v) in cells, (k, v, line)
            print(json.dumps(rows))
            """
        let out = try Self.python(program, arguments: [directory.path])
        return try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]] ?? []
    }
}
