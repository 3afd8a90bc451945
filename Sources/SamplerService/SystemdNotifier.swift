import SamplerSystem
#if canImport(Glibc)
import Glibc
#endif

/// Tells systemd about the service's state (sd_notify(3)'s protocol, without libsystemd):
/// one datagram per message to the Unix socket named by $NOTIFY_SOCKET ("@..." is an
/// abstract socket). Without $NOTIFY_SOCKET, as outside systemd, it does nothing.
public final class SystemdNotifier: @unchecked Sendable {
    private let fd: Int32
    private let address: UnixSocketAddress
    /// How often to send WATCHDOG=1: half of $WATCHDOG_USEC, or nil without a watchdog.
    public let watchdogInterval: Int64?

    public init?(environment: [String: String]) {
        guard let path = environment["NOTIFY_SOCKET"], let address = UnixSocketAddress(path: path) else { return nil }
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        self.address = address
        if let usec = environment["WATCHDOG_USEC"].flatMap(Int64.init), usec > 0,
           environment["WATCHDOG_PID"].flatMap(Int32.init).map({ $0 == getpid() }) ?? true {
            watchdogInterval = usec / 2
        } else {
            watchdogInterval = nil
        }
    }

    deinit { close(fd) }

    /// Sends one state message, e.g. "READY=1"; true if it was sent.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        let bytes = Array(state.utf8)
        let sent = try? address.withSockaddr { (address, length) throws(Errno) in
            try retryOnInterrupt { sendto(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL), address, length) }
        }
        return sent == bytes.count
    }
}
