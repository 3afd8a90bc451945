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
    /// The output's descriptor, closed once: standard output is a duplicate of it, so
    /// that the file is always this object's own.
    private var owner: OwnedDescriptor
    private var fd: Descriptor { owner.descriptor }
    /// Whole lines waiting to be written. A failed write may have stopped inside the
    /// first: its first `headBytesWritten` bytes are in the file, the rest goes first when
    /// writing works again, so that no line is ever torn. Its run-time exclusivity check
    /// is off (docs/architecture.md): one thread writes a file, and `append`'s body is
    /// handed the buffer, never the file.
    @exclusivity(unchecked) public private(set) var buffer: [UInt8] = []
    /// The records (lines) in `buffer`: what is lost if writing never works again.
    /// Unchecked like `buffer`: counted once per record, by the file's one thread.
    @exclusivity(unchecked) public private(set) var recordsWaiting = 0
    /// Bytes of the first waiting line that are in the file already, which `finish` and
    /// `reopen` cut off again when the rest cannot follow them there.
    private var headBytesWritten = 0
    /// Bytes waiting to be written.
    public var bytesWaiting: Int { buffer.count - headBytesWritten }
    /// Write calls that failed.
    public private(set) var writeErrors: UInt64 = 0
    /// Whole records not kept because writes failed: while `maximumBuffered` bytes waited,
    /// and those still waiting at `finish`.
    public private(set) var recordsDropped: UInt64 = 0
    /// Why the last write failed, while writing fails; nil once a write succeeds.
    /// Unchecked like `buffer`: `classify` reads it once per record.
    @exclusivity(unchecked) public private(set) var failure: Errno?
    /// Times the file was found ending in the middle of a line when it was opened (a
    /// crash, a power cut or SIGKILL during a write), and the torn bytes cut off then, so
    /// that the next record starts a line of its own.
    public private(set) var tornTailsCut: UInt64 = 0
    public private(set) var tornBytesCut: UInt64 = 0
    /// The bytes cut at the last open, for its log line; 0 when the file ended whole.
    public private(set) var lastCut: Int64 = 0
    /// Standard output was a file that ended in the middle of a line, left as it was.
    private var tornLineKept = false

    /// How much may wait while writing fails (a full disk, say) before new records are
    /// dropped, whole, and counted.
    public static let maximumBuffered = 64 << 20

    /// `path` nil or "-" is standard output.
    public convenience init(path: String?) throws(OpenError) {
        guard let file = path, file != "-" else {
            self.init()
            return
        }
        self.init(path: file, descriptor: try Self.open(file))
        try cutTornTail()
    }

    /// Standard output, which is open already.
    public convenience init() {
        // Out of descriptors, the only reason a dup fails: write to 1 itself.
        let duplicate = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0)
        self.init(path: nil, descriptor: Descriptor(rawValue: duplicate >= 0 ? duplicate : STDOUT_FILENO))
        startOnALineOfItsOwn()
    }

    /// Standard output appended to a regular file (`>> records.jsonl`) that ends in the
    /// middle of a line (an earlier run killed during a write): the first record goes
    /// after a newline, so that it is not glued to the torn line. The torn line is left
    /// as it is: the shell opened this file, and sampler cuts only files it opened itself.
    private func startOnALineOfItsOwn() {
        var info = stat()
        guard fstat(fd.rawValue, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size > 0,
              fcntl(fd.rawValue, F_GETFL) & O_APPEND != 0,
              // `>>` opens for writing only: read the last byte through another descriptor.
              let reader = try? Descriptor.open("/proc/self/fd/\(fd.rawValue)", O_RDONLY) else { return }
        defer { _ = reader.close() }
        guard let last = try? reader.read(count: 1, atFileOffset: Int64(info.st_size) - 1), last != [UInt8(ascii: "\n")] else { return }
        buffer.append(UInt8(ascii: "\n"))
        tornLineKept = true
    }

    private init(path: String?, descriptor: Descriptor) {
        self.path = path
        owner = OwnedDescriptor(descriptor)
        buffer.reserveCapacity(1 << 17)
    }

    deinit {
        finish()  // the owner closes the descriptor after
    }

    /// Where the records go, for messages.
    public var name: String { path ?? "standard output" }

    /// Opened for reading too, so that a torn tail can be found (appends go to the end
    /// whatever the offset).
    private static func open(_ path: String) throws(OpenError) -> Descriptor {
        do { return try Descriptor.open(path, O_RDWR | O_APPEND | O_CREAT, permissions: 0o640) } catch {
            // A file this process may write but not read: append without the check.
            if error == .permissionDenied, let fd = try? Descriptor.open(path, O_WRONLY | O_APPEND | O_CREAT, permissions: 0o640) {
                return fd
            }
            throw OpenError(path: path, error: error)
        }
    }

    /// Opens the path again (after a rotation); keeps the old descriptor if it fails.
    /// What waits goes to the new file; a line the old one holds half of is cut there and
    /// written whole to the new one.
    public func reopen() throws(OpenError) {
        flush()
        guard let path else { return }
        let fresh = try Self.open(path)
        if headBytesWritten > 0 {
            cutHalfWrittenHead()
            headBytesWritten = 0
        }
        // What the old file failed to keep (a late write error) counts as a failed write.
        if owner.replace(with: fresh) != nil { writeErrors += 1 }
        try cutTornTail()
    }

    /// The last try, when the records stop (sampler stops, or classify ends): writes what
    /// waits; what still cannot be written is dropped and counted, and the half of a line
    /// a failed write left in the file is cut, so that the file ends in a whole record.
    /// Returns the records dropped now. Appending after it starts afresh.
    @discardableResult
    public func finish() -> Int {
        flush()
        let dropped = recordsWaiting
        guard dropped > 0 else { return 0 }
        if headBytesWritten > 0 { cutHalfWrittenHead() }
        recordsDropped += UInt64(dropped)
        buffer.removeAll(keepingCapacity: true)
        recordsWaiting = 0
        headBytesWritten = 0
        return dropped
    }

    /// Cuts the half line a failed write left at the end of the file. Only a regular file
    /// can be cut (standard output too, when the shell opened one, as `classify FILE >
    /// records.jsonl` does); elsewhere (a pipe, a device) the half stays.
    private func cutHalfWrittenHead() {
        var info = stat()
        guard fstat(fd.rawValue, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return }
        let file = fd
        guard let size = try? file.size(), size >= Int64(headBytesWritten) else { return }
        if (try? file.truncate(to: size - Int64(headBytesWritten))) == nil { writeErrors += 1 }
    }

    /// A file that does not end in a newline was torn in the middle of a record: cut it
    /// back to its last whole line, so that the next record is not glued to the torn one
    /// (which would make both unreadable). Only regular files: a pipe or a device has no
    /// tail to look at.
    private func cutTornTail() throws(OpenError) {
        lastCut = 0
        guard let path else { return }
        var info = stat()
        guard fstat(fd.rawValue, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size > 0,
              fcntl(fd.rawValue, F_GETFL) & O_ACCMODE == O_RDWR else { return }
        let file = fd
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
        if tornLineKept {
            return "standard output is a file that ends in the middle of a line (an earlier run stopped during a write?): "
                + "the records start on a line of their own after it; the torn line is left as it was"
        }
        return lastCut == 0 ? nil : "\(name) ended in the middle of a record (a crash or a kill during a write): "
            + "cut the last \(lastCut) bytes back to its last whole line, so that new records start a line of their own"
    }

    /// Adds one record's line (`body` appends it, newline included), unless
    /// `maximumBuffered` bytes already wait for a failing output: then the record is
    /// dropped whole and counted.
    @discardableResult
    public func append(_ body: (inout [UInt8]) -> Void) -> Bool {
        guard buffer.count < Self.maximumBuffered else {
            recordsDropped += 1
            return false
        }
        body(&buffer)
        recordsWaiting += 1
        return true
    }

    /// Writes the buffer out, through short writes. What a failed write leaves stays
    /// buffered, to be written on the next try from where it stopped.
    public func flush() {
        guard buffer.count > headBytesWritten else { return }
        var written = headBytesWritten
        do {
            try fd.writeAll(buffer, written: &written)
            failure = nil
        } catch {
            writeErrors += 1
            failure = error
        }
        if written == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            recordsWaiting = 0
            headBytesWritten = 0
        } else {
            keepUnwritten(after: written)
        }
    }

    /// After a write that stopped `written` bytes into the buffer: the lines it finished
    /// go, and of the line it stopped inside, the part in the file is remembered.
    private func keepUnwritten(after written: Int) {
        let (finished, end) = buffer.withUnsafeBytes { bytes in
            var lines = 0, end = 0
            while end < written, let newline = memchr(bytes.baseAddress! + end, 0x0A, written - end) {
                lines += 1
                end = bytes.baseAddress!.distance(to: UnsafeRawPointer(newline)) + 1
            }
            return (lines, end)
        }
        guard finished > 0 else {
            headBytesWritten = written
            return
        }
        recordsWaiting -= finished
        buffer.removeFirst(end)
        headBytesWritten = written - end
    }
}
