/// An IPv4 or IPv6 address as two 64-bit halves: hashable, comparable and stored inline.
/// IPv4 addresses sit in the low 32 bits with `high == 0`; the family says which it is.
public struct IPAddress: Hashable, Comparable, Sendable {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public init(v4: UInt32) { self.init(high: 0, low: UInt64(v4)) }

    /// The IPv4 value (meaningful for family 4 only).
    public var v4: UInt32 { UInt32(truncatingIfNeeded: low) }

    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        (a.high, a.low) < (b.high, b.low)
    }

    /// The address with all but the first `bits` bits cleared, for prefix matching.
    public func masked(toPrefix bits: Int, family: IPFamily) -> IPAddress {
        switch family {
        case .v4:
            let mask: UInt32 = bits <= 0 ? 0 : (bits >= 32 ? .max : ~(UInt32.max >> UInt32(bits)))
            return IPAddress(v4: v4 & mask)
        case .v6:
            let highMask: UInt64 = bits <= 0 ? 0 : (bits >= 64 ? .max : ~(UInt64.max >> UInt64(bits)))
            let lowBits = bits - 64
            let lowMask: UInt64 = lowBits <= 0 ? 0 : (lowBits >= 64 ? .max : ~(UInt64.max >> UInt64(lowBits)))
            return IPAddress(high: high & highMask, low: low & lowMask)
        }
    }
}

public enum IPFamily: UInt8, Sendable, Hashable {
    case v4 = 4
    case v6 = 6

    /// A client's network, as records leave the host truncated to it and `report --by
    /// network` groups by it: /24 for IPv4, /48 for IPv6.
    public var clientNetworkPrefix: Int { self == .v4 ? 24 : 48 }
}
