#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file's bytes, mapped read-only (or read whole, for standard input and pipes). The
/// one place the command line turns raw memory into a `RawSpan`.
final class MappedFile {
    struct OpenError: Error, CustomStringConvertible {
        var path: String
        var errno: Int32
        var description: String { "\(path): \(String(cString: strerror(errno)))" }
    }

    private let base: UnsafeRawPointer?
    let count: Int
    private let mapped: Bool

    /// Maps `path`; "-" reads standard input to the end.
    init(path: String) throws(OpenError) {
        let fd = path == "-" ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw OpenError(path: path, errno: errno) }
        defer { if path != "-" { close(fd) } }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw OpenError(path: path, errno: errno) }
        if (info.st_mode & S_IFMT) == S_IFREG && info.st_size > 0 {
            let size = Int(info.st_size)
            guard let pointer = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), pointer != MAP_FAILED else {
                throw OpenError(path: path, errno: errno)
            }
            base = UnsafeRawPointer(pointer)
            count = size
            mapped = true
        } else {
            // A pipe, a terminal or an empty file: read it all.
            var buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 16, alignment: 16)
            var capacity = 1 << 16, used = 0
            while true {
                if used == capacity {
                    let bigger = UnsafeMutableRawPointer.allocate(byteCount: capacity * 2, alignment: 16)
                    bigger.copyMemory(from: buffer, byteCount: used)
                    buffer.deallocate()
                    buffer = bigger
                    capacity *= 2
                }
                let n = read(fd, buffer + used, capacity - used)
                if n > 0 { used += n; continue }
                if n == 0 { break }
                if errno == EINTR { continue }
                let error = errno
                buffer.deallocate()
                throw OpenError(path: path, errno: error)
            }
            base = UnsafeRawPointer(buffer)
            count = used
            mapped = false
        }
    }

    deinit {
        guard let base else { return }
        if mapped { munmap(UnsafeMutableRawPointer(mutating: base), count) } else { base.deallocate() }
    }

    /// Lends the bytes as a `RawSpan` for the duration of `body`.
    func withBytes<R>(_ body: (RawSpan) throws -> R) rethrows -> R {
        let buffer = UnsafeRawBufferPointer(start: base, count: base == nil ? 0 : count)
        return try body(RawSpan(_unsafeBytes: buffer))
    }
}
