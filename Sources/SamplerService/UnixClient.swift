#if canImport(Glibc)
import Glibc
#endif

/// The client side of the status socket: connect, send one request, read the answer
/// until the daemon closes, with a deadline.
public enum UnixClient {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// No socket file, or nothing listening on it: the daemon is not running.
        case notRunning(String)
        /// The socket is there but we may not use it.
        case permissionDenied(String)
        case failed(String)

        public var description: String {
            switch self {
            case .notRunning(let text), .permissionDenied(let text), .failed(let text): text
            }
        }
    }

    /// Connects to `path`; the descriptor is blocking, with `timeoutSeconds` on reads and writes.
    public static func connect(_ path: String, timeoutSeconds: Int = 5) throws(Failure) -> Int32 {
        var address = sockaddr_un()
        guard path.utf8.count < MemoryLayout.size(ofValue: address.sun_path) else { throw .failed("socket path too long: \(path)") }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .failed("socket(AF_UNIX): \(lastError())") }
        var limit = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            let code = errno, text = "\(path): \(lastError())"
            close(fd)
            switch code {
            case ENOENT, ECONNREFUSED, ENOTDIR: throw .notRunning(text)
            case EACCES, EPERM: throw .permissionDenied(text)
            default: throw .failed(text)
            }
        }
        return fd
    }

    /// Sends `request` and returns everything the other side writes before closing.
    public static func exchange(_ path: String, request: [UInt8], timeoutSeconds: Int = 5) throws(Failure) -> [UInt8] {
        let fd = try connect(path, timeoutSeconds: timeoutSeconds)
        defer { close(fd) }
        var sent = 0
        while sent < request.count {
            let n = request.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw .failed("\(path): cannot send the request: \(lastError())") }
            sent += n
        }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw .failed("\(path): no answer within \(timeoutSeconds) s (\(lastError()))") }
            if n == 0 { return answer }
            answer += chunk[0..<n]
        }
    }
}
