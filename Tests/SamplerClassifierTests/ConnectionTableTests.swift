import SamplerTestSupport
import SamplerWire
import Testing
@testable import SamplerClassifier

@Suite struct ConnectionTableTests {
    static let server = IPAddress(parsing: "198.51.100.1")!

    func key(_ source: UInt32, port: UInt16) -> ConnectionKey {
        ConnectionKey(family: .v4, source: IPAddress(v4: source), sourcePort: port, destination: Self.server, destinationPort: 443)
    }

    func connection(_ key: ConnectionKey) -> Connection {
        Connection(opening: PacketSummary(key: key, time: 0, flags: .syn))
    }

    /// Fills a table with `keys` and returns it.
    func table(_ keys: [ConnectionKey], hasher: ConnectionHasher, capacity: Int = 65_536) -> ConnectionTable {
        var table = ConnectionTable(capacity: capacity, expected: capacity, hasher: hasher)
        for key in keys { _ = table.insert(connection(key), hash: table.hash(key)) }
        return table
    }

    /// What a scanner or a flood sends: one client walking its ports, a /16 sweep on one
    /// port, IPv6 clients that differ in the low bits, and random sources. Each pattern
    /// spreads over the index: no look-up walks far.
    @Test(arguments: ["ports", "sweep", "ipv6", "random"])
    func structuredKeysSpreadOverTheIndex(pattern: String) {
        var rng = SplitMix64(state: 7)
        let keys: [ConnectionKey] = (0..<40_000).map { i in
            switch pattern {
            case "ports": return key(0xC000_0201, port: UInt16(1024 + i))
            case "sweep": return key(0x0A00_0000 | UInt32(i), port: 40_000)
            case "ipv6":
                return ConnectionKey(family: .v6, source: IPAddress(high: 0x2001_0db8_0000_0000, low: UInt64(i)), sourcePort: 50_000,
                                     destination: IPAddress(high: 0x2001_0db8_ffff_0000, low: 1), destinationPort: 443)
            default: return key(UInt32.random(in: 0...UInt32.max, using: &rng), port: UInt16.random(in: 1...65_535, using: &rng))
            }
        }
        let table = table(keys, hasher: .random())
        #expect(table.count == keys.count)
        // 40,000 keys in 131,072 buckets: linear probing's expected longest run is a few
        // dozen; a hash that kept the pattern would put thousands in one run.
        #expect(table.longestProbe < 64, "longest probe \(table.longestProbe) for \(pattern)")
        for key in keys.prefix(1000) { #expect(table.find(key, hash: table.hash(key)) != nil) }
    }

    /// A port walk under many secrets, not one: a hash that keeps the walk's pattern under
    /// a few secrets in a hundred (as one that mixed the ports in once did) fails here.
    @Test func aPortWalkSpreadsUnderEverySecret() {
        // 5,000 keys in 16,384 buckets: random homes give a longest run of about 19.
        let keys = (0..<5_000).map { i in key(0xC000_0201, port: UInt16(1024 + i)) }
        var rng = SplitMix64(state: 11)
        var worst = 0
        for _ in 0..<300 {
            let hasher = ConnectionHasher(seed: (rng.next(), rng.next(), rng.next(), rng.next(), rng.next(), rng.next()))
            worst = max(worst, table(keys, hasher: hasher, capacity: 8_192).longestProbe)
        }
        #expect(worst < 40, "longest probe \(worst) over 300 secrets")
    }

    /// The flood-resistance argument, both ways: keys an attacker chose to collide under
    /// one secret do collide in a table with that secret (so the test would notice a hash
    /// that ignored it), and are spread in a table with any other secret, which is what a
    /// sampler that drew its own secret has.
    @Test func collisionsChosenUnderOneSecretDoNotCarryOverToAnother() {
        // Secrets as the system's random source gives them: 64 random bits each.
        func secret(_ n: UInt64) -> ConnectionHasher {
            var rng = SplitMix64(state: n)
            return ConnectionHasher(seed: (rng.next(), rng.next(), rng.next(), rng.next(), rng.next(), rng.next()))
        }
        let known = secret(0)
        // A table of 2,048 connections has 4,096 buckets: the home is the hash's top 12 bits.
        var chosen: [ConnectionKey] = []
        var source: UInt32 = 0x0A00_0000
        while chosen.count < 300 {
            for port in UInt16(1)...UInt16.max where known.hash(key(source, port: port)) >> 52 == 0 {
                chosen.append(key(source, port: port))
                if chosen.count == 300 { break }
            }
            source += 1
        }
        let attacked = table(chosen, hasher: known, capacity: 2048)
        #expect(attacked.longestProbe >= 299)
        for seed in UInt64(1)...20 {
            let defended = table(chosen, hasher: secret(seed), capacity: 2048)
            #expect(defended.longestProbe < 16, "longest probe \(defended.longestProbe) with seed \(seed)")
        }
    }

    /// Inserts and removals in random order against a dictionary: every key stays
    /// findable after the entries behind a removed one are shifted back.
    @Test func insertsAndRemovalsAgreeWithADictionary() {
        var rng = SplitMix64(state: 99)
        var table = ConnectionTable(capacity: 5000, expected: 16, hasher: .random())
        var reference: [ConnectionKey: Int32] = [:]
        for _ in 0..<100_000 {
            let k = key(UInt32.random(in: 0..<4000, using: &rng), port: 80)
            let hash = table.hash(k)
            // Hints for keys in and out of the table, and for any hash: they change nothing.
            table.prefetchBucket(tag: ConnectionTable.tag(of: hash))
            table.prefetchSlot(hash: hash)
            table.prefetchSlot(hash: rng.next())
            if let slot = reference[k] {
                #expect(table.find(k, hash: hash) == slot)
                if Bool.random(using: &rng) {
                    table.remove(slot: slot, tag: ConnectionTable.tag(of: hash))
                    reference[k] = nil
                    #expect(table.find(k, hash: hash) == nil)
                }
            } else {
                #expect(table.find(k, hash: hash) == nil)
                if !table.isFull {
                    let slot = table.insert(connection(k), hash: hash)
                    #expect(table[slot].key == k)
                    reference[k] = slot
                }
            }
        }
        #expect(table.count == reference.count)
        for (k, slot) in reference { #expect(table.find(k, hash: table.hash(k)) == slot) }
    }

    @Test func theLookaheadGivesBackTheHashOfFourPacketsBefore() {
        var lookahead = Lookahead()
        for hash in UInt64(1)...20 {
            let earlier = lookahead.replace(with: hash)
            #expect(earlier == (hash > UInt64(Lookahead.steps) ? hash - UInt64(Lookahead.steps) : nil))
        }
    }
}

/// The deadline heap against a sorted list: after random inserts, moves and removals its
/// first is the soonest, and its runner-up (what the classifier asks for ahead when the
/// first is a finalized connection's entry) the one after it.
@Suite struct DeadlineHeapTests {
    @Test func firstAndRunnerUpAreTheTwoSoonest() {
        var rng = SplitMix64(state: 7)
        var heap = DeadlineHeap(reservingCapacity: 16)
        var reference: [Int32: Microseconds] = [:]
        for _ in 0..<20_000 {
            let slot = Int32(rng.next() % 300), deadline = Microseconds(rng.next() % 1_000)
            switch (reference[slot] != nil, rng.next() % 3) {
            case (false, _): heap.insert(slot: slot, deadline: deadline, tag: UInt32(slot)); reference[slot] = deadline
            case (true, 0): heap.remove(slot: slot); reference[slot] = nil
            default: heap.update(slot: slot, deadline: deadline); reference[slot] = deadline
            }
            let sorted = reference.sorted { ($0.value, $0.key) < ($1.value, $1.key) }
            #expect(heap.first.map { [$0.slot, Int32($0.tag)] } == sorted.first.map { [$0.key, $0.key] })
            #expect(heap.first?.deadline == sorted.first?.value)
            #expect(heap.runnerUp?.slot == (sorted.count > 1 ? sorted[1].key : nil))
        }
    }
}

/// The deadline queue (a queue with a heap for what comes out of order) against a sorted
/// list, with deadlines mostly in order as a flood's are: the first is always the soonest
/// live entry, whatever was removed or moved, through compactions of the queue.
@Suite struct DeadlineQueueTests {
    @Test func firstIsTheSoonestThroughMovesRemovalsAndCompactions() {
        var rng = SplitMix64(state: 11)
        var idle = DeadlineQueue(reservingCapacity: 16)
        var reference: [Int32: (deadline: Microseconds, tag: UInt32)] = [:]
        var now: Microseconds = 0
        for step in 0..<60_000 {
            now += Microseconds(rng.next() % 3)
            // Most deadlines are the latest yet; some lag behind (an older packet).
            let deadline = rng.next() % 8 == 0 ? now - Microseconds(rng.next() % 50) : now + 100
            let slot = Int32(rng.next() % 5_000), tag = UInt32(truncatingIfNeeded: rng.next())
            switch (reference[slot] != nil, rng.next() % 4) {
            case (false, _):
                idle.insert(slot: slot, deadline: deadline, tag: tag); reference[slot] = (deadline, tag)
            case (true, 0):
                idle.remove(slot: slot); reference[slot] = nil
            case (true, 1):
                // Moved without a tag: the entry keeps its own.
                idle.update(slot: slot, deadline: deadline); reference[slot]!.deadline = deadline
            default:
                idle.update(slot: slot, deadline: deadline, tag: tag); reference[slot] = (deadline, tag)
            }
            #expect(idle.contains(slot) == (reference[slot] != nil))
            guard step % 13 == 0 else { continue }
            let soonest = reference.min { ($0.value.deadline, $0.key) < ($1.value.deadline, $1.key) }
            let first = idle.first()
            #expect(first?.slot == soonest?.key)
            #expect(first?.deadline == soonest?.value.deadline)
            #expect(first?.tag == soonest?.value.tag)
            if step % 5_000 == 0, let first {
                // The classifier's drain: take the soonest few out, as finalizations do.
                for _ in 0..<200 {
                    guard let next = idle.first() else { break }
                    #expect(next.deadline >= first.deadline)
                    idle.remove(slot: next.slot); reference[next.slot] = nil
                }
            }
        }
        idle.removeAll()
        #expect(idle.first() == nil)
        #expect(!idle.contains(0))
    }
}
