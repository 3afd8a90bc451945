import SamplerWire

/// Deadlines of connections, soonest first: a min-heap with at most one entry per slot,
/// which knows where each slot's entry is, so that an entry can be moved or removed in
/// place. Its size is bounded by the table's slots, however many connections come and go.
///
/// Four children per node rather than two: the heap is half as deep, and a node's
/// children (four 16-byte entries) share one cache line, so a sift at a million entries
/// waits for half as many cache misses. A `DeadlineQueue` keeps the deadlines that come
/// out of order in one.
struct DeadlineHeap {
    struct Entry {
        var deadline: Microseconds
        var slot: Int32
        /// The connection's index tag (`ConnectionTable.tag(of:)`), in what would be the
        /// entry's padding: the finalization its deadline brings can find the connection's
        /// index bucket, and ask for it ahead, without reading the key from the slot.
        var tag: UInt32

        @inline(__always)
        func precedes(_ other: Entry) -> Bool {
            deadline < other.deadline || (deadline == other.deadline && slot < other.slot)
        }
    }

    private static let arity = 4
    private var heap: [Entry] = []
    /// Per slot, the index of its entry in `heap`, or -1.
    private var positions: [Int32] = []

    init(reservingCapacity capacity: Int) {
        heap.reserveCapacity(capacity)
        positions.reserveCapacity(capacity)
    }

    var first: Entry? { heap.first }

    /// The entry that comes first after `first`: the soonest of the root's children (one
    /// cache line, read with the root).
    var runnerUp: Entry? {
        guard heap.count > 1 else { return nil }
        var best = heap[1]
        for child in 2..<min(1 + Self.arity, heap.count) where heap[child].precedes(best) { best = heap[child] }
        return best
    }

    /// Whether `slot` has an entry.
    func contains(_ slot: Int32) -> Bool { Int(slot) < positions.count && positions[Int(slot)] >= 0 }

    /// Adds the entry of a slot that has none.
    mutating func insert(slot: Int32, deadline: Microseconds, tag: UInt32) {
        while positions.count <= Int(slot) { positions.append(-1) }
        heap.append(Entry(deadline: deadline, slot: slot, tag: tag))
        positions[Int(slot)] = Int32(heap.count - 1)
        siftUp(heap.count - 1)
    }

    /// Moves `slot`'s entry to a new deadline, earlier or later; with a `tag`, the entry
    /// is now another connection's (one that took over the slot).
    mutating func update(slot: Int32, deadline: Microseconds, tag: UInt32? = nil) {
        let index = Int(positions[Int(slot)])
        if let tag { heap[index].tag = tag }
        let earlier = deadline < heap[index].deadline
        heap[index].deadline = deadline
        if earlier { siftUp(index) } else { siftDown(index) }
    }

    /// Takes every entry out, keeping the room.
    mutating func removeAll() {
        heap.removeAll(keepingCapacity: true)
        for i in positions.indices { positions[i] = -1 }
    }

    /// Takes `slot`'s entry out.
    mutating func remove(slot: Int32) {
        let index = Int(positions[Int(slot)])
        positions[Int(slot)] = -1
        let last = heap.removeLast()
        guard index < heap.count else { return }
        heap[index] = last
        positions[Int(last.slot)] = Int32(index)
        siftUp(index)
        siftDown(Int(positions[Int(last.slot)]))
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        let entry = heap[child]
        while child > 0 {
            let parent = (child - 1) / Self.arity
            guard entry.precedes(heap[parent]) else { break }
            heap[child] = heap[parent]
            positions[Int(heap[child].slot)] = Int32(child)
            child = parent
        }
        heap[child] = entry
        positions[Int(entry.slot)] = Int32(child)
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        let entry = heap[parent]
        let count = heap.count
        while true {
            let first = Self.arity * parent + 1
            guard first < count else { break }
            var smallest = first
            for child in (first + 1)..<min(first + Self.arity, count) where heap[child].precedes(heap[smallest]) {
                smallest = child
            }
            guard heap[smallest].precedes(entry) else { break }
            heap[parent] = heap[smallest]
            positions[Int(heap[parent].slot)] = Int32(parent)
            parent = smallest
        }
        heap[parent] = entry
        positions[Int(entry.slot)] = Int32(parent)
    }
}
