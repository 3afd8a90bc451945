import SamplerSystem
#if canImport(Glibc)
import Glibc
#endif

/// Where JSON lines go: a file opened for appending (reopened on SIGHUP, so that
/// logrotate can move it away), or standard output.
public final class RecordFile {
    public struct OpenError: Error, CustomStringConvertible {
        public var path: String
        public var error: Errno
        public var description: String {
            error == .noSuchFileOrDirectory
                ? "cannot open \(path): its directory does not exist; create it or choose another --output"
                : "cannot open \(path): \(error)"
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
    /// Why the last write failed, while writing fails; nil once a write succeeds.
    public private(set) var failure: Errno?
    /// Times the file was found ending in the middle of a line when it was opened (a
    /// crash, a power cut or SIGKILL during a write), and the torn bytes cut off then, so
    /// that the next record starts a line of its own.
    public private(set) var tornTailsCut: UInt64 = 0
    public private(set) var tornBytesCut: UInt64 = 0
    /// The bytes cut at the last open, for its log line; 0 when the file ended whole.
    public private(set) var lastCut: Int64 = 0

    /// How much may wait while writing fails (a full disk, say) before new records are
    /// dropped, whole, and counted.
    public static let maximumBuffered = 64 << 20

    /// `path` nil or "-" is standard output.
    public convenience init(path: String?) throws(OpenError) {
        guard let file = path, file != "-" else {
            self.init()
            return
        }
        self.init(path: file, fd: try Self.open(file))
        try cutTornTail()
    }

    /// Standard output, which is open already.
    public convenience init() { self.init(path: nil, fd: STDOUT_FILENO) }

    private init(path: String?, fd: Int32) {
        self.path = path
        self.fd = fd
        buffer.reserveCapacity(1 << 17)
    }

    deinit {
        flush()
        if path != nil { close(fd) }
    }

    /// Where the records go, for messages.
    public var name: String { path ?? "standard output" }

    /// Opened for reading too, so that a torn tail can be found (appends go to the end
    /// whatever the offset).
    private static func open(_ path: String) throws(OpenError) -> Int32 {
        do { return try Descriptor.open(path, O_RDWR | O_APPEND | O_CREAT, permissions: 0o640).rawValue } catch {
            // A file this process may write but not read: append without the check.
            if error == .permissionDenied, let fd = try? Descriptor.open(path, O_WRONLY | O_APPEND | O_CREAT, permissions: 0o640) {
                return fd.rawValue
            }
            throw OpenError(path: path, error: error)
        }
    }

    /// Opens the path again (after a rotation); keeps the old descriptor if it fails.
    public func reopen() throws(OpenError) {
        flush()
        guard let path else { return }
        let fresh = try Self.open(path)
        // What the old file failed to keep (a late write error) counts as a failed write.
        if Descriptor(rawValue: fd).close() != nil { writeErrors += 1 }
        fd = fresh
        try cutTornTail()
    }

    /// A file that does not end in a newline was torn in the middle of a record: cut it
    /// back to its last whole line, so that the next record is not glued to the torn one
    /// (which would make both unreadable). Only regular files: a pipe or a device has no
    /// tail to look at.
    private func cutTornTail() throws(OpenError) {
        lastCut = 0
        guard let path else { return }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size > 0,
              fcntl(fd, F_GETFL) & O_ACCMODE == O_RDWR else { return }
        let file = Descriptor(rawValue: fd)
        do {
            let whole = try file.endOfLastWholeLine()
            let size = Int64(info.st_size)
            guard whole < size else { return }
            try file.truncate(to: whole)
            lastCut = size - whole
            tornTailsCut += 1
            tornBytesCut += UInt64(lastCut)
        } catch {
            throw OpenError(path: path, error: error)
        }
    }

    /// What the last open cut, for the log; nil when the file ended whole.
    public var cutMessage: String? {
        lastCut == 0 ? nil : "\(name) ended in the middle of a record (a crash or a kill during a write): "
            + "cut the last \(lastCut) bytes back to its last whole line, so that new records start a line of their own"
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

    /// Writes the buffer out, through short writes. What a failed write leaves stays
    /// buffered, to be written first on the next try.
    public func flush() {
        guard !buffer.isEmpty else { return }
        var written = 0
        do {
            try Descriptor(rawValue: fd).writeAll(buffer, written: &written)
            failure = nil
        } catch {
            writeErrors += 1
            failure = error
        }
        if written == buffer.count {
            buffer.removeAll(keepingCapacity: true)
        } else if written > 0 {
            buffer.removeFirst(written)
        }
    }
}
