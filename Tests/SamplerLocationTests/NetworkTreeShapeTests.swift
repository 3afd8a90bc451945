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
}
