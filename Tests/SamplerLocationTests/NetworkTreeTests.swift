import Foundation
@testable import SamplerLocation
import SamplerTestSupport
import SamplerWire
import Testing

/// sampler's own walk of the network tree against libloc's lookup over the same file, at
/// scale, and the fact the cache rests on: an answer holds for every address that shares
/// the bits that decided it.
@Suite(.enabled(if: PythonOracle.isAvailable, PythonOracle.unavailableMessage))
struct NetworkTreeTests {
    let database: LocationDatabase

    init() throws { database = try LocationDatabase(path: PythonOracle.databasePath) }

    /// Random IPv4 addresses anywhere and random IPv6 addresses in 2000::/3 (where the
    /// database's IPv6 networks are), and their neighbours in the low bits.
    static func addresses(count: Int, seed: UInt64) -> [(IPAddress, IPFamily)] {
        var rng = SplitMix64(state: seed)
        return (0..<count).map { i in
            i % 2 == 0 ? (IPAddress(v4: UInt32(truncatingIfNeeded: rng.next())), .v4)
                       : (IPAddress(high: 0x2000_0000_0000_0000 | rng.next() >> 3, low: rng.next()), .v6)
        }
    }

    @Test func answersAsLibloc() {
        var disagreements: [String] = []
        var located = 0
        for (address, family) in Self.addresses(count: 200_000, seed: 1) {
            let ours = database.lookup(address, family: family), theirs = database.libraryLookup(address, family: family)
            if ours != theirs && disagreements.count < 5 { disagreements.append("\(address.text(family: family)): \(ours) against \(theirs)") }
            if ours.asn != nil { located += 1 }
        }
        #expect(disagreements.isEmpty, "\(disagreements)")
        #expect(located > 50_000, "the sample is a test only if the database places much of it (\(located))")
    }

    /// Eight walks interleaved answer as eight walks one after another, with the
    /// deciding bits, in batches of every size from one to eight.
    @Test func interleavedWalksAnswerAsOneWalkEach() {
        let addresses = Self.addresses(count: 100_000, seed: 8)
        var wrong = 0, index = 0, size = 1
        while index < addresses.count {
            let count = min(size, addresses.count - index)
            var batch = InlineArray<8, (IPAddress, IPFamily)>(repeating: (IPAddress(v4: 0), .v4))
            for lane in 0..<count { batch[lane] = addresses[index + lane] }
            let found = database.find(batch, count: count), located = database.lookup(batch, count: count)
            for lane in 0..<count {
                let one = database.find(addresses[index + lane].0, family: addresses[index + lane].1)
                if found[lane] != one || located[lane] != one.location { wrong += 1 }
            }
            index += count
            size = size % LocationDatabase.lookupLanes + 1
        }
        #expect(wrong == 0)
    }

    /// The IPv4 ranges answer as the walk they are made from, deciding bits included,
    /// for random addresses and the edges of their /24s and /16s (where ranges meet),
    /// one at a time and eight at a time.
    @Test func theIPv4RangesAnswerAsTheWalk() {
        let tree = database.tree
        var one = IPv4Ranges(), together = IPv4Ranges()
        var rng = SplitMix64(state: 21)
        var wrong: [String] = []
        for _ in 0..<40_000 {
            let address = UInt32(truncatingIfNeeded: rng.next())
            var lanes = InlineArray<8, UInt32>(repeating: 0)
            let probes = [address, address & 0xffff_ff00, address | 0xff, address & 0xffff_0000, address | 0xffff, address ^ 0x8000]
            for (lane, probe) in probes.enumerated() { lanes[lane] = probe }
            let batch = together.answers(lanes, lanes: 0b11_1111, in: tree)
            for (lane, probe) in probes.enumerated() {
                let walked = tree.lookup(high: 0, low: 0xffff_0000_0000 | UInt64(probe))
                let flat = one.answer(probe, in: tree)
                if (flat != walked || batch[lane] != walked) && wrong.count < 5 {
                    wrong.append("\(IPAddress(v4: probe).text(family: .v4)): \(flat), \(batch[lane]) against \(walked)")
                }
            }
        }
        #expect(wrong.isEmpty, "\(wrong)")
        #expect(one.count > 100_000, "the sample made most blocks (\(one.count) ranges)")
    }

    /// Flipping any bit past the deciding ones never changes the answer.
    @Test func anAnswerHoldsForEveryAddressThatSharesItsDecidingBits() {
        var rng = SplitMix64(state: 2)
        var checked = 0
        for (address, family) in Self.addresses(count: 20_000, seed: 3) {
            let found = database.find(address, family: family)
            let (high, low) = LocationDatabase.libraryWords(address, family: family)
            guard found.decidingBits < 128 else { continue }
            // A bit of the address past the deciding ones (bits counted from the top).
            let bit = found.decidingBits + Int(rng.next() % UInt64(128 - found.decidingBits))
            let flipped = bit < 64 ? (high ^ 1 << (63 - bit), low) : (high, low ^ 1 << (127 - bit))
            let neighbour = IPAddress(high: flipped.0, low: flipped.1)
            // Past bit 96 an IPv4 address stays IPv4; looked up as the 128 bits it is.
            #expect(database.find(neighbour, family: .v6).location == found.location, "\(address.text(family: family)) bit \(bit)")
            checked += 1
        }
        #expect(checked > 15_000)
    }

    /// The cache answers as the database does, and answers repeated blocks itself. With
    /// /16 and /32 blocks, which hold many networks each, so that a cache that kept an
    /// answer for a block whatever decided it would answer other parts of it wrongly.
    /// Laid flat (as the daemon's is), IPv4 answers come from the ranges without a probe
    /// of the cache: the same answers, and only IPv6 look-ups count as hits or misses.
    @Test(arguments: [(24, 64, false, false), (16, 32, false, false), (24, 64, true, false), (16, 32, true, false),
                      (24, 64, false, true), (24, 64, true, true)])
    func theCacheAnswersAsTheDatabase(ipv4BlockBits: Int, ipv6BlockBits: Int, batched: Bool, flat: Bool) {
        var rng = SplitMix64(state: 4)
        // 4,000 client blocks, 50 connections each, in random order, and a slot count
        // small enough that blocks evict each other.
        let blocks = Self.addresses(count: 4_000, seed: 5)
        var cache = LocationCache(slots: 1_024, ipv4BlockBits: ipv4BlockBits, ipv6BlockBits: ipv6BlockBits)
        var wrong = 0
        // Batched: eight at a time, as the live writer asks (blocks repeat within a batch
        // too, before the first of them is in the cache).
        var batch = InlineArray<8, (IPAddress, IPFamily)>(repeating: (IPAddress(v4: 0), .v4))
        if flat { cache.layIPv4Flat(from: database) }
        var ipv6Lookups: UInt64 = 0
        for i in 0..<200_000 {
            let (block, family) = blocks[Int(rng.next() % UInt64(blocks.count))]
            if family == .v6 { ipv6Lookups += 1 }
            // The block's prefix, the rest of the bits random.
            let v4Mask = UInt32.max << (32 - ipv4BlockBits), v6Mask = UInt64.max << (64 - ipv6BlockBits)
            let address = family == .v4
                ? IPAddress(v4: block.v4 & v4Mask | UInt32(truncatingIfNeeded: rng.next()) & ~v4Mask)
                : IPAddress(high: block.high & v6Mask | rng.next() & ~v6Mask, low: rng.next())
            guard batched else {
                if cache.location(of: address, family: family, in: database) != database.lookup(address, family: family) { wrong += 1 }
                continue
            }
            batch[i % 8] = (address, family)
            guard i % 8 == 7 else { continue }
            let located = cache.locations(of: batch, count: 8, in: database)
            for lane in 0..<8 where located[lane] != database.lookup(batch[lane].0, family: batch[lane].1) { wrong += 1 }
        }
        #expect(wrong == 0)
        if flat {
            #expect(ipv6Lookups > 10_000 && cache.hits + cache.misses == ipv6Lookups, "hits \(cache.hits), misses \(cache.misses)")
            return
        }
        // About a quarter of the blocks fit: up to a quarter of the look-ups are hits.
        #expect(cache.hits > 10_000 && cache.misses > 4_000, "hits \(cache.hits), misses \(cache.misses)")
    }
}
