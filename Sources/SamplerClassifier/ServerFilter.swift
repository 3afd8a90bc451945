import SamplerWire

/// Picks the client-to-server packets out of a capture that holds both directions: those
/// sent to a server address (or prefix) and/or to a server port.
public struct ServerFilter: Sendable {
    public var prefix: (family: IPFamily, address: IPAddress, bits: Int)?
    public var port: UInt16?

    public init(prefix: (family: IPFamily, address: IPAddress, bits: Int)? = nil, port: UInt16? = nil) {
        self.prefix = prefix
        self.port = port
    }

    /// Parses "ADDR" or "ADDR/PREFIX"; nil if malformed.
    public static func parsePrefix(_ text: String) -> (family: IPFamily, address: IPAddress, bits: Int)? {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parsing: parts[0]) else { return nil }
        let family: IPFamily = parts[0].contains(":") ? .v6 : .v4
        let maximum = family == .v4 ? 32 : 128
        var bits = maximum
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...maximum).contains(value) else { return nil }
            bits = value
        }
        return (family, address.masked(toPrefix: bits, family: family), bits)
    }

    public var isEmpty: Bool { prefix == nil && port == nil }

    public func accepts(_ key: ConnectionKey) -> Bool {
        if let port, key.destinationPort != port { return false }
        if let prefix {
            guard key.family == prefix.family,
                  key.destination.masked(toPrefix: prefix.bits, family: prefix.family) == prefix.address
            else { return false }
        }
        return true
    }
}
