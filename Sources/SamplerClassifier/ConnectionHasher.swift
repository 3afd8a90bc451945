import SamplerWire

/// A keyed hash of connection keys, for the connection table's index and for choosing a
/// connection's shard.
///
/// Clients choose their addresses and ports, and a SYN flood chooses them freely. A hash
/// an attacker can predict lets them send keys that all land in one place of the index,
/// turning each look-up into a walk of thousands of entries. So the hash is keyed by a
/// secret drawn from the kernel's random source for each table: which keys collide
/// depends on the secret, and a set of keys that collides under one secret is spread
/// under another (`ConnectionHasherTests`).
///
/// The mixing is the folded multiply of foldhash and aHash's fallback (the 128-bit
/// product of two words, its halves XORed): each word of the key is combined with a
/// secret word before it is multiplied, so no fixed input pattern (a /16 sweep, ports
/// counting up, IPv6 addresses that differ in one bit) maps to a pattern of outputs. It
/// costs a few nanoseconds where SipHash (Swift's `Hasher`, behind `Dictionary`) costs
/// tens. It is not a cryptographic MAC: an attacker who could watch the table's timing
/// closely enough to learn the secret could still aim; the rest of the design bounds
/// what that buys them (a full table evicts, it never refuses, and every look-up is
/// bounded by the table's size).
public struct ConnectionHasher: Sendable {
    private let s0, s1, s2, s3, s4, s5: UInt64

    public init(seed: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)) {
        // A zero secret word would let that word of the key through unmixed.
        (s0, s1, s2, s3, s4, s5) = (seed.0 | 1, seed.1 | 1, seed.2 | 1, seed.3 | 1, seed.4 | 1, seed.5 | 1)
    }

    /// A hasher with a fresh secret from the system's random source (getrandom).
    public static func random() -> ConnectionHasher {
        var generator = SystemRandomNumberGenerator()
        return ConnectionHasher(seed: (generator.next(), generator.next(), generator.next(),
                                       generator.next(), generator.next(), generator.next()))
    }

    @inline(__always)
    static func foldedMultiply(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }

    /// 64 well-mixed bits; the high bits are as good as the low ones.
    ///
    /// The ports go in twice: with the addresses, and in a last multiply of their own.
    /// Once was not enough: when only the ports vary (one client walking its ports), a
    /// folded multiply with one operand fixed is close to a multiplicative hash, and under
    /// about one secret in a hundred it kept the walk's pattern (a run of 269 buckets in a
    /// table a third full, where random homes give at most ~25).
    @inline(__always)
    public func hash(_ key: ConnectionKey) -> UInt64 {
        let ports = UInt64(key.sourcePort) << 32 | UInt64(key.destinationPort) << 16 | UInt64(key.family.rawValue)
        let client = Self.foldedMultiply(key.source.high ^ s0, key.source.low ^ s1)
        let server = Self.foldedMultiply(key.destination.high ^ s2, key.destination.low ^ s3)
        let addresses = Self.foldedMultiply(client ^ ports ^ s4, server ^ s5)
        return Self.foldedMultiply(addresses ^ s0, ports ^ s3)
    }
}
