/// How the NFLOG instance is set up. The kernel's defaults hold messages up to 1 s
/// (threshold 100, flush timeout 1 s) and batch them into about 4 KB; sampler asks for
/// bigger batches and a short timeout instead: few recv() calls at high rates, at most
/// 50 ms of delay at low ones. Reasons in docs/rules.md ("Reading NFLOG").
public struct NflogConfiguration: Sendable {
    public var group: UInt16
    /// Bytes of each packet copied to us: an IPv6 header with extension headers (40 +
    /// up to 200) and a TCP header with options (60) fit; payload beyond is not needed.
    public var copyRange: UInt32 = 320
    /// NFULA_CFG_NLBUFSIZ: the kernel's batch (one netlink datagram) in bytes.
    public var batchBytes: UInt32 = 65_536
    /// NFULA_CFG_QTHRESH: messages per batch before the kernel sends it.
    public var queueThreshold: UInt32 = 128
    /// NFULA_CFG_TIMEOUT: how long the kernel holds a batch that is not full, in 1/100 s.
    public var flushTimeoutHundredths: UInt32 = 5
    /// The socket's receive buffer (SO_RCVBUFFORCE), and how far ENOBUFS may grow it: the
    /// settings receive_buffer and max_receive_buffer, whose defaults are there.
    public var receiveBufferBytes: Int
    public var maximumReceiveBufferBytes: Int

    public init(group: UInt16, receiveBufferBytes: Int, maximumReceiveBufferBytes: Int) {
        self.group = group
        self.receiveBufferBytes = receiveBufferBytes
        self.maximumReceiveBufferBytes = maximumReceiveBufferBytes
    }

    /// The receive buffer that one datagram always fits in.
    public var datagramBufferBytes: Int { Int(batchBytes) + 4096 }
}
