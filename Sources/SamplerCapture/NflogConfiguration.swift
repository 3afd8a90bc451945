/// How the NFLOG instance is set up. The kernel's defaults hold messages up to 1 s
/// (threshold 100, flush timeout 1 s) and batch them into about 4 KB; sampler asks for
/// batches as large as the kernel makes them and a short timeout instead: few recv()
/// calls, and few wake-ups of the pipeline's threads, at high rates, at most 50 ms of
/// delay at low ones. Reasons in docs/rules.md ("Reading NFLOG").
public struct NflogConfiguration: Sendable {
    public var group: UInt16
    /// Bytes of each packet copied to us: an IPv6 header with extension headers (40 +
    /// up to 200) and a TCP header with options (60) fit; payload beyond is not needed.
    public var copyRange: UInt32 = 320
    /// NFULA_CFG_NLBUFSIZ: the kernel's batch (one netlink datagram) in bytes.
    public var batchBytes: UInt32 = 65_536
    /// NFULA_CFG_QTHRESH: messages per batch before the kernel sends it. More than a
    /// batch holds, so that under load a batch goes out when it is full: a wake-up of the
    /// reader, its shards and the writer costs about as much as classifying a few dozen
    /// packets (docs/benchmarks.md).
    public var queueThreshold: UInt32 = 1024
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

    /// The receive buffer that one datagram always fits in. Not `batchBytes`: the kernel
    /// allocates the batch with `alloc_skb(batchBytes)`, whose memory is rounded up to a
    /// power of two (64 KiB and the skb's own tail become 128 KiB), and fills all of it
    /// before a full batch goes out; twice the batch, and a page for the headers, hold it.
    public var datagramBufferBytes: Int { 2 * Int(batchBytes) + 4096 }
}
