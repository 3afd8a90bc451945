import CNetfilter
import SamplerSystem
import SamplerWire
#if canImport(Glibc)
import Glibc
#endif

/// A netlink socket bound to one NFLOG group (libmnl), configured for copy mode with
/// sequence numbers. The only place that talks to the kernel's NFLOG; what it receives
/// is parsed in place by SamplerWire.
public final class NflogSocket {
    public let configuration: NflogConfiguration
    private let socket: OpaquePointer
    /// The socket's descriptor, non-blocking, for poll(2).
    public let fd: Int32
    /// The receive buffer as the kernel reports it: twice what was asked for (it counts its
    /// own bookkeeping in), which is what status and the log show.
    public private(set) var receiveBufferBytes: Int
    /// What sampler asked for last (SO_RCVBUFFORCE): the figure `receive_buffer` and
    /// `max_receive_buffer` are in, and what a growth doubles.
    public private(set) var requestedReceiveBufferBytes: Int

    public init(_ configuration: NflogConfiguration) throws(CaptureError) {
        self.configuration = configuration
        guard hasNetAdminCapability() else { throw .notPermitted }
        guard let socket = mnl_socket_open(NETLINK_NETFILTER) else {
            throw Errno.last == .protocolNotSupported ? .kernelSupport("no NETLINK_NETFILTER") : .system(call: "mnl_socket_open", .last)
        }
        self.socket = socket
        fd = mnl_socket_get_fd(socket)
        receiveBufferBytes = 0
        requestedReceiveBufferBytes = 0
        // Every stored property is set from here on, so a throw runs deinit, which closes
        // the socket: no close of our own on these paths.
        guard mnl_socket_bind(socket, 0, pid_t(MNL_SOCKET_AUTOPID)) >= 0 else {
            throw .system(call: "mnl_socket_bind", .last)
        }
        try configure()
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        setReceiveBuffer(configuration.receiveBufferBytes)
    }

    deinit {
        // Closing the socket unbinds the group in the kernel.
        mnl_socket_close(socket)
    }

    /// Binds the group and sets copy mode, batching and sequence numbers, each with an
    /// acknowledgement, so that a refusal is reported here and not as silence later.
    private func configure() throws(CaptureError) {
        // Address families: a no-op on kernels since 3.17, needed before them.
        for family in [AF_INET, AF_INET6] {
            try send(family: UInt8(family), group: 0, acknowledge: false) { nlh in
                nflog_attr_put_cfg_cmd(nlh, UInt8(NFULNL_CFG_CMD_PF_BIND.rawValue))
            }
        }
        do {
            try send(family: UInt8(AF_UNSPEC), group: configuration.group) { nlh in
                nflog_attr_put_cfg_cmd(nlh, UInt8(NFULNL_CFG_CMD_BIND.rawValue))
            }
        } catch .system(_, let code) where code == .notPermitted || code == .resourceBusy {
            throw .groupInUse(configuration.group)
        } catch .system(_, let code) where code == .noSuchFileOrDirectory || code == .notSupported {
            throw .kernelSupport("nfnetlink_log is not loaded")
        }
        let config = configuration
        try send(family: UInt8(AF_UNSPEC), group: config.group) { nlh in
            nflog_attr_put_cfg_mode(nlh, UInt8(NFULNL_COPY_PACKET), config.copyRange)
            mnl_attr_put_u32(nlh, UInt16(NFULA_CFG_NLBUFSIZ.rawValue), config.batchBytes.bigEndian)
            mnl_attr_put_u32(nlh, UInt16(NFULA_CFG_QTHRESH.rawValue), config.queueThreshold.bigEndian)
            mnl_attr_put_u32(nlh, UInt16(NFULA_CFG_TIMEOUT.rawValue), config.flushTimeoutHundredths.bigEndian)
            mnl_attr_put_u16(nlh, UInt16(NFULA_CFG_FLAGS.rawValue), UInt16(NFULNL_CFG_F_SEQ).bigEndian)
        }
    }

    private var sequence: UInt32 = 1

    /// Sends one NFULNL_MSG_CONFIG message and, if asked, waits for its acknowledgement.
    private func send(family: UInt8, group: UInt16, acknowledge: Bool = true,
                      _ fill: (UnsafeMutablePointer<nlmsghdr>) -> Void) throws(CaptureError) {
        var buffer = [CChar](repeating: 0, count: 1024)
        sequence &+= 1
        let seq = sequence
        let length: Int = buffer.withUnsafeMutableBufferPointer { raw in
            let nlh = nflog_nlmsg_put_header(raw.baseAddress!, UInt8(NFULNL_MSG_CONFIG.rawValue), family, group)!
            nlh.pointee.nlmsg_seq = seq
            if acknowledge { nlh.pointee.nlmsg_flags |= UInt16(NLM_F_ACK) }
            fill(nlh)
            return Int(nlh.pointee.nlmsg_len)
        }
        guard buffer.withUnsafeBytes({ mnl_socket_sendto(socket, $0.baseAddress, length) }) >= 0 else {
            throw .system(call: "sendto(NFULNL_MSG_CONFIG)", .last)
        }
        guard acknowledge else { return }
        var reply = [UInt8](repeating: 0, count: 8192)
        while true {
            let received: Int
            do {
                received = try retryOnInterrupt { reply.withUnsafeMutableBytes { mnl_socket_recvfrom(socket, $0.baseAddress, $0.count) } }
            } catch {
                throw .system(call: "recv(acknowledgement)", error)
            }
            // The acknowledgement is an NLMSG_ERROR with code 0; read with the same parser.
            let code: Int32? = reply.withUnsafeBytes { raw -> Int32? in
                var messages = NetlinkMessages(RawSpan(_unsafeBytes: UnsafeRawBufferPointer(rebasing: raw[0..<received])))
                while let message = try? messages.next() {
                    if message.sequence == seq, let code = message.errorCode { return code }
                }
                return nil
            }
            guard let code else { continue }  // a packet or another reply: keep waiting
            if code != 0 { throw .system(call: "NFLOG configuration", Errno(rawValue: -code)) }
            return
        }
    }

    /// Sets the receive buffer (SO_RCVBUFFORCE, which may exceed rmem_max with
    /// CAP_NET_ADMIN; SO_RCVBUF otherwise). Returns the size the kernel reports.
    @discardableResult
    public func setReceiveBuffer(_ bytes: Int) -> Int {
        var size = Int32(clamping: bytes)
        requestedReceiveBufferBytes = Int(size)
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var actual: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        // Should it fail (it does not on a socket we hold), the size asked for is the
        // best guess; the status report shows it either way.
        receiveBufferBytes = getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &actual, &length) == 0 ? Int(actual) : Int(size)
        return receiveBufferBytes
    }

    public enum Received {
        case datagram(Int)
        /// Nothing more to read now.
        case empty
        /// The kernel dropped messages because the socket buffer was full (ENOBUFS).
        case overrun
    }

    /// Receives one datagram into `buffer`. Nothing keeps a reference into the buffer.
    public func receive(into buffer: UnsafeMutableRawBufferPointer) throws(CaptureError) -> Received {
        do {
            return .datagram(try retryOnInterrupt { recv(fd, buffer.baseAddress, buffer.count, 0) })
        } catch .wouldBlock {
            return .empty
        } catch .noBufferSpace {
            return .overrun
        } catch {
            throw .system(call: "recv(NFLOG)", error)
        }
    }
}
