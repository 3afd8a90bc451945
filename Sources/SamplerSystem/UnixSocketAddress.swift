#if canImport(Glibc)
import Glibc
#endif

/// A Unix-domain socket address (sockaddr_un): the status socket, its client, systemd's
/// notification socket. A path starting with `@` is in the abstract namespace (as
/// systemd's NOTIFY_SOCKET may be).
public struct UnixSocketAddress: Sendable {
    private var storage = sockaddr_un()
    private var length: socklen_t

    /// The longest path that fits (sun_path less its terminating zero).
    public static let maximumPathBytes = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    /// Nil when the path is empty or longer than `maximumPathBytes`.
    public init?(path: String) {
        var bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count <= Self.maximumPathBytes else { return nil }
        if bytes[0] == UInt8(ascii: "@") { bytes[0] = 0 }
        storage.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &storage.sun_path) { path in
            for (index, byte) in bytes.enumerated() { path[index] = byte }
        }
        // An abstract address is exactly as long as its name; a path has its zero.
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
        length = socklen_t(pathOffset + bytes.count + (bytes[0] == 0 ? 0 : 1))
    }

    /// Calls `body` with the address as the socket calls take it.
    public func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws(Errno) -> Result) throws(Errno) -> Result {
        var copy = storage
        return try withUnsafePointer(to: &copy) { (pointer) throws(Errno) -> Result in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (address) throws(Errno) -> Result in try body(address, length) }
        }
    }
}
