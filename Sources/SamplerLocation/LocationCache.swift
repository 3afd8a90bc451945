import CPrefetch
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
    /// What an IPv4 miss is answered from: the database's tree laid flat, a /16 block at
    /// a time (`IPv4Ranges`: exact, a third of a walk). IPv6 walks the tree.
    private var ipv4 = IPv4Ranges()
    /// Every IPv4 block is laid flat (`layIPv4Flat`): IPv4 answers then come from the
    /// ranges without a probe here. The ranges are themselves the answers per covering
    /// network, made once each, and three reads; a probe of this cache before them only
    /// added a miss of its own in a flood of new sources.
    private var ipv4Flat = false

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
        if family == .v4 && ipv4Flat { return ipv4.answer(address.v4, in: database.tree).location }
        let place = place(of: address, family: family)
        if let cached = cached(place) { return cached }
        let found = family == .v4 ? ipv4.answer(address.v4, in: database.tree) : database.find(address, family: family)
        keep(found, at: place, family: family)
        return found.location
    }

    /// The locations of the first `count` (at most `LocationDatabase.lookupLanes`) of
    /// `addresses`: those the cache has from it, the rest looked up together (IPv4 from
    /// the ranges a stage at a time, IPv6 walks interleaved).
    public mutating func locations(of addresses: InlineArray<8, (IPAddress, IPFamily)>, count: Int,
                                   in database: LocationDatabase) -> InlineArray<8, Location> {
        var locations = InlineArray<8, Location>(repeating: .unknown)
        var missing = InlineArray<8, (IPAddress, IPFamily)>(repeating: (IPAddress(v4: 0), .v4))
        var missingLanes = InlineArray<8, Int>(repeating: 0)
        var places = InlineArray<8, Place>(repeating: Place(slot: 0, block: 0, tag: 0))
        var missed = 0
        let count = min(count, LocationDatabase.lookupLanes)
        // The slots asked for first, all of them: in a flood of new sources each is a
        // miss of its own, and a probe waits for its slot while the next one could ask.
        var lanePlaces = InlineArray<8, Place>(repeating: Place(slot: 0, block: 0, tag: 0))
        func flat(_ lane: Int) -> Bool { ipv4Flat && addresses[lane].1 == .v4 }
        for lane in 0..<count where !flat(lane) {
            lanePlaces[lane] = place(of: addresses[lane].0, family: addresses[lane].1)
            entries.withUnsafeBufferPointer { sampler_prefetch_for_write($0.baseAddress! + lanePlaces[lane].slot) }
        }
        for lane in 0..<count {
            let place = lanePlaces[lane]
            if !flat(lane), let cached = cached(place) {
                locations[lane] = cached
            } else {
                (missing[missed], missingLanes[missed], places[missed]) = (addresses[lane], lane, place)
                missed += 1
            }
        }
        guard missed > 0 else { return locations }
        // The IPv4 misses from the ranges, together; the IPv6 ones walk, interleaved.
        var ipv4Addresses = InlineArray<8, UInt32>(repeating: 0), ipv4Lanes: UInt32 = 0
        var ipv6 = missing, ipv6Index = InlineArray<8, Int>(repeating: 0), ipv6Count = 0
        for i in 0..<missed {
            if missing[i].1 == .v4 {
                ipv4Addresses[i] = missing[i].0.v4
                ipv4Lanes |= 1 << i
            } else {
                (ipv6[ipv6Count], ipv6Index[ipv6Count]) = (missing[i], i)
                ipv6Count += 1
            }
        }
        var found = ipv4Lanes == 0 ? InlineArray<8, NetworkTree.Found>(repeating: NetworkTree.Found(location: .unknown, decidingBits: 0))
                                   : ipv4.answers(ipv4Addresses, lanes: ipv4Lanes, in: database.tree)
        if ipv6Count > 0 {
            let walked = database.find(ipv6, count: ipv6Count)
            for j in 0..<ipv6Count { found[ipv6Index[j]] = walked[j] }
        }
        for i in 0..<missed {
            locations[missingLanes[i]] = found[i].location
            if !flat(missingLanes[i]) { keep(found[i], at: places[i], family: missing[i].1) }
        }
        return locations
    }

    /// Lays every IPv4 block of `database` flat now rather than when first asked for.
    public mutating func layIPv4Flat(from database: LocationDatabase) {
        ipv4.makeAll(in: database.tree)
        ipv4Flat = true
    }

    /// Where a block's entry goes.
    private struct Place {
        var slot: Int
        var block: UInt64
        var tag: UInt8
    }

    private func place(of address: IPAddress, family: IPFamily) -> Place {
        let block = family == .v4 ? UInt64(address.v4) >> (32 - ipv4BlockBits) : address.high >> (64 - ipv6BlockBits)
        let tag: UInt8 = family == .v4 ? 4 : 6
        // A multiplicative hash's high bits: neighbouring blocks land far apart.
        let slot = Int(truncatingIfNeeded: ((block ^ UInt64(tag)) &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
        return Place(slot: slot, block: block, tag: tag)
    }

    /// The block's answer if the cache has it (a hit), or nil (a miss); counted either way.
    private mutating func cached(_ place: Place) -> Location? {
        if entries[place.slot].block == place.block && entries[place.slot].family == place.tag {
            hits += 1
            return entries[place.slot].location
        }
        misses += 1
        return nil
    }

    /// Keeps a looked-up answer for its block, when no more bits than the block's decided it.
    private mutating func keep(_ found: NetworkTree.Found, at place: Place, family: IPFamily) {
        let blockBits = family == .v4 ? 96 + ipv4BlockBits : ipv6BlockBits
        if found.decidingBits <= blockBits { entries[place.slot] = Entry(block: place.block, family: place.tag, location: found.location) }
    }
}

extension Int {
    fileprivate var nextPowerOfTwo: Int { self <= 1 ? 1 : 1 << (Int.bitWidth - (self - 1).leadingZeroBitCount) }
}
