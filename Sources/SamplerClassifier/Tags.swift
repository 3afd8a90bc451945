/// The tags of a connection. Bits are declared in alphabetical order of their names, so
/// that walking the bits yields the sorted list records carry.
public struct Tags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let acknumdiff = Tags(rawValue: 1 << 0)
    public static let acknumdiff0 = Tags(rawValue: 1 << 1)
    public static let acknumsame = Tags(rawValue: 1 << 2)
    public static let acknumsame0 = Tags(rawValue: 1 << 3)
    public static let evicted = Tags(rawValue: 1 << 4)
    public static let fin = Tags(rawValue: 1 << 5)
    public static let ipidMismatch = Tags(rawValue: 1 << 6)
    public static let masscan = Tags(rawValue: 1 << 7)
    public static let multipleRstacks = Tags(rawValue: 1 << 8)
    public static let multipleRsts = Tags(rawValue: 1 << 9)
    public static let multipleSyns = Tags(rawValue: 1 << 10)
    public static let nmap = Tags(rawValue: 1 << 11)
    public static let reset = Tags(rawValue: 1 << 12)
    public static let rstAndRstacks = Tags(rawValue: 1 << 13)
    public static let singleRst = Tags(rawValue: 1 << 14)
    public static let singleRstack = Tags(rawValue: 1 << 15)
    public static let synPayload = Tags(rawValue: 1 << 16)
    public static let timeout = Tags(rawValue: 1 << 17)
    public static let ttlMismatch = Tags(rawValue: 1 << 18)
    public static let zmap = Tags(rawValue: 1 << 19)

    /// How many tags there are (bits 0 to 19).
    public static let count = 20

    /// The name of the tag in bit `bit`: the one list of names (records, reports and
    /// metrics use these), in bit order, which is alphabetical.
    public static func name(ofBit bit: Int) -> StaticString {
        switch bit {
        case 0: "acknumdiff"
        case 1: "acknumdiff0"
        case 2: "acknumsame"
        case 3: "acknumsame0"
        case 4: "evicted"
        case 5: "fin"
        case 6: "ipid_mismatch"
        case 7: "masscan"
        case 8: "multiple_rstacks"
        case 9: "multiple_rsts"
        case 10: "multiple_syns"
        case 11: "nmap"
        case 12: "reset"
        case 13: "rst_and_rstacks"
        case 14: "single_rst"
        case 15: "single_rstack"
        case 16: "syn_payload"
        case 17: "timeout"
        case 18: "ttl_mismatch"
        case 19: "zmap"
        default: "unknown"
        }
    }

    /// Every tag with its name, in sorted order.
    public static let all: [(tag: Tags, name: String)] = (0..<count).map { bit in
        (Tags(rawValue: 1 << bit), "\(name(ofBit: bit))")
    }

    /// The names of the tags set, sorted.
    public var names: [String] { Self.all.filter { contains($0.tag) }.map(\.name) }

    /// Looks a tag up by its name.
    public init?(name: String) {
        guard let entry = Self.all.first(where: { $0.name == name }) else { return nil }
        self = entry.tag
    }
}
