import Synchronization

/// A fixed set of counters that one thread publishes and any thread reads, with relaxed
/// atomic stores and loads: each value is whole, and no ordering between counters is
/// promised (a status report may be a few packets inconsistent, never torn). The owner
/// counts in plain local variables and publishes once per batch, so the hot path has no
/// atomic operation at all.
public final class AtomicCounters: Sendable {
    public let count: Int
    // A pointer, because Atomic is not copyable and so cannot live in an Array.
    @usableFromInline nonisolated(unsafe) let values: UnsafeMutablePointer<Atomic<UInt64>>

    public init(count: Int) {
        self.count = count
        values = .allocate(capacity: count)
        for i in 0..<count { (values + i).initialize(to: Atomic(0)) }
    }

    deinit {
        values.deinitialize(count: count)
        values.deallocate()
    }

    @inlinable
    public func store(_ index: Int, _ value: UInt64) { values[index].store(value, ordering: .relaxed) }

    @inlinable
    public func load(_ index: Int) -> UInt64 { values[index].load(ordering: .relaxed) }
}
