import SamplerSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A regular file's bytes, mapped read-only. With `CaptureStream`, the one place the
/// command line turns raw memory into a `RawSpan`.
final class MappedFile {
    struct OpenError: Error, CustomStringConvertible {
        var path: String
        var error: Errno
        var description: String { "\(path): \(error)" }
    }

    private let base: UnsafeRawPointer?
    let count: Int
    private let mapped: Bool

    /// Maps the regular file `path`.
    init(path: String) throws(OpenError) {
        let fd: Int32
        do { fd = path == "-" ? STDIN_FILENO : try Descriptor.open(path, O_RDONLY).rawValue } catch { throw OpenError(path: path, error: error) }
        defer { if path != "-" { close(fd) } }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw OpenError(path: path, error: .last) }
        if (info.st_mode & S_IFMT) == S_IFREG && info.st_size > 0 {
            let size = Int(info.st_size)
            guard let pointer = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), pointer != MAP_FAILED else {
                throw OpenError(path: path, error: .last)
            }
            base = UnsafeRawPointer(pointer)
            count = size
            mapped = true
        } else {
            // An empty regular file: no bytes (a pipe is a CaptureStream's).
            base = nil
            count = 0
            mapped = false
        }
    }

    /// Whether `path` is a regular file, which is mapped; anything else ("-", a pipe, a
    /// terminal) is read as a stream.
    static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return path != "-" && stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    deinit {
        guard let base else { return }
        if mapped { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    /// Lends the bytes as a `RawSpan` for the duration of `body`.
    func withBytes<R>(_ body: (RawSpan) throws -> R) rethrows -> R {
        let buffer = UnsafeRawBufferPointer(start: base, count: base == nil ? 0 : count)
        return try body(RawSpan(_unsafeBytes: buffer))
    }
}

/// A capture read from standard input or a pipe in pieces, so that memory holds one piece
/// (and the record cut short at its end) rather than the whole stream, and records come
/// out as connections finish.
final class CaptureStream {
    static let pieceBytes = 1 << 20

    let path: String
    /// The stream, closed once (standard input is a duplicate, so it is always our own).
    private let owner: OwnedDescriptor
    /// Bytes read and not yet consumed.
    private(set) var pending: [UInt8] = []
    /// The stream offset of `pending`'s first byte (for error offsets).
    private(set) var base = 0
    private(set) var ended = false

    init(path: String) throws(MappedFile.OpenError) {
        self.path = path
        do {
            owner = OwnedDescriptor(path == "-" ? Descriptor(rawValue: try retryOnInterrupt { fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0) })
                                                : try Descriptor.open(path, O_RDONLY))
        } catch {
            throw MappedFile.OpenError(path: path, error: error)
        }
        pending.reserveCapacity(2 * Self.pieceBytes)
    }

    private var scratch = [UInt8](repeating: 0, count: CaptureStream.pieceBytes)

    /// Reads what the stream has, up to one piece (a pipe gives at most its buffer, 64 KiB,
    /// at a time); sets `ended` at the end of the stream.
    func fill() throws(MappedFile.OpenError) {
        let n: Int
        do { n = try owner.descriptor.read(into: &scratch) } catch {
            throw MappedFile.OpenError(path: path, error: error)
        }
        if n == 0 { ended = true }
        pending.append(contentsOf: scratch[0..<n])
    }

    /// Forgets the first `count` pending bytes (consumed by the reader).
    func drop(_ count: Int) {
        pending.removeFirst(count)
        base += count
    }

    /// Lends the pending bytes as a `RawSpan` for the duration of `body`.
    func withBytes<R>(_ body: (RawSpan) throws -> R) rethrows -> R {
        try pending.withUnsafeBytes { try body(RawSpan(_unsafeBytes: $0)) }
    }
}
