import Foundation
@testable import SamplerLocation
import SamplerClassifier
import SamplerWire
import Testing

/// The walk on small trees written here, node by node: the deepest network on the path
/// answers, IPv6 networks never answer an IPv4 address, the deciding bits are what the
/// walk read, and a damaged tree (an index past its section) answers nothing instead of
/// reading past the mapping.
@Suite struct NetworkTreeShapeTests {
    /// A tree in the file's format: each node (zero, one, network), networks (country,
    /// AS number), big-endian, 12 bytes each.
    struct Shape {
        var nodes: [(zero: UInt32, one: UInt32, network: UInt32)] = [(0, 0, NetworkTree.none)]
        var networks: [(country: String, asn: UInt32)] = []

        /// Adds the path of `bits` (most significant first) from the root, the network at its end.
        mutating func add(_ bits: [Int], country: String, asn: UInt32) {
            var node = 0
            for bit in bits {
                let next = Int(bit == 0 ? nodes[node].zero : nodes[node].one)
                if next != 0 { node = next; continue }
                nodes.append((0, 0, NetworkTree.none))
                if bit == 0 { nodes[node].zero = UInt32(nodes.count - 1) } else { nodes[node].one = UInt32(nodes.count - 1) }
                node = nodes.count - 1
            }
            networks.append((country, asn))
            nodes[node].network = UInt32(networks.count - 1)
        }

        func bytes() -> (nodes: [UInt8], networks: [UInt8]) {
            func word(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }
            return (nodes.flatMap { word($0.zero) + word($0.one) + word($0.network) },
                    networks.flatMap { Array($0.country.utf8) + [0, 0] + word($0.asn) + [0, 0, 0, 0] })
        }

        /// The walk's answer; the same address among others in the interleaved walk must
        /// get the same one (every test here checks both).
        func lookup(high: UInt64, low: UInt64) -> NetworkTree.Found {
            let (n, w) = bytes()
            return n.withUnsafeBytes { nodes in w.withUnsafeBytes { networks in
                let tree = NetworkTree(nodes: nodes, networks: networks)
                let one = tree.lookup(high: high, low: low)
                var batch = InlineArray<8, (high: UInt64, low: UInt64)>(repeating: (0, 0xffff_0000_0000))
                batch[0] = (0x2000_0000_0000_0000, 0)
                batch[3] = (high, low)
                #expect(tree.lookup(batch, count: 5)[3] == one, "the interleaved walk answers as the walk")
                if high == 0 && low >> 32 == 0xffff {
                    // The ranges answer as the walk, one at a time and a lane among others.
                    let address = UInt32(truncatingIfNeeded: low)
                    var ranges = IPv4Ranges()
                    #expect(ranges.answer(address, in: tree) == one, "the IPv4 ranges answer as the walk")
                    var fresh = IPv4Ranges(), lanes = InlineArray<8, UInt32>(repeating: 0x0A00_0001)
                    lanes[2] = address
                    #expect(fresh.answers(lanes, lanes: 0b1111, in: tree)[2] == one, "and a stage at a time")
                }
                return one
            } }
        }
    }

    static func bits(_ value: UInt64, _ count: Int) -> [Int] { (0..<count).map { Int(value >> (63 - $0) & 1) } }
    /// The path of ::ffff:0:0/96 and then `prefix` bits of an IPv4 address.
    static func v4(_ address: UInt32, _ prefix: Int) -> [Int] {
        Array(repeating: 0, count: 80) + Array(repeating: 1, count: 16) + bits(UInt64(address) << 32, prefix)
    }
    /// Looks up an IPv4 address, mapped as the database keeps it.
    static func v4Lookup(_ shape: Shape, _ address: UInt32) -> NetworkTree.Found {
        shape.lookup(high: 0, low: 0xffff_0000_0000 | UInt64(address))
    }

    @Test func theDeepestNetworkOnThePathAnswers() {
        var shape = Shape()
        shape.add(Self.v4(0x0A00_0000, 8), country: "AA", asn: 1)  // 10.0.0.0/8
        shape.add(Self.v4(0x0A01_0000, 16), country: "BB", asn: 2)  // 10.1.0.0/16
        shape.add(Self.v4(0x0A01_0200, 24), country: "CC", asn: 3)  // 10.1.2.0/24, deeper than the table
        #expect(Self.v4Lookup(shape, 0x0A01_0203).location.asn == 3)
        #expect(Self.v4Lookup(shape, 0x0A01_0303).location.asn == 2)
        #expect(Self.v4Lookup(shape, 0x0A02_0303).location.asn == 1)
        #expect(Self.v4Lookup(shape, 0x0B00_0001).location == .unknown)
        #expect(Self.v4Lookup(shape, 0x0A01_0203).location.country == CountryCode("CC"))
        // 10.1.2.0/24 has no child: decided by its 24 bits, so a /24 cache may keep it.
        #expect(Self.v4Lookup(shape, 0x0A01_0203).decidingBits == 96 + 24)
        // 10.1.3.3 stops where 10.1.2.0/24's branch turns away, at its 24th bit: the
        // other side has a child, so that bit is one of the deciding ones.
        #expect(Self.v4Lookup(shape, 0x0A01_0303).decidingBits == 96 + 24)
        // 10.2.3.3 stops under 10.0.0.0/8 where 10.1.0.0/16's branch turns away, at bit 15.
        #expect(Self.v4Lookup(shape, 0x0A02_0303).decidingBits == 96 + 15)
    }

    @Test func anIPv6NetworkOnTheWayNeverAnswersAnIPv4Address() {
        var shape = Shape()
        shape.add(Array(repeating: 0, count: 80), country: "V6", asn: 6)  // ::/80, on the way to ::ffff:0:0/96
        #expect(shape.lookup(high: 0, low: 0xffff_0102_0304).location == .unknown)
        #expect(shape.lookup(high: 0, low: 0x0000_0102_0304).location.asn == 6)  // ::1.2.3.4 is IPv6
    }

    @Test func aDamagedTreeAnswersNothing() {
        var shape = Shape()
        shape.add(Self.v4(0x0A00_0000, 8), country: "AA", asn: 1)
        shape.add(Self.bits(0x2001_0000_0000_0000, 32), country: "DE", asn: 7)
        // A child past the end of the nodes, below the table's 16 bits and inside them,
        // and a network index past the end of the networks.
        let deep = shape.nodes.count - 1
        shape.nodes[deep].one = 99_999
        shape.nodes[1].one = 88_888
        shape.nodes.append((0, 0, 77_777))
        shape.nodes[deep].zero = UInt32(shape.nodes.count - 1)
        let damaged = [shape.lookup(high: 0x2001_0000_8000_0000, low: 0), shape.lookup(high: 0x2001_0000_0000_0000, low: 0),
                       shape.lookup(high: 0x4000_0000_0000_0000, low: 0)]
        for found in damaged {
            #expect(found.location == .unknown && found.decidingBits == 128, "\(found)")
        }
        // An empty tree: every address is nobody's.
        #expect(Shape(nodes: [], networks: []).lookup(high: 0, low: 0xffff_0a00_0001).location == .unknown)
    }

    @Test func aDamagedIPv4BranchAnswersNothingAndTheRestAnswers() {
        var shape = Shape()
        shape.add(Self.v4(0x0A00_0000, 8), country: "AA", asn: 1)
        shape.add(Self.v4(0x0A01_0000, 24), country: "BB", asn: 2)
        shape.add(Self.v4(0xC000_0200, 24), country: "CC", asn: 3)
        // Below 10.1.0.0/24: a child past the end of the nodes.
        let deep = shape.nodes.firstIndex { $0.network == 1 }!
        shape.nodes[deep].one = 99_999
        #expect(Self.v4Lookup(shape, 0x0A01_0080) == NetworkTree.Found(location: .unknown, decidingBits: 128))
        #expect(Self.v4Lookup(shape, 0x0A01_0001).location.asn == 2)
        #expect(Self.v4Lookup(shape, 0x0A02_0001).location.asn == 1)
        #expect(Self.v4Lookup(shape, 0xC000_02FF).location.asn == 3)
        #expect(Self.v4Lookup(shape, 0xC000_0300).location == .unknown)
    }

    /// A damaged file whose branches meet again (a child that is an ancestor): a block
    /// has 16 bits left, so laying it flat ends (at most 2^17 nodes), and answers as the
    /// walk does.
    @Test func aTreeWhoseBranchesMeetIsLaidFlatInBoundedTime() {
        var shape = Shape()
        shape.add(Self.v4(0x0A00_0000, 8), country: "AA", asn: 1)
        let ten = shape.nodes.firstIndex { $0.network == 0 }!
        shape.nodes[ten].zero = UInt32(ten)  // both halves of 10.0.0.0/8 lead back to it: 2^24 paths
        shape.nodes[ten].one = UInt32(ten)
        #expect(Self.v4Lookup(shape, 0x0A00_0001).location.asn == 1)
        #expect(Self.v4Lookup(shape, 0x0AFF_FFFF).location.asn == 1)
    }

    /// A block is laid flat when first asked for; neighbouring ranges with one answer are
    /// one range.
    @Test func blocksAreMadeWhenAskedForAndTheirRangesAreFew() {
        var shape = Shape()
        shape.add(Self.v4(0x0A00_0000, 8), country: "AA", asn: 1)
        shape.add(Self.v4(0x0A01_0200, 24), country: "BB", asn: 2)
        let (n, w) = shape.bytes()
        n.withUnsafeBytes { nodes in w.withUnsafeBytes { networks in
            let tree = NetworkTree(nodes: nodes, networks: networks)
            var ranges = IPv4Ranges()
            #expect(ranges.count == 0 && ranges.blocksMade == 0)
            #expect(ranges.answer(0x0A02_0304, in: tree).location.asn == 1)
            // 10.2.0.0/16 is all 10.0.0.0/8: one answer, kept in the block's place.
            #expect(ranges.count == 0 && ranges.blocksMade == 1)
            #expect(ranges.answer(0x0A02_FFFF, in: tree).location.asn == 1)
            #expect(ranges.answer(0x0A01_0201, in: tree).location.asn == 2)
            // The /24 and, at each of the eight levels from the /16 down to it, the half
            // the path leaves (same network, other deciding bits, so not merged).
            #expect(ranges.count == 9 && ranges.blocksMade == 2)
            #expect(ranges.answer(0x0A01_FFFF, in: tree).location.asn == 1)
            #expect(ranges.count == 9 && ranges.blocksMade == 2, "a block is made once")
        } }
        for address: UInt32 in [0, 0x09FF_FFFF, 0x0A00_0000, 0x0A01_01FF, 0x0A01_0200, 0x0A01_02FF, 0x0A01_0300, 0x0AFF_FFFF,
                                0x0B00_0000, 0xFFFF_FFFF] {
            _ = Self.v4Lookup(shape, address)  // checked against the walk in `lookup`
        }
    }
}
