import SamplerSystem

/// Why a location database could not be opened; `description` says what to do.
public enum LocationDatabaseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No file at the path (ENOENT), or a directory on the way is missing.
    case missing(path: String)
    /// The file is there but cannot be read (permissions, an I/O error); `errno` says why.
    case unreadable(path: String, Errno)
    /// The file does not start like a location database (no "LOCDBXX" magic).
    case notADatabase(path: String)
    /// A location database of a format version this libloc cannot read.
    case unsupportedVersion(path: String, version: UInt8)
    /// A location database cut short: its header places data past the end of the file
    /// (a copy or download that did not finish). libloc would read past its mapping.
    case truncated(path: String, fileSize: Int64, neededSize: UInt64)
    /// libloc refused the file or could not set itself up; `errno` as libloc left it.
    case libraryFailed(path: String, Errno)

    public var path: String {
        switch self {
        case .missing(let path), .unreadable(let path, _), .notADatabase(let path), .unsupportedVersion(let path, _),
             .truncated(let path, _, _), .libraryFailed(let path, _):
            path
        }
    }

    public var description: String {
        // Both spellings: the same setting comes from a configuration file or a flag.
        let withoutIt = "or set location_database = none (--location-database none) to run without AS numbers and countries"
        switch self {
        case .missing(let path):
            return "location database \(path) does not exist: install it (apt-get install libloc-database) "
                + "or point location_database (--location-database) at the file, \(withoutIt)"
        case .unreadable(let path, let code):
            return "location database \(path) cannot be read: \(code); make it readable by the user "
                + "sampler runs as, \(withoutIt)"
        case .notADatabase(let path):
            return "\(path) is not a location database (no LOCDBXX header): point location_database (--location-database) at the "
                + "libloc database (/usr/share/libloc-location/location.db from libloc-database), \(withoutIt)"
        case .unsupportedVersion(let path, let version):
            return "location database \(path) has format version \(version), which this libloc cannot read: "
                + "update libloc1 or use a database of version 1, \(withoutIt)"
        case .truncated(let path, let fileSize, let neededSize):
            return "location database \(path) is cut short (\(fileSize) bytes; its header needs \(neededSize)): "
                + "download it again (location update) or reinstall libloc-database, \(withoutIt)"
        case .libraryFailed(let path, let code):
            return "libloc cannot open the location database \(path): \(code); "
                + "reinstall libloc-database (or run location update), \(withoutIt)"
        }
    }
}
