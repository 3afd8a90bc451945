#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 socket address (sockaddr_in, sockaddr_in6) from an address literal and
/// a port; names are not looked up.
public struct IPSocketAddress: Sendable {
    private var storage = sockaddr_storage()
    private let length: socklen_t
    public let family: Int32

    /// Nil when `host` is not an IPv4 or IPv6 literal.
    public init?(host: String, port: UInt16) {
        if host.contains(":") {
            var address = sockaddr_in6()
            (address.sin6_family, address.sin6_port) = (sa_family_t(AF_INET6), port.bigEndian)
            guard inet_pton(AF_INET6, host, &address.sin6_addr) == 1 else { return nil }
            self.init(address, family: AF_INET6)
        } else {
            var address = sockaddr_in()
            (address.sin_family, address.sin_port) = (sa_family_t(AF_INET), port.bigEndian)
            guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return nil }
            self.init(address, family: AF_INET)
        }
    }

    private init<Address>(_ address: Address, family: Int32) {
        withUnsafeMutableBytes(of: &storage) { storage in withUnsafeBytes(of: address) { storage.copyMemory(from: $0) } }
        length = socklen_t(MemoryLayout<Address>.size)
        self.family = family
    }

    /// Calls `body` with the address as the socket calls take it.
    public func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws(Errno) -> Result) throws(Errno) -> Result {
        var copy = storage
        return try withUnsafePointer(to: &copy) { (pointer) throws(Errno) -> Result in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (address) throws(Errno) -> Result in try body(address, length) }
        }
    }
}

extension Descriptor {
    /// A new stream socket of `family`, non-blocking and closed on exec.
    public static func streamSocket(family: Int32) throws(Errno) -> Descriptor {
        Descriptor(rawValue: try retryOnInterrupt {
            socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        })
    }

    /// A listening TCP socket on `address` (SO_REUSEADDR, so that a restart does not wait
    /// for the last connections' TIME_WAIT). On failure nothing is left open.
    public static func listening(on address: IPSocketAddress, backlog: Int32) throws(Errno) -> Descriptor {
        let socket = try streamSocket(family: address.family)
        do {
            try socket.setOption(SOL_SOCKET, SO_REUSEADDR, 1)
            _ = try address.withSockaddr { (pointer, length) throws(Errno) in try retryOnInterrupt { Glibc.bind(socket.rawValue, pointer, length) } }
            try socket.listen(backlog: backlog)
        } catch {
            socket.close()
            throw error
        }
        return socket
    }

    /// Binds the socket to a Unix address.
    public func bind(to address: UnixSocketAddress) throws(Errno) {
        _ = try address.withSockaddr { (pointer, length) throws(Errno) in try retryOnInterrupt { Glibc.bind(rawValue, pointer, length) } }
    }

    public func listen(backlog: Int32) throws(Errno) {
        _ = try retryOnInterrupt { Glibc.listen(rawValue, backlog) }
    }

    /// setsockopt(2) of an integer option.
    public func setOption(_ level: Int32, _ name: Int32, _ value: Int32) throws(Errno) {
        var value = value
        _ = try retryOnInterrupt { setsockopt(rawValue, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) }
    }
}
