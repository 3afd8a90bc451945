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

    /// One line per address: "ADDRESS ASN COUNTRY ASNAME", "-" for what is missing (the AS
    /// name last, as it may hold spaces). errno is cleared before each lookup: libloc 0.9.16
    /// does not set it for "not found", and python3-location then raises OSError with
    /// whatever an earlier call left instead of returning None.
    private static let script = """
        import ctypes, sys, location
        errno = ctypes.CDLL(None).__errno_location
        errno.restype = ctypes.POINTER(ctypes.c_int)
        db = location.Database(sys.argv[1])
        for text in sys.argv[2:]:
            errno().contents.value = 0
            network = db.lookup(text)
            asn = network.asn if network and network.asn else None
            country = network.country_code if network and network.country_code else None
            system = db.get_as(asn) if asn else None
            name = system.name if system and system.name else None
            print(text, asn or "-", country or "-", name or "-")
        """

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    struct Answer {
        var location: Location
        var asName: String?
    }

    static func answers(for addresses: [String]) throws -> [String: Answer] {
        let result = try Subprocess.run([python, "-c", script, databasePath] + addresses)
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
