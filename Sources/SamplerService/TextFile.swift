#if canImport(Glibc)
import Glibc
#endif

/// Small text files (configuration, a password) read whole.
public enum TextFile {
    /// The file as text, with read(2), so that any readable file works: /dev/null (no
    /// settings: the defaults), a pipe, a process substitution. Foundation's
    /// String(contentsOfFile:) refuses what is not a regular file. Nil with errno set.
    public static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { return String(decoding: bytes, as: UTF8.self) }
            bytes += chunk[0..<n]
        }
    }
}
