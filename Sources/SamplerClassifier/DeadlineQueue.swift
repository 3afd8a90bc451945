import CPrefetch
import SamplerWire

/// Deadlines of connections, soonest first, at most one entry per slot, for deadlines
/// that mostly come in order: a queue for those that do and a `DeadlineHeap` for the rest.
/// The classifier keeps two, the idle deadlines and the grace periods after a RST or FIN.
///
/// Both mostly come in order: each is a packet's time plus a length that is the same for
/// all (the idle timeout, the grace period), and packets come in time order. A new
/// deadline is then the latest of all, which in a heap sinks from where its slot's old
/// entry sat (the top, in a flood: the connection just evicted) to the bottom, a cache
/// miss per level: 10% of sampler's CPU under a SYN flood; and a grace entry taken out at
/// its deadline left the heap's last entry to sink from the top. At the back of a queue a
/// deadline costs a store, at its front a removal costs nothing. The queue is sorted by
/// (deadline, slot) because an entry joins it only if it comes after its last entry; one
/// that would not (a packet older than the last, an idle deadline moved on by later
/// packets) goes to the heap. The soonest entry is then the sooner of the queue's front
/// and the heap's first: exact, as the heap alone was.
///
/// An entry that is no longer its slot's (the slot's connection ended, or its deadline
/// moved) stays in the queue where it is, and is dropped when it reaches the front: each
/// slot holds the sequence number of its one live entry (`tickets`), and an entry whose
/// number is not its slot's is stale. So that memory stays bounded by the slots however
/// many connections come and go, the queue is compacted (stale entries dropped, in one
/// pass) once it holds more stale entries than live ones: amortized, a pass over two
/// entries per entry added.
struct DeadlineQueue {
    typealias Entry = DeadlineHeap.Entry

    /// In (deadline, slot) order, stale entries included; `queue[head...]` is waiting.
    private var queue: [Entry] = []
    private var head = 0
    /// The sequence number of `queue[0]`: entry `i` is number `base + i`.
    private var base: Int64 = 0
    /// Per slot, the sequence number of its live queue entry, or -1.
    private var tickets: [Int64] = []
    /// How many slots have their entry in the queue.
    private var queued = 0
    /// The entries that came out of order.
    private var heap: DeadlineHeap

    /// Fewer stale entries than this are never worth a pass of their own.
    private static let compactionFloor = 4096

    init(reservingCapacity capacity: Int) {
        queue.reserveCapacity(2 * capacity)
        tickets.reserveCapacity(capacity)
        heap = DeadlineHeap(reservingCapacity: min(capacity, 1024))
    }

    /// Whether `slot` has an entry.
    func contains(_ slot: Int32) -> Bool { isQueued(slot) || heap.contains(slot) }

    /// The soonest entry: stale entries in front of the queue are dropped first.
    mutating func first() -> Entry? {
        while head < queue.count, !isLive(head) { head += 1 }
        return Self.sooner(head < queue.count ? queue[head] : nil, heap.first)
    }

    /// The soonest entry other than `slot`'s, a hint for what to ask the memory for next
    /// (it may be a stale entry, whose prefetch costs nothing): `slot` is the connection
    /// just finalized, whose idle entry stays first for its slot's next connection.
    func upcoming(after slot: Int32) -> Entry? {
        var queued = head < queue.count ? queue[head] : nil
        if queued?.slot == slot { queued = head + 1 < queue.count ? queue[head + 1] : nil }
        let heaped = heap.first?.slot == slot ? heap.runnerUp : heap.first
        return Self.sooner(queued, heaped)
    }

    /// The entry that comes first of the queue's and the heap's, either of which may be none.
    @inline(__always)
    private static func sooner(_ queued: Entry?, _ heaped: Entry?) -> Entry? {
        guard let heaped else { return queued }
        guard let queued else { return heaped }
        return queued.precedes(heaped) ? queued : heaped
    }

    /// Starts bringing in what `first()` reads of `entry`, one `upcoming` named: its slot's
    /// sequence number (a hint; the slot's connection is the caller's to ask for).
    @inline(__always)
    func prefetch(_ entry: Entry) {
        guard Int(entry.slot) < tickets.count else { return }
        tickets.withUnsafeBufferPointer { sampler_prefetch_for_write($0.baseAddress! + Int(entry.slot)) }
    }

    /// Adds the entry of a slot that has none.
    mutating func insert(slot: Int32, deadline: Microseconds, tag: UInt32) {
        let entry = Entry(deadline: deadline, slot: slot, tag: tag)
        if head == queue.count || queue[queue.count - 1].precedes(entry) {
            append(entry)
        } else {
            heap.insert(slot: slot, deadline: deadline, tag: tag)
        }
    }

    /// Moves `slot`'s entry to a new deadline, earlier or later; with a `tag`, the entry
    /// is now another connection's (one that took over the slot).
    mutating func update(slot: Int32, deadline: Microseconds, tag: UInt32? = nil) {
        if isQueued(slot) {
            let old = queue[Int(tickets[Int(slot)] - base)]
            forget(slot)
            insert(slot: slot, deadline: deadline, tag: tag ?? old.tag)
        } else {
            heap.update(slot: slot, deadline: deadline, tag: tag)
        }
    }

    /// Takes `slot`'s entry out.
    mutating func remove(slot: Int32) {
        if isQueued(slot) { forget(slot) } else { heap.remove(slot: slot) }
    }

    /// Takes every entry out, keeping the room.
    mutating func removeAll() {
        base += Int64(queue.count)  // numbers are never given twice
        queue.removeAll(keepingCapacity: true)
        head = 0
        for i in tickets.indices { tickets[i] = -1 }
        queued = 0
        heap.removeAll()
    }

    @inline(__always)
    private func isQueued(_ slot: Int32) -> Bool { Int(slot) < tickets.count && tickets[Int(slot)] >= 0 }

    @inline(__always)
    private func isLive(_ index: Int) -> Bool { tickets[Int(queue[index].slot)] == base + Int64(index) }

    private mutating func forget(_ slot: Int32) {
        tickets[Int(slot)] = -1
        queued -= 1
    }

    private mutating func append(_ entry: Entry) {
        let waiting = queue.count - head
        if waiting - queued >= max(queued, Self.compactionFloor) {
            compact()
        } else if head >= max(waiting, Self.compactionFloor) {
            // The front that is gone, when it is at least as long as what waits.
            queue.removeFirst(head)
            base += Int64(head)
            head = 0
        }
        while tickets.count <= Int(entry.slot) { tickets.append(-1) }
        tickets[Int(entry.slot)] = base + Int64(queue.count)
        queue.append(entry)
        queued += 1
    }

    /// Keeps the live entries, in order, under new numbers (after every old one).
    private mutating func compact() {
        let newBase = base + Int64(queue.count)
        var kept = 0
        for index in head..<queue.count where isLive(index) {
            let entry = queue[index]
            queue[kept] = entry
            tickets[Int(entry.slot)] = newBase + Int64(kept)
            kept += 1
        }
        queue.removeLast(queue.count - kept)
        base = newBase
        head = 0
    }
}
