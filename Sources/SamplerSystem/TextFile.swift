#if canImport(Glibc)
import Glibc
#endif

/// Small files (configuration, a password) read whole.
public enum TextFile {
    /// The file's bytes, with read(2), so that any readable file works: /dev/null (no
    /// settings: the defaults), a pipe, a process substitution. Foundation's
    /// String(contentsOfFile:) refuses what is not a regular file.
    public static func bytes(_ path: String) throws(Errno) -> [UInt8] {
        let file = try Descriptor.open(path, O_RDONLY)
        defer { file.close() }
        return try file.readAll()
    }

    /// The file as UTF-8 text (invalid bytes replaced).
    public static func read(_ path: String) throws(Errno) -> String {
        String(decoding: try bytes(path), as: UTF8.self)
    }
}
