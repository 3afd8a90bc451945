import Foundation
import SamplerLocation
import SamplerSubprocess
import SamplerWire
import Testing

/// The expected answers, from libloc's own Python binding (python3-location) reading the
/// same database file: nothing about the database's contents is written into the tests,
/// so they hold for whatever database libloc-database ships.
enum PythonOracle {
    static let databasePath = "/usr/share/libloc-location/location.db"
    /// Debian's Python, which has the location module (a python3 earlier in PATH may not).
    static let python = "/usr/bin/python3"

    static let isAvailable: Bool = FileManager.default.fileExists(atPath: databasePath)
        && ((try? Subprocess.run([python, "-c", "import location"]).status) == 0)
    static let unavailableMessage = Comment(rawValue: "needs \(databasePath) and \(python) with the location module: "
        + "apt-get install libloc-database python3-location (scripts/test does)")

    /// scripts/location-lookup.py: one line per address, "ADDRESS ASN COUNTRY ASNAME".
    private static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/location-lookup.py").path

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    struct Answer {
        var location: Location
        var asName: String?
    }

    static func answers(for addresses: [String]) throws -> [String: Answer] {
        let result = try Subprocess.run([python, script, databasePath] + addresses)
        guard result.status == 0 else { throw Failure(description: "python3 failed: \(result.stderr)") }
        var answers: [String: Answer] = [:]
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 3)
            guard fields.count == 4 else { throw Failure(description: "unexpected line from python3: \(line)") }
            let location = Location(asn: UInt32(fields[1]), country: CountryCode(fields[2]))
            answers[String(fields[0])] = Answer(location: location, asName: fields[3] == "-" ? nil : String(fields[3]))
        }
        return answers
    }
}

extension IPAddress {
    /// "2001:db8::1" -> (address, .v6); "192.0.2.1" -> (address, .v4).
    static func parsingWithFamily(_ text: String) -> (IPAddress, IPFamily)? {
        IPAddress(parsing: text[...]).map { ($0, text.contains(":") ? .v6 : .v4) }
    }
}
