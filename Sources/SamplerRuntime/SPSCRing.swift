import Synchronization

/// A bounded single-producer single-consumer queue: one thread pushes, one other thread
/// pops, with no lock and no allocation after creation. The producer publishes a slot by
/// storing `tail` with release ordering after writing it; the consumer loads `tail` with
/// acquire ordering before reading, and frees the slot by storing `head` with release
/// ordering; the producer loads `head` with acquire ordering before reusing a slot.
/// Each side keeps a private copy of the other side's index and reloads it only when the
/// ring looks full (producer) or empty (consumer), so that the shared cache lines move
/// once per batch rather than once per item.
///
/// `Atomic` from the standard library's Synchronization module (SE-0410) does this
/// without the swift-atomics package: the same orderings, no dependency to keep.
///
/// Its operations are `@inlinable`: the ring lives in SamplerRuntime and is used from
/// the pipeline, and an unspecialized generic push and pop across the module boundary
/// cost the whole pipeline about a third of its speed (docs/benchmarks.md).
public final class SPSCRing<Element>: @unchecked Sendable {
    // @unchecked: the buffer is shared, but each slot is owned by exactly one side at a
    // time, handed over by the release/acquire pairs above.
    public let capacity: Int
    @usableFromInline let mask: Int
    @usableFromInline let slots: UnsafeMutablePointer<Element>

    // head: next slot to read (written by the consumer); tail: next slot to write
    // (written by the producer). Padding keeps them, and each side's cached copy, on
    // separate cache lines: a shared line would bounce between the cores on every item.
    @usableFromInline let head = Atomic<Int>(0)
    private let padding1: (Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0)
    @usableFromInline let tail = Atomic<Int>(0)
    private let padding2: (Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0)
    // Each side's own indices. A class's stored variable is checked for overlapping
    // access at run time on every read and write (a thread-local access set), which was
    // a tenth of offline classify's reading thread; these are touched by one side
    // only, never across a call that could touch them again, so the check is off.
    @exclusivity(unchecked) @usableFromInline var producerTail = 0
    @exclusivity(unchecked) @usableFromInline var producerCachedHead = 0
    private let padding3: (Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0)
    @exclusivity(unchecked) @usableFromInline var consumerHead = 0
    @exclusivity(unchecked) @usableFromInline var consumerCachedTail = 0

    /// `capacity` is rounded up to a power of two.
    public init(capacity: Int) {
        precondition(capacity > 0, "a ring needs room for at least one element")
        var size = 1
        while size < capacity { size <<= 1 }
        self.capacity = size
        mask = size - 1
        slots = .allocate(capacity: size)
    }

    deinit {
        // Elements still queued are deinitialized with the ring.
        var index = head.load(ordering: .acquiring)
        let end = tail.load(ordering: .acquiring)
        while index != end {
            (slots + (index & mask)).deinitialize(count: 1)
            index &+= 1
        }
        slots.deallocate()
    }

    // MARK: producer side (one thread)

    /// Adds `element`; false, leaving the ring as it was, when it is full.
    @inlinable @inline(__always)
    public func push(_ element: consuming Element) -> Bool {
        let position = producerTail
        if position &- producerCachedHead == capacity {
            producerCachedHead = head.load(ordering: .acquiring)
            if position &- producerCachedHead == capacity { return false }
        }
        (slots + (position & mask)).initialize(to: element)
        producerTail = position &+ 1
        tail.store(producerTail, ordering: .releasing)
        return true
    }

    // MARK: consumer side (one thread)

    /// Takes the oldest element; nil when the ring is empty.
    @inlinable @inline(__always)
    public func pop() -> Element? {
        let position = consumerHead
        if position == consumerCachedTail {
            consumerCachedTail = tail.load(ordering: .acquiring)
            if position == consumerCachedTail { return nil }
        }
        let element = (slots + (position & mask)).move()
        consumerHead = position &+ 1
        head.store(consumerHead, ordering: .releasing)
        return element
    }

    /// Hands each queued element, up to `limit`, to `body` in order, freeing their slots
    /// with one release store at the end; returns how many.
    @inlinable @inline(__always)
    public func drain(limit: Int = .max, _ body: (borrowing Element) -> Void) -> Int {
        drain(limit: limit, ahead: 0, { _ in }, body)  // inlined, the empty look is gone
    }

    /// `drain`, with a look ahead: `ahead` sees each element `distance` places before
    /// `body` does (those the batch holds), in order, so that it can ask for what `body`
    /// will need (a prefetch). The first `distance` are shown to `ahead` first.
    @inlinable @inline(__always)
    public func drain(limit: Int = .max, ahead distance: Int, _ ahead: (borrowing Element) -> Void,
                      _ body: (borrowing Element) -> Void) -> Int {
        let start = consumerHead
        consumerCachedTail = tail.load(ordering: .acquiring)
        let count = min(consumerCachedTail &- start, limit)
        guard count > 0 else { return 0 }
        for i in 0..<min(distance, count) { ahead((slots + ((start &+ i) & mask)).pointee) }
        for i in 0..<count {
            if distance > 0 && i + distance < count { ahead((slots + ((start &+ i &+ distance) & mask)).pointee) }
            let slot = slots + ((start &+ i) & mask)
            body(slot.pointee)
            slot.deinitialize(count: 1)
        }
        consumerHead = start &+ count
        head.store(consumerHead, ordering: .releasing)
        return count
    }

    // MARK: either side, or a third thread (approximate)

    /// Elements queued now; exact from either side, a snapshot from any other thread.
    @inlinable
    public var count: Int {
        let end = tail.load(ordering: .relaxed), start = head.load(ordering: .relaxed)
        return max(0, min(capacity, end &- start))
    }
}
