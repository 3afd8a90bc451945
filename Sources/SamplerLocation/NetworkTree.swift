import SamplerClassifier

/// The network tree of a location database, walked in place over the mapped file: the
/// lookup libloc's `loc_database_lookup` makes, without its allocations, reference counts
/// and lock, and with the one fact its API does not give, how many leading bits of the
/// address decided the answer (`LocationCache` is exact because of it).
///
/// The format (libloc's format.h, version 1, big-endian): a binary trie over 128-bit
/// addresses, IPv4 at ::ffff:a.b.c.d. A node is three words, the child for a 0 bit, the
/// child for a 1 bit (0: none) and the index of its network (0xffffffff: none). A node
/// at depth d stands for the d-bit prefix of the path to it. A lookup follows the
/// address's bits from the root until the tree ends, and the answer is the deepest node
/// on the path with a network. libloc also drops networks that cannot hold the address:
/// the root's (prefix 0) and, for an IPv4 address, those at depth 96 or less (IPv6
/// networks). A child or network index past the end of its section (a damaged file) is
/// no answer, as libloc's -EINVAL is.
///
/// Every address that shares the bits the walk read follows the same path and gets the
/// same answer: that is `Found.decidingBits`. The last bit read is not among them when the
/// node where the tree ends has no child either way (a network with no smaller one in it,
/// such as most /24s): every address below that node stops there.
///
/// A walk visits a node per bit, and in a tree of 3 million nodes (37 MB) most visits
/// below the first levels are a cache miss: about 750 ns for a random public IPv4
/// address. So the first 16 bits are a table (below ::ffff:0:0/96 for IPv4, below the
/// root for IPv6), made once when the file is opened: where the walk is after them, or
/// what it found if the tree ended sooner. (`IPv4Ranges` goes further for IPv4: it lays a
/// /16 block's walks flat the first time the block is asked for.)
struct NetworkTree: @unchecked Sendable {
    // @unchecked: the pointers are into a read-only mapping that the owning
    // LocationDatabase keeps for as long as it lives.

    /// What a lookup found, and how many leading bits of the address decided it.
    struct Found: Equatable {
        var location: Location
        var decidingBits: Int
    }

    static let nodeBytes = 12, networkBytes = 12
    static let none: UInt32 = 0xffff_ffff
    /// Bits the tables resolve.
    static let tableBits = 16

    /// The walk after `tableBits` bits: the node it is at (0: the tree ended sooner), the
    /// deepest network on the way, and, when it ended, the bits that decided it.
    struct Step {
        var node: UInt32
        var network: UInt32
        var decidingBits: UInt8
    }

    private let nodes: UnsafeRawPointer
    let nodeCount: UInt32
    private let networks: UnsafeRawPointer
    private let networkCount: UInt32
    private var ipv4Table: [Step] = []
    private var ipv6Table: [Step] = []

    init(nodes: UnsafeRawBufferPointer, networks: UnsafeRawBufferPointer) {
        // A file too small for one node has an empty tree: every lookup ends at once.
        self.nodes = nodes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        nodeCount = UInt32(clamping: nodes.count / Self.nodeBytes)
        self.networks = networks.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        networkCount = UInt32(clamping: networks.count / Self.networkBytes)
        ipv6Table = table(below: nodeCount > 0 ? 0 : nil, depth: 0)
        // ::ffff:0:0/96, where the IPv4 networks are; leaves on the way are IPv6 networks.
        var node: UInt32? = nodeCount > 0 ? 0 : nil
        var decidingBits = 0
        while decidingBits < 96, let at = node {
            let next = child(of: at, decidingBits >= 80 ? 1 : 0)
            decidingBits = next < nodeCount ? decidingBits + 1 : 128  // a bad index: no answer
            node = next == 0 || next >= nodeCount ? nil : next
        }
        ipv4Table = node == nil
            ? Array(repeating: Step(node: 0, network: Self.none, decidingBits: UInt8(decidingBits)), count: 1 << Self.tableBits)
            : table(below: node, depth: 96)
    }

    @inline(__always)
    private func word(_ base: UnsafeRawPointer, _ offset: Int) -> UInt32 {
        UInt32(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inline(__always)
    func child(of node: UInt32, _ bit: Int) -> UInt32 { word(nodes, Int(node) * Self.nodeBytes + bit * 4) }

    @inline(__always)
    func network(at node: UInt32) -> UInt32 { word(nodes, Int(node) * Self.nodeBytes + 8) }

    /// The table of the `tableBits` bits below `start` (at `depth`), filled by walking the
    /// tree once: a branch that ends fills the entries of every prefix below it.
    private func table(below start: UInt32?, depth: Int) -> [Step] {
        var table = Array(repeating: Step(node: 0, network: Self.none, decidingBits: UInt8(depth)), count: 1 << Self.tableBits)
        guard let start else { return table }
        func fill(_ node: UInt32, network: UInt32, level: Int, prefix: Int) {
            for bit in 0...1 {
                let path = prefix << 1 | bit
                let next = child(of: node, bit)
                let span = 1 << (Self.tableBits - level - 1)
                if next == 0 || next >= nodeCount {
                    // Ended: decided by the bits so far, and this one unless neither child
                    // exists; a bad index answers nothing.
                    let read = depth + level + (child(of: node, 1 - bit) == 0 ? 0 : 1)
                    let ended = next == 0 ? Step(node: 0, network: network, decidingBits: UInt8(read))
                                          : Step(node: 0, network: Self.none, decidingBits: 128)
                    for i in (path * span)..<((path + 1) * span) { table[i] = ended }
                    continue
                }
                let own = self.network(at: next)
                let deepest = own != Self.none ? own : network
                if level + 1 == Self.tableBits {
                    table[path] = Step(node: next, network: deepest, decidingBits: 0)
                } else {
                    fill(next, network: deepest, level: level + 1, prefix: path)
                }
            }
        }
        fill(start, network: Self.none, level: 0, prefix: 0)
        return table
    }

    /// Where every IPv4 walk in the /16 `block` is after the table's bits.
    func ipv4Step(block: Int) -> Step { ipv4Table[block] }

    /// The network that holds the address (`high`, `low`: its 128 bits, IPv4 mapped).
    func lookup(high: UInt64, low: UInt64) -> Found {
        var walk = Walk(high: high, low: low)
        if let found = start(&walk) { return found }
        while true {
            if let found = step(&walk) { return found }
        }
    }

    /// How many walks `lookup(_:count:)` interleaves.
    static let lanes = 8

    /// The networks of the first `count` addresses of `addresses` (at most `lanes`), their
    /// walks taken a step each in turn: below the table every step of a walk is most
    /// likely a memory miss that the next step waits for, and the steps of different
    /// walks do not wait for each other, so the processor has the misses of several walks
    /// in flight at once where one walk has one. The answers are `lookup`'s.
    func lookup(_ addresses: InlineArray<8, (high: UInt64, low: UInt64)>, count: Int) -> InlineArray<8, Found> {
        var results = InlineArray<8, Found>(repeating: Found(location: .unknown, decidingBits: 0))
        var walks = InlineArray<8, Walk>(repeating: Walk(high: 0, low: 0))
        var active: UInt32 = 0
        for lane in 0..<min(count, Self.lanes) {
            walks[lane] = Walk(high: addresses[lane].high, low: addresses[lane].low)
            if let found = start(&walks[lane]) { results[lane] = found } else { active |= 1 << lane }
        }
        while active != 0 {
            var round = active
            while round != 0 {
                let lane = round.trailingZeroBitCount
                round &= round - 1
                if let found = step(&walks[lane]) {
                    results[lane] = found
                    active &= ~(1 << lane)
                }
            }
        }
        return results
    }

    /// Where one walk is: the address, the node it is at, the deepest network on the way.
    private struct Walk {
        var high: UInt64, low: UInt64
        var node: UInt32 = 0, deepest: UInt32 = NetworkTree.none
        var depth = 0

        init(high: UInt64, low: UInt64) { (self.high, self.low) = (high, low) }
    }

    /// The table's part of a walk: its answer if the tree ends within the table's bits.
    @inline(__always)
    private func start(_ walk: inout Walk) -> Found? {
        let mapped = walk.high == 0 && walk.low >> 32 == 0xffff
        let step = mapped ? ipv4Table[Int(walk.low >> 16 & 0xffff)] : ipv6Table[Int(walk.high >> 48)]
        guard step.node != 0 else { return found(step.network, decidingBits: Int(step.decidingBits)) }
        walk.node = step.node
        walk.deepest = step.network
        walk.depth = (mapped ? 96 : 0) + Self.tableBits
        return nil
    }

    /// One bit of a walk: its answer if the walk ends here.
    @inline(__always)
    private func step(_ walk: inout Walk) -> Found? {
        let depth = walk.depth
        guard depth < 128 else { return found(walk.deepest, decidingBits: 128) }
        let bit = depth < 64 ? Int(truncatingIfNeeded: walk.high >> (63 - depth)) & 1 : Int(truncatingIfNeeded: walk.low >> (127 - depth)) & 1
        let next = child(of: walk.node, bit)
        // The tree ends: decided by the bits read, the last one only if the other
        // child exists (a network with no smaller ones inside is decided by its prefix).
        if next == 0 { return found(walk.deepest, decidingBits: depth + (child(of: walk.node, 1 - bit) == 0 ? 0 : 1)) }
        guard next < nodeCount else { return Found(location: .unknown, decidingBits: 128) }
        walk.node = next
        walk.depth = depth + 1
        let own = network(at: next)
        if own != Self.none { walk.deepest = own }
        return nil
    }

    /// The location of network `index` (country code, two bytes; AS number at 4).
    func found(_ index: UInt32, decidingBits: Int) -> Found { answer(index, decidingBits: decidingBits).found }

    /// The same, as the bytes of the file: what `IPv4Ranges` keeps.
    func answer(_ index: UInt32, decidingBits: Int) -> IPv4Ranges.Answer {
        guard index != Self.none else { return IPv4Ranges.Answer(asn: 0, countryFirst: 0, countrySecond: 0, decidingBits: UInt8(decidingBits)) }
        guard index < networkCount else { return IPv4Ranges.Answer(asn: 0, countryFirst: 0, countrySecond: 0, decidingBits: 128) }
        let offset = Int(index) * Self.networkBytes
        return IPv4Ranges.Answer(asn: word(networks, offset + 4), countryFirst: networks.load(fromByteOffset: offset, as: UInt8.self),
                                 countrySecond: networks.load(fromByteOffset: offset + 1, as: UInt8.self), decidingBits: UInt8(decidingBits))
    }
}
