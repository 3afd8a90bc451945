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
    /// Bytes waiting to be written: whole lines, except that the first may be the rest of
    /// a line a failed write left half written (it goes first when writing works again,
    /// so no line is ever torn).
    public private(set) var buffer: [UInt8] = []
    /// Write calls that failed.
    public private(set) var writeErrors: UInt64 = 0
    /// Whole records not kept because writes failed and `maximumBuffered` bytes waited.
    public private(set) var recordsDropped: UInt64 = 0
    /// The errno of the last write, while writing fails; nil once a write succeeds.
    public private(set) var failure: Int32?

    /// How much may wait while writing fails (a full disk, say) before new records are
    /// dropped, whole, and counted.
    public static let maximumBuffered = 64 << 20

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

    /// Where the records go, for messages.
    public var name: String { path ?? "standard output" }

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

    /// Adds one record's line (`body` appends it), unless `maximumBuffered` bytes already
    /// wait for a failing output: then the record is dropped whole and counted.
    @discardableResult
    public func append(_ body: (inout [UInt8]) -> Void) -> Bool {
        guard buffer.count < Self.maximumBuffered else {
            recordsDropped += 1
            return false
        }
        body(&buffer)
        return true
    }

    /// Writes the buffer out, retrying on EINTR and short writes. What a failed write
    /// leaves stays buffered, to be written first on the next try.
    public func flush() {
        guard !buffer.isEmpty else { return }
        var written = 0
        var error: Int32?
        buffer.withUnsafeBytes { bytes in
            while written < bytes.count {
                let n = write(fd, bytes.baseAddress! + written, bytes.count - written)
                if n > 0 { written += n; continue }
                if n < 0 && errno == EINTR { continue }
                error = n < 0 ? errno : EIO
                break
            }
        }
        if let error {
            writeErrors += 1
            failure = error
        } else {
            failure = nil
        }
        if written == buffer.count {
            buffer.removeAll(keepingCapacity: true)
        } else if written > 0 {
            buffer.removeFirst(written)
        }
    }
}
