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

    public func close() { _ = Glibc.close(rawValue) }

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
