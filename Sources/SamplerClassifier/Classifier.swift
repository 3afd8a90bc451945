import SamplerWire

/// Counts of what the classifier did with its input.
public struct ClassifierCounters: Sendable, Equatable {
    public var packets: UInt64 = 0
    /// Packets for a key with no open connection that were not a SYN.
    public var orphans: UInt64 = 0
    public var opened: UInt64 = 0
    /// Connections finalized early because the table was full when a SYN came (tag
    /// `evicted`): the SYN is never turned away, the connection idle longest makes room.
    public var evicted: UInt64 = 0
    public var finalized: UInt64 = 0

    public init() {}
}

/// Turns a stream of client-to-server packets into finalized connections. Time comes only
/// from the packets (and `advance(to:)`), never from a clock read here, so the same input
/// gives the same output. Records are handed to `emit` as connections are finalized.
///
/// Memory is bounded by `maxConnections`: when the table is full, a new SYN
/// finalizes the connection idle longest (the oldest last packet) as it would have been at
/// its deadline, tagged `evicted`, and takes its place. Every sampled connection gets a
/// record; none is refused.
///
/// Deadlines sit in two `DeadlineQueue`s: every connection's idle deadline (`idle`, which
/// also orders eviction), and the grace periods after a RST or FIN (`closing`). An idle
/// entry's deadline may be earlier than the connection's real one: an idle deadline moves
/// on with every packet, and moving the entry each time would cost a move per packet, so
/// `settledIdlest` checks the real deadline when the entry comes first and moves it then.
/// A finalized connection leaves its idle entry behind for the next connection in its
/// slot to take over, or for `settledIdlest` to drop when it comes first: one entry per
/// slot at most, and no work on the deadlines when a connection closes.
public struct Classifier {
    public private(set) var configuration: ClassifierConfiguration
    public private(set) var counters = ClassifierCounters()
    /// The latest time seen; never goes back.
    public private(set) var clock: Microseconds = .min

    private var table: ConnectionTable
    private var lookahead = Lookahead()
    private var idle: DeadlineQueue
    private var closing: DeadlineQueue

    /// `expectedConnections` fit without the index growing (the live pipeline passes the
    /// maximum, so that a flood never rehashes); `hasher` keys the index (a fresh random
    /// secret by default).
    public init(configuration: ClassifierConfiguration = ClassifierConfiguration(), expectedConnections: Int = 1024,
                hasher: ConnectionHasher = .random()) {
        self.configuration = configuration
        let capacity = max(1, configuration.maxConnections)
        table = ConnectionTable(capacity: capacity, expected: expectedConnections, hasher: hasher)
        idle = DeadlineQueue(reservingCapacity: min(max(expectedConnections, 16), capacity))
        closing = DeadlineQueue(reservingCapacity: 1024)
    }

    public var openConnections: Int { table.count }

    /// Takes new timeouts and margins (a configuration reloaded on SIGHUP) for the
    /// connections open now and those to come. The table's size stays: it was
    /// allocated for its maximum. Every open connection's idle deadline is set again from
    /// its last packet, so the heap holds no entry from the old timeout; a grace period
    /// already running keeps its deadline, new ones take the new grace.
    public mutating func reconfigure(_ new: ClassifierConfiguration) {
        var kept = new
        kept.maxConnections = configuration.maxConnections
        configuration = kept
        var rebuilt = DeadlineQueue(reservingCapacity: max(16, table.count))
        for slot in table.occupiedSlots {
            rebuilt.insert(slot: slot, deadline: table[slot].lastSeen + configuration.idleTimeout, tag: table.tag(ofSlot: slot))
        }
        idle = rebuilt
    }

    /// Applies one packet. Connections whose grace period or idle timeout ended before
    /// the packet's time are finalized first, its own included.
    public mutating func ingest(_ packet: PacketSummary, emit: (ConnectionRecord) -> Void) {
        counters.packets += 1
        advance(to: packet.time, emit: emit)
        let hash = table.hash(packet.key)
        if let slot = table.find(packet.key, hash: hash) {
            append(packet, toSlot: slot, tag: ConnectionTable.tag(of: hash), emit: emit)
        } else if packet.flags.contains(.syn) && !packet.flags.contains(.ack) {
            open(packet, hash: hash, emit: emit)
        } else {
            counters.orphans += 1
        }
    }

    /// How many packets ahead of `ingest` a consumer that sees them coming should call
    /// `prefetch`: each step (the bucket, then the slot) gets half of it, about a
    /// microsecond of work on other packets for its line to come from memory, soon
    /// enough that it is still in cache when its packet comes.
    public static let prefetchDistance = 2 * Lookahead.steps

    /// A hint for the packet `ingest` takes `prefetchDistance` packets later (call it for
    /// each packet, in order): starts bringing in its index bucket, and the slot of the
    /// packet half as far ahead, whose bucket it asked for before. Changes nothing the
    /// classifier decides: a packet out of step only misses its prefetch.
    @inline(__always)
    public mutating func prefetch(_ packet: borrowing PacketSummary) {
        let hash = table.hash(packet.key)
        table.prefetchBucket(tag: ConnectionTable.tag(of: hash))
        if let earlier = lookahead.replace(with: hash) { table.prefetchSlot(hash: earlier) }
    }

    /// Moves the clock to `time` and finalizes every connection whose deadline is before it.
    public mutating func advance(to time: Microseconds, emit: (ConnectionRecord) -> Void) {
        clock = max(clock, time)
        while let due = nextDue(), due.deadline < clock {
            finalize(slot: due.slot, tag: due.tag, close: table[due.slot].closeAtDeadline, at: due.deadline, emit: emit)
            prefetchNextDue(after: due.slot)
        }
    }

    /// Finalizes every open connection, at the end of the input or at shutdown: reset and
    /// fin as such, idle for the timeout as `timeout`, the rest
    /// `shutdown` (their outcome is unknown; the windows leave them out).
    public mutating func finishAll(emit: (ConnectionRecord) -> Void) {
        // `advance` has finalized every connection whose deadline is before the clock, so
        // each one left is finalized at the clock (the end of the input), whatever the
        // order: in slot order, then, rather than ordered by deadline first (at the end of
        // a large capture that was 150,000 heap pops, 8% of classify's time).
        idle.removeAll()
        closing.removeAll()
        for slot in table.occupiedSlots {
            let connection = table[slot]
            let close: CloseReason =
                connection.hasRST ? .reset
                : connection.hasFIN ? .fin
                : connection.lastSeen + configuration.idleTimeout <= clock ? .timeout : .shutdown
            finalize(slot: slot, tag: table.tag(ofSlot: slot), close: close, at: clock, emit: emit)
        }
    }

    /// Starts bringing in the slots and index buckets of the connections the deadlines
    /// name next, and their entries' sequence numbers (a hint): a connection comes to its
    /// deadline long after its last packet, its slot and bucket gone from the cache, and
    /// its finalization (or, in a flood, the next eviction) reads all of the one and
    /// takes itself out of the other. The next packet's work overlaps the wait. No check
    /// that the slot is occupied: that would read the slot, the very wait the prefetch is
    /// for, and a prefetch of a vacant one costs nothing. The connection just finalized
    /// (`finalized`) leaves its idle entry first (for the next connection in its slot to
    /// take over): the one after it is next.
    @inline(__always)
    private func prefetchNextDue(after finalized: Int32) {
        if let next = closing.upcoming(after: finalized) {
            table.prefetch(slot: next.slot)
            table.prefetchBucket(tag: next.tag)
            closing.prefetch(next)
        }
        if let next = idle.upcoming(after: finalized) {
            table.prefetch(slot: next.slot)
            table.prefetchBucket(tag: next.tag)
            idle.prefetch(next)
        }
    }

    /// The connection whose deadline is soonest: the sooner of the grace periods' first
    /// and the idle deadlines' settled first.
    private mutating func nextDue() -> DeadlineHeap.Entry? {
        let idlest = settledIdlest()
        guard let grace = closing.first() else { return idlest }
        guard let idlest else { return grace }
        return grace.precedes(idlest) ? grace : idlest
    }

    /// The connection idle longest, with its idle deadline. An entry may lag behind its
    /// connection's idle deadline (see the type's comment); a lagging first entry is moved to
    /// the real deadline until the first is right, which makes it the true minimum.
    private mutating func settledIdlest() -> DeadlineHeap.Entry? {
        while let first = idle.first() {
            guard table.isOccupied(first.slot) else {
                idle.remove(slot: first.slot)  // left behind by a finalized connection
                continue
            }
            let real = table[first.slot].lastSeen + configuration.idleTimeout
            if real <= first.deadline { return first }
            idle.update(slot: first.slot, deadline: real)
        }
        return nil
    }

    /// Whether the connection holds all the packets the kernel rule sends it (the `packets`
    /// setting, at most what a connection keeps).
    @inline(__always)
    private func isComplete(_ connection: Connection) -> Bool {
        connection.packetCount >= min(configuration.packetCap, Connection.capacity)
    }

    private mutating func open(_ packet: PacketSummary, hash: UInt64, emit: (ConnectionRecord) -> Void) {
        if table.isFull, let idlest = settledIdlest() {
            counters.evicted += 1
            finalize(slot: idlest.slot, tag: idlest.tag, close: table[idlest.slot].closeAtDeadline, at: clock, extraTags: .evicted, emit: emit)
            prefetchNextDue(after: idlest.slot)
        }
        var connection = Connection(opening: packet)
        connection.append(packet, grace: configuration.gracePeriod)
        let slot = table.insert(connection, hash: hash)
        counters.opened += 1
        let deadline = connection.lastSeen + configuration.idleTimeout, tag = ConnectionTable.tag(of: hash)
        if idle.contains(slot) { idle.update(slot: slot, deadline: deadline, tag: tag) } else { idle.insert(slot: slot, deadline: deadline, tag: tag) }
        if let deadline = connection.closingDeadline { closing.insert(slot: slot, deadline: deadline, tag: tag) }
        if isComplete(connection) {
            // `packets = 1`: the kernel sends only the opening packet, so it completes the set.
            finalize(slot: slot, tag: tag, close: connection.closeAtCap, at: clock, emit: emit)
        }
    }

    private mutating func append(_ packet: PacketSummary, toSlot slot: Int32, tag: UInt32, emit: (ConnectionRecord) -> Void) {
        // In place: the connection stays in its slot. Its idle deadline moves on lazily.
        let closingBefore = table[slot].closingDeadline
        table[slot].append(packet, grace: configuration.gracePeriod)
        if isComplete(table[slot]) {
            // The kernel sends no more: the set is complete now.
            finalize(slot: slot, tag: tag, close: table[slot].closeAtCap, at: clock, emit: emit)
            return
        }
        if let deadline = table[slot].closingDeadline, deadline != closingBefore {
            if closingBefore == nil { closing.insert(slot: slot, deadline: deadline, tag: tag) } else { closing.update(slot: slot, deadline: deadline) }
        }
    }

    /// Finalizes the connection in `slot` as of `time`: the deadline it reached (the end of
    /// the grace period, or the idle timeout), not when the clock noticed, so that the
    /// record's `finalized` time and window are the same however the input was split
    /// between shards or batched.
    private mutating func finalize(slot: Int32, tag: UInt32, close: CloseReason, at time: Microseconds, extraTags: Tags = [],
                                   emit: (ConnectionRecord) -> Void) {
        // One copy of the connection per record, none per packet.
        let connection = table[slot]
        let record = ConnectionRecord(
            connection, close: close, stage: Verdict.stage(of: connection, close: close),
            tags: Verdict.tags(of: connection, close: close, configuration: configuration).union(extraTags),
            finalizedAt: time)
        if closing.contains(slot) { closing.remove(slot: slot) }
        table.remove(slot: slot, tag: tag)
        counters.finalized += 1
        emit(record)
    }
}

/// The hashes of the last `steps` packets `Classifier.prefetch` saw: a packet's bucket is
/// asked for when it is seen, its slot `steps` packets later.
struct Lookahead {
    private typealias Hashes = InlineArray<4, UInt64>
    /// How many packets ahead the slot is asked for: the size of the ring (a power of two).
    static let steps = Hashes.count
    private var hashes = Hashes(repeating: 0)
    private var seen = 0

    /// Keeps `hash`, and returns the one kept `steps` calls ago, if there was one.
    @inline(__always)
    mutating func replace(with hash: UInt64) -> UInt64? {
        let index = seen & (Self.steps - 1)
        let earlier = seen >= Self.steps ? hashes[index] : nil
        hashes[index] = hash
        seen &+= 1
        return earlier
    }
}
