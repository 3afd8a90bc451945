import SamplerWire

/// Counts of what the classifier did with its input.
public struct ClassifierCounters: Sendable, Equatable {
    public var packets: UInt64 = 0
    /// Packets for a key with no open connection that were not a SYN.
    public var orphans: UInt64 = 0
    public var opened: UInt64 = 0
    /// SYNs turned away because the table held `maximumOpenConnections`.
    public var refused: UInt64 = 0
    public var finalized: UInt64 = 0

    public init() {}
}

/// Turns a stream of client-to-server packets into finalized connections. Time comes only
/// from the packets (and `advance(to:)`), never from a clock read here, so the same input
/// gives the same output. Records are handed to `emit` as connections are finalized.
public struct Classifier {
    public let configuration: ClassifierConfiguration
    public private(set) var counters = ClassifierCounters()
    /// The latest time seen; never goes back.
    public private(set) var clock: Microseconds = .min

    private var slots: [Connection?] = []
    private var generations: [UInt32] = []
    private var freeSlots: [Int32] = []
    private var index: [ConnectionKey: Int32] = [:]
    private var expiry: ExpiryQueue

    public init(configuration: ClassifierConfiguration = ClassifierConfiguration(), expectedConnections: Int = 1024) {
        self.configuration = configuration
        let capacity = min(expectedConnections, configuration.maximumOpenConnections)
        slots.reserveCapacity(capacity)
        generations.reserveCapacity(capacity)
        freeSlots.reserveCapacity(capacity)
        index.reserveCapacity(capacity)
        expiry = ExpiryQueue(reservingCapacity: capacity * 2)
    }

    public var openConnections: Int { index.count }

    /// Applies one packet. Connections whose grace period or idle timeout ended before
    /// the packet's time are finalized first, its own included.
    public mutating func ingest(_ packet: PacketSummary, emit: (ConnectionRecord) -> Void) {
        counters.packets += 1
        advance(to: packet.time, emit: emit)
        if let slot = index[packet.key] {
            append(packet, toSlot: Int(slot), emit: emit)
        } else if packet.flags.contains(.syn) && !packet.flags.contains(.ack) {
            open(packet)
        } else {
            counters.orphans += 1
        }
    }

    /// Moves the clock to `time` and finalizes every connection whose deadline is before it.
    public mutating func advance(to time: Microseconds, emit: (ConnectionRecord) -> Void) {
        clock = max(clock, time)
        while let top = expiry.first, top.deadline < clock {
            _ = expiry.popFirst()
            guard let connection = live(top) else { continue }
            let deadline = connection.deadline(idleTimeout: configuration.idleTimeout)
            if deadline > top.deadline {
                // The idle deadline moved on with newer packets; look again then.
                expiry.push(.init(deadline: deadline, slot: top.slot, generation: top.generation))
                continue
            }
            let close: CloseReason = connection.hasRST ? .reset : connection.hasFIN ? .fin : .timeout
            finalize(slot: Int(top.slot), close: close, emit: emit)
        }
    }

    /// Finalizes every open connection, in deadline order, at the end of the input or at
    /// shutdown: reset and fin as such, idle for the timeout as `timeout`, the rest
    /// `shutdown`.
    public mutating func finishAll(emit: (ConnectionRecord) -> Void) {
        while let top = expiry.popFirst() {
            guard let connection = live(top) else { continue }
            let close: CloseReason =
                connection.hasRST ? .reset
                : connection.hasFIN ? .fin
                : connection.lastSeen + configuration.idleTimeout <= clock ? .timeout : .shutdown
            finalize(slot: Int(top.slot), close: close, emit: emit)
        }
    }

    private func live(_ entry: ExpiryQueue.Entry) -> Connection? {
        let slot = Int(entry.slot)
        guard generations[slot] == entry.generation else { return nil }
        return slots[slot]
    }

    private mutating func open(_ packet: PacketSummary) {
        guard index.count < configuration.maximumOpenConnections else {
            counters.refused += 1
            return
        }
        var connection = Connection(opening: packet)
        connection.append(packet, grace: configuration.gracePeriod)
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = Int(free)
            slots[slot] = connection
        } else {
            slot = slots.count
            slots.append(connection)
            generations.append(0)
        }
        index[packet.key] = Int32(slot)
        counters.opened += 1
        schedule(slot: slot, at: connection.deadline(idleTimeout: configuration.idleTimeout))
    }

    private mutating func append(_ packet: PacketSummary, toSlot slot: Int, emit: (ConnectionRecord) -> Void) {
        guard slots[slot] != nil else { return }
        // In place, reading back only the fields needed: the connection is 416 bytes, and
        // copying it out and back would move them twice per packet.
        let closingBefore = slots[slot]!.closingDeadline
        slots[slot]!.append(packet, grace: configuration.gracePeriod)
        if slots[slot]!.packetCount >= min(configuration.packetCap, Connection.capacity) {
            // The kernel sends no more: the set is complete now.
            let close: CloseReason = slots[slot]!.hasRST ? .reset : slots[slot]!.hasFIN ? .fin : .cap
            finalize(slot: slot, close: close, emit: emit)
        } else if let closing = slots[slot]!.closingDeadline, closing != closingBefore {
            schedule(slot: slot, at: closing)
        }
    }

    private mutating func schedule(slot: Int, at deadline: Microseconds) {
        expiry.push(.init(deadline: deadline, slot: Int32(slot), generation: generations[slot]))
    }

    private mutating func finalize(slot: Int, close: CloseReason, emit: (ConnectionRecord) -> Void) {
        guard let connection = slots[slot] else { return }
        let record = ConnectionRecord(
            connection, close: close, stage: Verdict.stage(of: connection, close: close),
            tags: Verdict.tags(of: connection, close: close, configuration: configuration), finalizedAt: clock)
        slots[slot] = nil
        generations[slot] &+= 1
        freeSlots.append(Int32(slot))
        index[connection.key] = nil
        counters.finalized += 1
        emit(record)
    }
}
