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

    /// Every tag with its name, in sorted order.
    public static let all: [(tag: Tags, name: String)] = [
        (.acknumdiff, "acknumdiff"), (.acknumdiff0, "acknumdiff0"), (.acknumsame, "acknumsame"),
        (.acknumsame0, "acknumsame0"), (.evicted, "evicted"), (.fin, "fin"), (.ipidMismatch, "ipid_mismatch"),
        (.masscan, "masscan"), (.multipleRstacks, "multiple_rstacks"), (.multipleRsts, "multiple_rsts"),
        (.multipleSyns, "multiple_syns"), (.nmap, "nmap"), (.reset, "reset"),
        (.rstAndRstacks, "rst_and_rstacks"), (.singleRst, "single_rst"), (.singleRstack, "single_rstack"),
        (.synPayload, "syn_payload"), (.timeout, "timeout"), (.ttlMismatch, "ttl_mismatch"), (.zmap, "zmap"),
    ]

    /// The names of the tags set, sorted.
    public var names: [String] { Self.all.filter { contains($0.tag) }.map(\.name) }

    /// Looks a tag up by its name.
    public init?(name: String) {
        guard let entry = Self.all.first(where: { $0.name == name }) else { return nil }
        self = entry.tag
    }
}
