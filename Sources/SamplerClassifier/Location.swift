/// Where an address is: its autonomous system and its country. Either may be unknown
/// (private and reserved space has neither; some networks have one but not the other).
public struct Location: Equatable, Hashable, Sendable {
    public var asn: UInt32?
    public var country: CountryCode?

    public init(asn: UInt32? = nil, country: CountryCode? = nil) {
        self.asn = asn
        self.country = country
    }

    /// Neither AS nor country: what a lookup of a private or unrouted address gives.
    public static let unknown = Location()
}
