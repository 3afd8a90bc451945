import SamplerSystem
#if canImport(Glibc)
import Glibc
#endif

/// Checks a location database file before libloc maps it. libloc 0.9.16 trusts the
/// header: a file cut short (a copy that did not finish) opens without an error, and the
/// first lookup reads past the end of the mapping and kills the process with SIGSEGV.
/// So the header's sections must all lie inside the file. (Damage inside the sections
/// is not detected: that would take `location verify` and its signing key.)
enum DatabaseFileCheck {
    /// "LOCDBXX" and the format version byte (format.h: struct loc_database_magic).
    static let magic: [UInt8] = Array("LOCDBXX".utf8)
    static let supportedVersion: UInt8 = 1
    /// The magic (8 bytes) and struct loc_database_header_v1 (4192 bytes, big-endian
    /// fields: created_at, vendor, description, license, then five sections as offset and
    /// length: ASes, network data, network tree, countries, string pool; then the
    /// signatures and padding).
    static let headerSize: UInt64 = 8 + 4192
    static let firstSectionField = 28
    static let sectionCount = 5
    /// Bytes read: up to the end of the last section's length.
    static let fieldsSize = firstSectionField + sectionCount * 8

    /// Where a section of the file is, from its header.
    struct Section {
        var offset: Int
        var length: Int
    }

    /// The sections, in the header's order.
    enum SectionName: Int {
        case autonomousSystems, networks, networkTree, countries, stringPool
    }

    /// Reads the header from the start of `file` and leaves the file at its start again;
    /// the sections, each inside the file.
    @discardableResult
    static func check(_ file: UnsafeMutablePointer<FILE>, path: String) throws(LocationDatabaseError) -> [Section] {
        var status = stat()
        guard fstat(fileno(file), &status) == 0 else { throw .unreadable(path: path, .last) }
        if (status.st_mode & S_IFMT) == S_IFDIR { throw .unreadable(path: path, .isDirectory) }

        var fields = [UInt8](repeating: 0, count: fieldsSize)
        let count = fields.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        if ferror(file) != 0 { throw .unreadable(path: path, .last) }
        rewind(file)
        guard count >= magic.count + 1, (0..<magic.count).allSatisfy({ fields[$0] == magic[$0] }) else {
            throw .notADatabase(path: path)
        }
        let version = fields[magic.count]
        guard version == supportedVersion else { throw .unsupportedVersion(path: path, version: version) }

        let fileSize = UInt64(status.st_size)
        var needed = headerSize
        var sections: [Section] = []
        if count == fieldsSize {
            for section in 0..<sectionCount {
                let at = firstSectionField + section * 8
                let (offset, length) = (bigEndian32(fields, at), bigEndian32(fields, at + 4))
                needed = max(needed, UInt64(offset) + UInt64(length))
                sections.append(Section(offset: Int(offset), length: Int(length)))
            }
        }
        guard fileSize >= needed, sections.count == sectionCount else {
            throw .truncated(path: path, fileSize: Int64(status.st_size), neededSize: needed)
        }
        return sections
    }

    private static func bigEndian32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 << 8 | UInt32(bytes[at + $1]) }
    }
}
