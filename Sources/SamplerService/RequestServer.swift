import SamplerStatus
import SamplerConfiguration
import SamplerSystem
import SamplerWire
#if canImport(Glibc)
import Glibc
#endif

/// A small server inside the live loop's poll: it accepts connections on a listening
/// socket, reads one request up to its terminator, writes one answer and closes. Used
/// for the status socket (a line) and the metrics endpoint (an HTTP request).
///
/// No client can keep another from its answer (docs/architecture.md, "The request
/// servers"): everything is non-blocking, so a slow or silent client costs a descriptor,
/// never the loop; the listener is always polled and each pass takes every waiting
/// connection (up to a batch), so the kernel's backlog never fills behind idle clients;
/// a client has `requestTimeout` to send its whole request, which a real client does at
/// once, and `answerTimeout` to take the answer; at most `maximumClients` are held, and
/// when a new one comes with all of them taken, the one that has waited longest for its
/// request makes room. Memory is bounded: `maximumClients` requests of at most
/// `maximumRequestBytes`.
public final class RequestServer: LoopAttachment {
    public typealias Respond = (_ request: [UInt8], _ snapshot: () -> LiveSnapshot) -> [UInt8]

    private let listenerOwner: OwnedDescriptor
    private var listener: Int32 { listenerOwner.descriptor.rawValue }
    /// Any of these ends a request; the search looks only at what the last read added.
    private let terminators: [[UInt8]]
    private let respond: Respond
    private let unlinkPath: String?
    private var clients: [Client] = []
    static let maximumClients = 256
    static let maximumRequestBytes = 8192
    /// Connections taken from the backlog in one pass of the loop.
    static let acceptBatch = 64
    static let backlog: Int32 = 1024
    static let requestTimeout: Microseconds = 2_000_000
    static let answerTimeout: Microseconds = 10_000_000

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

    private init(listener: Descriptor, terminators: [[UInt8]], unlinkPath: String?, respond: @escaping Respond) {
        listenerOwner = OwnedDescriptor(listener)
        self.terminators = terminators
        self.unlinkPath = unlinkPath
        self.respond = respond
    }

    deinit {
        // The clients are values in an Array (see OwnedDescriptor); the listener's owner
        // closes it after this.
        for client in clients { close(client.fd) }
        if let unlinkPath { unlink(unlinkPath) }
    }

    /// Listens on a Unix stream socket at `path`, readable and writable by the owner and
    /// group only (0660; the directory, made 0750 if missing, narrows it further). A socket
    /// file left by a process that died is replaced; one that still answers is an error.
    /// Who may connect to a Unix socket: its mode, and the group it is given (nil: the
    /// process's). The directory sampler makes for it gets the same group, so that the
    /// group's members can reach the socket.
    public struct SocketAccess: Sendable {
        public var mode: mode_t
        public var group: gid_t?
        public init(mode: mode_t = 0o660, group: gid_t? = nil) {
            self.mode = mode
            self.group = group
        }
    }

    public static func unix(path: String, access permissions: SocketAccess = SocketAccess(), terminators: [[UInt8]],
                            respond: @escaping Respond) throws(OpenError) -> RequestServer {
        guard let address = UnixSocketAddress(path: path) else {
            throw OpenError(description: "the status socket path is too long (at most \(UnixSocketAddress.maximumPathBytes) bytes): \(path)")
        }
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if !directory.isEmpty, mkdir(directory, 0o750) == 0, let group = permissions.group {
            _ = chown(directory, uid_t.max, group)
        }
        if access(path, F_OK) == 0 {
            if connectUnix(path) { throw OpenError(description: "another process answers on \(path): is sampler already running? Stop it, or give this one another status_socket (--status-socket)", inUse: true) }
            unlink(path)
        }
        let socket: Descriptor
        do { socket = try Descriptor.streamSocket(family: AF_UNIX) } catch { throw OpenError(description: "socket(AF_UNIX): \(error)") }
        do {
            try socket.bind(to: address)
            // The group before the mode: never a moment with the mode on the wrong group.
            if let group = permissions.group { _ = try retryOnInterrupt { chown(path, uid_t.max, group) } }
            _ = try retryOnInterrupt { chmod(path, permissions.mode) }
            try socket.listen(backlog: backlog)
        } catch {
            socket.close()
            throw OpenError(description: "cannot listen on \(path): \(error)")
        }
        return RequestServer(listener: socket, terminators: terminators, unlinkPath: path, respond: respond)
    }

    /// Listens on TCP at `address`.
    public static func tcp(_ address: ListenAddress, terminators: [[UInt8]], respond: @escaping Respond) throws(OpenError) -> RequestServer {
        guard let socketAddress = IPSocketAddress(host: address.host, port: address.port) else {
            throw OpenError(description: "cannot listen for metrics on \(address): not an address literal (set metrics = none, or another address)")
        }
        let socket: Descriptor
        do { socket = try Descriptor.listening(on: socketAddress, backlog: backlog) } catch {
            throw OpenError(description: "cannot listen for metrics on \(address): \(error) (set metrics = none, or another address)",
                            inUse: error == .addressInUse)
        }
        return RequestServer(listener: socket, terminators: terminators, unlinkPath: nil, respond: respond)
    }

    public func addDescriptors(to descriptors: inout [PollDescriptor]) {
        descriptors.append(PollDescriptor(fd: listener))
        for client in clients {
            descriptors.append(PollDescriptor(fd: client.fd, input: client.answer == nil, output: client.answer != nil))
        }
    }

    public func handle(_ polled: ArraySlice<PollDescriptor>, now: Microseconds, snapshot: () -> LiveSnapshot) {
        // Serve the clients that were polled (the list may have changed length since).
        var keep: [Client] = []
        keep.reserveCapacity(clients.count)
        for (client, state) in zip(clients, polled.dropFirst()) {
            var client = client
            if state.failed && !state.readable { close(client.fd); continue }
            if state.readable { read(into: &client, snapshot: snapshot) }
            if client.answer != nil && (state.writable || state.readable) { write(&client) }
            let done = client.fd < 0 || (client.answer.map { client.written == $0.count } ?? false)
            let deadline = client.acceptedAt + (client.answer == nil ? Self.requestTimeout : Self.answerTimeout)
            if done || now > deadline {
                if client.fd >= 0 { close(client.fd) }
                continue
            }
            keep.append(client)
        }
        clients = keep
        if polled.first?.readable == true { accept(now: now) }
    }

    /// Takes what waits in the backlog, up to a batch; with every place taken, the client
    /// that has waited longest for its request makes room (a well-behaved one has sent
    /// its request by then and is being answered, which is never cut short).
    private func accept(now: Microseconds) {
        for _ in 0..<Self.acceptBatch {
            guard let connection = try? Descriptor(rawValue: listener).acceptConnection() else { return }
            if clients.count >= Self.maximumClients {
                guard let oldest = clients.indices.filter({ clients[$0].answer == nil }).min(by: { clients[$0].acceptedAt < clients[$1].acceptedAt }) else {
                    connection.close()  // all of them are being answered: this one tries again
                    continue
                }
                close(clients[oldest].fd)
                clients.remove(at: oldest)
            }
            clients.append(Client(fd: connection.rawValue, acceptedAt: now))
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
        let searchFrom = max(0, client.request.count - (terminators.map(\.count).max() ?? 1) + 1)
        client.request += chunk[0..<n]
        if client.request.count > Self.maximumRequestBytes || Self.ends(client.request, from: searchFrom, terminators: terminators) {
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

    /// Whether a terminator occurs in `bytes` at or after `start`.
    public static func ends(_ bytes: [UInt8], from start: Int, terminators: [[UInt8]]) -> Bool {
        terminators.contains { pattern in
            guard bytes.count >= pattern.count, start <= bytes.count - pattern.count else { return false }
            return (start...(bytes.count - pattern.count)).contains { i in bytes[i..<(i + pattern.count)].elementsEqual(pattern) }
        }
    }
}

/// True if something accepts connections on the Unix socket at `path`.
func connectUnix(_ path: String) -> Bool {
    guard let fd = try? UnixClient.connect(path) else { return false }
    close(fd)
    return true
}

