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

    public init(startedAt: Microseconds, takenAt: Microseconds, group: UInt16, output: String?, receiveBufferBytes: Int,
                maximumReceiveBufferBytes: Int, counters: LiveCounters, openConnections: Int, maxConnections: Int,
                currentWindow: WindowSummary, lastWindow: WindowSummary?, currentInterval: IntervalCounters,
                lastInterval: IntervalCounters?, shards: [ShardState] = [], shipping: ShippingStatus? = nil) {
        (self.startedAt, self.takenAt, self.group, self.output) = (startedAt, takenAt, group, output)
        (self.receiveBufferBytes, self.maximumReceiveBufferBytes) = (receiveBufferBytes, maximumReceiveBufferBytes)
        (self.counters, self.openConnections, self.maxConnections) = (counters, openConnections, maxConnections)
        (self.currentWindow, self.lastWindow, self.currentInterval, self.lastInterval) = (currentWindow, lastWindow, currentInterval, lastInterval)
        (self.shards, self.shipping) = (shards, shipping)
    }
}
