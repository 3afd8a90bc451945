import CPrefetch
import SamplerWire

/// The open connections of one classifier: a slot per connection, updated in place, and
/// an open-addressing index from key to slot.
///
/// The index is an array of 8-byte buckets (linear probing, at most half full): each holds
/// the slot number and the high 32 bits of the key's hash, so a look-up compares hashes
/// in one cache line and reads a slot's key only when they match. Removal shifts the
/// entries behind the removed one back (no tombstones), so probe runs never grow with
/// churn. The slots grow to `capacity` and never beyond; freed slots are reused, newest
/// first. Nothing here allocates once the table has reached its size.
///
/// A value of this type owns its slots through a reference (`SlotStorage`): the
/// classifier that holds it is never copied, and must not be.
struct ConnectionTable {
    /// Most connections held at once.
    let capacity: Int
    private let hasher: ConnectionHasher
    private let slots: SlotStorage
    private var freeSlots: [Int32] = []
    private var buckets: [UInt64]
    private var mask: Int
    /// log2 of the bucket count: a hash's home bucket is its top `bucketBits` bits.
    private var bucketBits: Int
    private(set) var count = 0

    /// `expected` connections fit without growing the index; it doubles as needed up to
    /// what `capacity` needs (the live pipeline passes `capacity`, so a flood never
    /// rehashes).
    init(capacity: Int, expected: Int, hasher: ConnectionHasher) {
        self.capacity = max(1, capacity)
        self.hasher = hasher
        bucketBits = 0
        mask = 0
        buckets = []
        slots = SlotStorage(capacity: self.capacity)
        resizeIndex(bits: Self.bits(for: min(max(expected, 16), self.capacity)))
    }

    /// Enough bucket bits that `connections` fill at most half of the buckets.
    private static func bits(for connections: Int) -> Int {
        var bits = 4
        while 1 << (bits - 1) < connections { bits += 1 }
        return bits
    }

    var isFull: Bool { count >= capacity }


    func hash(_ key: ConnectionKey) -> UInt64 { hasher.hash(key) }

    /// The part of a hash the index keeps (beside the slot), which also picks the home bucket.
    @inline(__always)
    static func tag(of hash: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: hash >> 32) }

    /// The tag of the connection in `slot`, from its key.
    func tag(ofSlot slot: Int32) -> UInt32 { Self.tag(of: hasher.hash(self[slot].key)) }

    /// The slot of the open connection with `key`, if there is one.
    func find(_ key: ConnectionKey, hash: UInt64) -> Int32? {
        let tag = UInt32(truncatingIfNeeded: hash >> 32)
        var bucket = home(tag)
        while true {
            let entry = buckets[bucket]
            if entry == 0 { return nil }
            if UInt32(truncatingIfNeeded: entry >> 32) == tag {
                let slot = Int32(truncatingIfNeeded: entry & 0xffff_ffff) - 1
                if self[slot].key == key { return slot }
            }
            bucket = (bucket + 1) & mask
        }
    }

    // Prefetches: hints that change nothing. The slots are far larger than the cache
    // (256 bytes a connection) and the index is larger than its share of it, so the
    // packet of a connection opened a while ago finds its bucket and its slot in memory.
    // Asked for a few packets ahead, in two steps (the bucket, then the slot it names),
    // the waits overlap the work on the packets between.

    /// Starts bringing in the home bucket of a tag (a hash's, or a deadline entry's).
    @inline(__always)
    func prefetchBucket(tag: UInt32) {
        buckets.withUnsafeBufferPointer { buckets in
            sampler_prefetch_for_write(buckets.baseAddress! + home(tag))
        }
    }

    /// Starts bringing in the slot that `find` would read for this hash, when its home
    /// bucket (asked for earlier) names one with the hash's tag: a key at its home, as
    /// most are at half load.
    @inline(__always)
    func prefetchSlot(hash: UInt64) {
        let tag = UInt32(truncatingIfNeeded: hash >> 32)
        let entry = buckets[home(tag)]
        guard entry != 0, UInt32(truncatingIfNeeded: entry >> 32) == tag else { return }
        prefetch(slot: Int32(truncatingIfNeeded: entry & 0xffff_ffff) - 1)
    }

    /// Starts bringing in `slot` (one the deadlines name next).
    @inline(__always)
    func prefetch(slot: Int32) {
        let start = UnsafeRawPointer(slots.base + Int(slot))
        // Every line the slot touches: it need not start on a line.
        var line = Int(bitPattern: start) & ~63
        let end = Int(bitPattern: start) + MemoryLayout<Connection>.size
        while line < end {
            sampler_prefetch_for_write(UnsafeRawPointer(bitPattern: line))
            line += 64
        }
    }

    /// Stores a connection whose key is not in the table; the caller has made room.
    mutating func insert(_ connection: Connection, hash: UInt64) -> Int32 {
        precondition(!isFull, "ConnectionTable.insert into a full table")
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
            (slots.base + Int(slot)).pointee = connection
        } else {
            slot = Int32(slots.initialized)
            (slots.base + Int(slot)).initialize(to: connection)
            slots.initialized += 1
        }
        count += 1
        if count > (mask + 1) / 2 { resizeIndex(bits: bucketBits + 1) }
        place(tag: UInt32(truncatingIfNeeded: hash >> 32), slot: slot)
        return slot
    }

    /// Takes the connection in `slot`, whose tag is `tag`, out; the slot is reused later.
    /// The caller has the tag (a deadline entry carries it), so the key is not hashed again.
    mutating func remove(slot: Int32, tag: UInt32) {
        assert(tag == self.tag(ofSlot: slot), "ConnectionTable.remove with another connection's tag")
        let wanted = UInt64(tag) << 32 | UInt64(slot + 1)
        var hole = home(tag)
        while buckets[hole] != wanted { hole = (hole + 1) & mask }
        // Backward shift: move each later entry of the run into the hole when its home
        // allows it, so that every entry stays reachable from its home without gaps.
        var next = (hole + 1) & mask
        while buckets[next] != 0 {
            let entryHome = home(UInt32(truncatingIfNeeded: buckets[next] >> 32))
            if (next - entryHome) & mask >= (next - hole) & mask {
                buckets[hole] = buckets[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        buckets[hole] = 0
        self[slot].vacate()
        freeSlots.append(slot)
        count -= 1
    }

    /// Whether `slot` holds an open connection.
    func isOccupied(_ slot: Int32) -> Bool { Int(slot) < slots.initialized && !self[slot].isVacant }

    /// The slots that hold an open connection (a walk over every slot used so far).
    var occupiedSlots: [Int32] { (0..<Int32(slots.initialized)).filter { !self[$0].isVacant } }

    /// The connection in `slot`, read and updated where it is.
    subscript(slot: Int32) -> Connection {
        unsafeAddress { UnsafePointer(slots.base + Int(slot)) }
        nonmutating unsafeMutableAddress { slots.base + Int(slot) }
    }

    /// The longest walk from an entry's home bucket to the entry: how far a look-up can
    /// probe (for tests of the hash's spread).
    var longestProbe: Int {
        var longest = 0
        for (bucket, entry) in buckets.enumerated() where entry != 0 {
            longest = max(longest, (bucket - home(UInt32(truncatingIfNeeded: entry >> 32))) & mask)
        }
        return longest
    }

    @inline(__always)
    private func home(_ tag: UInt32) -> Int { Int(tag >> UInt32(32 - bucketBits)) }

    private mutating func place(tag: UInt32, slot: Int32) {
        var bucket = home(tag)
        while buckets[bucket] != 0 { bucket = (bucket + 1) & mask }
        buckets[bucket] = UInt64(tag) << 32 | UInt64(slot + 1)
    }

    /// Rebuilds the index with 2^bits buckets from the entries it holds.
    private mutating func resizeIndex(bits: Int) {
        precondition(bits <= 32, "a connection table of more than 2^31 connections")
        let old = buckets
        bucketBits = bits
        mask = (1 << bits) - 1
        buckets = [UInt64](repeating: 0, count: 1 << bits)
        for entry in old where entry != 0 {
            place(tag: UInt32(truncatingIfNeeded: entry >> 32), slot: Int32(truncatingIfNeeded: entry & 0xffff_ffff) - 1)
        }
    }
}

/// The memory of a table's slots: allocated once for `capacity` connections (address
/// space: pages become resident as slots are first used) and accessed through a pointer,
/// so that reading one field of a connection reads just that field. (An `Array` of
/// connections copied the whole 256-byte value out for every read through its
/// subscript, a tenth of `sampler classify`'s time.) The one unsafe-pointer code of the
/// classifier; bounds are the table's to keep.
final class SlotStorage {
    let base: UnsafeMutablePointer<Connection>
    /// Slots initialized so far (used at least once).
    var initialized = 0

    init(capacity: Int) { base = .allocate(capacity: capacity) }

    deinit {
        base.deinitialize(count: initialized)
        base.deallocate()
    }
}
