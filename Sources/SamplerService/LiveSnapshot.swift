import SamplerClassifier
import SamplerWire
import SamplerPipeline
import SamplerSinks

/// The live loop's state at one moment, for `sampler status` and the metrics endpoint.
/// A copy: taking it costs a few hundred bytes, and nothing in it points back.
public struct LiveSnapshot: Sendable {
    public var startedAt: Microseconds
    public var takenAt: Microseconds
    public var group: UInt16
    public var output: String?
    public var receiveBufferBytes: Int
    public var maximumReceiveBufferBytes: Int
    /// Everything counted since the start.
    public var counters: LiveCounters
    public var openConnections: Int
    public var maxConnections: Int
    /// Connections finalized in the clock's current window, and in the last window that
    /// had any (its `start` says which).
    public var currentWindow: WindowSummary
    public var lastWindow: WindowSummary?
    /// Messages, losses and errors in the current window of the clock and the one before.
    public var currentInterval: IntervalCounters
    public var lastInterval: IntervalCounters?
    /// Each classifier shard's table and rings.
    public var shards: [ShardState] = []
    /// The ClickHouse sink's spool and inserts, when there is one.
    public var shipping: ShippingStatus? = nil
}

/// Something else the live loop waits on between batches: the status socket, the
/// metrics endpoint. Called on the loop's thread, so it may read the loop's state.
public protocol LoopAttachment: AnyObject {
    /// Appends the descriptors to wait on during this pass.
    func addDescriptors(to descriptors: inout [PollDescriptor])
    /// Handles what poll reported for the descriptors it added, in the same order.
    func handle(_ polled: ArraySlice<PollDescriptor>, now: Microseconds, snapshot: () -> LiveSnapshot)
}

/// One entry of poll(2)'s array, without the C type in the interface.
public struct PollDescriptor: Sendable {
    public var fd: Int32
    public var wantsInput: Bool
    public var wantsOutput: Bool
    /// Set by poll: readable (or a new connection), writable, or hung up / failed.
    public internal(set) var readable = false
    public internal(set) var writable = false
    public internal(set) var failed = false

    public init(fd: Int32, input: Bool = true, output: Bool = false) {
        self.fd = fd
        wantsInput = input
        wantsOutput = output
    }
}
