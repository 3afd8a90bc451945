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

    /// Letters in bit order, as scapy prints them: "S", "PA", "RA", "FA".
    static let letters: [(TCPFlags, UInt8)] = [
        (.fin, UInt8(ascii: "F")), (.syn, UInt8(ascii: "S")), (.rst, UInt8(ascii: "R")),
        (.psh, UInt8(ascii: "P")), (.ack, UInt8(ascii: "A")), (.urg, UInt8(ascii: "U")),
        (.ece, UInt8(ascii: "E")), (.cwr, UInt8(ascii: "C")), (.ae, UInt8(ascii: "N")),
    ]

    /// Appends the flag letters to `out` (nothing for no flags).
    public func appendLetters(to out: inout [UInt8]) {
        for (flag, letter) in Self.letters where contains(flag) { out.append(letter) }
    }

    /// The flag letters as text, e.g. "PA".
    public var letters: String {
        var bytes: [UInt8] = []
        appendLetters(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
