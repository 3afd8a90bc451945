#if canImport(Glibc)
import Glibc
#endif

/// Where the metrics endpoint listens: an IPv4 or IPv6 literal and a port, written
/// `127.0.0.1:9731` or `[::1]:9731`. Names are not looked up: a service should not
/// depend on DNS to start.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: UInt16
    public var isIPv6: Bool { host.contains(":") }

    public init?(_ text: String) {
        let host: Substring, port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            port = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
            if host.contains(":") { return nil }  // IPv6 needs brackets
        }
        guard let number = UInt16(port), number > 0 else { return nil }
        var buffer = in6_addr()
        guard inet_pton(host.contains(":") ? AF_INET6 : AF_INET, String(host), &buffer) == 1 else { return nil }
        self.host = String(host)
        self.port = number
    }

    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public var isLoopback: Bool { host.hasPrefix("127.") || host == "::1" }
}
