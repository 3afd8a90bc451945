import Foundation
import SamplerLocation
import SamplerSystem
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct LocationDatabaseErrorTests {
    @Test func aMissingFileSaysHowToFixIt() {
        let path = scratchPath("no-such-location.db")
        #expect(throws: LocationDatabaseError.missing(path: path)) { try LocationDatabase(path: path) }
        let text = LocationDatabaseError.missing(path: path).description
        #expect(text.contains(path))
        #expect(text.contains("apt-get install libloc-database"))
        #expect(text.contains("location_database = none"))
    }

    @Test func aFileThatIsNotADatabaseIsToldApart() throws {
        let path = try write(Array("this is a text file, not a location database\n".utf8), to: "not-a-database.db")
        defer { unlink(path) }
        #expect(throws: LocationDatabaseError.notADatabase(path: path)) { try LocationDatabase(path: path) }
        let text = LocationDatabaseError.notADatabase(path: path).description
        #expect(text.contains(path) && text.contains("not a location database"))
        #expect(text != LocationDatabaseError.missing(path: path).description)

        let empty = try write([], to: "empty.db")
        defer { unlink(empty) }
        #expect(throws: LocationDatabaseError.notADatabase(path: empty)) { try LocationDatabase(path: empty) }
    }

    @Test func aDirectoryIsUnreadable() {
        #expect(throws: LocationDatabaseError.unreadable(path: "/", .isDirectory)) { try LocationDatabase(path: "/") }
    }

    @Test func anotherFormatVersionIsNamed() throws {
        let path = try write(Array("LOCDBXX".utf8) + [2] + [UInt8](repeating: 0, count: 5000), to: "version-2.db")
        defer { unlink(path) }
        #expect(throws: LocationDatabaseError.unsupportedVersion(path: path, version: 2)) { try LocationDatabase(path: path) }
    }

    /// libloc 0.9.16 opens a database cut short and then crashes the process in the first
    /// lookup; the check before it must refuse such a file.
    @Test(.enabled(if: PythonOracle.isAvailable, PythonOracle.unavailableMessage))
    func aDatabaseCutShortIsRefused() throws {
        let whole = try #require(FileManager.default.contents(atPath: PythonOracle.databasePath))
        for size in [12, 5000, 1 << 20, whole.count - 1] {
            let path = try write(Array(whole.prefix(size)), to: "cut-\(size).db")
            defer { unlink(path) }
            #expect {
                try LocationDatabase(path: path)
            } throws: { error in
                guard case .truncated(path, Int64(size), let needed)? = error as? LocationDatabaseError else { return false }
                return needed >= UInt64(size) + 1
            }
        }
    }

    @Test func aCountryCodeIsTwoCodeBytes() {
        #expect(CountryCode("DE")?.description == "DE")
        #expect(CountryCode("A1") != nil)
        for bad in ["", "D", "de", "DEU", "D-"] { #expect(CountryCode(bad) == nil, "\(bad)") }
    }

    private func scratchPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("sampler-location-\(getpid())-\(name)").path
    }

    private func write(_ bytes: [UInt8], to name: String) throws -> String {
        let path = scratchPath(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}
