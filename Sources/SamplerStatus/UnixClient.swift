import SamplerSystem
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
        guard let address = UnixSocketAddress(path: path) else { throw .failed("socket path too long: \(path)") }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .failed("socket(AF_UNIX): \(Errno.last)") }
        var limit = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        do {
            _ = try address.withSockaddr { (address, length) throws(Errno) in try retryOnInterrupt { Glibc.connect(fd, address, length) } }
        } catch {
            close(fd)
            let text = "\(path): \(error)"
            switch error {
            case .noSuchFileOrDirectory, .connectionRefused, .notDirectory: throw .notRunning(text)
            case .permissionDenied, .notPermitted: throw .permissionDenied(text)
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
            do {
                sent += try Descriptor(rawValue: fd).send(request, from: sent)
            } catch {
                throw .failed("\(path): cannot send the request: \(error)")
            }
        }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n: Int
            do {
                n = try Descriptor(rawValue: fd).read(into: &chunk)
            } catch {
                throw .failed("\(path): no answer within \(timeoutSeconds) s (\(error))")
            }
            if n == 0 { return answer }
            answer += chunk[0..<n]
        }
    }
}
