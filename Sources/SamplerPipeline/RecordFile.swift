#if canImport(Glibc)
import Glibc
#endif

/// Where JSON lines go: a file opened for appending (reopened on SIGHUP, so that
/// logrotate can move it away), or standard output.
public final class RecordFile {
    public struct OpenError: Error, CustomStringConvertible {
        public var path: String
        public var errno: Int32
        public var description: String {
            let reason = String(cString: strerror(errno))
            return errno == ENOENT
                ? "cannot open \(path): its directory does not exist; create it or choose another --output"
                : "cannot open \(path): \(reason)"
        }
    }

    public let path: String?
    private var fd: Int32
    /// Bytes waiting to be written; callers append records to it.
    public var buffer: [UInt8] = []
    public private(set) var writeErrors: UInt64 = 0

    /// `path` nil or "-" is standard output.
    public init(path: String?) throws(OpenError) {
        self.path = path == "-" ? nil : path
        fd = STDOUT_FILENO
        buffer.reserveCapacity(1 << 17)
        if let file = self.path { fd = try Self.open(file) }
    }

    deinit {
        flush()
        if path != nil { close(fd) }
    }

    private static func open(_ path: String) throws(OpenError) -> Int32 {
        let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw OpenError(path: path, errno: errno) }
        return fd
    }

    /// Opens the path again (after a rotation); keeps the old descriptor if it fails.
    public func reopen() throws(OpenError) {
        flush()
        guard let path else { return }
        let fresh = try Self.open(path)
        close(fd)
        fd = fresh
    }

    /// Writes the buffer out, retrying on EINTR and short writes. A failed write is
    /// counted; the bytes are kept for the next try unless the buffer grows past 64 MiB.
    public func flush() {
        var written = 0
        buffer.withUnsafeBytes { bytes in
            while written < bytes.count {
                let n = write(fd, bytes.baseAddress! + written, bytes.count - written)
                if n > 0 { written += n; continue }
                if n < 0 && errno == EINTR { continue }
                writeErrors += 1
                break
            }
        }
        if written == buffer.count || buffer.count > 64 << 20 {
            buffer.removeAll(keepingCapacity: true)
        } else if written > 0 {
            buffer.removeFirst(written)
        }
    }
}
