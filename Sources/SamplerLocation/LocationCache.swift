import SamplerClassifier
import SamplerWire

/// The last answers of a location database, by covering block: a client's /24 (IPv4) or
/// /64 (IPv6), so that the many connections of one client or one network are looked up
/// once. Direct-mapped, of a fixed size, for one thread (the records' writer).
///
/// Why it can never give a wrong answer: an answer is kept for a block only when the
/// lookup was decided by no more bits than the block's prefix (`NetworkTree.Found`'s
/// `decidingBits`). Every address of the block shares those bits, so its walk through the
/// tree takes the same path and ends at the same place: its answer is the same. An answer
/// decided by more bits (a network smaller than the block inside it, rare in IPv4) is not
/// kept, and the next address of that block is looked up again. An entry holds its whole block, so two blocks that share a slot
/// only evict each other. A new database starts an empty cache.
public struct LocationCache: Sendable {
    private struct Entry {
        var block: UInt64
        /// 4 or 6; 0 for an empty slot.
        var family: UInt8
        var location: Location
    }

    /// The blocks' prefix lengths: a /24 and a /64 by default (one client network each).
    public let ipv4BlockBits: Int, ipv6BlockBits: Int
    private var entries: [Entry]
    private let mask: Int
    public private(set) var hits: UInt64 = 0
    public private(set) var misses: UInt64 = 0

    /// `slots` (rounded up to a power of two) blocks at most, of the given prefix lengths
    /// (1 to 32, 1 to 64).
    public init(slots: Int = 1 << 16, ipv4BlockBits: Int = 24, ipv6BlockBits: Int = 64) {
        precondition((1...32).contains(ipv4BlockBits) && (1...64).contains(ipv6BlockBits))
        (self.ipv4BlockBits, self.ipv6BlockBits) = (ipv4BlockBits, ipv6BlockBits)
        let count = max(1, slots).nextPowerOfTwo
        entries = Array(repeating: Entry(block: 0, family: 0, location: .unknown), count: count)
        mask = count - 1
    }

    /// The location of `address`, from the cache or else from `database`.
    public mutating func location(of address: IPAddress, family: IPFamily, in database: LocationDatabase) -> Location {
        let block = family == .v4 ? UInt64(address.v4) >> (32 - ipv4BlockBits) : address.high >> (64 - ipv6BlockBits)
        let tag: UInt8 = family == .v4 ? 4 : 6
        // A multiplicative hash's high bits: neighbouring blocks land far apart.
        let slot = Int(truncatingIfNeeded: ((block ^ UInt64(tag)) &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
        if entries[slot].block == block && entries[slot].family == tag {
            hits += 1
            return entries[slot].location
        }
        misses += 1
        let found = database.find(address, family: family)
        let blockBits = family == .v4 ? 96 + ipv4BlockBits : ipv6BlockBits
        if found.decidingBits <= blockBits { entries[slot] = Entry(block: block, family: tag, location: found.location) }
        return found.location
    }
}

extension Int {
    fileprivate var nextPowerOfTwo: Int { self <= 1 ? 1 : 1 << (Int.bitWidth - (self - 1).leadingZeroBitCount) }
}
