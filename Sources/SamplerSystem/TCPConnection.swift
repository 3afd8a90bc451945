#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP connection to a host name or address, with a timeout on connect, on
/// each send and on each receive (SO_SNDTIMEO, SO_RCVTIMEO; on Linux the first also
/// bounds connect). What the ClickHouse client needs, and no more.
public enum TCPConnection {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// The name did not resolve: getaddrinfo's reason.
        case resolve(String)
        /// No address of the name accepted the connection: the last one's error.
        case connect(Errno)

        public var description: String {
            switch self {
            case .resolve(let reason): reason
            case .connect(let error): error.description
            }
        }
    }

    /// Connects to the first address of `host` that answers.
    public static func open(host: String, port: UInt16, timeoutSeconds: Int) throws(Failure) -> Descriptor {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else { throw .resolve(String(cString: gai_strerror(status))) }
        defer { freeaddrinfo(list) }
        var last = Errno.connectionRefused
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
            guard fd >= 0 else { last = .last; continue }
            var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            do {
                _ = try retryOnInterrupt { connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) }
                return Descriptor(rawValue: fd)
            } catch {
                // A connect cut short by the send timeout fails with EINPROGRESS.
                last = error == .nowInProgress ? .timedOut : error
                close(fd)
            }
        }
        throw .connect(last)
    }

    /// Sends all of `bytes` (MSG_NOSIGNAL: a closed peer is EPIPE, not a signal). A
    /// timeout is ETIMEDOUT.
    public static func send(_ connection: Descriptor, _ bytes: [UInt8]) throws(Errno) {
        var sent = 0
        while sent < bytes.count {
            do throws(Errno) {
                let n = try connection.send(bytes, from: sent)
                if n == 0 { throw Errno.brokenPipe }
                sent += n
            } catch {
                throw error == .wouldBlock ? .timedOut : error
            }
        }
    }

    /// Receives until the peer closes. A timeout is ETIMEDOUT.
    public static func receiveAll(_ connection: Descriptor) throws(Errno) -> [UInt8] {
        do { return try connection.readAll(chunkBytes: 16384) } catch {
            throw error == .wouldBlock ? .timedOut : error
        }
    }
}
