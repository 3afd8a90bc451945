/// The nine TCP flags (RFC 9293 plus AE, formerly NS, from RFC 3540/AccECN).
public struct TCPFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let fin = TCPFlags(rawValue: 0x001)
    public static let syn = TCPFlags(rawValue: 0x002)
    public static let rst = TCPFlags(rawValue: 0x004)
    public static let psh = TCPFlags(rawValue: 0x008)
    public static let ack = TCPFlags(rawValue: 0x010)
    public static let urg = TCPFlags(rawValue: 0x020)
    public static let ece = TCPFlags(rawValue: 0x040)
    public static let cwr = TCPFlags(rawValue: 0x080)
    public static let ae = TCPFlags(rawValue: 0x100)

    /// Letters in bit order (fin first), as scapy prints them: "S", "PA", "RA", "FA".
    @usableFromInline static let letterOrder: StaticString = "FSRPAUECN"

    /// Appends the flag letters to `out` (nothing for no flags).
    public func appendLetters(to out: inout [UInt8]) {
        out.appendText(maximum: 9) { writeLetters(to: &$0) }
    }

    /// Writes the flag letters ("PA"): at most nine.
    @inlinable
    public func writeLetters(to out: inout TextCursor) {
        var bits = rawValue & 0x1ff
        while bits != 0 {
            out.put(Self.letterOrder.utf8Start[bits.trailingZeroBitCount])
            bits &= bits - 1
        }
    }

    /// The flag letters as text, e.g. "PA".
    public var letters: String {
        var bytes: [UInt8] = []
        appendLetters(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
