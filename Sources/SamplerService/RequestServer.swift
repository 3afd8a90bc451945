import SamplerSystem
import SamplerWire
#if canImport(Glibc)
import Glibc
#endif

/// A small server inside the live loop's poll: it accepts connections on a listening
/// socket, reads one request up to its terminator, writes one answer and closes. Used
/// for the status socket (a line) and the metrics endpoint (an HTTP request). All of it
/// is non-blocking, so a slow or silent client costs a descriptor, never the loop: at
/// most `maximumClients` at once, each dropped after `timeout`.
public final class RequestServer: LoopAttachment {
    public typealias Respond = (_ request: [UInt8], _ snapshot: () -> LiveSnapshot) -> [UInt8]

    private let listener: Int32
    private let terminator: [UInt8]
    private let respond: Respond
    private let unlinkPath: String?
    private var clients: [Client] = []
    let maximumClients = 16
    let maximumRequestBytes = 8192
    let timeout: Microseconds = 10_000_000

    private struct Client {
        var fd: Int32
        var acceptedAt: Microseconds
        var request: [UInt8] = []
        var answer: [UInt8]? = nil
        var written = 0
    }

    public struct OpenError: Error, CustomStringConvertible {
        public var description: String
        /// Another process holds the address (EADDRINUSE, or a live socket at the path).
        public var inUse = false
    }

    private init(listener: Int32, terminator: [UInt8], unlinkPath: String?, respond: @escaping Respond) {
        self.listener = listener
        self.terminator = terminator
        self.unlinkPath = unlinkPath
        self.respond = respond
    }

    deinit {
        for client in clients { close(client.fd) }
        close(listener)
        if let unlinkPath { unlink(unlinkPath) }
    }

    /// Listens on a Unix stream socket at `path`, readable and writable by the owner and
    /// group only (0660; the directory, made 0750 if missing, narrows it further). A socket
    /// file left by a process that died is replaced; one that still answers is an error.
    public static func unix(path: String, terminator: [UInt8], respond: @escaping Respond) throws(OpenError) -> RequestServer {
        guard let address = UnixSocketAddress(path: path) else {
            throw OpenError(description: "the status socket path is too long (at most \(UnixSocketAddress.maximumPathBytes) bytes): \(path)")
        }
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if !directory.isEmpty { mkdir(directory, 0o750) }
        if access(path, F_OK) == 0 {
            if connectUnix(path) { throw OpenError(description: "another process answers on \(path): is sampler already running? Stop it, or give this one another status_socket (--status-socket)", inUse: true) }
            unlink(path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw OpenError(description: "socket(AF_UNIX): \(Errno.last)") }
        let bound = (try? address.withSockaddr { (address, length) throws(Errno) in try retryOnInterrupt { bind(fd, address, length) } }) != nil
        guard bound, chmod(path, 0o660) == 0, listen(fd, 16) == 0 else {
            let text = Errno.last
            close(fd)
            throw OpenError(description: "cannot listen on \(path): \(text)")
        }
        return RequestServer(listener: fd, terminator: terminator, unlinkPath: path, respond: respond)
    }

    /// Listens on TCP at `address`.
    public static func tcp(_ address: ListenAddress, terminator: [UInt8], respond: @escaping Respond) throws(OpenError) -> RequestServer {
        let family = address.isIPv6 ? AF_INET6 : AF_INET
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw OpenError(description: "socket: \(Errno.last)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var result: Int32
        if address.isIPv6 {
            var sa = sockaddr_in6()
            sa.sin6_family = sa_family_t(AF_INET6)
            sa.sin6_port = address.port.bigEndian
            inet_pton(AF_INET6, address.host, &sa.sin6_addr)
            result = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        } else {
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_port = address.port.bigEndian
            inet_pton(AF_INET, address.host, &sa.sin_addr)
            result = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        if result == 0 { result = listen(fd, 16) }
        guard result == 0 else {
            let error = Errno.last
            close(fd)
            throw OpenError(description: "cannot listen for metrics on \(address): \(error) (set metrics = none, or another address)",
                            inUse: error == .addressInUse)
        }
        return RequestServer(listener: fd, terminator: terminator, unlinkPath: nil, respond: respond)
    }

    public func addDescriptors(to descriptors: inout [PollDescriptor]) {
        descriptors.append(PollDescriptor(fd: listener, input: clients.count < maximumClients))
        for client in clients {
            descriptors.append(PollDescriptor(fd: client.fd, input: client.answer == nil, output: client.answer != nil))
        }
    }

    public func handle(_ polled: ArraySlice<PollDescriptor>, now: Microseconds, snapshot: () -> LiveSnapshot) {
        // Serve the clients that were polled (the list may have changed length since).
        var keep: [Client] = []
        for (client, state) in zip(clients, polled.dropFirst()) {
            var client = client
            if state.failed && !state.readable { close(client.fd); continue }
            if state.readable { read(into: &client, snapshot: snapshot) }
            if client.answer != nil && (state.writable || state.readable) { write(&client) }
            let done = client.fd < 0 || (client.answer.map { client.written == $0.count } ?? false)
            if done || now - client.acceptedAt > timeout {
                if client.fd >= 0 { close(client.fd) }
                continue
            }
            keep.append(client)
        }
        clients = keep
        if polled.first?.readable == true { accept(now: now) }
    }

    private func accept(now: Microseconds) {
        while clients.count < maximumClients {
            // accept4 is not in Glibc's Swift module; two fcntl calls do the same.
            let fd = Glibc.accept(listener, nil, nil)
            guard fd >= 0 else { return }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            clients.append(Client(fd: fd, acceptedAt: now))
        }
    }

    private func read(into client: inout Client, snapshot: () -> LiveSnapshot) {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let n: Int
        do {
            n = try Descriptor(rawValue: client.fd).read(into: &chunk)
        } catch {
            if error == .wouldBlock { return }
            n = 0
        }
        if n == 0 {
            close(client.fd)
            client.fd = -1
            return
        }
        guard client.answer == nil else { return }
        client.request += chunk[0..<n]
        if client.request.count > maximumRequestBytes || contains(client.request, terminator) {
            client.answer = respond(client.request, snapshot)
        }
    }

    private func write(_ client: inout Client) {
        guard let answer = client.answer, client.fd >= 0 else { return }
        do {
            client.written += try Descriptor(rawValue: client.fd).send(answer, from: client.written)
        } catch {
            // Not ready yet: poll says when. Anything else: the client is gone.
            if error != .wouldBlock { client.written = answer.count }
        }
    }

    private func contains(_ bytes: [UInt8], _ pattern: [UInt8]) -> Bool {
        guard bytes.count >= pattern.count else { return false }
        return (0...(bytes.count - pattern.count)).contains { i in bytes[i..<(i + pattern.count)].elementsEqual(pattern) }
    }
}

/// True if something accepts connections on the Unix socket at `path`.
func connectUnix(_ path: String) -> Bool {
    guard let fd = try? UnixClient.connect(path) else { return false }
    close(fd)
    return true
}

