import SamplerClassifier
import SamplerWire

/// A second destination for records besides the JSON lines file (ClickHouse, in
/// SamplerClickHouse). The writer thread calls `add` for every record and `tick` on each
/// pass (at least every 100 ms); `finish` once, after the last record.
public protocol RecordSink: AnyObject, Sendable {
    func add(_ record: borrowing ConnectionRecord)
    func tick(now: Microseconds)
    func finish()
    /// How shipping goes, for status and metrics (from any thread).
    func status() -> ShippingStatus
}

/// A sink's state as status and metrics show it.
public struct ShippingStatus: Sendable, Equatable {
    /// Where records go, without credentials ("http://127.0.0.1:8123 sampler.connections").
    public var destination = ""
    /// Batches waiting on disk, their records and bytes, and the spool's limit.
    public var spoolBatches = 0
    public var spoolRecords = 0
    public var spoolBytes = 0
    public var spoolMaxBytes = 0
    /// Records dropped from the spool, oldest first, because it was full, or because a
    /// batch could not be written to it.
    public var droppedRecords: UInt64 = 0
    public var spoolWriteErrors: UInt64 = 0
    public var insertedRecords: UInt64 = 0
    public var insertedBatches: UInt64 = 0
    /// Inserts that failed (each retry counts).
    public var failures: UInt64 = 0
    public var lastInsertAt: Microseconds?
    public var lastFailureAt: Microseconds?
    public var lastError: String?

    public init() {}
}
