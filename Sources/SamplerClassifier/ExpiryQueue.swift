import SamplerWire

/// A binary min-heap of connection deadlines, so that expired connections are found
/// without walking the table. Entries are never removed in place: a stale one (its slot
/// reused, or its deadline moved later) is recognised when it reaches the top.
struct ExpiryQueue {
    struct Entry {
        var deadline: Microseconds
        var slot: Int32
        var generation: UInt32

        func precedes(_ other: Entry) -> Bool {
            (deadline, slot) < (other.deadline, other.slot)
        }
    }

    private var heap: [Entry] = []

    init(reservingCapacity capacity: Int) { heap.reserveCapacity(capacity) }

    var count: Int { heap.count }
    var first: Entry? { heap.first }

    mutating func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popFirst() -> Entry? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count && heap[left].precedes(heap[smallest]) { smallest = left }
            if right < heap.count && heap[right].precedes(heap[smallest]) { smallest = right }
            if smallest == parent { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}
