import SamplerWire

/// The knobs of classification, with the defaults of the reference rules: declared here
/// once, and `Settings` (SamplerConfiguration) takes its defaults from them.
public struct ClassifierConfiguration: Sendable {
    /// A connection with no packet for this long, and no RST or FIN, closes as `timeout`.
    public var idleTimeout: Microseconds = 120_000_000
    /// After the first RST (or a FIN), later packets within this long still belong to it.
    public var gracePeriod: Microseconds = 1_000_000
    /// The kernel rule's packet cap (the `packets` setting, at most `Connection.capacity`):
    /// the connection is finalized at this many packets.
    public var packetCap = Connection.capacity
    /// `ttl_mismatch`: a RST's TTL differs from the SYN's by more than this.
    public var ttlMargin = 2
    /// `ipid_mismatch`: a RST's IP ID is further than this (modulo 2^16) from every IP ID
    /// of the client's other packets.
    public var ipIDWindow = 256
    /// Most open connections held at once; a SYN beyond it evicts the connection idle
    /// longest (tag `evicted`, counted).
    /// 65,536 is hours of a busy server's sample at the default probability;
    /// docs/benchmarks.md has the memory per connection.
    public var maxConnections = 1 << 16
    /// `classify`'s table: offline there is no flood to bound, so it holds every
    /// connection a large capture has open at once.
    public static let offlineMaxConnections = 1 << 20

    public init() {}
}
