import Foundation
import SamplerSubprocess
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Where clients are: AS numbers and countries in the records, `report --by asn` and
/// `--by country`, and Radar's view. The capture is crafted offline by
/// scripts/make-location-capture.py (scapy's wrpcap; nothing is sent), and what each
/// connection must become, its AS number and country included, comes with it: the
/// generator asks python3-location, libloc's own binding, on the same database file, so
/// nothing about the database's contents is written here.
@Suite(.enabled(if: LocationFixture.isAvailable, LocationFixture.unavailableMessage))
struct LocationTests {
    let sampler = samplerBinary().path

    @Test func classifyGivesEachRecordItsClientsASAndCountry() throws {
        let fixture = try LocationFixture.make()
        defer { fixture.remove() }
        let result = try Subprocess.run([sampler, "classify", "--location-database", LocationFixture.database, fixture.capture])
        #expect(result.status == 0, "\(result.stderr)")
        let records = try Dictionary(uniqueKeysWithValues: LocationFixture.objects(result.stdout).map { ($0["sport"] as! Int, $0) })
        #expect(records.count == fixture.connections.count)
        var located = 0
        for want in fixture.connections {
            let record = try #require(records[want.sport], "no record for \(want.client)")
            #expect(record["src"] as? String == want.client)
            #expect(record["close"] as? String == want.close, "\(want.client)")
            #expect(record["stage"] as? String == want.stage, "\(want.client)")
            // Unknown is absent, not 0 or "".
            #expect(record["client_asn"] as? Int == want.asn.map(Int.init), "\(want.client): \(record)")
            #expect(record["client_country"] as? String == want.country, "\(want.client): \(record)")
            if want.asn != nil { located += 1 }
        }
        #expect(located >= 15, "the capture's clients are in networks the database knows")
        #expect(fixture.connections.contains { $0.family == 6 && $0.asn != nil }, "IPv6 clients too")
        #expect(fixture.connections.contains { $0.asn == nil && $0.country == nil }, "and one in private space")
    }

    @Test func reportGroupsByASAndCountryAndFilters() throws {
        let fixture = try LocationFixture.make()
        defer { fixture.remove() }
        let records = try fixture.records(sampler)
        // Per AS: its connections and post_syn share, hand-computed from the fixture.
        let byASN = try Subprocess.run([sampler, "report", "--location-database", LocationFixture.database, records, "--by", "asn"])
        #expect(byASN.status == 0, "\(byASN.stderr)")
        for (asn, connections) in Dictionary(grouping: fixture.connections, by: { $0.asn }) {
            let name = connections[0].asName.map { " \($0)" } ?? ""
            let label = asn.map { "\($0)\(name)" } ?? "unknown"
            let postSYN = LocationFixture.percent(connections.filter { $0.stage == "post_syn" }.count, of: connections.count)
            let row = byASN.stdout.split(separator: "\n").first { $0.dropFirst(18).hasPrefix(label + " ") }
            let fields = try #require(row, "no row for \(label): \(byASN.stdout)").dropFirst(18 + label.count).split(separator: " ")
            #expect(fields.first == "\(connections.count)"[...] && fields.dropFirst().first == postSYN[...], "\(label): \(row ?? "")")
        }
        let byCountry = try Subprocess.run([sampler, "report", records, "--by", "country"])
        for (country, connections) in Dictionary(grouping: fixture.connections, by: { $0.country ?? "unknown" }) {
            #expect(byCountry.stdout.split(separator: "\n").contains {
                $0.dropFirst(18).split(separator: " ").prefix(2) == [country[...], "\(connections.count)"[...]]
            }, "\(country): \(byCountry.stdout)")
        }
        // --asn and --country keep what Radar's asn and location parameters keep.
        let busiest = try #require(Dictionary(grouping: fixture.connections.filter { $0.asn != nil }, by: { $0.asn! }).max { $0.value.count < $1.value.count })
        let oneAS = try Subprocess.run([sampler, "report", records, "--asn", String(busiest.key)])
        #expect(oneAS.stdout.split(separator: "\n").contains(LocationFixture.total(busiest.value.count)[...]), "\(oneAS.stdout)")
        let country = try #require(busiest.value[0].country)
        let oneCountry = try Subprocess.run([sampler, "report", records, "--country", country])
        let inCountry = fixture.connections.filter { $0.country == country }.count
        #expect(oneCountry.stdout.split(separator: "\n").contains(LocationFixture.total(inCountry)[...]), "\(oneCountry.stdout)")
        let bad = try Subprocess.run([sampler, "report", records, "--country", "Germany"])
        #expect(bad.status == 64 && bad.stderr.contains("two-letter country code"), "\(bad.stderr)")
    }

    /// Radar's shares, hand-computed from the fixture with the API's definitions:
    /// post_* count resets and timeouts, later_in_flow later resets only, and the rest
    /// (normal closes and later timeouts) is no_match.
    @Test func theRadarSummaryUsesTheAPIsDefinitions() throws {
        let fixture = try LocationFixture.make()
        defer { fixture.remove() }
        let records = try fixture.records(sampler)
        func expected(_ connections: [LocationFixture.Connection]) -> [String] {
            let n = connections.count
            func count(_ test: (LocationFixture.Connection) -> Bool) -> String { LocationFixture.percent(connections.filter(test).count, of: n) }
            return ["\(n)", count { $0.stage == "post_syn" }, count { $0.stage == "post_ack" }, count { $0.stage == "post_psh" },
                    count { $0.stage == "later" && $0.close == "reset" },
                    count { $0.stage == "none" || ($0.stage == "later" && $0.close != "reset") }]
        }
        #expect(fixture.connections.contains { $0.stage == "later" && $0.close == "timeout" }, "a later timeout, which Radar calls no_match")
        let radar = try Subprocess.run([sampler, "report", records, "--format", "radar"])
        #expect(radar.status == 0, "\(radar.stderr)")
        let all = try #require(radar.stdout.split(separator: "\n").first { $0.hasPrefix("all ") }, "\(radar.stdout)")
        #expect(all.split(separator: " ").dropFirst().map(String.init) == expected(fixture.connections), "\(radar.stdout)")
        #expect(radar.stdout.hasPrefix("window (UTC)      connections  post_syn  post_ack  post_psh  later_in_flow  no_match\n"), "\(radar.stdout)")

        let country = "DE"
        let german = fixture.connections.filter { $0.country == country }
        let filtered = try Subprocess.run([sampler, "report", records, "--format", "radar", "--country", country])
        let row = try #require(filtered.stdout.split(separator: "\n").first { $0.hasPrefix("all ") }, "\(filtered.stdout)")
        #expect(row.split(separator: " ").dropFirst().map(String.init) == expected(german), "\(filtered.stdout)")
    }

    /// Without the database sampler says so once, with what to do, and carries on: the
    /// records are whole, without the two fields.
    @Test func aMissingDatabaseIsSaidOnceAndChangesNothingElse() throws {
        let fixture = try LocationFixture.make()
        defer { fixture.remove() }
        let result = try Subprocess.run([sampler, "classify", "--location-database", "/nonexistent/location.db", fixture.capture])
        #expect(result.status == 0)
        #expect(result.stderr.components(separatedBy: "does not exist").count == 2, "once: \(result.stderr)")
        #expect(result.stderr.contains("apt-get install libloc-database") && result.stderr.contains("location_database = none"))
        let records = try LocationFixture.objects(result.stdout)
        #expect(records.count == fixture.connections.count)
        #expect(records.allSatisfy { $0["client_asn"] == nil && $0["client_country"] == nil && $0["stage"] != nil })
        let off = try Subprocess.run([sampler, "classify", "--location-database", "none", fixture.capture])
        #expect(off.status == 0 && !off.stderr.contains("location"), "none is quiet: \(off.stderr)")
    }
}

/// scripts/make-location-capture.py's capture and its description, in a directory of
/// their own.
struct LocationFixture {
    static let database = "/usr/share/libloc-location/location.db"
    static let python = "/usr/bin/python3"
    static let isAvailable: Bool = FileManager.default.fileExists(atPath: database)
        && ((try? Subprocess.run([python, "-c", "import location, scapy"]).status) == 0)
    static let unavailableMessage = Comment(rawValue: "needs \(database) and \(python) with the location and scapy modules: "
        + "apt-get install libloc-database python3-location python3-scapy (scripts/test does)")

    struct Connection {
        var client: String
        var family: Int
        var sport: Int
        var close: String
        var stage: String
        var asn: UInt32?
        var asName: String?
        var country: String?
    }

    let generated: GeneratedCapture
    let connections: [Connection]
    var capture: String { generated.capture }

    static func make() throws -> LocationFixture {
        let generated = try GeneratedCapture.make(script: "make-location-capture.py", name: "location", arguments: ["--database", database])
        let connections = generated.connections.map { c in
            Connection(client: c["client"] as? String ?? "", family: c["family"] as? Int ?? 0, sport: c["sport"] as? Int ?? 0,
                       close: c["close"] as? String ?? "", stage: c["stage"] as? String ?? "",
                       asn: (c["asn"] as? Int).map(UInt32.init), asName: c["as_name"] as? String, country: c["country"] as? String)
        }
        guard connections.count >= 20 else { throw Failed(description: "the description holds \(connections.count) connections") }
        return LocationFixture(generated: generated, connections: connections)
    }

    /// The records of the capture, classified with the database, in a file.
    func records(_ sampler: String) throws -> String { try generated.records(sampler, locationDatabase: Self.database) }

    func remove() { generated.remove() }

    static func objects(_ lines: String) throws -> [[String: Any]] {
        try lines.split(separator: "\n").map {
            guard let object = try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] else {
                throw Failed(description: "not a JSON object: \($0)")
            }
            return object
        }
    }

    /// The report's total line: "8 connections", "1 connection".
    static func total(_ count: Int) -> String { count == 1 ? "1 connection" : "\(count) connections" }

    /// A share as the reports print it: "37.5%".
    static func percent(_ count: Int, of total: Int) -> String {
        String(format: "%.1f%%", total == 0 ? 0 : 100 * Double(count) / Double(total))
    }

    struct Failed: Error, CustomStringConvertible {
        var description: String
    }
}

/// The live path: `sampler run` through the kernel looks up each connection's client as
/// it writes the record, says once when the database is missing, and picks a new file up
/// on SIGHUP. The client namespace holds addresses from public networks (they exist only
/// inside the test's namespaces), so the records have something to find.
@Suite(.enabled(if: Lab.isRoot && LocationFixture.isAvailable, "needs root and the location database: run as root (CI does)"))
struct LiveLocationTests {
    let sampler = samplerBinary().path

    @Test func runLooksUpClientsAndRereadsTheDatabaseOnSIGHUP() throws {
        let lab = try Lab(index: 38)
        defer { lab.close() }
        let group = 5038
        // Two clients: one in Deutsche Telekom's network (IPv4), one in Free's (IPv6).
        let clients = [("194.25.2.129", "4"), ("2a01:e00::1", "6")]
        for (address, family) in clients {
            let prefix = family == "4" ? "/32" : "/128"
            try lab.run(["ip", "addr", "add", address + prefix, "dev", lab.client] + (family == "6" ? ["nodad"] : []), in: lab.client)
            try lab.run(["ip", "route", "add", address + prefix, "dev", lab.server], in: lab.server)
        }
        let expected = try LocationFixture.lookup(clients.map(\.0))
        #expect(expected.values.allSatisfy { $0.asn != nil }, "the database knows both: \(expected)")

        // Start with the database missing: said once, records without the fields.
        let database = lab.file("location.db").path
        try lab.run([sampler, "rules", "install", "--config", "/dev/null", "--probability", "1", "--group", String(group)], in: lab.server)
        let run = try lab.spawn([sampler, "run", "--config", "/dev/null", "--group", String(group), "--output", lab.file("records.jsonl").path,
                                 "--status-socket", lab.file("status.sock").path, "--metrics", "none", "--idle-timeout", "1",
                                 "--location-database", database], in: lab.server, log: "run.log")
        try #require(lab.wait(seconds: 10) { lab.read("run.log").contains("reading NFLOG group") }, "\(lab.read("run.log"))")
        func connect(_ port: Int) throws {
            for (address, family) in clients {
                let server = family == "4" ? lab.serverV4 : "[\(lab.serverV6)]"
                // A closed port: the client's SYN, then nothing of the client's: post_syn, timeout.
                _ = try lab.run(["curl", "-s", "--connect-timeout", "1", "--interface", address, "http://\(server):\(port)/"],
                                in: lab.client, allowFailure: true)
            }
        }
        func records() throws -> [[String: Any]] { try LocationFixture.objects(lab.read("records.jsonl")) }
        try connect(9)
        try #require(lab.wait(seconds: 10) { (try? records().count) == 2 }, "\(lab.read("records.jsonl"))")
        #expect(try records().allSatisfy { $0["client_asn"] == nil && $0["client_country"] == nil })
        #expect(lab.read("run.log").components(separatedBy: "does not exist").count == 2, "said once: \(lab.read("run.log"))")

        // `location update` puts a new file in place; SIGHUP (systemctl reload) reads it.
        try FileManager.default.copyItem(atPath: LocationFixture.database, toPath: database)
        run.signal(SIGHUP)
        try #require(lab.wait(seconds: 10) { lab.read("run.log").contains("location database \(database) reopened") }, "\(lab.read("run.log"))")
        try connect(10)
        try #require(lab.wait(seconds: 10) { (try? records().count) == 4 }, "\(lab.read("records.jsonl"))")
        for record in try records().suffix(2) {
            let want = try #require(expected[record["src"] as? String ?? ""], "\(record)")
            #expect(record["client_asn"] as? Int == want.asn.map(Int.init), "\(record)")
            #expect(record["client_country"] as? String == want.country, "\(record)")
            #expect(record["stage"] as? String == "post_syn" && record["close"] as? String == "timeout", "\(record)")
        }
        lab.stop(run)
        #expect(run.wait() == 0, "\(lab.read("run.log"))")
        try lab.run([sampler, "rules", "remove", "--config", "/dev/null"], in: lab.server)
    }
}

extension LocationFixture {
    /// The AS number and country python3-location gives each address
    /// (scripts/location-lookup.py).
    static func lookup(_ addresses: [String]) throws -> [String: (asn: UInt32?, country: String?)] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/location-lookup.py").path
        let result = try Subprocess.run([python, script, database] + addresses)
        guard result.status == 0 else { throw Failed(description: "python3-location: \(result.stderr)") }
        var answers: [String: (asn: UInt32?, country: String?)] = [:]
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 3).map(String.init)
            guard fields.count == 4 else { throw Failed(description: "unexpected line: \(line)") }
            answers[fields[0]] = (UInt32(fields[1]), fields[2] == "-" ? nil : fields[2])
        }
        return answers
    }
}
