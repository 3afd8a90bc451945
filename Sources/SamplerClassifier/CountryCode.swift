/// A two-letter country code as the location database has it (ISO 3166-1 alpha-2, plus
/// the database's own such as "EU" or "AP"): two ASCII bytes stored inline, so a
/// `Location` holds no reference and copying one costs nothing.
public struct CountryCode: Hashable, Sendable, CustomStringConvertible {
    public let first: UInt8
    public let second: UInt8

    /// Nil unless both bytes are upper-case ASCII letters or digits: the database marks
    /// "no country" with an empty code, and anything else would not be a code.
    public init?(first: UInt8, second: UInt8) {
        guard Self.isCodeByte(first), Self.isCodeByte(second) else { return nil }
        self.first = first
        self.second = second
    }

    /// "DE" -> DE; nil for anything but two code bytes.
    public init?(_ text: some StringProtocol) {
        var bytes = text.utf8.makeIterator()
        guard let first = bytes.next(), let second = bytes.next(), bytes.next() == nil else { return nil }
        self.init(first: first, second: second)
    }

    public var description: String { String(decoding: [first, second], as: UTF8.self) }

    private static func isCodeByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
