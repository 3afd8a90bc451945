#if canImport(Glibc)
import Glibc
#endif

/// An open file descriptor with the calls sampler makes on it, each retried on EINTR and
/// failing with an `Errno`. A value: closing is explicit, as with swift-system's
/// `FileDescriptor`.
public struct Descriptor: RawRepresentable, Hashable, Sendable {
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// open(2), close-on-exec.
    public static func open(_ path: String, _ flags: Int32, permissions: mode_t = 0o644) throws(Errno) -> Descriptor {
        Descriptor(rawValue: try retryOnInterrupt { Glibc.open(path, flags | O_CLOEXEC, permissions) })
    }

    /// close(2), once (never retried: after EINTR the descriptor is gone on Linux). A
    /// failure is returned, not swallowed: on a file just written it can be the write's own
    /// error arriving late (NFS, a full disk), which the caller may need to say.
    @discardableResult
    public func close() -> Errno? { Glibc.close(rawValue) == 0 ? nil : .last }

    /// One read(2) into `bytes[offset...]`: the bytes read, 0 at end of file.
    public func read(into bytes: inout [UInt8], at offset: Int = 0) throws(Errno) -> Int {
        try retryOnInterrupt { bytes.withUnsafeMutableBytes { Glibc.read(rawValue, $0.baseAddress! + offset, $0.count - offset) } }
    }

    /// One write(2) of `bytes[offset...]`: the bytes written, perhaps fewer.
    public func write(_ bytes: [UInt8], from offset: Int = 0) throws(Errno) -> Int {
        try retryOnInterrupt { bytes.withUnsafeBytes { Glibc.write(rawValue, $0.baseAddress! + offset, $0.count - offset) } }
    }

    /// Writes `bytes[written...]` through short writes, advancing `written`: on failure
    /// it says how much went out before it.
    public func writeAll(_ bytes: [UInt8], written: inout Int) throws(Errno) {
        while written < bytes.count {
            let n = try write(bytes, from: written)
            if n == 0 { throw .ioError }  // a write of zero bytes would loop forever
            written += n
        }
    }

    /// One send(2) of `bytes[offset...]` on a socket, MSG_NOSIGNAL (a closed peer is EPIPE,
    /// not a signal).
    public func send(_ bytes: [UInt8], from offset: Int = 0) throws(Errno) -> Int {
        try retryOnInterrupt { bytes.withUnsafeBytes { Glibc.send(rawValue, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) } }
    }

    /// One pread(2) of up to `count` bytes at `offset` of the file.
    public func read(count: Int, atFileOffset offset: Int64) throws(Errno) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let n = try retryOnInterrupt { bytes.withUnsafeMutableBytes { pread(rawValue, $0.baseAddress!, count, off_t(offset)) } }
        bytes.removeLast(count - n)
        return bytes
    }

    /// The file's size (fstat).
    public func size() throws(Errno) -> Int64 {
        var info = stat()
        _ = try retryOnInterrupt { fstat(rawValue, &info) }
        return Int64(info.st_size)
    }

    /// ftruncate(2).
    public func truncate(to size: Int64) throws(Errno) {
        _ = try retryOnInterrupt { ftruncate(rawValue, off_t(size)) }
    }

    /// Where a file of lines ends whole: the size up to and including its last newline.
    /// The bytes after it (a line torn by a crash in the middle of a write) are what
    /// `size() - result` counts.
    public func endOfLastWholeLine(chunkBytes: Int = 65536) throws(Errno) -> Int64 {
        var end = try size()
        while end > 0 {
            let start = max(0, end - Int64(chunkBytes))
            let chunk = try read(count: Int(end - start), atFileOffset: start)
            if let newline = chunk.lastIndex(of: UInt8(ascii: "\n")) { return start + Int64(newline) + 1 }
            end = start
        }
        return 0
    }

    /// accept(2) on a listening socket: the new connection, non-blocking and close-on-exec,
    /// or nil when none is waiting (EAGAIN, or one that went away before it was taken).
    public func acceptConnection() throws(Errno) -> Descriptor? {
        let fd: Int32
        do { fd = try retryOnInterrupt { Glibc.accept(rawValue, nil, nil) } } catch {
            if error == .wouldBlock || error == .connectionAbort { return nil }
            throw error
        }
        // accept4 is not in Glibc's Swift module; two fcntl calls do the same.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return Descriptor(rawValue: fd)
    }

    /// Reads until end of file.
    public func readAll(chunkBytes: Int = 65536) throws(Errno) -> [UInt8] {
        var bytes: [UInt8] = [], chunk = [UInt8](repeating: 0, count: chunkBytes)
        while true {
            let n = try read(into: &chunk)
            if n == 0 { return bytes }
            bytes += chunk[0..<n]
        }
    }
}
