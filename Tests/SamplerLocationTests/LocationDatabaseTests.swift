import Foundation
import SamplerLocation
import SamplerWire
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Serialized: the reopening test counts the process's mappings of the database file.
@Suite(.serialized, .enabled(if: PythonOracle.isAvailable, PythonOracle.unavailableMessage))
struct LocationDatabaseTests {
    /// Public networks in several countries, IPv4 and IPv6: anycast resolvers, RIRs,
    /// ISPs, universities. Whatever the database says of them is what python3 says.
    static let publicAddresses = [
        "1.1.1.1", "8.8.8.8", "9.9.9.9", "193.0.6.139",  // Cloudflare, Google, Quad9, RIPE NCC
        "194.25.2.129", "130.149.7.201",  // DE: Deutsche Telekom, TU Berlin (DFN)
        "212.27.40.240", "80.10.246.2",  // FR: Free; Orange (a network with a country but no AS)
        "202.232.2.1", "200.160.2.3", "95.167.0.1", "164.100.0.1", "61.0.0.1",  // JP, BR, RU, IN, IN
        "196.4.160.1", "41.0.0.1", "202.96.128.86", "223.5.5.5", "168.126.63.1",  // ZA, ZA, CN, CN, KR
        "2001:4860:4860::8888", "2606:4700:4700::1111", "2001:67c:2e8:22::c100:68b",
        "2003::1", "2001:638:809::1", "2a01:e00::1", "2001:240::1", "2804:14c::1",  // DE, DE, FR, JP, BR
        "2a02:6b8::1", "240e::1", "2c0f:f4c0::1",  // RU, CN, ZA
        "::ffff:101:101",  // ::ffff:1.1.1.1: an IPv4-mapped IPv6 address is the IPv4 address
    ]
    /// Private, reserved and documentation space: no AS, no country. "::101:101" is
    /// 1.1.1.1 placed wrongly (IPv4-compatible, not mapped): it must not find 1.1.1.0/24.
    static let unknownAddresses = ["10.0.0.1", "192.0.2.1", "100.64.0.1", "::1", "fd00::1", "::101:101"]

    let database: LocationDatabase

    init() throws {
        database = try LocationDatabase(path: PythonOracle.databasePath)
    }

    @Test func answersAsPythonLocationDoes() throws {
        let answers = try PythonOracle.answers(for: Self.publicAddresses + Self.unknownAddresses)
        var mapped = 0
        for text in Self.publicAddresses + Self.unknownAddresses {
            let (address, family) = try #require(IPAddress.parsingWithFamily(text))
            let expected = try #require(answers[text], "python3 gave no line for \(text)")
            #expect(database.lookup(address, family: family) == expected.location, "\(text)")
            if expected.location.asn != nil && expected.location.country != nil { mapped += 1 }
        }
        // The list is only a test if the database maps most of it.
        #expect(mapped >= Self.publicAddresses.count - 4, "the database maps only \(mapped) of the public addresses")
    }

    @Test func namesAutonomousSystemsAsPythonLocationDoes() throws {
        let answers = try PythonOracle.answers(for: Self.publicAddresses)
        for (text, answer) in answers {
            guard let asn = answer.location.asn else { continue }
            #expect(database.asName(asn) == answer.asName, "AS\(asn) of \(text)")
        }
        #expect(database.asName(0) == nil)
    }

    @Test func privateAndReservedAddressesHaveNoLocation() throws {
        for text in Self.unknownAddresses {
            let (address, family) = try #require(IPAddress.parsingWithFamily(text))
            #expect(database.lookup(address, family: family) == .unknown, "\(text)")
        }
    }

    @Test func ipv4IsLookedUpAsIPv4() {
        let v4 = database.lookup(IPAddress(v4: 0x0101_0101), family: .v4)
        #expect(v4.asn != nil)
        #expect(v4 == database.lookup(IPAddress(high: 0, low: 0xffff_0101_0101), family: .v6))
        // The same 32 bits read as IPv6 are ::1.1.1.1, which is nobody's.
        #expect(database.lookup(IPAddress(v4: 0x0101_0101), family: .v6) == .unknown)
    }

    @Test func describesItself() {
        #expect(database.createdAt > 1_500_000_000)
        #expect(!database.vendor.isEmpty)
        #expect(database.license.contains("CC BY-SA"))
        #expect(database.autonomousSystemCount > 1000)
    }

    @Test func reopeningReleasesTheMappingAndTheDescriptor() throws {
        // A copy of its own: other suites open the database meanwhile, and their
        // descriptors and mappings would be counted.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("reopen-\(getpid())-location.db").path
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.copyItem(atPath: PythonOracle.databasePath, toPath: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let before = (mappings: try mappingCount(path), descriptors: try descriptorCount(path))
        var held: LocationDatabase? = try LocationDatabase(path: path)
        #expect(try mappingCount(path) > before.mappings, "the check must see the database's mapping")
        #expect(try descriptorCount(path) > before.descriptors, "the check must see the database's descriptor")
        for _ in 0..<200 {
            // As a SIGHUP does: open the new one, swap, let the old one go.
            let fresh = try LocationDatabase(path: path)
            held = fresh
        }
        #expect(held?.lookup(IPAddress(v4: 0x0808_0808), family: .v4).asn != nil)
        held = nil
        #expect(try mappingCount(path) == before.mappings)
        #expect(try descriptorCount(path) == before.descriptors)
    }

    /// After laying IPv4 flat the daemon gives back its pages of the file: they leave
    /// this process's resident memory, and lookups (which may read them again) answer as before.
    @Test func releasingTheReadPagesLeavesTheAnswers() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("release-\(getpid())-location.db").path
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.copyItem(atPath: PythonOracle.databasePath, toPath: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let database = try LocationDatabase(path: path)
        var cache = LocationCache()
        cache.layIPv4Flat(from: database)
        let google = IPAddress(v4: 0x0808_0808), v6 = IPAddress(parsing: "2001:4860:4860::8888")!
        let before = (database.lookup(google, family: .v4), database.lookup(v6, family: .v6), cache.location(of: google, family: .v4, in: database))
        let resident = try residentKilobytes(path)
        #expect(resident > 1000, "laying IPv4 flat read the tree (\(resident) kB)")
        database.releaseReadPages()
        #expect(try residentKilobytes(path) < resident / 10, "given back")
        #expect(database.lookup(google, family: .v4) == before.0 && database.lookup(v6, family: .v6) == before.1)
        var fresh = LocationCache()
        #expect(fresh.location(of: google, family: .v4, in: database) == before.2 && before.2.asn != nil)
    }

    /// This process's resident memory in mappings of `path` (/proc/self/smaps).
    private func residentKilobytes(_ path: String) throws -> Int {
        var inside = false, total = 0
        // Read to its end: a file of /proc has no size to read up to.
        let smaps = try #require(FileHandle(forReadingAtPath: "/proc/self/smaps")).readDataToEndOfFile()
        for line in String(decoding: smaps, as: UTF8.self).split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            if let first = words.first, first.contains("-"), words.count >= 5 { inside = line.hasSuffix(path); continue }
            if inside, words.first == "Rss:", words.count >= 2, let kilobytes = Int(words[1]) { total += kilobytes }
        }
        return total
    }

    private func mappingCount(_ path: String) throws -> Int {
        let maps = try String(contentsOfFile: "/proc/self/maps", encoding: .utf8)
        return maps.split(separator: "\n").filter { $0.hasSuffix(path) }.count
    }

    /// Descriptors open on the database file.
    private func descriptorCount(_ path: String) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").filter {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) == path
        }.count
    }
}
